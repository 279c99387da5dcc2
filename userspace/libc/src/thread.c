/* thread.c: threads (a pthread subset) by the process server's
 * PROC_THREAD: a new thread in this process's CSpace and VSpace, with an
 * IPC buffer of its own, starting at __thread_entry on a stack malloc
 * gave.  Join waits, yielding, for the thread's done flag; the thread
 * ends itself with PROC_THREAD_EXIT (its slot and IPC buffer are reused;
 * its stack is freed by the joiner). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include "libc.h"

#define STACK_SIZE (64 * 1024)

struct thread_rec {
    void *(*start)(void *);
    void *arg, *ret, *stack;
    unsigned long index;             /* the server's thread number */
    volatile int done;
};

void __thread_entry(void);
void __thread_main(void *(*start)(void *), void *arg, struct thread_rec *t) __attribute__((noreturn));

static void __attribute__((noreturn)) thread_end(struct thread_rec *t, void *ret)
{
    struct sys_msg m = { 0 };
    unsigned long w = __thread_index();
    if (t) {
        t->ret = ret;
        __atomic_store_n(&t->done, 1, __ATOMIC_RELEASE);
    }
    for (;;) {
        __proc_call(PROC_THREAD_EXIT, 1, &w, &m);
        sys_yield();                 /* not reached: the server suspends this thread */
    }
}

/* Each thread's record, found by its index (the main thread has none). */
static struct thread_rec *records[PROC_THREADS_MAX];

void __thread_main(void *(*start)(void *), void *arg, struct thread_rec *t)
{
    records[__thread_index() % PROC_THREADS_MAX] = t;
    thread_end(t, start(arg));
}

int pthread_create(pthread_t *restrict out, const pthread_attr_t *restrict attr,
                   void *(*start)(void *), void *restrict arg)
{
    (void)attr;
    struct thread_rec *t = calloc(1, sizeof *t);
    void *stack = malloc(STACK_SIZE);
    if (!t || !stack) {
        free(t);
        free(stack);
        return EAGAIN;
    }
    t->start = start;
    t->arg = arg;
    t->stack = stack;
    struct sys_msg m = { 0 };
    const unsigned long w[5] = { (unsigned long)__thread_entry, (unsigned long)stack + STACK_SIZE,
                                 (unsigned long)start, (unsigned long)arg, (unsigned long)t };
    unsigned long err = __proc_call(PROC_THREAD, 5, w, &m);
    if (err) {
        free(t);
        free(stack);
        return err == PROC_E_NO_MEMORY ? EAGAIN : EINVAL;
    }
    t->index = m.w[1];
    *out = (pthread_t)t;
    return 0;
}

int pthread_join(pthread_t th, void **ret)
{
    struct thread_rec *t = (struct thread_rec *)th;
    if (!t)
        return EINVAL;
    while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE))
        sched_yield();
    /* Done is set just before the thread's last Call; its stack may still
     * be in use until the server has suspended it, which PROC_THREAD_JOIN
     * confirms (answered once the thread is gone). */
    for (;;) {
        struct sys_msg m = { 0 };
        unsigned long w = t->index;
        if (__proc_call(PROC_THREAD_JOIN, 1, &w, &m) != PROC_E_AGAIN)
            break;
        sched_yield();
    }
    if (ret)
        *ret = t->ret;
    free(t->stack);
    free(t);
    return 0;
}

void pthread_exit(void *ret)
{
    unsigned i = __thread_index();
    if (i == 0)
        exit(0);                     /* the main thread: the process ends */
    thread_end(records[i % PROC_THREADS_MAX], ret);
}

pthread_t pthread_self(void)
{
    unsigned i = __thread_index();
    return i ? (pthread_t)records[i % PROC_THREADS_MAX] : 0;
}

int pthread_mutex_init(pthread_mutex_t *restrict mx, const pthread_mutexattr_t *restrict a)
{
    (void)a;
    mx->locked = 0;
    return 0;
}

int pthread_mutex_trylock(pthread_mutex_t *mx)
{
    return __atomic_exchange_n(&mx->locked, 1, __ATOMIC_ACQUIRE) ? EBUSY : 0;
}

int pthread_mutex_lock(pthread_mutex_t *mx)
{
    while (__atomic_exchange_n(&mx->locked, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    return 0;
}

int pthread_mutex_unlock(pthread_mutex_t *mx)
{
    __atomic_store_n(&mx->locked, 0, __ATOMIC_RELEASE);
    return 0;
}

int pthread_mutex_destroy(pthread_mutex_t *mx)
{
    (void)mx;
    return 0;
}
