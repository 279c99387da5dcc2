/* tsc.h: the TSC reads that bracket every timed region (lfence;rdtsc ... rdtscp;lfence). */
#ifndef FERRY_BENCH_TSC_H
#define FERRY_BENCH_TSC_H

#include <stdbool.h>
#include <stdint.h>

/* Keeps the compiler from moving memory accesses across a timed region's
 * edges; the CPU side is handled by the fences inside tsc_begin/tsc_end. */
#define bench_compiler_fence() __asm__ __volatile__("" ::: "memory")

/* Start of a timed region.  The lfence waits until every earlier instruction
 * has completed locally, so rdtsc does not read the clock before the work
 * that precedes the region is done (Intel SDM vol. 2B, RDTSC). */
static inline uint64_t tsc_begin(void)
{
    uint32_t lo, hi;
    __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* End of a timed region.  rdtscp waits for all earlier instructions to
 * execute before it reads the clock; the trailing lfence keeps later
 * instructions from starting before the read. */
static inline uint64_t tsc_end(void)
{
    uint32_t lo, hi, aux;
    __asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
    (void)aux;
    return ((uint64_t)hi << 32) | lo;
}

static inline void tsc_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ __volatile__("cpuid"
                         : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(sub));
}

/* tsc_end needs RDTSCP (CPUID 0x80000001 EDX bit 27); QEMU's default
 * qemu64 model lacks it, so a program checks this once and refuses to run
 * (with a clear @error) instead of dying on #UD. */
static inline bool tsc_has_rdtscp(void)
{
    uint32_t r[4];
    tsc_cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000001u)
        return false;
    tsc_cpuid(0x80000001u, 0, r);
    return (r[3] >> 27) & 1;
}

/* Invariant TSC (CPUID 0x80000007 EDX bit 8): ticks at a constant rate. */
static inline bool tsc_is_invariant(void)
{
    uint32_t r[4];
    tsc_cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000007u)
        return false;
    tsc_cpuid(0x80000007u, 0, r);
    return (r[3] >> 8) & 1;
}

/* The TSC frequency the CPU states, in Hz, or 0 when it states none:
 * CPUID 0x15 (crystal ratio; crystal from 0x15 ECX or, when that is 0, the
 * base frequency of leaf 0x16), else the hypervisor timing leaf 0x40000010
 * (kHz; QEMU/KVM and VMware fill it). */
static inline uint64_t tsc_stated_hz(void)
{
    uint32_t r[4];
    tsc_cpuid(0, 0, r);
    uint32_t max = r[0];
    if (max >= 0x15) {
        tsc_cpuid(0x15, 0, r);
        uint32_t den = r[0], num = r[1], crystal = r[2];
        if (den != 0 && num != 0) {
            if (crystal != 0)
                return (uint64_t)crystal * num / den;
            if (max >= 0x16) {
                uint32_t s[4];
                tsc_cpuid(0x16, 0, s);
                if (s[0] != 0)
                    return (uint64_t)(s[0] & 0xffff) * 1000000u;
            }
        }
    }
    tsc_cpuid(1, 0, r);
    if ((r[2] >> 31) & 1) { /* running under a hypervisor */
        tsc_cpuid(0x40000000u, 0, r);
        if (r[0] >= 0x40000010u) {
            tsc_cpuid(0x40000010u, 0, r);
            if (r[0] != 0)
                return (uint64_t)r[0] * 1000u;
        }
    }
    return 0;
}

#endif
