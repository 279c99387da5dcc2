/* spawn.c: the process server's costs: spawn + exit + wait of a small
 * program (userspace/programs/true.c: ELF load from its boot module,
 * CSpace, VSpace, thread, exit IPC and the revoke that frees it all), and
 * a demand-zero first touch (fault IPC to the pager, a frame made and
 * mapped, the thread resumed, its next page touched), and a name lookup
 * answered with an endpoint capability; copy-on-write fork and its
 * write fault. */
#include <fmt.h>
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

/* Runs prog with argv to its end, the process server's ring emptied
 * first, so the records left in it are this run's; *pid is the program's,
 * *lost the ring's count of lost records before the run (compare it after
 * reading them).  NULL, or spawn_err / status_err (a non-zero status). */
static const char *run_recorded(const char *prog, const char *const *argv, const char *spawn_err,
                                const char *status_err, unsigned long *pid, unsigned long *lost)
{
    procsrv_events_drain();
    *lost = procsrv_events_lost();
    *pid = proc_spawn(prog, argv, NULL);
    if (!*pid)
        return spawn_err;
    long status = -1;
    if (!proc_wait(*pid, &status) || status != 0)
        return status_err;
    return NULL;
}

/* The pager's clock: between two consecutive page faults of touch (which
 * reads the first word of each fresh page in turn) lie the reply that
 * resumes it, its touch of the next page, the fault's delivery, and the
 * pager making and mapping that page: one first touch, end to end.  The
 * times are the process server's, from its ring of records, read once
 * touch has ended (the root task, which runs above the server, is not
 * woken between two faults). */
static const char *first_touch(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    size_t need = c->warmup + c->n, got = 0;
    while (got < need) {
        const char *argv[] = { "60", NULL };
        unsigned long pid, lost;
        const char *err = run_recorded("touch", argv, "spawn of touch failed",
                                       "touch did not read zeros and its own writes back", &pid, &lost);
        if (err)
            return err;
        uint64_t prev = 0;
        bool have = false;
        enum procsrv_event ev;
        while (procsrv_event_next(&ev)) {
            uint64_t t = procsrv_event_tsc();
            if (ev == PROCSRV_PAGE && have && got < need) {
                if (got >= c->warmup)
                    c->samples[got - c->warmup] = t - prev;
                got++;
            }
            have = ev == PROCSRV_PAGE;
            prev = t;
        }
        if (procsrv_events_lost() != lost)
            return "the process server's ring of records overflowed";
    }
    return NULL;
}

/* The name service is a process of its own: lookups are timed in the
 * client (lookups, around its Call: the Call with the name, the manifest
 * check, the registry, the reply carrying the badged endpoint), one
 * sample a run of it.  name_lookup is the 8th lookup of the same name
 * (the name service answers from the copy it minted for this client at
 * the first); name_lookup_first is the first (manifest fetched from the
 * process server, a mint). */
static const char *lookup_samples(struct bench_ctx *c, const char *const *argv)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    unsigned long echo = proc_spawn("echo", NULL, NULL);
    struct proc_info pi;
    while (echo && proc_info(echo, &pi) && pi.state == PROC_RUNNING && pi.registered < 1)
        procsrv_serve_one();                /* until it has registered */
    if (!echo || !proc_info(echo, &pi) || pi.state != PROC_RUNNING)
        return "the echo: service did not start";
    const char *fail = NULL;
    for (size_t i = 0; i < c->warmup + c->n && !fail; i++) {
        long status = -1;
        unsigned long pid = proc_spawn("lookups", argv, NULL);
        if (!pid || !proc_wait(pid, &status) || status <= 0)
            fail = "a lookup of echo: failed";
        else if (i >= c->warmup)
            c->samples[i - c->warmup] = (uint64_t)status;
    }
    long status;
    if (!proc_stop(echo) || !proc_wait(echo, &status))
        fail = fail ? fail : "the echo: service could not be ended";
    return fail;
}

static const char *name_lookup(struct bench_ctx *c)
{
    const char *argv[] = { "8", "echo:", "last", NULL };
    return lookup_samples(c, argv);
}

/* The same lookup of a name nobody registered: the reply carries no
 * capability (the difference is the capability transfer's cost). */
static const char *name_lookup_missing(struct bench_ctx *c)
{
    const char *argv[] = { "8", "absent:", "missing", NULL };
    return lookup_samples(c, argv);
}

static const char *name_lookup_first(struct bench_ctx *c)
{
    const char *argv[] = { "1", "echo:", "first", NULL };
    return lookup_samples(c, argv);
}

/* Copy-on-write fork, timed in the process server as the interval between
 * two consecutive forks of cowbench: the fork (a child sharing every page
 * read-only), the child's one write to each of size pages (each a
 * copy-on-write fault: fault IPC, a copy, map, resume), its exit and the
 * parent's wait.  Read from the server's ring once cowbench has ended:
 * so each run forks as often as the ring holds the records of (a fork,
 * size faults and a few requests each). */
static const char *cow_fork(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    size_t need = c->warmup + c->n, got = 0;
    size_t per_run = (PROCSRV_RING - 64) / ((size_t)c->size + 16);
    if (per_run < 2)
        return "the process server's ring holds too few records for this size";
    while (got < need) {
        char pages[24], iters[24];
        size_t forks = need - got + 1 < per_run ? need - got + 1 : per_run;
        fmt_snprintf(pages, sizeof pages, "%ld", (long)c->size);
        fmt_snprintf(iters, sizeof iters, "%lu", (unsigned long)forks);
        const char *argv[] = { pages, iters, NULL };
        unsigned long pid, lost;
        const char *err = run_recorded("cowbench", argv, "spawn of cowbench failed", "cowbench failed", &pid, &lost);
        if (err)
            return err;
        uint64_t prev = 0;
        bool have = false;
        enum procsrv_event ev;
        while (procsrv_event_next(&ev)) {
            uint64_t t = procsrv_event_tsc();
            if (ev != PROCSRV_FORK || procsrv_event_pid() != pid)
                continue;
            if (have && got < need) {
                if (got >= c->warmup)
                    c->samples[got - c->warmup] = t - prev;
                got++;
            }
            have = true;
            prev = t;
        }
        if (procsrv_events_lost() != lost)
            return "the process server's ring of records overflowed";
    }
    return NULL;
}

/* One copy-on-write fault, timed as first_touch: between two consecutive
 * such faults of the same cowbench child lie the reply that resumes it,
 * its write to the next page, the fault IPC, the copy into a fresh frame
 * and its mapping (from the server's ring, read once cowbench ended). */
static const char *cow_fault(struct bench_ctx *c)
{
    if (!system_ready())
        return "no system: boot.conf and the program modules are not loaded";
    size_t need = c->warmup + c->n, got = 0;
    while (got < need) {
        const char *argv[] = { "256", "4", NULL };
        unsigned long pid, lost;
        const char *err = run_recorded("cowbench", argv, "spawn of cowbench failed", "cowbench failed", &pid, &lost);
        if (err)
            return err;
        uint64_t prev = 0;
        unsigned long prev_pid = 0;
        bool have = false;
        enum procsrv_event ev;
        while (procsrv_event_next(&ev)) {
            uint64_t t = procsrv_event_tsc();
            unsigned long who = procsrv_event_pid();
            if (ev == PROCSRV_COW && have && who == prev_pid && who != pid && got < need) {
                if (got >= c->warmup)
                    c->samples[got - c->warmup] = t - prev;
                got++;
            }
            have = ev == PROCSRV_COW;
            prev = t;
            prev_pid = who;
        }
        if (procsrv_events_lost() != lost)
            return "the process server's ring of records overflowed";
    }
    return NULL;
}

static const int64_t cow_sizes[] = { 1, 16, 256 };

const struct bench_entry bench_spawn[] = {
    { .name = "spawn", .fn = spawn_exit_wait, .max_samples = 2000,
      .description = "spawn + exit + wait of a small static program (true) via the process server" },
    { .name = "first_touch", .fn = first_touch, .max_samples = 5000,
      .description = "demand-zero first touch of an anonymous page: fault IPC to the pager, map, resume" },
    { .name = "name_lookup", .fn = name_lookup, .max_samples = 2000,
      .description = "a name lookup answered with an endpoint capability by the name service (a repeated lookup: the badged copy minted at the first)" },
    { .name = "name_lookup_missing", .fn = name_lookup_missing, .max_samples = 2000,
      .description = "a lookup of a name nobody registered (name_lookup without the capability in the reply)" },
    { .name = "name_lookup_first", .fn = name_lookup_first, .max_samples = 2000,
      .description = "a client's first lookup of a name: the manifest fetched from the process server, a badged copy minted" },
    { .name = "cow_fork", .fn = cow_fork, .max_samples = 500, .default_samples = 100,
      .sizes = cow_sizes, .nsizes = 3,
      .description = "fork of a process with SIZE written pages, the child writes one word per page (copy on write), exits, parent waits" },
    { .name = "cow_fault", .fn = cow_fault, .max_samples = 5000,
      .description = "a copy-on-write write fault: fault IPC to the pager, copy into a fresh frame, map, resume" },
};
const size_t bench_spawn_n = sizeof bench_spawn / sizeof bench_spawn[0];
