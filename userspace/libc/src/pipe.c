/* pipe.c: pipe, dup and dup2 of Ferry's libc: a pipe is a ring in one page
 * of memory a fork shares (mmap MAP_SHARED), so the processes that hold its
 * ends after fork read and write it directly, without a server.  A reader
 * with nothing to read, or a writer with no room, sleeps on the pipe's
 * notification (PROC_NOTIFICATION: made by pipe() in a slot that fork
 * copies into the child), and the other side signals it after moving the
 * ring, when the page says someone sleeps; without one (none could be
 * made, or it went with the process that made it) they yield instead.
 * The page counts each process's holds of each end (fork adds the child's,
 * close and exit take them away): no writer left and the ring empty is the
 * end of the data; no reader left is EPIPE.  A process that ends without
 * closing (killed, faulted) has its holds taken out by the others: the
 * process server signals its notifications at its end, and a woken holder
 * asks which holders still run (PROC_ALIVE). */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <ferry/prog.h>
#include "libc.h"

#define PIPE_PAGE 4096
#define PIPE_HOLDERS 16                  /* processes holding a pipe (the process server runs 16) */

/* A holder: one word, changed by compare-and-swap only: the owner's pid
 * (bits 0-31; PIPE_PENDING: the holds a fork gives the child, under a tag
 * of that one fork, pending(): the parent's pid and the fork's number,
 * until one of them names the child), the read ends it holds
 * (bits 32-47) and the write ends (48-63).  0: a free entry.  Only its
 * owner changes an entry, but for the fork's renaming and a holder that
 * found its owner ended (sweep). */
#define PIPE_PENDING (1UL << 31)
#define HOLDER_PID(e) ((e) & 0xffffffffUL)
#define HOLDER_READERS 32
#define HOLDER_WRITERS 48
#define HOLDER_COUNT(e, end) (((e) >> (end)) & 0xffffUL)

/* A lock word: 0, or its owner's pid, with PIPE_ASLEEP while the owner
 * sleeps on the notification holding it (counted in sleepers). */
#define PIPE_ASLEEP (1U << 31)

struct __pipe {
    unsigned long head, tail;            /* bytes written and read, ever */
    unsigned wlock, rlock;               /* one writer, one reader at a time (several may hold an end) */
    int sleepers;                        /* holders asleep on the notification (or about to be) */
    int ntfn;                            /* its slot, the same in every holder (0: none: yield) */
    int nheld;                           /* entries of held[] ever used (the rest are 0) */
    int ntfn_gone;                       /* the notification went with its maker: yield */
    unsigned long held[PIPE_HOLDERS];
    unsigned char data[PIPE_PAGE - (2 + PIPE_HOLDERS) * sizeof(unsigned long) - 6 * sizeof(int)];
};
_Static_assert(sizeof(struct __pipe) == PIPE_PAGE, "a pipe is one page");
#define PIPE_CAP sizeof(((struct __pipe *)0)->data)
#ifndef PIPE_BUF
#define PIPE_BUF 512
#endif

static unsigned long load(unsigned long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

/* This process's pid and its parent's, asked once (0: not yet, e.g. in a
 * fork child until it first uses a pipe). */
static unsigned long self, parent;

/* Forks this process made (the child's copy: the number of the fork that
 * made it).  A pending entry is tagged with the parent's pid and this
 * number, so a child adopts the holds of its own fork only: under the
 * parent's pid alone, a child that first used a pipe after its parent had
 * begun the next fork took that fork's holds too, and the next child's
 * ends were counted nowhere (a reader saw the end while it still wrote). */
static unsigned long forks;

static unsigned long pending(unsigned long pid)
{
    return PIPE_PENDING | (pid << 8 & (PIPE_PENDING - 1)) | (forks & 0xff);
}

static void adopt(void);
static unsigned long me(void)
{
    if (!self) {
        struct sys_msg m = { 0 };
        if (__proc_call(PROC_GETPID, 0, NULL, &m) == PROC_OK) {
            self = m.w[1];
            parent = m.w[2];
            adopt();
        }
    }
    return self;
}

/* How many ends of one kind (HOLDER_READERS or HOLDER_WRITERS) are held. */
static unsigned long holders(struct __pipe *p, int end)
{
    unsigned long n = 0;
    for (int i = 0, k = __atomic_load_n(&p->nheld, __ATOMIC_ACQUIRE); i < k; i++)
        n += HOLDER_COUNT(__atomic_load_n(&p->held[i], __ATOMIC_SEQ_CST), end);
    return n;
}

/* Adds dr read ends and dw write ends to owner's entry (made when there
 * is none; freed when it holds nothing).  False: no free entry. */
static bool hold(struct __pipe *p, unsigned long owner, long dr, long dw)
{
    for (;;) {
        int k = __atomic_load_n(&p->nheld, __ATOMIC_ACQUIRE), at = -1;
        for (int i = 0; i < k && at < 0; i++)
            if (HOLDER_PID(load(&p->held[i])) == owner)
                at = i;
        if (at >= 0) {
            unsigned long e = load(&p->held[at]);
            if (HOLDER_PID(e) != owner)
                continue;                    /* renamed meanwhile (a fork's entry): look again */
            unsigned long r = HOLDER_COUNT(e, HOLDER_READERS) + (unsigned long)dr,
                          w = HOLDER_COUNT(e, HOLDER_WRITERS) + (unsigned long)dw;
            unsigned long n = r || w ? owner | r << HOLDER_READERS | w << HOLDER_WRITERS : 0;
            if (__atomic_compare_exchange_n(&p->held[at], &e, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                return true;
            continue;
        }
        if (dr <= 0 && dw <= 0)
            return true;                     /* nothing held: nothing to take */
        unsigned long n = owner | (unsigned long)dr << HOLDER_READERS | (unsigned long)dw << HOLDER_WRITERS;
        for (int i = 0; i < PIPE_HOLDERS; i++) {
            unsigned long z = 0;
            if (__atomic_compare_exchange_n(&p->held[i], &z, n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                int h = __atomic_load_n(&p->nheld, __ATOMIC_ACQUIRE);
                while (h < i + 1 && !__atomic_compare_exchange_n(&p->nheld, &h, i + 1, false, __ATOMIC_SEQ_CST,
                                                                 __ATOMIC_ACQUIRE))
                    ;
                return true;
            }
        }
        return false;
    }
}

/* The entry of from names to (a fork's holds given to the child); false
 * when from has none (the other side of the fork renamed it first). */
static bool rename_holder(struct __pipe *p, unsigned long from, unsigned long to)
{
    for (int i = 0, k = __atomic_load_n(&p->nheld, __ATOMIC_ACQUIRE); i < k; i++) {
        unsigned long e = load(&p->held[i]);
        if (HOLDER_PID(e) == from &&
            __atomic_compare_exchange_n(&p->held[i], &e, (e & ~0xffffffffUL) | to, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return true;
    }
    return false;
}

/* The ring moved (head, tail) or an end closed: store v, then wake a
 * sleeper if the page says there is one.  Sequentially consistent on both
 * sides (here: the store, then the count; in pipe_sleep: the count, then
 * the check), so a sleeper either sees the move or is counted here, and
 * a signal before its Wait is kept by the notification: none is lost. */
static void wake(struct __pipe *p)
{
    if (p->ntfn && !p->ntfn_gone && __atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST)) {
        struct sys_msg m = { 0 };
        sys_raw(FERRY_SYS_SEND, (unsigned long)p->ntfn, &m);
    }
}

static void store(struct __pipe *p, unsigned long *at, unsigned long v)
{
    __atomic_store_n(at, v, __ATOMIC_SEQ_CST);
    wake(p);
}

/* Takes out the holds and locks of holders that ended without closing
 * (killed, faulted: their libc never ran), asking the process server
 * which of them still run; true if it took any (the caller looks again).
 * A fork's entry not yet renamed is left: its child may still take it. */
static bool sweep(struct __pipe *p)
{
    unsigned long pids[PIPE_HOLDERS + 2], dead[PIPE_HOLDERS + 2];
    unsigned n = 0, nd = 0;
    unsigned long mine = me();
    for (int i = 0, k = __atomic_load_n(&p->nheld, __ATOMIC_ACQUIRE); i < k; i++) {
        unsigned long e = load(&p->held[i]), pid = HOLDER_PID(e);
        if (e && pid != mine && !(pid & PIPE_PENDING))
            pids[n++] = pid;
    }
    unsigned *locks[2] = { &p->rlock, &p->wlock };
    for (int l = 0; l < 2; l++) {
        unsigned long o = __atomic_load_n(locks[l], __ATOMIC_ACQUIRE) & ~PIPE_ASLEEP;
        if (o && o != mine)
            pids[n++] = o;
    }
    for (unsigned i = 0; i < n; i += PROC_ALIVE_MAX) {
        unsigned long w[PROC_ALIVE_MAX] = { 0 };
        for (unsigned j = 0; j < PROC_ALIVE_MAX && i + j < n; j++)
            w[j] = pids[i + j];
        struct sys_msg m = { 0 };
        if (__proc_call(PROC_ALIVE, PROC_ALIVE_MAX, w, &m) != PROC_OK)
            return false;                    /* no answer: take nothing */
        for (unsigned j = 0; j < PROC_ALIVE_MAX && i + j < n; j++)
            if (!(m.w[1] & 1UL << j))
                dead[nd++] = pids[i + j];
    }
    bool took = false;
    for (unsigned d = 0; d < nd; d++) {
        for (int i = 0, k = __atomic_load_n(&p->nheld, __ATOMIC_ACQUIRE); i < k; i++) {
            unsigned long e = load(&p->held[i]);
            if (e && HOLDER_PID(e) == dead[d] &&
                __atomic_compare_exchange_n(&p->held[i], &e, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                took = true;
        }
        for (int l = 0; l < 2; l++) {
            unsigned o = __atomic_load_n(locks[l], __ATOMIC_ACQUIRE);
            if ((o & ~PIPE_ASLEEP) == dead[d] &&
                __atomic_compare_exchange_n(locks[l], &o, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
                if (o & PIPE_ASLEEP)
                    __atomic_fetch_sub(&p->sleepers, 1, __ATOMIC_SEQ_CST);
                took = true;
            }
        }
    }
    if (took)
        wake(p);                             /* another sleeper looks again too */
    return took;
}

/* Yields with nothing to sleep on; every PIPE_SWEEP_EVERY-th time it
 * looks for ended holders instead (nobody signals their end then). */
#define PIPE_SWEEP_EVERY 64
static void pipe_yield(struct __pipe *p, unsigned *tries)
{
    if (++*tries % PIPE_SWEEP_EVERY == 0 && sweep(p))
        return;
    sched_yield();
}

static void lock(struct __pipe *p, unsigned *l)
{
    unsigned tries = 0, z = 0, mine = (unsigned)me();
    while (!__atomic_compare_exchange_n(l, &z, mine, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        z = 0;
        pipe_yield(p, &tries);               /* an owner that ended is swept out */
    }
}

static void unlock(unsigned *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* Waits, holding lock l, until *at is no longer was (or until asked to
 * look again: a wake-up can be for a move the caller does not wait for,
 * or left from an earlier one), or until no holder of the other end is
 * left (end: HOLDER_READERS or HOLDER_WRITERS).  The first PIPE_YIELDS
 * times of a wait (*tries counts them since the caller last moved the
 * ring) it yields instead: a peer that is ready to run moves the ring in
 * its turn, and a round trip by yield costs a system call a side where a
 * sleep and a wake-up cost two (a yield with nothing else to run returns
 * at once, and the next look sleeps).
 *
 * A holder's end: the process server signals the notification (through
 * the ended process's copy) before it tears the process down.  That
 * signal may find the caller (1) asleep: it wakes with nothing changed;
 * (2) not asleep: the signal waits on the notification, where a mover's
 * signal may join it (a notification keeps one pending bit).  So a
 * wake-up with nothing changed, and a signal found pending by the poll
 * before each sleep, are followed by a sweep: the holders that ended are
 * found whichever way their signal came. */
#define PIPE_YIELDS 1
static void pipe_sleep(struct __pipe *p, unsigned *l, const unsigned long *at, unsigned long was, int end,
                       unsigned *tries)
{
    if (!p->ntfn || p->ntfn_gone || *tries < PIPE_YIELDS) {
        pipe_yield(p, tries);
        return;
    }
    (*tries)++;
    struct sys_msg m = { 0 };
    if (sys_raw(FERRY_SYS_NBRECV, (unsigned long)p->ntfn, &m) != FERRY_OK) {
        __atomic_store_n(&p->ntfn_gone, 1, __ATOMIC_SEQ_CST);   /* it went with its maker: yield from now on */
        return;
    }
    if (m.badge) {
        sweep(p);                            /* pending: a move, or an end among them */
        return;
    }
    bool slept = false;
    __atomic_fetch_add(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(l, *l | PIPE_ASLEEP, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(at, __ATOMIC_SEQ_CST) == was && holders(p, end) != 0) {
        m = (struct sys_msg){ 0 };
        slept = true;
        if (sys_raw(FERRY_SYS_RECV, (unsigned long)p->ntfn, &m) != FERRY_OK)
            __atomic_store_n(&p->ntfn_gone, 1, __ATOMIC_SEQ_CST);
    }
    __atomic_store_n(l, *l & ~PIPE_ASLEEP, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    if (slept && __atomic_load_n(at, __ATOMIC_SEQ_CST) == was && holders(p, end) != 0)
        sweep(p);
}

/* The slots of PROC_NOTIFICATION this process's pipes use (bit i: slot
 * PROC_NTFN_SLOT0 + i); a fork child inherits the word with the slots. */
static unsigned ntfn_slots;

/* Another descriptor of this process names pipe p (besides fd). */
static bool held_elsewhere(const struct __pipe *p, int fd)
{
    for (int i = 0; i < FDS_MAX; i++)
        if (i != fd && __fds[i].used && __fds[i].pipe == p)
            return true;
    return false;
}

int pipe(int fd[2])
{
    if (!me())
        return -1;
    struct __pipe *p = mmap(NULL, PIPE_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    int r = __fd_free();
    if (r >= 0)
        __fds[r].used = true;                /* held while the second is found */
    int w = r >= 0 ? __fd_free() : -1;
    if (w < 0) {
        if (r >= 0)
            __fds[r].used = false;
        munmap(p, PIPE_PAGE);
        return -1;
    }
    hold(p, self, 1, 1);
    for (int i = 0; i < PROC_NTFNS && !p->ntfn; i++)
        if (!(ntfn_slots & 1U << i) && proc_notification(PROC_NTFN_SLOT0 + i) == PROC_OK) {
            ntfn_slots |= 1U << i;
            p->ntfn = PROC_NTFN_SLOT0 + i;
        }
    __fds[r] = (struct __fd){ .used = true, .pipe = p, .write_end = false };
    __fds[w] = (struct __fd){ .used = true, .pipe = p, .write_end = true };
    fd[0] = r;
    fd[1] = w;
    return 0;
}

long __pipe_read(int fd, void *buf, size_t n)
{
    struct __pipe *p = __fds[fd].pipe;
    if (__fds[fd].write_end) {
        errno = EBADF;
        return -1;
    }
    if (n == 0)
        return 0;
    lock(p, &p->rlock);
    unsigned long tail = p->tail, head;
    unsigned tries = 0;
    while ((head = load(&p->head)) == tail) {
        if (holders(p, HOLDER_WRITERS) == 0 && load(&p->head) == tail) {
            unlock(&p->rlock);
            return 0;                         /* no writer left: the end */
        }
        pipe_sleep(p, &p->rlock, &p->head, tail, HOLDER_WRITERS, &tries);
    }
    size_t k = head - tail < n ? head - tail : n;
    for (size_t i = 0; i < k;) {             /* at most two pieces around the ring's end */
        size_t at = (tail + i) % PIPE_CAP, run = PIPE_CAP - at < k - i ? PIPE_CAP - at : k - i;
        memcpy((unsigned char *)buf + i, p->data + at, run);
        i += run;
    }
    store(p, &p->tail, tail + k);
    unlock(&p->rlock);
    return (long)k;
}

long __pipe_write(int fd, const void *buf, size_t n)
{
    struct __pipe *p = __fds[fd].pipe;
    if (!__fds[fd].write_end) {
        errno = EBADF;
        return -1;
    }
    size_t done = 0;
    unsigned tries = 0;
    lock(p, &p->wlock);
    while (done < n) {
        if (holders(p, HOLDER_READERS) == 0) {
            unlock(&p->wlock);
            errno = EPIPE;
            return done ? (long)done : -1;
        }
        unsigned long head = p->head, room = PIPE_CAP - (head - load(&p->tail));
        /* a write of PIPE_BUF bytes or less goes in whole (POSIX) */
        if (room == 0 || (n <= PIPE_BUF && room < n)) {
            pipe_sleep(p, &p->wlock, &p->tail, head - (PIPE_CAP - room), HOLDER_READERS, &tries);
            continue;
        }
        size_t k = n - done < room ? n - done : room;
        for (size_t i = 0; i < k;) {
            size_t at = (head + i) % PIPE_CAP, run = PIPE_CAP - at < k - i ? PIPE_CAP - at : k - i;
            memcpy(p->data + at, (const unsigned char *)buf + done + i, run);
            i += run;
        }
        store(p, &p->head, head + k);
        done += k;
        tries = 0;                           /* moved: the next wait yields first again */
    }
    unlock(&p->wlock);
    return (long)done;
}

/* fd's end of its pipe goes: the other side's sleeper is woken to see
 * the end (or EPIPE); the notification's slot is free again once this
 * process holds the pipe no more. */
static void drop(int fd)
{
    struct __fd *e = &__fds[fd];
    struct __pipe *p = e->pipe;
    hold(p, me(), e->write_end ? 0 : -1, e->write_end ? -1 : 0);
    wake(p);
    if (p->ntfn && !held_elsewhere(p, fd))
        ntfn_slots &= ~(1U << (p->ntfn - PROC_NTFN_SLOT0));
    e->used = false;
    e->pipe = NULL;
}

int __pipe_close(int fd)
{
    drop(fd);
    return 0;
}

/* The first descriptor of this process that names fd's pipe (so that a
 * pipe held by several descriptors is handled once). */
static bool first_of_its_pipe(int fd)
{
    for (int i = 0; i < fd; i++)
        if (__fds[i].used && __fds[i].pipe == __fds[fd].pipe)
            return false;
    return true;
}

bool __pipes_fork(int delta)
{
    if (delta > 0 && !me())
        return false;
    if (delta > 0)
        forks++;                             /* this fork's tag: pending(self) */
    for (int fd = 0; fd < FDS_MAX; fd++)
        if (__fds[fd].used && __fds[fd].pipe &&
            !hold(__fds[fd].pipe, pending(self), delta * !__fds[fd].write_end, delta * __fds[fd].write_end)) {
            sweep(__fds[fd].pipe);           /* full: an ended holder's entry, perhaps */
            if (!hold(__fds[fd].pipe, pending(self), delta * !__fds[fd].write_end,
                      delta * __fds[fd].write_end)) {
                for (int k = 0; k < fd; k++)
                    if (__fds[k].used && __fds[k].pipe)
                        hold(__fds[k].pipe, pending(self), -!__fds[k].write_end, -__fds[k].write_end);
                errno = EAGAIN;
                return false;
            }
        }
    return true;
}

void __pipes_forked(long child)
{
    for (int fd = 0; fd < FDS_MAX; fd++)
        if (__fds[fd].used && __fds[fd].pipe && first_of_its_pipe(fd))
            rename_holder(__fds[fd].pipe, pending(self), (unsigned long)child);
}

void __pipes_child(void)
{
    self = 0;                                /* asked at the first use: me() */
}

/* The child's side of __pipes_forked: the holds its parent gave it, if
 * the parent has not named it yet. */
static void adopt(void)
{
    for (int fd = 0; fd < FDS_MAX; fd++)
        if (__fds[fd].used && __fds[fd].pipe && first_of_its_pipe(fd))
            rename_holder(__fds[fd].pipe, pending(parent), self);
}

void __pipes_exit(void)
{
    for (int fd = 0; fd < FDS_MAX; fd++) {
        if (__fds[fd].used && __fds[fd].pipe)
            drop(fd);
        else if (__fds[fd].used && __fds[fd].named)
            __npipe_close(fd);       /* the service's readers see the end */
    }
}

/* dup2: new names what old names (a pipe end gains a holder; a file's
 * handle is shared by both descriptors: close the other one last). */
int dup2(int old, int new)
{
    if (old < 0 || old >= FDS_MAX || new < 0 || new >= FDS_MAX || (!__fds[old].used && old > 2)) {
        errno = EBADF;
        return -1;
    }
    if (old == new)
        return new;
    if (!__fds[old].used) {                  /* the console itself: new becomes the console again */
        if (__fds[new].used && __fds[new].pipe)
            drop(new);
        __fds[new].used = false;
        return new;
    }
    if (__fds[old].pipe && !hold(__fds[old].pipe, me(), !__fds[old].write_end, __fds[old].write_end)) {
        errno = EMFILE;
        return -1;
    }
    if (__fds[new].used && __fds[new].pipe)
        drop(new);
    else if (__fds[new].used)
        close(new);
    __fds[new] = __fds[old];
    return new;
}

int dup(int old)
{
    int fd = __fd_free();
    return fd < 0 ? -1 : dup2(old, fd);
}
