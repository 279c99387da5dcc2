/* syscall.c: null_syscall, the cost of the cheapest system call (getppid) on Linux. */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "linux_bench.h"

/* The raw syscall, not the libc wrapper, so nothing can be cached in user
 * space; the result is checked against the value read before the loop. */
static const char *null_syscall(struct bench_ctx *c)
{
    long want = syscall(SYS_getppid);
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        long got = syscall(SYS_getppid);
        uint64_t t1 = tsc_end();
        if (got != want)
            return "getppid returned a different value";
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

const struct bench_entry lb_syscall_table[] = {
    { "null_syscall", "getppid", null_syscall, "getppid() through the syscall instruction", NULL, 0, 0, NULL, 0 },
};
const size_t lb_syscall_count = sizeof(lb_syscall_table) / sizeof(lb_syscall_table[0]);
