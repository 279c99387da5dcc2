/* pipe.c: pipe, dup and dup2 of Ferry's libc: a pipe is a ring in one page
 * of memory a fork shares (mmap MAP_SHARED), so the processes that hold its
 * ends after fork read and write it directly, without a server.  A reader
 * with nothing to read, or a writer with no room, sleeps on the pipe's
 * notification (PROC_NOTIFICATION: made by pipe() in a slot that fork
 * copies into the child), and the other side signals it after moving the
 * ring, when the page says someone sleeps; without one (none could be
 * made, or it went with the process that made it) they yield instead.
 * The ring counts the holders of each end (fork adds the child, close and
 * exit take one away): no writer left and the ring empty is the end of the
 * data; no reader left is EPIPE. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <ferry/prog.h>
#include "libc.h"

#define PIPE_PAGE 4096

struct __pipe {
    unsigned long head, tail;            /* bytes written and read, ever */
    int readers, writers;                /* holders of each end, over all processes */
    int wlock, rlock;                    /* one writer, one reader at a time (several may hold an end) */
    int sleepers;                        /* holders asleep on the notification (or about to be) */
    int ntfn;                            /* its slot, the same in every holder (0: none: yield) */
    unsigned char data[PIPE_PAGE - 2 * sizeof(unsigned long) - 6 * sizeof(int)];
};
_Static_assert(sizeof(struct __pipe) == PIPE_PAGE, "a pipe is one page");
#define PIPE_CAP sizeof(((struct __pipe *)0)->data)
#ifndef PIPE_BUF
#define PIPE_BUF 512
#endif

static unsigned long load(unsigned long *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

static void lock(int *l)
{
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE))
        sched_yield();
}

static void unlock(int *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

/* The ring moved (head, tail) or an end closed: store v, then wake a
 * sleeper if the page says there is one.  Sequentially consistent on both
 * sides (here: the store, then the count; in pipe_sleep: the count, then
 * the check), so a sleeper either sees the move or is counted here, and
 * a signal before its Wait is kept by the notification: none is lost. */
static void wake(struct __pipe *p)
{
    if (p->ntfn && __atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST)) {
        struct sys_msg m = { 0 };
        sys_raw(FERRY_SYS_SEND, (unsigned long)p->ntfn, &m);
    }
}

static void store(struct __pipe *p, unsigned long *at, unsigned long v)
{
    __atomic_store_n(at, v, __ATOMIC_SEQ_CST);
    wake(p);
}

/* Waits until *at is no longer was (or until asked to look again: a wake-up
 * can be for a move the caller does not wait for, or left from an earlier
 * one), or until no holder of the other end is left (*others == 0).  The
 * first PIPE_YIELDS times of a wait (*tries counts them since the caller
 * last moved the ring) it yields instead: a peer that is ready to run
 * moves the ring in its turn, and a round trip by yield costs a system
 * call a side where a sleep and a wake-up cost two (a yield with nothing
 * else to run returns at once, and the next look sleeps). */
#define PIPE_YIELDS 1
static void pipe_sleep(struct __pipe *p, const unsigned long *at, unsigned long was, const int *others,
                       unsigned *tries)
{
    if (!p->ntfn || (*tries)++ < PIPE_YIELDS) {
        sched_yield();
        return;
    }
    __atomic_fetch_add(&p->sleepers, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(at, __ATOMIC_SEQ_CST) == was && __atomic_load_n(others, __ATOMIC_SEQ_CST) != 0) {
        struct sys_msg m = { 0 };
        if (sys_raw(FERRY_SYS_RECV, (unsigned long)p->ntfn, &m))
            sched_yield();           /* the notification went with its maker: poll by yield */
    }
    __atomic_fetch_sub(&p->sleepers, 1, __ATOMIC_SEQ_CST);
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
    p->readers = p->writers = 1;
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
    lock(&p->rlock);
    unsigned long tail = p->tail, head;
    unsigned tries = 0;
    while ((head = load(&p->head)) == tail) {
        if (__atomic_load_n(&p->writers, __ATOMIC_ACQUIRE) == 0 && load(&p->head) == tail) {
            unlock(&p->rlock);
            return 0;                         /* no writer left: the end */
        }
        pipe_sleep(p, &p->head, tail, &p->writers, &tries);
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
    lock(&p->wlock);
    while (done < n) {
        if (__atomic_load_n(&p->readers, __ATOMIC_ACQUIRE) == 0) {
            unlock(&p->wlock);
            errno = EPIPE;
            return done ? (long)done : -1;
        }
        unsigned long head = p->head, room = PIPE_CAP - (head - load(&p->tail));
        /* a write of PIPE_BUF bytes or less goes in whole (POSIX) */
        if (room == 0 || (n <= PIPE_BUF && room < n)) {
            pipe_sleep(p, &p->tail, head - (PIPE_CAP - room), &p->readers, &tries);
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
    __atomic_fetch_sub(e->write_end ? &p->writers : &p->readers, 1, __ATOMIC_SEQ_CST);
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

void __pipes_fork(int delta)
{
    for (int fd = 0; fd < FDS_MAX; fd++)
        if (__fds[fd].used && __fds[fd].pipe)
            __atomic_fetch_add(__fds[fd].write_end ? &__fds[fd].pipe->writers : &__fds[fd].pipe->readers,
                               delta, __ATOMIC_ACQ_REL);
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
    if (__fds[new].used && __fds[new].pipe)
        drop(new);
    else if (__fds[new].used)
        close(new);
    __fds[new] = __fds[old];
    if (__fds[new].pipe)
        __atomic_fetch_add(__fds[new].write_end ? &__fds[new].pipe->writers : &__fds[new].pipe->readers, 1,
                           __ATOMIC_ACQ_REL);
    return new;
}

int dup(int old)
{
    int fd = __fd_free();
    return fd < 0 ? -1 : dup2(old, fd);
}
