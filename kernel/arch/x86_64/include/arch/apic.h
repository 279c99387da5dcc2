/* apic.h: the local APIC and its timer, the scheduler's clock. */
#ifndef FERRY_ARCH_APIC_H
#define FERRY_ARCH_APIC_H

#include <types.h>

#define VEC_TIMER    0x20
#define VEC_SPURIOUS 0xff

/* Masks the legacy PICs, enables the local APIC and starts a periodic tick
 * of tick_us microseconds (TSC-deadline mode when the CPU has it, else the
 * APIC timer calibrated against the PIT). */
void apic_init(unsigned tick_us);
void apic_eoi(void);
/* Re-arm the timer after a tick (TSC-deadline mode is one-shot). */
void apic_timer_rearm(void);

#endif
