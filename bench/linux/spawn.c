/* spawn.c: posix_spawn + exit + waitpid of a small static program, the
 * Linux side of Ferry's spawn row.  The program is this same static binary
 * started with LB_EXIT0 as its only argument, which returns at once. */
#define _GNU_SOURCE
#include <spawn.h>
#include <sys/wait.h>

#include "linux_bench.h"

extern char **environ;

static const char *spawn_exit_wait(struct bench_ctx *c)
{
    char *argv[] = { "true", LB_EXIT0, NULL };
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        pid_t pid;
        int status;
        if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0)
            return "posix_spawn failed";
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return "the child did not exit with 0";
        uint64_t t1 = tsc_end();
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

const struct bench_entry lb_spawn_table[] = {
    { .name = "spawn", .fn = spawn_exit_wait, .max_samples = 2000,
      .description = "posix_spawn + exit + waitpid of a small static program" },
};
const size_t lb_spawn_count = sizeof(lb_spawn_table) / sizeof(lb_spawn_table[0]);
