/* apic.h: the local APIC and its timer, the scheduler's clock. */
#ifndef FERRY_ARCH_APIC_H
#define FERRY_ARCH_APIC_H

#include <types.h>

#define VEC_TIMER    0x20
#define VEC_IPI      0xf0   /* inter-processor: reschedule / remote request (smp.c) */
#define VEC_SPURIOUS 0xff

/* Masks the legacy PICs, enables the local APIC and starts a periodic tick
 * of tick_us microseconds (TSC-deadline mode when the CPU has it, else the
 * APIC timer calibrated against the PIT). */
void apic_init(unsigned tick_us);
void apic_eoi(void);
/* Re-arm the timer after a tick (TSC-deadline mode is one-shot). */
void apic_timer_rearm(void);
/* The tick off while this CPU idles, and on again (a full tick). */
void apic_timer_stop(void);
void apic_timer_resume(void);
/* Another CPU's APIC, in the boot CPU's mode, with the same tick. */
void apic_init_ap(void);
uint32_t apic_id(void);
bool apic_x2apic_mode(void);
/* IPIs to the CPU with the local APIC ID dest: a fixed vector, INIT, and
 * a start-up IPI whose code starts at physical page * 4096. */
void apic_send_ipi(uint32_t dest, uint8_t vector);
void apic_send_init(uint32_t dest);
void apic_send_sipi(uint32_t dest, uint8_t page);

#endif
