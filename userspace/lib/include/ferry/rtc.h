/* rtc.h: a periodic-interrupt probe: the CMOS RTC's 1024 Hz interrupt wakes a thread that records the gaps. */
#ifndef FERRY_USER_RTC_H
#define FERRY_USER_RTC_H

#include <ferry/ulib.h>

/* What the probe thread saw since the last rtc_probe_reset (TSC ticks).
 * The interrupt comes every 1/1024 s; a gap beyond that is how long an
 * interrupt, or the thread it wakes, waited. */
struct rtc_probe {
    volatile unsigned long ticks;        /* interrupts delivered */
    volatile unsigned long max_gap;      /* longest time between two deliveries */
    volatile unsigned long last;         /* TSC at the last delivery, 0: none yet */
};
extern struct rtc_probe rtc_probe;

#define RTC_PERIOD_NS 976562UL           /* 1/1024 s */

/* Start the RTC's periodic interrupt (ISA line 8) and a thread of
 * priority prio, on a stack at stack_va (its page table must exist),
 * that waits for it and records each delivery.  0 or an error code. */
unsigned long rtc_probe_start(unsigned long stack_va, unsigned prio);
/* Count from now: the first gap is measured from the last delivery. */
void rtc_probe_reset(void);
/* Stop the interrupt and the thread (both stay for the next start). */
void rtc_probe_stop(void);

#endif
