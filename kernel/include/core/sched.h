/* sched.h: ready queues (core/readyqueue.c): 256 fixed priorities, round robin within one, O(1) choice by a two-level bitmap. */
#ifndef FERRY_CORE_SCHED_H
#define FERRY_CORE_SCHED_H

#include <arch/percpu.h>
#include <object/tcb.h>

#define SCHED_NPRIO         256
#define SCHED_SLICE_TICKS   5   /* timer ticks per time slice */

/* The ready queues hold runnable threads that are not running; the
 * running thread is not queued (arch code owns "current").  The idle
 * thread is never queued: sched_choose returns it when nothing is ready. */
void sched_init(struct tcb *idle);

void sched_enqueue(struct tcb *t);        /* at the tail of its priority (round robin) */
void sched_enqueue_front(struct tcb *t);  /* at the head (a preempted thread keeps its turn) */
/* As sched_enqueue, never by the hand-off: for a wake-up whose waker goes
 * on running (Signal, Send), whose next entry would take the lock before
 * the woken thread's CPU could take the hand-off (docs/smp.md). */
void sched_enqueue_queued(struct tcb *t);
void sched_dequeue(struct tcb *t);        /* no-op if not queued */

/* Remove and return the highest-priority ready thread (head of its queue),
 * or the idle thread if none.  The caller switches to it. */
struct tcb *sched_choose(void);

int sched_highest_prio(void);             /* -1 when no thread is ready (on this CPU) */
bool sched_ready_hint(void);             /* without the lock: something may be ready here */
bool sched_any_ready(void);               /* a thread is ready on some CPU */

/* Which priorities have ready threads: bit p of l2 is set iff queue p is
 * non-empty, bit w of l1 iff l2[w] != 0.  Written only by readyqueue.c. */
#define L2_WORDS (SCHED_NPRIO / 64)
struct sched_bitmap {
    uint64_t l1;
    uint64_t l2[L2_WORDS];
};
/* This CPU's bitmap: the first member of its queues (sched.c). */
#define ks_ready_bitmap (*(struct sched_bitmap *)ks_percpu.sched)
const struct sched_bitmap *sched_bitmap_of(unsigned cpu);

/* Is a thread of priority above p ready?  Inline, for the IPC fast path
 * (sched_highest_prio() > p, without the call). */
static inline bool sched_ready_above(unsigned p)
{
    unsigned w = p / 64;
    /* w + 1 <= L2_WORDS <= 64 and p % 64 + 1 <= 64: shift in two steps,
     * never by 64 at once. */
    return (ks_ready_bitmap.l1 >> w >> 1) != 0 || (ks_ready_bitmap.l2[w] >> (p % 64) >> 1) != 0;
}
/* A ready thread has higher priority than cur: the caller should enqueue
 * cur (front) and switch. */
bool sched_should_preempt(const struct tcb *cur);

/* Timer tick for the running thread: true when its slice ran out (the
 * slice is refilled; the caller enqueues cur at the tail and chooses). */
bool sched_tick(struct tcb *cur);
/* The same count, for a tick taken without the big kernel lock: true
 * (and one tick counted) when the slice has more than one left, so that
 * the tick changes nothing else; false (nothing counted) when the tick
 * must go the locked way.  Only the CPU that runs cur writes its slice. */
bool sched_tick_unlocked(struct tcb *cur);

/* The cross-CPU hand-off (readyqueue.c; docs/smp.md, "The hand-off").
 * With the lock held: publish the thread this CPU's kernel work handed to
 * an idle CPU (the last step before leaving: schedule(), bkl_unlock);
 * take back what we published when more kernel work follows after all
 * (returns once no reader runs); move this CPU's slot into its queue (the
 * idle loop).  ks_handoff_on: command line handoff=on|off. */
void sched_handoff_publish(void);
void sched_handoff_retract(void);
void sched_handoff_absorb(void);
struct tcb *sched_handoff_slot(unsigned cpu);  /* read only (the invariant check) */
struct tcb *sched_handoff_pending(void);       /* this CPU's handoff_out */
extern bool ks_handoff_on;

/* Head and tail of priority p's ready queue on CPU cpu, read only (the invariant check). */
struct tcb *sched_queue_head(unsigned cpu, unsigned p);
struct tcb *sched_queue_tail(unsigned cpu, unsigned p);

/* Run t on CPU cpu (< ks_ncpus) from now: requeued if queued; the
 * current thread moves at this kernel exit.  t runs on no other CPU and
 * no other CPU holds its FPU state (tcb_set_affinity sees to both). */
void sched_set_affinity(struct tcb *t, unsigned cpu);

/* Change a thread's priority, moving it between queues if it is queued. */
void sched_set_prio(struct tcb *t, uint8_t prio);

#endif
