/* preempt.h: preemption points of long kernel operations (seL4's preemptionPoint). */
#ifndef FERRY_CORE_PREEMPT_H
#define FERRY_CORE_PREEMPT_H

#include <types.h>

/* Units of work (deleted capabilities, reaped slots, cleared 4 KiB pages)
 * between two looks at pending interrupts.  One unit is a few hundred
 * instructions at most, so this bounds the time interrupts wait. */
#define PREEMPT_WORK_UNITS 64

/* Called by a long operation after each unit of work, at a point where
 * every kernel structure is consistent.  Every PREEMPT_WORK_UNITS calls it
 * lets pending interrupts in; true means stop: a thread of higher
 * priority than the current one became ready, or the current one's time
 * slice ended, or another CPU waits to enter the kernel.  The operation then returns INVOKE_PREEMPTED and the
 * system call is restarted when its thread next runs (it must find its
 * progress in the objects, not on the stack). */
bool preemption_point(void);

/* Start a new operation's count (a restart begins afresh). */
void preemption_reset(void);

#endif
