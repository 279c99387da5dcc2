/* readyqueue.c: per-CPU ready queues for 256 fixed priorities with round robin; a two-level bitmap finds the highest in O(1).  A thread is queued on the CPU of its affinity; a wake-up for another CPU sends it a reschedule IPI, or goes to an idle, polling CPU by the hand-off. */
#include <arch/smp.h>
#include <arch/thread.h>
#include <core/sched.h>
#include <object/tcb.h>
#include <panic.h>


struct ready_queue {
    struct tcb *head, *tail;
};

/* One per CPU, reached through percpu.sched; the bitmap first, the fast
 * path reads it (sched_ready_above in sched.h).  All of it is guarded by
 * the big kernel lock: any CPU may queue a thread on another's.  Each
 * starts a cache line (4144 bytes unaligned: CPU 1's bitmap, which its
 * idle loop polls and its fast path reads without the lock, shared a line
 * with CPU 0's last queues, which CPU 0 writes). */
struct sched_cpu {
    struct sched_bitmap bm;
    struct ready_queue q[SCHED_NPRIO];
    struct tcb *idle;
} __attribute__((aligned(64)));
_Static_assert(__builtin_offsetof(struct sched_cpu, bm) == 0, "sched.h reads the bitmap at percpu.sched");

static struct sched_cpu ks_sched_of[FERRY_MAX_CPUS];

#define THIS ((struct sched_cpu *)ks_percpu.sched)

_Static_assert(L2_WORDS <= 64, "two bitmap levels cover at most 4096 priorities");

void sched_init(struct tcb *idle)
{
    struct sched_cpu *s = &ks_sched_of[ks_percpu.cpu];
    for (unsigned p = 0; p < SCHED_NPRIO; p++)
        s->q[p].head = s->q[p].tail = NULL;
    s->bm.l1 = 0;
    for (unsigned w = 0; w < L2_WORDS; w++)
        s->bm.l2[w] = 0;
    s->idle = idle;
    ks_percpu.sched = s;
}

static void bitmap_set(struct sched_bitmap *b, unsigned p)
{
    b->l2[p / 64] |= BIT(p % 64);
    b->l1 |= BIT(p / 64);
}

static void bitmap_clear(struct sched_bitmap *b, unsigned p)
{
    b->l2[p / 64] &= ~BIT(p % 64);
    if (b->l2[p / 64] == 0)
        b->l1 &= ~BIT(p / 64);
}

static int highest(const struct sched_bitmap *b)
{
    if (b->l1 == 0)
        return -1;
    unsigned w = 63 - (unsigned)__builtin_clzll(b->l1);
    return (int)(w * 64 + 63 - (unsigned)__builtin_clzll(b->l2[w]));
}

int sched_highest_prio(void)
{
    return highest(&THIS->bm);
}

/* Read without the lock by the idle loop while it polls (thread.c): a
 * hint only, whose "yes" is followed by taking the lock and looking again
 * (the writer holds the lock, so a torn or stale read costs one more turn). */
bool sched_ready_hint(void)
{
    return __atomic_load_n(&THIS->bm.l1, __ATOMIC_RELAXED) != 0 ||
           ks_percpu.handoff != NULL;      /* volatile: read on every turn */
}

/* ---- the cross-CPU hand-off (docs/smp.md, "The hand-off") ----------------
 * A thread woken for another CPU that idles and polls, with nothing queued
 * there, is not put in that CPU's ready queue: it waits in this CPU's
 * handoff_out (invisible to other CPUs) until this CPU's kernel work is
 * done (schedule(), bkl_unlock: sched_handoff_publish), then goes to that
 * CPU's slot with our ticket, and the idle loop there takes it and runs it
 * without the big lock (a reader, thread.c), while we finish our exit.
 * Either way it is "queued": in_ready_queue and in_handoff, sched_cpu its
 * CPU; sched_dequeue takes it out of either place. */
#if FERRY_FASTPATH && !defined(FERRY_HOST_TEST)
#define HANDOFF 1
#else
#define HANDOFF 0                        /* the reader exits through the fast path's sysret */
#endif
bool ks_handoff_on = true;

static bool handoff_try(struct tcb *t, unsigned cpu)
{
    /* Not our current thread (schedule() queues it elsewhere when its
     * affinity moved, before we switch away from it and save its FPU
     * state: it must not run there until we have). */
    if (!HANDOFF || !ks_handoff_on || ks_percpu.handoff_out || t == ks_percpu.cur)
        return false;
    const struct percpu *p = &ks_percpu_of[cpu];
    const struct sched_cpu *s = &ks_sched_of[cpu];
    /* Its idle loop polls (else the IPI's locked way is as quick), and it
     * has nothing queued (else it chooses under the lock anyway).  While
     * we hold the lock its slot is not being taken (a reader of an
     * earlier holder's slot was drained when we took the lock), so an
     * empty slot and an idle cur stay so until we publish. */
    if (p->handoff || p->cur != s->idle || !p->idle_polling || s->bm.l1)
        return false;
    t->sched_cpu = (uint8_t)cpu;
    t->in_ready_queue = true;
    t->in_handoff = true;
    ks_percpu.handoff_out = t;
    return true;
}

void sched_handoff_publish(void)
{
#if HANDOFF
    struct tcb *t = ks_percpu.handoff_out;
    if (!t)
        return;
    ks_percpu.handoff_out = NULL;
    unsigned cpu = t->sched_cpu;
    struct percpu *p = &ks_percpu_of[cpu];
    /* The ticket first: a reader that sees it has seen every write we
     * made to t before (x86 stores are seen in order). */
    __atomic_store_n(&p->handoff_ticket, ks_bkl.owner, __ATOMIC_RELAXED);
    __atomic_store_n(&p->handoff, t, __ATOMIC_RELEASE);
    /* As kick: either the idle loop still polls and will see the slot
     * (its last look follows its clearing of idle_polling and a fence), or
     * we see it no longer polling and wake it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!__atomic_load_n(&p->idle_polling, __ATOMIC_RELAXED))
        smp_resched(cpu);
#endif
}

void sched_handoff_retract(void)
{
#if HANDOFF
    uint32_t mine = ks_bkl.owner;
    for (unsigned c = 0; c < ks_ncpus; c++) {
        struct percpu *p = &ks_percpu_of[c];
        if (c == arch_cpu_index() || p->handoff_ticket != mine)
            continue;
        /* An exchange: the reader there takes the slot by one too, so
         * exactly one of us has t. */
        struct tcb *t = __atomic_exchange_n(&p->handoff, NULL, __ATOMIC_ACQ_REL);
        if (t) {
            t->in_handoff = false;
            t->in_ready_queue = false;
            sched_enqueue(t);
        }
    }
    /* A reader that took its thread finishes its exit (it waits for
     * nothing); from here we are alone again, as after an acquire. */
    bkl_drain_readers();
#endif
}

void sched_handoff_absorb(void)
{
    struct tcb *t = ks_percpu.handoff;
    if (!t)
        return;
    /* We hold the lock and are not reading our slot: nobody else writes it. */
    ks_percpu.handoff = NULL;
    t->in_handoff = false;
    t->in_ready_queue = false;
    sched_enqueue(t);                    /* our own queue */
}

/* sched_dequeue's case: t waits in the hand-off, not in a ready queue. */
static void handoff_remove(struct tcb *t)
{
    if (ks_percpu.handoff_out == t) {
        ks_percpu.handoff_out = NULL;
    } else {
        /* Another holder published it; we hold the lock, so its CPU's
         * reader cannot take it now (its ticket test fails, or we drained
         * it when we took the lock). */
        struct tcb *was = __atomic_exchange_n(&ks_percpu_of[t->sched_cpu].handoff, NULL, __ATOMIC_ACQ_REL);
        assert(was == t);
        (void)was;
    }
    t->in_handoff = false;
    t->in_ready_queue = false;
}

struct tcb *sched_handoff_slot(unsigned cpu)
{
    return cpu < ks_ncpus ? ks_percpu_of[cpu].handoff : NULL;
}

struct tcb *sched_handoff_pending(void)
{
    return ks_percpu.handoff_out;
}

bool sched_any_ready(void)
{
    for (unsigned c = 0; c < ks_ncpus; c++)
        if (ks_sched_of[c].bm.l1)
            return true;
    return false;
}

/* A thread queued on another CPU: that CPU chooses again if the thread
 * would preempt what it runs (its idle thread included). */
static void kick(unsigned cpu, const struct tcb *t)
{
    const struct tcb *cur = ks_percpu_of[cpu].cur;
    if (cur == ks_sched_of[cpu].idle) {
        /* An idle CPU that still polls its queues sees the thread without
         * an interrupt.  The bitmap was written above; the fence orders
         * that store before this load, as the idle loop's fence orders its
         * clearing of idle_polling before its last look at the bitmap:
         * so either it sees the thread or we see it no longer polling. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (!__atomic_load_n(&ks_percpu_of[cpu].idle_polling, __ATOMIC_RELAXED))
            smp_resched(cpu);
    } else if (t->prio > cur->prio) {
        smp_resched(cpu);
    }
}

static void enqueue(struct tcb *t, bool front, bool handoff)
{
    for (unsigned c = 0; c < ks_ncpus; c++)     /* the CPUs up, not the most there may be */
        assert(t != ks_sched_of[c].idle);
    if (t->in_ready_queue)
        return;
    unsigned cpu = t->affinity < ks_ncpus ? t->affinity : 0;
    if (handoff && !front && cpu != arch_cpu_index() && handoff_try(t, cpu))
        return;
    struct sched_cpu *s = &ks_sched_of[cpu];
    t->sched_cpu = (uint8_t)cpu;
    struct ready_queue *q = &s->q[t->prio];
    if (!q->head) {
        t->sched_next = t->sched_prev = NULL;
        q->head = q->tail = t;
        bitmap_set(&s->bm, t->prio);
    } else if (front) {
        t->sched_prev = NULL;
        t->sched_next = q->head;
        q->head->sched_prev = t;
        q->head = t;
    } else {
        t->sched_next = NULL;
        t->sched_prev = q->tail;
        q->tail->sched_next = t;
        q->tail = t;
    }
    t->in_ready_queue = true;
    if (cpu != arch_cpu_index())
        kick(cpu, t);
}

void sched_enqueue(struct tcb *t) { enqueue(t, false, true); }
void sched_enqueue_front(struct tcb *t) { enqueue(t, true, false); }
void sched_enqueue_queued(struct tcb *t) { enqueue(t, false, false); }

void sched_dequeue(struct tcb *t)
{
    if (!t->in_ready_queue)
        return;
    if (t->in_handoff) {
        handoff_remove(t);
        return;
    }
    struct sched_cpu *s = &ks_sched_of[t->sched_cpu];
    struct ready_queue *q = &s->q[t->prio];
    if (t->sched_prev)
        t->sched_prev->sched_next = t->sched_next;
    else
        q->head = t->sched_next;
    if (t->sched_next)
        t->sched_next->sched_prev = t->sched_prev;
    else
        q->tail = t->sched_prev;
    t->sched_next = t->sched_prev = NULL;
    t->in_ready_queue = false;
    if (!q->head)
        bitmap_clear(&s->bm, t->prio);
}

struct tcb *sched_choose(void)
{
    int p = sched_highest_prio();
    if (p < 0)
        return THIS->idle;
    struct tcb *t = THIS->q[p].head;
    sched_dequeue(t);
    return t;
}

bool sched_should_preempt(const struct tcb *cur)
{
    int p = sched_highest_prio();
    if (p < 0)
        return false;
    return cur == NULL || cur == THIS->idle || p > (int)cur->prio;
}

bool sched_tick_unlocked(struct tcb *cur)
{
    if (cur->time_slice <= 1)
        return false;
    cur->time_slice--;
    return true;
}

bool sched_tick(struct tcb *cur)
{
    if (cur == NULL || cur == THIS->idle || sched_tick_unlocked(cur))
        return false;
    cur->time_slice = SCHED_SLICE_TICKS;
    return true;
}

struct tcb *sched_queue_head(unsigned cpu, unsigned p)
{
    return p < SCHED_NPRIO && cpu < ks_ncpus ? ks_sched_of[cpu].q[p].head : NULL;
}
struct tcb *sched_queue_tail(unsigned cpu, unsigned p)
{
    return p < SCHED_NPRIO && cpu < ks_ncpus ? ks_sched_of[cpu].q[p].tail : NULL;
}
const struct sched_bitmap *sched_bitmap_of(unsigned cpu)
{
    return &ks_sched_of[cpu].bm;
}

void sched_set_affinity(struct tcb *t, unsigned cpu)
{
    if (t->in_ready_queue) {
        sched_dequeue(t);
        t->affinity = (uint8_t)cpu;
        tcb_set_fp_home(t);
        sched_enqueue(t);
        return;
    }
    /* Blocked, or the current thread here (schedule moves it on this
     * kernel exit). */
    t->affinity = (uint8_t)cpu;
    tcb_set_fp_home(t);          /* the fast path's ready word holds the affinity */
}

void sched_set_prio(struct tcb *t, uint8_t prio)
{
    if (t->in_ready_queue) {
        sched_dequeue(t);
        t->prio = prio;
        sched_enqueue(t);
    } else {
        t->prio = prio;
        /* Running elsewhere at a lower priority now: its CPU may have a
         * thread ready above it. */
        int on = smp_running_on(t);
        if (on >= 0)
            smp_resched((unsigned)on);
    }
}
