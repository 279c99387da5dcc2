/* threads.c: futex ping-pong and sched_yield switching between two threads of one process. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux_bench.h"

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
    return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

/* Protocol on one futex word w (private futex, one waiter per side):
 *  1. the main thread stores 2i+1 and wakes the partner;
 *  2. the partner, sleeping while w != 2i+1, checks it, stores 2i+2, wakes;
 *  3. the main thread sleeps while w == 2i+1; any value other than 2i+2
 *     after that is a protocol error.
 * FUTEX_WAIT returns at once if w no longer holds the expected value, so a
 * store-then-wake never loses a wake-up. */
struct fx_pair {
    _Atomic uint32_t word;
    size_t total;
    int cpu;
    const char *fail;
};

static void *fx_partner(void *arg)
{
    struct fx_pair *p = arg;
    if (!lb_pin(p->cpu)) {
        p->fail = "partner thread could not be pinned";
        atomic_store(&p->word, UINT32_MAX);
        futex(&p->word, FUTEX_WAKE_PRIVATE, 1);
        return NULL;
    }
    for (size_t i = 0; i < p->total; i++) {
        uint32_t want = (uint32_t)(2 * i + 1), v;
        while ((v = atomic_load(&p->word)) != want) {
            if (v != want - 1) {
                p->fail = "partner saw a wrong futex value";
                atomic_store(&p->word, UINT32_MAX);
                futex(&p->word, FUTEX_WAKE_PRIVATE, 1);
                return NULL;
            }
            futex(&p->word, FUTEX_WAIT_PRIVATE, v);
        }
        atomic_store(&p->word, want + 1);
        futex(&p->word, FUTEX_WAKE_PRIVATE, 1);
    }
    return NULL;
}

static const char *futex_rt(struct bench_ctx *c)
{
    /* 2i+2 must not wrap the 32-bit futex word (nor reach the error value). */
    if (c->warmup + c->n >= UINT32_MAX / 2 - 1)
        return "too many iterations for a 32-bit futex word";
    struct fx_pair p = { .word = 0, .total = c->warmup + c->n, .cpu = lb_peer_cpu(c) };
    pthread_t th;
    if (pthread_create(&th, NULL, fx_partner, &p) != 0)
        return "pthread_create failed";
    const char *fail = NULL;
    for (size_t i = 0; i < p.total && !fail; i++) {
        uint32_t tok = (uint32_t)(2 * i + 1), v;
        uint64_t t0 = tsc_begin();
        atomic_store(&p.word, tok);
        futex(&p.word, FUTEX_WAKE_PRIVATE, 1);
        while ((v = atomic_load(&p.word)) == tok)
            futex(&p.word, FUTEX_WAIT_PRIVATE, tok);
        uint64_t t1 = tsc_end();
        if (v == UINT32_MAX)
            fail = p.fail ? p.fail : "partner thread failed";
        else if (v != tok + 1)
            fail = "wrong futex reply value";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    if (fail) {
        /* Unblock a partner still waiting for the next token. */
        atomic_store(&p.word, UINT32_MAX - 1);
        futex(&p.word, FUTEX_WAKE_PRIVATE, 1);
    }
    pthread_join(th, NULL);
    return fail ? fail : p.fail;
}

/* Yield: both threads on CPU 0 call sched_yield in a loop; the partner
 * counts its turns.  One sample is the time from the main thread's yield
 * until it runs again after the partner has run: two thread switches.
 * CFS does not promise that a yield switches (it keeps the caller when
 * the other thread's virtual runtime is too far ahead), so the main thread
 * yields again until the partner's count has moved; this is normally one
 * call, and the check that the partner really ran is part of every sample. */
struct yd_pair {
    _Atomic uint64_t turns;
    _Atomic bool stop;
    const char *fail;
};

/* A partner that cannot get the CPU in this many yields is broken. */
#define YIELD_MAX_TRIES 100000

static void *yd_partner(void *arg)
{
    struct yd_pair *p = arg;
    if (!lb_pin(0)) {
        p->fail = "partner thread could not be pinned";
        atomic_store(&p->stop, true);
        return NULL;
    }
    while (!atomic_load(&p->stop)) {
        atomic_fetch_add(&p->turns, 1);
        sched_yield();
    }
    return NULL;
}

static const char *yield(struct bench_ctx *c)
{
    struct yd_pair p = { .turns = 0, .stop = false };
    pthread_t th;
    if (pthread_create(&th, NULL, yd_partner, &p) != 0)
        return "pthread_create failed";
    /* Until the partner has run once it may not be runnable yet. */
    while (atomic_load(&p.turns) == 0 && !atomic_load(&p.stop))
        sched_yield();
    const char *fail = NULL;
    for (size_t i = 0; i < c->warmup + c->n && !fail && !p.fail; i++) {
        uint64_t before = atomic_load(&p.turns);
        unsigned tries = 0;
        uint64_t t0 = tsc_begin();
        do {
            sched_yield();
        } while (atomic_load(&p.turns) == before && ++tries < YIELD_MAX_TRIES);
        uint64_t t1 = tsc_end();
        if (tries == YIELD_MAX_TRIES)
            fail = "the partner thread never ran";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    atomic_store(&p.stop, true);
    pthread_join(th, NULL);
    return p.fail ? p.fail : fail;
}

const struct bench_entry lb_threads_table[] = {
    { "futex_rt", "cpu1", futex_rt, "futex ping-pong between two threads, one CPU", NULL, 0, 0, &lb_cpu1, 0 },
    { "futex_rt", "cpu2", futex_rt, "futex ping-pong between two threads, two CPUs", NULL, 0, 0, &lb_cpu2, 0 },
    { "yield", "cpu1", yield, "sched_yield until the partner thread has run (two switches), one CPU", NULL, 0, 0, &lb_cpu1, 0 },
};
const size_t lb_threads_count = sizeof(lb_threads_table) / sizeof(lb_threads_table[0]);
