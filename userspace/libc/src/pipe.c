/* pipe.c: pipe, dup and dup2 of Ferry's libc: a pipe is a ring in one page
 * of memory a fork shares (mmap MAP_SHARED), so the processes that hold its
 * ends after fork read and write it directly, without a server.  A reader
 * with nothing to read, or a writer with no room, yields the processor
 * until the other side has moved (blocking by yield: every program runs
 * at one priority, round robin).  The ring counts the holders of each end
 * (fork adds the child, close and exit take one away): no writer left and
 * the ring empty is the end of the data; no reader left is EPIPE. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "libc.h"

#define PIPE_PAGE 4096

struct __pipe {
    unsigned long head, tail;            /* bytes written and read, ever */
    int readers, writers;                /* holders of each end, over all processes */
    int wlock, rlock;                    /* one writer, one reader at a time (several may hold an end) */
    unsigned char data[PIPE_PAGE - 2 * sizeof(unsigned long) - 4 * sizeof(int)];
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
static void store(unsigned long *p, unsigned long v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

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
    while ((head = load(&p->head)) == tail) {
        if (__atomic_load_n(&p->writers, __ATOMIC_ACQUIRE) == 0 && load(&p->head) == tail) {
            unlock(&p->rlock);
            return 0;                         /* no writer left: the end */
        }
        sched_yield();
    }
    size_t k = head - tail < n ? head - tail : n;
    for (size_t i = 0; i < k;) {             /* at most two pieces around the ring's end */
        size_t at = (tail + i) % PIPE_CAP, run = PIPE_CAP - at < k - i ? PIPE_CAP - at : k - i;
        memcpy((unsigned char *)buf + i, p->data + at, run);
        i += run;
    }
    store(&p->tail, tail + k);
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
            sched_yield();
            continue;
        }
        size_t k = n - done < room ? n - done : room;
        for (size_t i = 0; i < k;) {
            size_t at = (head + i) % PIPE_CAP, run = PIPE_CAP - at < k - i ? PIPE_CAP - at : k - i;
            memcpy(p->data + at, (const unsigned char *)buf + done + i, run);
            i += run;
        }
        store(&p->head, head + k);
        done += k;
    }
    unlock(&p->wlock);
    return (long)done;
}

static void drop(struct __fd *e)
{
    __atomic_fetch_sub(e->write_end ? &e->pipe->writers : &e->pipe->readers, 1, __ATOMIC_ACQ_REL);
    e->used = false;
    e->pipe = NULL;
}

int __pipe_close(int fd)
{
    drop(&__fds[fd]);
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
            drop(&__fds[fd]);
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
            drop(&__fds[new]);
        __fds[new].used = false;
        return new;
    }
    if (__fds[new].used && __fds[new].pipe)
        drop(&__fds[new]);
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
