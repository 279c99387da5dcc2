/* selftest.c: deliberate kernel faults, so tests can show they are caught
 * and reported (selftest=pagefault|stackoverflow|divzero|invalidop|gpf). */
#include <arch/machine.h>
#include <ferry/bench_format.h>
#include <kstring.h>
#include <printk.h>
#include <selftest.h>

static void selftest_pagefault(void)
{
    /* The low half holds no kernel mapping once paging_init has run. */
    volatile uint64_t *p = (volatile uint64_t *)0x1000;
    (void)*p;
}

/* Each frame is large and the recursion is not a tail call, so the stack
 * runs into its guard page after a handful of calls. */
static __attribute__((noinline)) uint64_t recurse(volatile uint64_t depth)
{
    volatile uint8_t frame[1024];
    frame[0] = (uint8_t)depth;
    if (depth > (1u << 30))      /* never reached: the guard page stops it first */
        return 0;
    return recurse(depth + 1) + frame[0];
}

static void selftest_stackoverflow(void)
{
    recurse(0);
}

static void selftest_divzero(void)
{
    volatile uint64_t zero = 0, n = 42;
    n = n / zero;
}

static void selftest_invalidop(void)
{
    asm volatile("ud2");
}

static void selftest_gpf(void)
{
    /* A non-canonical address: a #GP, not a page fault. */
    volatile uint64_t *p = (volatile uint64_t *)0x8000000000000000ULL;
    (void)*p;
}

static const struct {
    const char *name;
    void (*fn)(void);
    const char *expect;
} selftests[] = {
    { "pagefault", selftest_pagefault, "page fault" },
    { "stackoverflow", selftest_stackoverflow, "kernel stack overflow" },
    { "divzero", selftest_divzero, "divide error" },
    { "invalidop", selftest_invalidop, "invalid opcode" },
    { "gpf", selftest_gpf, "general protection fault" },
};

void selftest_run(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(selftests); i++) {
        if (strcmp(name, selftests[i].name) != 0)
            continue;
        kprintf("selftest: %s (expect a \"%s\" report)\n", name, selftests[i].expect);
        selftests[i].fn();
        kprintf("selftest: %s did not fault\n", name);
        machine_exit(FERRY_EXIT_FAILURE);
    }
    kprintf("selftest: unknown test '%s'; known:", name);
    for (size_t i = 0; i < ARRAY_SIZE(selftests); i++)
        kprintf(" %s", selftests[i].name);
    kprintf("\n");
    machine_exit(FERRY_EXIT_FAILURE);
}
