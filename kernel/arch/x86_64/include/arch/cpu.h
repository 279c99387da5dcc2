/* cpu.h: what the CPU offers, read once from CPUID at boot. */
#ifndef FERRY_ARCH_CPU_H
#define FERRY_ARCH_CPU_H

#include <types.h>

struct cpu_features {
    char vendor[13];
    char brand[49];
    char hypervisor[13];        /* empty when not under a hypervisor */
    uint32_t max_leaf, max_ext_leaf, max_hv_leaf;
    bool pcid, invpcid, smep, smap, fsgsbase, x2apic, tsc_deadline;
    bool invariant_tsc, rdtscp, nx, page1gb, syscall, fxsr, apic, pge;
    uint64_t tsc_hz;            /* 0 when the CPU does not state it */
    const char *tsc_hz_source;  /* which CPUID leaf gave tsc_hz */
    uint64_t tsc_hz_calibrated; /* measured against the PIT by apic_init (0 before) */
};

extern struct cpu_features ks_cpu;

void cpu_detect(void);
/* Chooses the TSC read method (lib/include/tsc.h) from CPUID and the tsc= word. */
void cpu_tsc_init(const char *cmdline);
void cpu_print(void);
/* After apic_init: what a real machine offers that the emulators here lack
 * (invariant TSC and its frequency, x2APIC, TSC-deadline), one line. */
void cpu_print_platform(void);

#endif
