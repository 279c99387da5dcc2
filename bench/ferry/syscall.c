/* syscall.c: the null system call through the whole dispatcher, by both entries. */
#include "ferry_bench.h"

static const char *null_syscall(struct bench_ctx *c)
{
    unsigned long bad = 0;
    if (c->entry->arg)
        BENCH_LOOP(c, bad |= sys_null_int80())
    else
        BENCH_LOOP(c, bad |= sys_null())
    return bad ? "the null syscall returned an error" : NULL;
}

const struct bench_entry bench_syscall[] = {
    { .name = "null_syscall", .variant = "syscall", .fn = null_syscall, .arg = NULL,
      .description = "null system call by syscall/sysret, through the dispatcher" },
    { .name = "null_syscall", .variant = "int80", .fn = null_syscall, .arg = (void *)1,
      .description = "null system call by int 0x80/iretq, through the dispatcher" },
};
const size_t bench_syscall_n = sizeof bench_syscall / sizeof bench_syscall[0];
