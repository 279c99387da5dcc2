/* floor.c: the hardware floor: what the machine costs with no kernel logic
 * (ring-0 rdtsc and CR3 switch pairs timed by the kernel, and a bare
 * syscall+sysret round trip), so every result can be read as "x times the floor". */
#include "ferry_bench.h"

static const char *kfloor(struct bench_ctx *c)
{
    unsigned long kind = (unsigned long)c->entry->arg;
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        struct sys_msg m = { 0 };
        if (sys_raw(FERRY_SYS_KFLOOR, kind, &m) != FERRY_OK)
            return "the kernel cannot time this floor on this machine";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = m.w[0];
    }
    return NULL;
}

static const char *floor_syscall(struct bench_ctx *c)
{
    /* Between FLOOR_BEGIN and FLOOR_END, syscall goes straight to sysret. */
    struct sys_msg m = { 0 };
    if (sys_raw(FERRY_SYS_FLOOR_BEGIN, 0, &m) != FERRY_OK)
        return "kernel built without the floor entry";
    BENCH_LOOP(c, {
        unsigned long rax = FERRY_SYS_NULL;
        __asm__ __volatile__("syscall" : "+a"(rax) : : "rcx", "r11", "memory");
    });
    sys_raw(FERRY_SYS_FLOOR_END, 0, &m);
    return NULL;
}

const struct bench_entry bench_floor[] = {
    { .name = "floor_rdtsc", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_RDTSC,
      .description = "one rdtsc in ring 0" },
    { .name = "floor_cr3", .variant = "flush", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_CR3_FLUSH,
      .description = "two CR3 writes (away and back) that flush the TLB, in ring 0" },
    { .name = "floor_cr3", .variant = "pcid", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_CR3_PCID,
      .description = "two CR3 writes with PCIDs and the no-flush bit, in ring 0" },
    { .name = "floor_fpu", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_FPU,
      .description = "fxsave + fxrstor in ring 0: the eager FPU switch's share of a thread switch" },
    { .name = "floor_syscall", .fn = floor_syscall,
      .description = "bare syscall + sysret round trip, no kernel logic" },
};
const size_t bench_floor_n = sizeof bench_floor / sizeof bench_floor[0];
