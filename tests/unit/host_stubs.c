/* host_stubs.c: the kernel services that host unit tests replace (print, panic, physmap). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include <panic.h>
#include <printk.h>
#include <mm/physmap.h>
#include <arch/smp.h>

uintptr_t host_physmap_offset;

/* One CPU (arch/percpu.h: ks_percpu is ks_percpu_of[0] here) and the
 * multiprocessor calls that have nothing to do on it. */
struct percpu ks_percpu_of[FERRY_MAX_CPUS];
unsigned ks_ncpus = 1;
struct tcb *arch_current(void) __attribute__((weak));

int smp_running_on(const struct tcb *t)
{
    return arch_current && t == arch_current() ? 0 : -1;
}
unsigned host_resched_calls;             /* test_sched.c counts the IPIs a wake-up sends */
void smp_resched(unsigned cpu) { (void)cpu; host_resched_calls++; }
void smp_stall_thread(unsigned cpu, struct tcb *t) { (void)cpu; (void)t; }
void smp_fpu_release(struct tcb *t) { (void)t; }
void smp_call_others(uint64_t mask, void (*fn)(word_t), word_t arg) { (void)mask; (void)fn; (void)arg; }

int kvprintf(const char *fmt, va_list ap)
{
    return vprintf(fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}

/* A kernel panic inside a unit test is a test failure, reported with its text. */
void panic(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fail_msg("kernel panic: %s", buf);
    __builtin_unreachable();
}
