/* sched.h: sched_yield of Ferry's libc. */
#ifndef _SCHED_H
#define _SCHED_H

int sched_yield(void);

#endif
