/* ioapic.h: the I/O APIC driver (ioapic.c). */
#ifndef FERRY_ARCH_IOAPIC_H
#define FERRY_ARCH_IOAPIC_H

#include <types.h>

/* Finds the I/O APIC and masks every line; false when there is none. */
bool ioapic_init(void);
bool ioapic_present(void);
/* Route ISA line to vector VEC_IRQ_BASE + line, masked or not. */
void ioapic_mask(unsigned line, bool masked);

#endif
