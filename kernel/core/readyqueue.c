/* readyqueue.c: ready queues for 256 fixed priorities with round robin; a two-level bitmap finds the highest in O(1). */
#include <core/sched.h>
#include <panic.h>


struct ready_queue {
    struct tcb *head, *tail;
};

static struct {
    struct ready_queue q[SCHED_NPRIO];
    struct tcb *idle;
} sched;

/* The bitmap is the fast path's too (sched_ready_above in sched.h). */
struct sched_bitmap ks_ready_bitmap;

_Static_assert(L2_WORDS <= 64, "two bitmap levels cover at most 4096 priorities");

void sched_init(struct tcb *idle)
{
    for (unsigned p = 0; p < SCHED_NPRIO; p++)
        sched.q[p].head = sched.q[p].tail = NULL;
    ks_ready_bitmap.l1 = 0;
    for (unsigned w = 0; w < L2_WORDS; w++)
        ks_ready_bitmap.l2[w] = 0;
    sched.idle = idle;
}

static void bitmap_set(unsigned p)
{
    ks_ready_bitmap.l2[p / 64] |= BIT(p % 64);
    ks_ready_bitmap.l1 |= BIT(p / 64);
}

static void bitmap_clear(unsigned p)
{
    ks_ready_bitmap.l2[p / 64] &= ~BIT(p % 64);
    if (ks_ready_bitmap.l2[p / 64] == 0)
        ks_ready_bitmap.l1 &= ~BIT(p / 64);
}

int sched_highest_prio(void)
{
    if (ks_ready_bitmap.l1 == 0)
        return -1;
    unsigned w = 63 - (unsigned)__builtin_clzll(ks_ready_bitmap.l1);
    return (int)(w * 64 + 63 - (unsigned)__builtin_clzll(ks_ready_bitmap.l2[w]));
}

static void enqueue(struct tcb *t, bool front)
{
    assert(t != sched.idle);
    if (t->in_ready_queue)
        return;
    struct ready_queue *q = &sched.q[t->prio];
    if (!q->head) {
        t->sched_next = t->sched_prev = NULL;
        q->head = q->tail = t;
        bitmap_set(t->prio);
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
}

void sched_enqueue(struct tcb *t) { enqueue(t, false); }
void sched_enqueue_front(struct tcb *t) { enqueue(t, true); }

void sched_dequeue(struct tcb *t)
{
    if (!t->in_ready_queue)
        return;
    struct ready_queue *q = &sched.q[t->prio];
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
        bitmap_clear(t->prio);
}

struct tcb *sched_choose(void)
{
    int p = sched_highest_prio();
    if (p < 0)
        return sched.idle;
    struct tcb *t = sched.q[p].head;
    sched_dequeue(t);
    return t;
}

bool sched_should_preempt(const struct tcb *cur)
{
    int p = sched_highest_prio();
    if (p < 0)
        return false;
    return cur == NULL || cur == sched.idle || p > (int)cur->prio;
}

bool sched_tick(struct tcb *cur)
{
    if (cur == NULL || cur == sched.idle)
        return false;
    if (cur->time_slice > 1) {
        cur->time_slice--;
        return false;
    }
    cur->time_slice = SCHED_SLICE_TICKS;
    return true;
}

struct tcb *sched_queue_head(unsigned p) { return p < SCHED_NPRIO ? sched.q[p].head : NULL; }
struct tcb *sched_queue_tail(unsigned p) { return p < SCHED_NPRIO ? sched.q[p].tail : NULL; }

void sched_set_prio(struct tcb *t, uint8_t prio)
{
    if (t->in_ready_queue) {
        sched_dequeue(t);
        t->prio = prio;
        sched_enqueue(t);
    } else {
        t->prio = prio;
    }
}
