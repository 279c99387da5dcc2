/* threads.c: in-guest tests of threads: creation, priorities, yield, faults. */
#include "utest.h"

static volatile unsigned long counter;

static void child_count(void)
{
    for (;;) {
        counter++;
        sys_yield();
    }
}

#define start_thread thread_start

static bool stacks_mapped(unsigned long va)
{
    return table_ensure(va);
}

#define STACKS 0x30000000UL

static bool thread_runs_and_yields(void)
{
    CHECK(stacks_mapped(STACKS));
    counter = 0;
    /* same priority as us (255): yield alternates between the two */
    unsigned long t = start_thread(child_count, STACKS, 255, true);
    CHECK(t != 0);
    for (int i = 0; i < 10; i++)
        sys_yield();
    unsigned long seen = counter;
    CHECK(seen >= 5 && seen <= 11);
    CHECK_OK(ferry_tcb_suspend(t));
    for (int i = 0; i < 5; i++)
        sys_yield();
    CHECK(counter == seen);                  /* a suspended thread does not run */
    CHECK_OK(ferry_tcb_resume(t));
    sys_yield();
    CHECK(counter > seen);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

static bool priority_and_mcp(void)
{
    CHECK(stacks_mapped(STACKS));
    counter = 0;
    /* a lower-priority thread does not run while we are runnable */
    unsigned long t = start_thread(child_count, STACKS + 0x1000, 100, true);
    CHECK(t != 0);
    for (int i = 0; i < 10; i++)
        sys_yield();
    CHECK(counter == 0);
    /* priorities are bounded by the authority's MCP */
    CHECK_OK(ferry_tcb_set_mcpriority(t, FERRY_CAP_INIT_TCB, 100));
    CHECK_ERR(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, t, 200), FERRY_E_RANGE);
    CHECK_ERR(ferry_tcb_set_priority(t, FERRY_CAP_INIT_TCB, 256), FERRY_E_RANGE);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

static void child_fault(void)
{
    counter = 1;
    *(volatile unsigned long *)0x7000000000UL = 1;   /* nothing mapped there */
    counter = 2;                                     /* never reached */
    for (;;)
        sys_yield();
}

static bool fault_stops_thread(void)
{
    CHECK(stacks_mapped(STACKS));
    counter = 0;
    unsigned long t = start_thread(child_fault, STACKS + 0x2000, 255, true);
    CHECK(t != 0);
    for (int i = 0; i < 5; i++)
        sys_yield();
    CHECK(counter == 1);                     /* it ran up to the fault and stopped */
    unsigned long regs[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(regs[FERRY_REG_RIP] > (unsigned long)child_fault &&
          regs[FERRY_REG_RIP] < (unsigned long)child_fault + 64);
    return true;
}

static bool bad_registers_rejected(void)
{
    ALLOC(tcb, FERRY_OBJ_TCB, 0);
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = 0xffffffff80001000UL;      /* the kernel's code */
    CHECK_ERR(ferry_tcb_write_registers(tcb, false, FERRY_REG_COUNT, regs), FERRY_E_INVALID_ARG);
    regs[FERRY_REG_RIP] = 0x400000;
    regs[FERRY_REG_RSP] = 0x8000000000000000UL;      /* not canonical */
    CHECK_ERR(ferry_tcb_write_registers(tcb, false, FERRY_REG_COUNT, regs), FERRY_E_INVALID_ARG);
    /* an IPC buffer address that is not aligned */
    CHECK_ERR(ferry_tcb_configure(tcb, FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, FERRY_CAP_IPC_BUFFER,
                            FERRY_ROOT_IPC_BUFFER + 8, 0), FERRY_E_ALIGNMENT);
    /* wrong types for the roots */
    CHECK_ERR(ferry_tcb_configure(tcb, FERRY_CAP_INIT_VSPACE, FERRY_CAP_INIT_VSPACE, FERRY_CAP_IPC_BUFFER,
                            FERRY_ROOT_IPC_BUFFER, 0), FERRY_E_WRONG_TYPE);
    /* resuming a thread that has no CSpace/VSpace is refused */
    CHECK_ERR(ferry_tcb_resume(tcb), FERRY_E_ILLEGAL_OP);
    return true;
}

static bool int80_keeps_registers(void)
{
    /* int 0x80 returns by iretq: RCX and R11 survive, unlike with syscall. */
    unsigned long rcx = 0x1234, r11 = 0x5678, rax = FERRY_SYS_NULL;
    __asm__ __volatile__("int $0x80" : "+a"(rax), "+c"(rcx), "+r"(r11) : : "memory");
    CHECK(rax == FERRY_OK);
    CHECK(rcx == 0x1234 && r11 == 0x5678);
    CHECK(sys_null() == FERRY_OK);
    return true;
}

static volatile double fpu_result;

static void child_fpu(void)
{
    double x = 1.0;
    for (;;) {
        x = x * 3.0;
        sys_yield();
        if (x > 1e300)
            x = 1.0;
    }
}

/* Twenty additions to acc, and a yield after each to a thread that uses
 * its own SSE state; own_affinity: every other addition is followed at
 * once by the next (no switch between) after setting our own affinity to
 * the CPU we run on, which saves our FPU state while we go on running
 * (docs/smp.md).  The sum must come out right under lazy and eager
 * switching alike.  (The eager kernel once left CR0.TS set there: the
 * thread's next FPU instruction faulted, or the next switch's FXSAVE
 * trapped in the kernel.) */
static bool fpu_sum_beside_another(bool own_affinity)
{
    CHECK(stacks_mapped(STACKS));
    unsigned long t = start_thread(child_fpu, STACKS + 0x3000, 255, true);
    CHECK(t != 0);
    double acc = 0.5;
    for (int i = 0; i < 20; i++) {
        acc = acc + 0.25;
        if (own_affinity && i % 2 == 0) {
            CHECK_OK(ferry_tcb_set_affinity(FERRY_CAP_INIT_TCB, 0));   /* the root task's CPU */
            continue;
        }
        sys_yield();                       /* the other thread changes its own SSE state */
    }
    fpu_result = acc;
    CHECK(fpu_result == 5.5);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

static bool fpu_state_is_private(void)
{
    return fpu_sum_beside_another(false);
}

static bool fpu_kept_over_own_affinity(void)
{
    return fpu_sum_beside_another(true);
}

static void child_spin(void)
{
    for (;;)
        counter++;                       /* never yields: only the timer stops it */
}

static unsigned long rdtsc_now(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

static bool timer_preempts(void)
{
    CHECK(stacks_mapped(STACKS));
    counter = 0;
    unsigned long t = start_thread(child_spin, STACKS + 0x4000, 255, true);
    CHECK(t != 0);
    /* Spin without yielding: the child gets the CPU only if the timer
     * takes it from us at the end of our slice (bounded wait). */
    unsigned long start = rdtsc_now();
    while (counter == 0 && rdtsc_now() - start < (1UL << 36))
        ;
    CHECK(counter > 0);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

static volatile unsigned long ran_first, child_self;

static void child_mark(void)
{
    ran_first = 1;
    ferry_tcb_suspend(child_self);             /* strict priorities: we must step aside */
    for (;;)
        sys_yield();
}

static bool higher_priority_runs_at_once(void)
{
    CHECK(stacks_mapped(STACKS));
    ran_first = 0;
    CHECK_OK(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 200));
    unsigned long t = start_thread(child_mark, STACKS + 0x5000, 250, false);
    CHECK(t != 0);
    child_self = t;
    CHECK_OK(ferry_tcb_resume(t));
    /* No yield in between: the resume itself must have switched to it. */
    unsigned long seen = ran_first;
    CHECK_OK(ferry_tcb_set_priority(FERRY_CAP_INIT_TCB, FERRY_CAP_INIT_TCB, 255));
    CHECK(seen == 1);
    return true;
}

const struct utest utests_threads[] = {
    UTEST(timer_preempts),
    UTEST(higher_priority_runs_at_once),
    UTEST(thread_runs_and_yields),
    UTEST(priority_and_mcp),
    UTEST(fault_stops_thread),
    UTEST(bad_registers_rejected),
    UTEST(int80_keeps_registers),
    UTEST(fpu_state_is_private),
    UTEST(fpu_kept_over_own_affinity),
};
const size_t utests_threads_n = sizeof utests_threads / sizeof utests_threads[0];
