/* acpi.h: what the kernel reads from ACPI: the processors' local APIC IDs. */
#ifndef FERRY_ARCH_ACPI_H
#define FERRY_ARCH_ACPI_H

#include <types.h>

/* The local APIC IDs of the enabled processors in the MADT, at most max
 * into ids (the firmware's order: the boot CPU is usually first); 0 when
 * there is no RSDP or MADT.  Tables at or above physical limit (outside
 * the direct map) are not read. */
unsigned acpi_cpu_apic_ids(uint32_t *ids, unsigned max, paddr_t limit);

#endif
