/* spawn.c: the process server's costs: spawn + exit + wait of a small
 * program (userspace/programs/true.c: ELF load from its boot module,
 * CSpace, VSpace, thread, exit IPC and the revoke that frees it all), and
 * a demand-zero first touch (fault IPC to the pager, a frame made and
 * mapped, the thread resumed, its next page touched). */
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

/* The pager's clock: between two consecutive page faults of touch (which
 * reads the first word of each fresh page in turn) lie the reply that
 * resumes it, its touch of the next page, the fault's delivery, and the
 * pager making and mapping that page: one first touch, end to end. */
static const char *first_touch(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    size_t need = c->warmup + c->n, got = 0;
    while (got < need) {
        const char *argv[] = { "60", NULL };
        unsigned long pid = proc_spawn("touch", argv, NULL);
        if (!pid)
            return "spawn of touch failed";
        struct proc_info pi;
        uint64_t prev = 0;
        bool have = false;
        while (proc_info(pid, &pi) && pi.state == PROC_RUNNING) {
            enum procsrv_event ev = procsrv_serve_one();
            uint64_t t = tsc_begin();
            if (ev == PROCSRV_PAGE && have && got < need) {
                if (got >= c->warmup)
                    c->samples[got - c->warmup] = t - prev;
                got++;
            }
            have = ev == PROCSRV_PAGE;
            prev = t;
        }
        long status = -1;
        if (!proc_wait(pid, &status) || status != 0)
            return "touch did not read zeros and its own writes back";
    }
    return NULL;
}

const struct bench_entry bench_spawn[] = {
    { .name = "spawn", .fn = spawn_exit_wait, .max_samples = 2000,
      .description = "spawn + exit + wait of a small static program (true) via the process server" },
    { .name = "first_touch", .fn = first_touch, .max_samples = 5000,
      .description = "demand-zero first touch of an anonymous page: fault IPC to the pager, map, resume" },
};
const size_t bench_spawn_n = sizeof bench_spawn / sizeof bench_spawn[0];
