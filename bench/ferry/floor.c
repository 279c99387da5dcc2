/* floor.c: the hardware floor: what the machine costs with no kernel logic
 * (ring-0 rdtsc and CR3 switch pairs timed by the kernel, and a bare
 * syscall+sysret round trip), so every result can be read as "x times the floor". */
#include "ferry_bench.h"

static const char *kfloor(struct bench_ctx *c)
{
    unsigned long kind = (unsigned long)c->entry->arg;
    if ((kind == FERRY_KFLOOR_IPI || kind == FERRY_KFLOOR_IPI_HALT) && ulib_bootinfo->ncpus < 2)
        return BENCH_NOT_HERE "an IPI round trip needs two CPUs (-smp 2)";
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        struct sys_msg m;
        /* IPI_HALT: 0 while CPU 1 is not yet halted; we wait here, not
         * holding the kernel's lock, which it takes on its way there. */
        for (unsigned long tries = 0;; tries++) {
            m = (struct sys_msg){ .w = { kind } };
            if (sys_raw(FERRY_SYS_KFLOOR, FERRY_CAP_DEBUG, &m) != FERRY_OK)
                return "the kernel cannot time this floor on this machine";
            if (kind != FERRY_KFLOOR_IPI_HALT || m.w[0])
                break;
            if (tries > 1000000)
                return "CPU 1 never sat in its idle halt";
            for (int k = 0; k < 50; k++)
                __asm__ __volatile__("pause" ::: "memory");
        }
        if (i >= c->warmup)
            c->samples[i - c->warmup] = m.w[0];
    }
    return NULL;
}

static const char *floor_syscall(struct bench_ctx *c)
{
    /* Between FLOOR_BEGIN and FLOOR_END, syscall goes straight to sysret. */
    struct sys_msg m = { .w = { FERRY_FLOOR_SYSCALL } };
    if (sys_raw(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, &m) != FERRY_OK)
        return "kernel built without the floor entry (BENCHMARK=0)";
    BENCH_LOOP(c, {
        unsigned long rax = FERRY_SYS_NULL;
        __asm__ __volatile__("syscall" : "+a"(rax) : : "rcx", "r11", "memory");
    });
    sys_raw(FERRY_SYS_FLOOR_END, FERRY_CAP_DEBUG, &m);
    return NULL;
}

static const char *floor_ipc(struct bench_ctx *c)
{
    /* Each syscall switches CR3 (away, then home) and returns: a round
     * trip's two kernel entries and two address-space switches, without
     * any kernel logic.  The check: CR3 really moved (the kernel clears
     * RAX only on this entry) and the loop still runs in our space. */
    struct sys_msg m = { .w = { FERRY_FLOOR_IPC } };
    if (sys_raw(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, &m) != FERRY_OK)
        return "the kernel cannot switch CR3 for the floor here (or BENCHMARK=0)";
    unsigned long bad = 0;
    BENCH_LOOP(c, {
        unsigned long a = FERRY_SYS_NULL;
        unsigned long b = FERRY_SYS_NULL;
        __asm__ __volatile__("syscall" : "+a"(a) : : "rcx", "r11", "memory");
        __asm__ __volatile__("syscall" : "+a"(b) : : "rcx", "r11", "memory");
        bad |= a | b;
    });
    sys_raw(FERRY_SYS_FLOOR_END, FERRY_CAP_DEBUG, &m);
    return bad ? "a floor syscall went through the kernel's dispatcher" : NULL;
}

const struct bench_entry bench_floor[] = {
    { .name = "floor_rdtsc", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_RDTSC,
      .description = "one rdtsc in ring 0" },
    { .name = "floor_cr3", .variant = "flush", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_CR3_FLUSH,
      .description = "two CR3 writes (away and back) that flush the TLB, in ring 0" },
    { .name = "floor_cr3", .variant = "pcid", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_CR3_PCID,
      .description = "two CR3 writes with PCIDs and the no-flush bit, in ring 0" },
    { .name = "floor_ipi", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_IPI,
      .description = "ring 0: an IPI from CPU 0 to idle CPU 1 and its answer (CPU 1 wakes, enters the kernel, "
                     "answers while it waits for the lock): the floor of cross-core IPC; needs -smp 2" },
    { .name = "floor_ipi", .variant = "halt", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_IPI_HALT,
      .description = "as floor_ipi, CPU 1 asleep in its idle halt for 20 us first (a halted vCPU's host thread "
                     "sleeps): the floor of a wake-up of a halting CPU, which a halting cross-core Call pays twice; "
                     "needs -smp 2" },
    { .name = "floor_fpu", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_FPU,
      .description = "fxsave + fxrstor in ring 0: what moving FPU state costs (eager: per owner change; lazy: after a #NM trap)" },
    /* Ten of one instruction each, in ring 0: which instructions on the
     * kernel's paths are dear under an emulator (docs/design.md). */
    { .name = "floor_insn", .variant = "nop", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_NOP10,
      .description = "ten nop in ring 0: the baseline of the floor_insn probes" },
    { .name = "floor_insn", .variant = "swapgs", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_SWAPGS10,
      .description = "ten swapgs in ring 0" },
    { .name = "floor_insn", .variant = "wrmsr", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_WRMSR10,
      .description = "ten wrmsr of FS_BASE in ring 0" },
    { .name = "floor_insn", .variant = "rdmsr", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_RDMSR10,
      .description = "ten rdmsr of FS_BASE in ring 0" },
    { .name = "floor_insn", .variant = "cr0", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_CR0W10,
      .description = "ten CR0 writes (its own value) in ring 0" },
    { .name = "floor_insn", .variant = "clts", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_CLTS10,
      .description = "ten clts in ring 0" },
    { .name = "floor_insn", .variant = "xadd", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_XADD10,
      .description = "ten lock xadd in ring 0 (the big kernel lock's ticket)" },
    { .name = "floor_insn", .variant = "popf", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_POPF10,
      .description = "ten pushfq + popfq pairs in ring 0" },
    { .name = "floor_insn", .variant = "lfence", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_LFENCE10,
      .description = "ten lfence in ring 0" },
    { .name = "floor_insn", .variant = "jmpind", .fn = kfloor, .arg = (void *)FERRY_KFLOOR_JMPIND10,
      .description = "ten lea + indirect jmp pairs in ring 0" },
    { .name = "floor_syscall", .fn = floor_syscall,
      .description = "bare syscall + sysret round trip, no kernel logic" },
    { .name = "floor_ipc", .fn = floor_ipc,
      .description = "an IPC round trip's floor: two syscall + sysret pairs, each with one CR3 switch, no kernel logic" },
};
const size_t bench_floor_n = sizeof bench_floor / sizeof bench_floor[0];
