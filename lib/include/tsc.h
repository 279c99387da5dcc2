/* tsc.h: the TSC reads that bracket every timed region, by the method this CPU supports (rdtscp, lfence or mfence). */
#ifndef FERRY_TSC_H
#define FERRY_TSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keeps the compiler from moving memory accesses across a timed region's
 * edges; the CPU side is handled by the fences inside tsc_begin/tsc_end. */
#define bench_compiler_fence() __asm__ __volatile__("" ::: "memory")

/* How a timed region's edges read the TSC; chosen once per program (and
 * by the kernel for its floors) from CPUID by tsc_init(), so that no code
 * executes an instruction its CPU does not advertise.  Every x86-64 CPU has
 * SSE2, so LFENCE and MFENCE are always there; RDTSCP is not (QEMU's qemu64
 * and Nehalem models, some AMD cloud guests).
 *
 *   TSC_RDTSCP  begin: lfence; rdtsc     end: rdtscp; lfence
 *       Intel SDM vol. 2B, RDTSCP: "waits until all previous instructions
 *       have executed and all previous loads are globally visible"; the
 *       trailing LFENCE keeps later instructions from starting before the
 *       read (SDM, same page).  AMD APM vol. 3, RDTSCP: likewise.
 *   TSC_LFENCE  begin: lfence; rdtsc     end: lfence; rdtsc; lfence
 *       Intel SDM vol. 2B, RDTSC: "If software requires RDTSC to be executed
 *       only after all previous instructions have executed ... it can
 *       execute LFENCE immediately before RDTSC", and LFENCE immediately
 *       after to keep later instructions from starting first.  On AMD only
 *       where LFENCE is dispatch serialising: CPUID Fn8000_0021 EAX[2]
 *       (LfenceAlwaysSerializing; AMD, "Software Techniques for Managing
 *       Speculation on AMD Processors"; Linux: X86_FEATURE_LFENCE_RDTSC).
 *   TSC_MFENCE  begin: mfence; rdtsc     end: mfence; rdtsc; mfence
 *       AMD without that guarantee: the APM says RDTSC "is not serializing"
 *       and LFENCE there orders loads only (the MSR C001_1029[1] that would
 *       make it serialising is not readable from a guest or user space), so
 *       MFENCE is the barrier, as in Linux's rdtsc_barrier() on such parts
 *       (X86_FEATURE_MFENCE_RDTSC). */
enum tsc_method { TSC_RDTSCP, TSC_LFENCE, TSC_MFENCE };

/* The method in use (lib/tsc.c); TSC_LFENCE until tsc_init runs,
 * which is safe on every x86-64. */
extern enum tsc_method tsc_method;

/* Start of a timed region: the fence waits until every earlier instruction
 * has completed, so rdtsc does not read the clock before the work that
 * precedes the region is done. */
static inline uint64_t tsc_begin(void)
{
    uint32_t lo, hi;
    if (tsc_method == TSC_MFENCE)
        __asm__ __volatile__("mfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    else
        __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

/* End of a timed region: the read waits for all earlier instructions, and
 * the trailing fence keeps later instructions from starting before it. */
static inline uint64_t tsc_end(void)
{
    uint32_t lo, hi, aux;
    switch (tsc_method) {
    case TSC_RDTSCP:
        __asm__ __volatile__("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
        (void)aux;
        break;
    case TSC_MFENCE:
        __asm__ __volatile__("mfence\n\trdtsc\n\tmfence" : "=a"(lo), "=d"(hi) : : "memory");
        break;
    default:
        __asm__ __volatile__("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
        break;
    }
    return ((uint64_t)hi << 32) | lo;
}

static inline void tsc_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ __volatile__("cpuid"
                         : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                         : "a"(leaf), "c"(sub));
}

/* RDTSCP: CPUID 0x80000001 EDX bit 27. */
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

/* What the method choice depends on, read from CPUID by tsc_probe(). */
struct tsc_cpu {
    bool rdtscp;              /* CPUID 0x80000001 EDX[27] */
    bool amd;                 /* AuthenticAMD or HygonGenuine */
    bool lfence_serialising;  /* AMD CPUID 0x80000021 EAX[2]; always true for the others */
};

void tsc_probe(struct tsc_cpu *c);

/* The method for CPU c; words may hold "tsc=rdtscp|lfence|mfence" to force
 * one (a benchmark's forced fallback, to test both code paths on any CPU).
 * A forced rdtscp on a CPU without it is refused: *note (when given) then
 * says so and the best available method is used.  Pure: tested on the host. */
enum tsc_method tsc_pick(const struct tsc_cpu *c, const char *words, const char **note);

/* tsc_probe + tsc_pick, and sets tsc_method; returns the note (or NULL). */
const char *tsc_init(const char *words);

/* "rdtscp", "lfence" or "mfence"; tsc_method_seq: the end-of-region sequence. */
const char *tsc_method_name(enum tsc_method m);
const char *tsc_method_seq(enum tsc_method m);

#endif
