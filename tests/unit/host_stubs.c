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

uintptr_t host_physmap_offset;

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
