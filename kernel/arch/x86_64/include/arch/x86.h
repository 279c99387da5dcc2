/* x86.h: thin inline wrappers around x86-64 instructions. */
#ifndef FERRY_ARCH_X86_H
#define FERRY_ARCH_X86_H

#include <types.h>

#define MSR_EFER          0xC0000080
#define MSR_STAR          0xC0000081
#define MSR_LSTAR         0xC0000082
#define MSR_CSTAR         0xC0000083
#define MSR_FMASK         0xC0000084
#define MSR_FS_BASE       0xC0000100
#define MSR_GS_BASE       0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_TSC_AUX       0xC0000103
/* RFLAGS bits. */
#define RFLAGS_CF   BIT(0)
#define RFLAGS_FIXED BIT(1)        /* always reads as 1 */
#define RFLAGS_PF   BIT(2)
#define RFLAGS_AF   BIT(4)
#define RFLAGS_ZF   BIT(6)
#define RFLAGS_SF   BIT(7)
#define RFLAGS_TF   BIT(8)
#define RFLAGS_IF   BIT(9)
#define RFLAGS_DF   BIT(10)
#define RFLAGS_OF   BIT(11)
#define RFLAGS_IOPL (3UL << 12)
#define RFLAGS_NT   BIT(14)
#define RFLAGS_RF   BIT(16)
#define RFLAGS_VM   BIT(17)
#define RFLAGS_AC   BIT(18)
#define RFLAGS_ID   BIT(21)
/* What a user thread may run with: the arithmetic flags, TF, DF, AC and
 * ID, which ring 3 can set itself anyway (IF is always on).  Never IOPL
 * (direct port access), NT (iretq would attempt a task return), RF or VM. */
#define RFLAGS_USER (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_TF | \
                     RFLAGS_DF | RFLAGS_OF | RFLAGS_AC | RFLAGS_ID)

#define EFER_SCE  BIT(0)
#define EFER_LME  BIT(8)
#define EFER_NXE  BIT(11)

#define CR0_MP    BIT(1)
#define CR0_EM    BIT(2)
#define CR0_TS    BIT(3)
#define CR0_WP    BIT(16)
#define CR4_PGE   BIT(7)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_SMEP  BIT(20)
#define CR4_SMAP  BIT(21)

static inline void clts(void) { asm volatile("clts" ::: "memory"); }

static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    asm volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

#define DEFINE_CR(n) \
    static inline uint64_t read_cr##n(void) { uint64_t v; asm volatile("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(uint64_t v) { asm volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void invlpg(vaddr_t va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline void cpu_halt(void) { asm volatile("hlt"); }

/* The TSC, unfenced: for deadlines and calibration, not for timing a
 * region (lib/include/tsc.h fences those). */
static inline uint64_t rdtsc_now(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void irq_disable(void) { asm volatile("cli" ::: "memory"); }
static inline void irq_enable(void) { asm volatile("sti" ::: "memory"); }

#endif
