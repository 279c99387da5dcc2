/* spawn.c: spawn + exit + wait of a small program (userspace/programs/true.c)
 * through the root task's process server: ELF load from its boot module,
 * CSpace, VSpace, thread, exit IPC and the revoke that frees it all. */
#include "ferry_bench.h"
#include "../../userspace/servers/procsrv.h"

static const char *spawn_exit_wait(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    BENCH_LOOP(c, {
        long status = -1;
        unsigned long pid = proc_spawn("true", NULL, NULL);
        if (!pid || !proc_wait(pid, &status) || status != 0)
            return "spawn, exit or wait of true failed";
    });
    return NULL;
}

const struct bench_entry bench_spawn[] = {
    { .name = "spawn", .fn = spawn_exit_wait, .max_samples = 2000,
      .description = "spawn + exit + wait of a small static program (true) via the process server" },
};
const size_t bench_spawn_n = sizeof bench_spawn / sizeof bench_spawn[0];
