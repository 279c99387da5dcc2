/* system.c: in-guest tests of the user-space system: each spawns real,
 * separate ELF programs (userspace/programs) through the process server. */
#include "utest.h"
#include <fmt.h>
#include <ferry/procctl.h>
#include "../servers/procsrv.h"

#define CYCLES 1000

#define NEED_SYSTEM() CHECK(system_ready())

/* Serve requests until pid has sent n of them. */
static bool serve_until(unsigned long pid, unsigned long n)
{
    struct proc_info pi;
    PROCSRV_AWAIT(!proc_info(pid, &pi) || pi.state != PROC_RUNNING || pi.messages >= n);
    return proc_info(pid, &pi) && pi.state == PROC_RUNNING;
}

/* Serve requests until pid has registered a name with the name service
 * (which tells the process server). */
static bool serve_until_registered(unsigned long pid)
{
    struct proc_info pi;
    PROCSRV_AWAIT(!proc_info(pid, &pi) || pi.state != PROC_RUNNING || pi.registered >= 1);
    return proc_info(pid, &pi) && pi.state == PROC_RUNNING;
}

/* What args.c returns for these arguments (argv[0] excluded) and FERRY_TEST. */
static long args_status(const char *const *argv, const char *env)
{
    unsigned long sum = 0, e = 0;
    int argc = 1;
    for (; argv[argc - 1]; argc++)
        for (const char *p = argv[argc - 1]; *p; p++)
            sum = sum * 31 + (unsigned char)*p;
    for (; env && *env; env++)
        e = e * 31 + (unsigned char)*env;
    return (long)((argc + (sum % 1000) * 100 + (e % 1000) * 100000) & 0x7fffffff);
}

static bool test_spawn_exit_status(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    const char *argv[] = { "exit=7", NULL };
    unsigned long pid = proc_spawn("hello", argv, NULL);
    CHECK(pid != 0);
    struct proc_info pi;
    CHECK(proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.bytes > 0);
    long status;
    CHECK(proc_wait(pid, &status));
    CHECK(status == 7);
    CHECK(!proc_info(pid, &pi));                /* reaped */
    CHECK(!proc_wait(pid, &status));
    /* Its block is back, whole (a new block may have been made for it). */
    CHECK(mm_back_to(mark));
    return true;
}

static bool test_spawn_arguments(void)
{
    NEED_SYSTEM();
    const char *argv[] = { "alpha", "", "gamma delta", NULL };
    const char *envp[] = { "OTHER=1", "FERRY_TEST=yes-please", NULL };
    long status;
    unsigned long pid = proc_spawn("args", argv, envp);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == args_status(argv, "yes-please"));
    /* No arguments given: boot.conf's defaults; no environment. */
    const char *defaults[] = { "one", "two", "three", NULL };
    pid = proc_spawn("args", NULL, NULL);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == args_status(defaults, NULL));
    /* Arguments that do not fit the argument page are refused. */
    static char big[3000];
    memset(big, 'x', sizeof big - 1);
    const char *huge[] = { big, big, NULL };
    CHECK(proc_spawn("args", huge, NULL) == 0);
    const char *many[40];
    for (int i = 0; i < 39; i++)
        many[i] = "x";
    many[39] = NULL;
    CHECK(proc_spawn("args", many, NULL) == 0);     /* more than 32: refused, not cut */
    many[32] = NULL;
    unsigned long pid32 = proc_spawn("args", many, NULL);
    CHECK(pid32 && proc_wait(pid32, &status));
    CHECK(status == args_status(many, NULL));
    CHECK(proc_count() == 0);
    return true;
}

static bool test_kill(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long pid = proc_spawn("spin", NULL, NULL);
    CHECK(pid != 0);
    CHECK(serve_until(pid, 1));                 /* it printed: it runs */
    CHECK(proc_kill(pid));
    CHECK(!proc_kill(pid));                     /* already ended */
    long status;
    CHECK(proc_wait(pid, &status));
    CHECK(status == PROC_STATUS_KILLED);
    CHECK(!proc_kill(pid));                     /* reaped */
    CHECK(mm_back_to(mark));
    return true;
}

static bool test_fault_ends_process(void)
{
    NEED_SYSTEM();
    long status;
    unsigned long pid = proc_spawn("fault", NULL, NULL);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == PROC_STATUS_FAULTED);
    CHECK(proc_count() == 0);
    return true;
}

static bool test_bad_spawns(void)
{
    NEED_SYSTEM();
    CHECK(proc_spawn("nosuch", NULL, NULL) == 0);
    CHECK(proc_spawn("notelf", NULL, NULL) == 0);  /* boot.conf's module is not ELF */
    CHECK(proc_count() == 0);
    return true;
}

static bool test_list(void)
{
    NEED_SYSTEM();
    unsigned long pids[3];
    for (int i = 0; i < 3; i++) {
        pids[i] = proc_spawn("spin", NULL, NULL);
        CHECK(pids[i] != 0);
    }
    CHECK(proc_count() == 3);
    proc_list();
    for (int i = 0; i < 3; i++) {
        long status;
        CHECK(proc_kill(pids[i]) && proc_wait(pids[i], &status) && status == PROC_STATUS_KILLED);
    }
    CHECK(proc_count() == 0);
    return true;
}

/* The name service: echo registers echo:, the client may look up echo:
 * and serial: (its manifest) but not file:; once echo is gone its name is. */
static bool test_names_least_privilege(void)
{
    NEED_SYSTEM();
    unsigned long refused0 = procsrv_refused();
    unsigned long echo = proc_spawn("echo", NULL, NULL);
    CHECK(echo != 0);
    CHECK(serve_until_registered(echo));
    long status;
    const char *argv[] = { "echo:=ok", "serial:=missing", "file:=denied", "echo:=ok", NULL };
    unsigned long client = proc_spawn("client", argv, NULL);
    CHECK(client && proc_wait(client, &status));
    CHECK(status == 0);
    CHECK(procsrv_refused() == refused0 + 1);   /* file: was refused, and logged */
    CHECK(proc_stop(echo) && proc_wait(echo, &status));
    const char *after[] = { "echo:=missing", NULL };
    client = proc_spawn("client", after, NULL);
    CHECK(client && proc_wait(client, &status));
    CHECK(status == 0);
    CHECK(proc_count() == 0);
    return true;
}

/* A dead name service gives a defined error, never a hang, and comes back
 * with its registry: stopped, a lookup fails at once (PROC_E_NO_SERVICE:
 * every copy of its endpoint went with it); started again, the same
 * lookup is served (echo: restored from the process server's records,
 * echo did not register again); a client queued on it while it hangs
 * (suspended) gets the error when it is killed, and is served by its
 * automatic restart when it retries.  No memory is lost. */
static bool test_names_restart(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long names = proc_running("names"), restarts0 = procsrv_names_restarts();
    CHECK(names != 0);
    unsigned long echo = proc_spawn("echo", NULL, NULL);
    CHECK(echo && serve_until_registered(echo));
    long status;
    const char *once[] = { "1", "echo:", "status", NULL };
    unsigned long client = proc_spawn("lookups", once, NULL);
    CHECK(client && proc_wait(client, &status) && status == PROC_OK);
    /* Stopped: the lookup fails, it does not wait. */
    CHECK(proc_stop(names));
    CHECK(!proc_running("names"));
    client = proc_spawn("lookups", once, NULL);
    CHECK(client && proc_wait(client, &status));
    CHECK(status == PROC_E_NO_SERVICE);
    /* Started again: served, echo: came back without echo registering. */
    CHECK(system_names_restart());
    unsigned long names2 = proc_running("names");
    CHECK(names2 && names2 != names && procsrv_names_restarts() == restarts0 + 1);
    struct proc_info pi;
    CHECK(proc_info(echo, &pi) && pi.registered == 1);
    client = proc_spawn("lookups", once, NULL);
    CHECK(client && proc_wait(client, &status) && status == PROC_OK);
    /* Hung with a Call queued, then killed: the queued Call fails, the
     * client's retry is served by the restarted service.  The client runs
     * first (spawned first, same priority): its lookup queues on the
     * suspended service before `true` ends and wakes this task. */
    CHECK(proc_freeze(names2));
    const char *retry[] = { "1", "echo:", "retry", NULL };
    client = proc_spawn("lookups", retry, NULL);
    unsigned long t = proc_spawn("true", NULL, NULL);
    CHECK(client && t && proc_wait(t, &status) && status == 0);
    CHECK(proc_info(client, &pi) && pi.state == PROC_RUNNING && pi.messages == 0);  /* still waiting */
    CHECK(proc_kill(names2));
    unsigned long names3 = proc_running("names");
    CHECK(names3 && names3 != names2 && procsrv_names_restarts() == restarts0 + 2);
    CHECK(proc_wait(client, &status));
    CHECK(status == PROC_E_NO_SERVICE);
    CHECK(proc_stop(echo) && proc_wait(echo, &status));
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* execve in place: hello replaces itself by args (same pid: args' status
 * comes back to the waiter, and no pid was used, so the next spawn gets
 * the next number); a refused exec (no such program, not an image) leaves
 * hello running, which reports the errno.  Memory back. */
static bool test_exec_in_place(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    long status;
    const char *argv[] = { "exec=args", "one", "two", NULL };
    unsigned long pid = proc_spawn("hello", argv, NULL);
    CHECK(pid != 0);
    CHECK(proc_wait(pid, &status));
    const char *seen[] = { "one", "two", NULL };
    CHECK(status == args_status(seen, NULL));
    unsigned long next = proc_spawn("true", NULL, NULL);
    CHECK(next == pid + 1 && proc_wait(next, &status) && status == 0);
    const char *missing[] = { "exec=nosuch", NULL };
    pid = proc_spawn("hello", missing, NULL);
    CHECK(pid && proc_wait(pid, &status) && status == 100 + 2);     /* ENOENT */
    const char *notelf[] = { "exec=notelf", NULL };
    pid = proc_spawn("hello", notelf, NULL);
    CHECK(pid && proc_wait(pid, &status) && status == 100 + 8);     /* ENOEXEC */
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* Runs pid to its end; its status, and the pages the pager made for it. */
static bool run_to_end(unsigned long pid, long *status, unsigned long *faults)
{
    struct proc_info pi;
    PROCSRV_AWAIT(!proc_info(pid, &pi) || pi.state != PROC_RUNNING);
    *faults = pi.faults;
    return proc_wait(pid, status);
}

/* Demand paging: anonymous memory reads zero and materialises page by page
 * at the first touch (one fault served per page); after munmap the memory
 * is gone (a touch ends the process) and its frames serve the next faults;
 * memory all comes back. */
static bool test_demand_paging(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    long status;
    unsigned long faults;
    const char *twenty[] = { "20", NULL };
    unsigned long pid = proc_spawn("touch", twenty, NULL);
    CHECK(pid && run_to_end(pid, &status, &faults));
    CHECK(status == 0);
    CHECK(faults == 20);
    const char *after[] = { "3", "after", NULL };
    pid = proc_spawn("touch", after, NULL);
    CHECK(pid && run_to_end(pid, &status, &faults));
    CHECK(status == PROC_STATUS_FAULTED);
    CHECK(faults == 3);
    /* 40 rounds of 64 pages: more than its 4 MiB block holds, so only if
     * munmap'd frames are reused (and uncharged: its memory stays level). */
    const char *rounds[] = { "64", "40", NULL };
    pid = proc_spawn("touch", rounds, NULL);
    struct proc_info pi = { 0 };
    /* One round's 64 pages mapped: its charged memory then (once the
     * server is a process of its own, a few faults later at most). */
    PROCSRV_AWAIT(!pid || !proc_info(pid, &pi) || pi.state != PROC_RUNNING || pi.faults >= 64);
    unsigned long bytes1 = pid && pi.state == PROC_RUNNING ? pi.bytes : 0;
    PROCSRV_AWAIT(!pid || !proc_info(pid, &pi) || pi.state != PROC_RUNNING || pi.faults >= 64 * 30);
    CHECK(pid && bytes1 && proc_info(pid, &pi) && pi.state == PROC_RUNNING);
    CHECK(pi.bytes <= bytes1 + 8 * 4096);         /* a few page tables more, no more frames */
    CHECK(run_to_end(pid, &status, &faults));
    CHECK(status == 0 && faults == 64 * 40);
    const char *too_big[] = { "4097", NULL };    /* over the region limit: mmap refused */
    pid = proc_spawn("touch", too_big, NULL);
    CHECK(pid && proc_wait(pid, &status) && status == 1);
    CHECK(mm_back_to(mark));
    return true;
}

/* The stack grows on demand below the pages mapped at spawn, up to the
 * guard page, which ends the process. */
static bool test_stack_growth(void)
{
    NEED_SYSTEM();
    long status;
    unsigned long faults;
    const char *small[] = { "8", NULL };         /* within the 4 pages mapped at spawn */
    unsigned long pid = proc_spawn("deep", small, NULL);
    CHECK(pid && run_to_end(pid, &status, &faults));
    CHECK(status == 0 && faults == 0);
    const char *grow[] = { "40", NULL };         /* about 40 KiB: grows by some pages */
    pid = proc_spawn("deep", grow, NULL);
    CHECK(pid && run_to_end(pid, &status, &faults));
    CHECK(status == 0 && faults >= 6 && faults <= PROC_STACK_MAX_PAGES - PROC_STACK_PAGES);
    const char *overflow[] = { "100", NULL };    /* past 64 KiB: the guard page */
    pid = proc_spawn("deep", overflow, NULL);
    CHECK(pid && run_to_end(pid, &status, &faults));
    CHECK(status == PROC_STATUS_FAULTED);
    CHECK(faults == PROC_STACK_MAX_PAGES - PROC_STACK_PAGES);
    return true;
}

/* The supervisor: the echo: service crashed 100 times on purpose (by a
 * client's call, which comes back with an error, never a hang), each time
 * restarted and registered again, the client served after each; a kill
 * restarts it too; no memory lost. */
#define CRASHES 100
static bool test_supervisor_restarts(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long restarts0 = procsrv_restarts("echo");
    unsigned long echo = proc_spawn("echo", NULL, NULL);
    CHECK(echo && serve_until_registered(echo));
    const char *argv[] = { "100", NULL };
    _Static_assert(CRASHES == 100, "the argument above");
    unsigned long client = proc_spawn("crasher", argv, NULL);
    long status;
    CHECK(client && proc_wait(client, &status));
    CHECK(status == 0);
    /* The supervisor (a process) restarts it: after the last crash,
     * maybe only once the process server has served it. */
    PROCSRV_AWAIT(procsrv_restarts("echo") >= restarts0 + CRASHES);
    CHECK(procsrv_restarts("echo") == restarts0 + CRASHES);
    echo = proc_running("echo");
    CHECK(echo != 0);
    CHECK(proc_kill(echo));                       /* killed: restarted too */
    PROCSRV_AWAIT(procsrv_restarts("echo") >= restarts0 + CRASHES + 1);
    CHECK(procsrv_restarts("echo") == restarts0 + CRASHES + 1);
    unsigned long again = proc_running("echo");
    CHECK(again != 0 && again != echo);
    CHECK(!proc_wait(echo, &status));             /* the supervisor reaped it */
    CHECK(proc_stop(again) && proc_wait(again, &status) && status == PROC_STATUS_KILLED);
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* The supervisor itself is restarted: hung (suspended) while a service it
 * supervises is killed, then killed itself, its successor restarts the
 * service (told by the process server's signal); a service crashed after
 * that is restarted by the successor, whose clients are served.  No
 * memory is lost. */
static bool test_supervisor_restart_itself(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long sup = proc_running("supervisor"), sup0 = procsrv_supervisor_restarts();
    unsigned long restarts0 = procsrv_restarts("echo");
    CHECK(sup != 0);
    unsigned long echo = proc_spawn("echo", NULL, NULL);
    CHECK(echo && serve_until_registered(echo));
    CHECK(proc_freeze(sup));
    CHECK(proc_kill(echo));                       /* nobody restarts it yet */
    CHECK(procsrv_restarts("echo") == restarts0 && !proc_running("echo"));
    CHECK(proc_kill(sup));
    unsigned long sup2 = proc_running("supervisor");
    CHECK(sup2 && sup2 != sup && procsrv_supervisor_restarts() == sup0 + 1);
    PROCSRV_AWAIT(procsrv_restarts("echo") >= restarts0 + 1);   /* the new supervisor restarts echo */
    echo = proc_running("echo");
    CHECK(echo != 0);
    const char *argv[] = { "3", NULL };
    unsigned long client = proc_spawn("crasher", argv, NULL);
    long status;
    CHECK(client && proc_wait(client, &status));
    CHECK(status == 0);
    PROCSRV_AWAIT(procsrv_restarts("echo") >= restarts0 + 4);
    echo = proc_running("echo");
    CHECK(echo && proc_stop(echo) && proc_wait(echo, &status));
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* The pager is a process: a program's page faults reach it, not this
 * task.  Hung (suspended) while a program's first fault waits on it, then
 * killed, it is restarted on the same endpoint and the program's faults
 * are all served (the queued one by the new pager).  No memory lost. */
static bool test_pager_restart(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long pager = proc_running("pager"), restarts0 = procsrv_pager_restarts();
    CHECK(pager != 0);
    CHECK(proc_freeze(pager));
    const char *five[] = { "5", NULL };
    unsigned long pid = proc_spawn("touch", five, NULL);
    long status;
    CHECK(pid && serve_until(pid, 1));            /* its mmap: it touches the memory next */
    /* It runs before `true` (ready first, same priority): its first touch
     * faults to the hung pager and waits there; `true` ends and wakes us. */
    unsigned long t = proc_spawn("true", NULL, NULL);
    CHECK(t && proc_wait(t, &status) && status == 0);
    struct proc_info pi;
    CHECK(proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.faults == 0 && pi.messages == 1);
    CHECK(proc_kill(pager));
    unsigned long pager2 = proc_running("pager");
    CHECK(pager2 && pager2 != pager && procsrv_pager_restarts() == restarts0 + 1);
    unsigned long faults;
    CHECK(run_to_end(pid, &status, &faults));
    CHECK(status == 0 && faults == 5);
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* The pager dies holding a fault: it received a program's first page
 * fault and asked this server (PROC_PAGE), which leaves that request
 * unanswered; the pager is killed.  The kernel drops the pager's reply
 * right to the faulted thread, which resumes at the faulting instruction
 * and faults again, now to the restarted pager on the same endpoint: all
 * its faults are served, none lost or served twice.  No memory lost. */
static bool test_pager_dies_holding_fault(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long pager = proc_running("pager"), restarts0 = procsrv_pager_restarts();
    CHECK(pager != 0);
    const char *five[] = { "5", NULL };
    unsigned long pid = proc_spawn("touch", five, NULL);
    CHECK(pid && serve_until(pid, 1));            /* its mmap: it touches the memory next */
    struct proc_info pi;
    CHECK(proc_info(pager, &pi));
    unsigned long pager_msgs = pi.messages;
    CHECK(proc_hold_next(pager));                 /* the pager's PROC_PAGE for touch's fault */
    CHECK(serve_until(pager, pager_msgs + 1));
    CHECK(proc_info(pager, &pi) && pi.messages == pager_msgs + 1);
    CHECK(proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.faults == 0 && pi.messages == 1);
    CHECK(proc_kill(pager));
    unsigned long pager2 = proc_running("pager");
    CHECK(pager2 && pager2 != pager && procsrv_pager_restarts() == restarts0 + 1);
    long status;
    unsigned long faults;
    CHECK(run_to_end(pid, &status, &faults));
    CHECK(status == 0 && faults == 5);
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* A crash loop of a server of the system: the supervisor, made to fault
 * (an injected crash) as soon as each instance runs, is restarted
 * PROCSRV_SYSTEM_RESTARTS_IN_A_ROW - 1 times and then held down, not
 * restarted again; system_supervisor_restart brings it back, and it does
 * its work (a killed service is restarted).  No memory lost. */
static bool test_system_restart_limit(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long r0 = procsrv_supervisor_restarts();
    for (unsigned i = 1; i <= PROCSRV_SYSTEM_RESTARTS_IN_A_ROW; i++) {
        unsigned long sup = proc_running("supervisor");
        CHECK(sup && proc_inject_fault(sup));
        PROCSRV_AWAIT(proc_running("supervisor") != sup);        /* its fault: it ended */
        if (i < PROCSRV_SYSTEM_RESTARTS_IN_A_ROW)
            CHECK(proc_running("supervisor") != 0 && procsrv_supervisor_restarts() == r0 + i);
        else
            CHECK(proc_running("supervisor") == 0 && procsrv_supervisor_restarts() == r0 + i - 1);
    }
    CHECK(system_supervisor_restart());
    CHECK(proc_running("supervisor") != 0 && procsrv_supervisor_restarts() == r0 + PROCSRV_SYSTEM_RESTARTS_IN_A_ROW);
    /* The new instance supervises: a killed echo comes back. */
    unsigned long restarts0 = procsrv_restarts("echo");
    unsigned long echo = proc_spawn("echo", NULL, NULL);
    CHECK(echo && serve_until_registered(echo));
    CHECK(proc_kill(echo));
    PROCSRV_AWAIT(procsrv_restarts("echo") >= restarts0 + 1);
    long status;
    echo = proc_running("echo");
    CHECK(echo && proc_stop(echo) && proc_wait(echo, &status));
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* Memory comes back: many spawn/exit cycles leave the pool's free memory
 * (confirmed by the kernel) and its size as they were. */
static bool test_memory_returned(void)
{
    NEED_SYSTEM();
    long status;
    unsigned long pid = proc_spawn("true", NULL, NULL);   /* the pool has its block */
    CHECK(pid && proc_wait(pid, &status) && status == 0);
    unsigned long free0 = mm_free_bytes();
    unsigned blocks = mm_blocks();
    CHECK(free0 == (blocks - proc_system_count()) * (1UL << PROCSRV_BLOCK_BITS));  /* but the servers' */
    for (int i = 0; i < CYCLES; i++) {
        pid = proc_spawn("true", NULL, NULL);
        CHECK(pid != 0);
        CHECK(proc_wait(pid, &status) && status == 0);
    }
    CHECK(mm_blocks() == blocks);
    CHECK(mm_free_bytes() == free0);
    printf("    %d spawn/exit cycles: %lu KiB free in %u blocks before and after\n", CYCLES,
           free0 >> 10, blocks);
    return true;
}

/* The libc: libctest (strings, formatting, malloc, mmap, fork, waitpid,
 * posix_spawn, threads) passes, and its memory, its children's included,
 * comes back. */
static bool test_libc(void)
{
    NEED_SYSTEM();
    long status;
    unsigned long pid = proc_spawn("true", NULL, NULL);
    CHECK(pid && proc_wait(pid, &status) && status == 0);
    struct mm_mark mark = mm_mark();
    pid = proc_spawn("libctest", NULL, NULL);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* Copy-on-write fork: forktest's checks (each side sees its own writes,
 * the other's data until then, MAP_SHARED shared, a grandchild outliving
 * its parent) with 1 and 64 pages; the copies were made by the pager on
 * write faults; all memory comes back. */
static bool test_cow_fork(void)
{
    NEED_SYSTEM();
    long status;
    unsigned long pid = proc_spawn("true", NULL, NULL);
    CHECK(pid && proc_wait(pid, &status) && status == 0);
    struct mm_mark mark = mm_mark();
    unsigned long copies0 = procsrv_cow_copies(), reuses0 = procsrv_cow_reuses();
    const char *one[] = { "1", NULL }, *many[] = { "64", NULL };
    pid = proc_spawn("forktest", one, NULL);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    pid = proc_spawn("forktest", many, NULL);
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    /* The first child's 64 writes were copies (its pages are its
     * parent's frames); each of the parent's 64 writes after the second
     * fork was a copy or, once that child had ended, its own frame made
     * writable again. */
    unsigned long copies = procsrv_cow_copies() - copies0, reuses = procsrv_cow_reuses() - reuses0;
    printf("    copy-on-write faults: %lu copies, %lu frames made writable again\n", copies, reuses);
    CHECK(copies >= 64 && copies + reuses >= 128);
    PROCSRV_AWAIT(proc_count() == 0);                   /* the orphaned grandchild ends */
    CHECK(proc_count() == 0);
    CHECK(mm_back_to(mark));
    return true;
}

/* ---- the control interface (ferry/procctl.h) ---------------------------- */

/* A thread of the root task drives the process server by IPC on the
 * control capability, as a root task beside a process server of its own
 * would, while the main thread serves. */
static struct {
    unsigned long slot;                 /* where the control notification goes */
    volatile bool done;
    bool ok;
    unsigned line;                      /* the first check that failed */
    unsigned long free0, blocks0;       /* PROC_CTL_MEMORY's first answer */
    struct procctl_counters counters;   /* and the answers the main thread compares with its own */
    unsigned long echo_restarts;
} ctl_run;

#define CTL_CHECK(cond)                                                      \
    do {                                                                     \
        if (!(cond)) {                                                       \
            ctl_run.line = __LINE__;                                         \
            return false;                                                    \
        }                                                                    \
    } while (0)

static bool ctl_script(struct procctl *c)
{
    unsigned long free0, blocks0, pid, n;
    long status;
    struct procctl_info pi;
    CTL_CHECK(procctl_notification(c, ctl_run.slot) == PROC_OK);
    CTL_CHECK(procctl_memory(c, &free0, &blocks0) == PROC_OK);
    ctl_run.free0 = free0;              /* checked against mm_free_bytes() by the main thread */
    ctl_run.blocks0 = blocks0;
    const char *argv[] = { "exit=7", NULL };
    CTL_CHECK(procctl_spawn(c, "hello", argv, NULL, &pid) == PROC_OK && pid);
    CTL_CHECK(procctl_info(c, pid, &pi) == PROC_OK && pi.bytes > 0);
    CTL_CHECK(procctl_wait(c, pid, &status) == PROC_OK && status == 7);
    CTL_CHECK(procctl_info(c, pid, &pi) == PROC_E_NOT_FOUND);      /* reaped */
    CTL_CHECK(procctl_wait(c, pid, &status) == PROC_E_NOT_FOUND);
    /* No arguments: boot.conf's defaults; given ones and an environment. */
    const char *defaults[] = { "one", "two", "three", NULL };
    CTL_CHECK(procctl_spawn(c, "args", NULL, NULL, &pid) == PROC_OK);
    CTL_CHECK(procctl_wait(c, pid, &status) == PROC_OK && status == args_status(defaults, NULL));
    const char *av[] = { "alpha", "gamma delta", NULL }, *envp[] = { "FERRY_TEST=ctl", NULL };
    CTL_CHECK(procctl_spawn(c, "args", av, envp, &pid) == PROC_OK);
    CTL_CHECK(procctl_wait(c, pid, &status) == PROC_OK && status == args_status(av, "ctl"));
    CTL_CHECK(procctl_spawn(c, "no-such-program", NULL, NULL, &pid) == PROC_E_NOT_FOUND && !pid);
    /* Kill, running, counters, restarts. */
    CTL_CHECK(procctl_spawn(c, "spin", NULL, NULL, &pid) == PROC_OK);
    CTL_CHECK(procctl_running(c, "spin", &n) == PROC_OK && n == pid);
    CTL_CHECK(procctl_simple(c, PROC_CTL_KILL, pid) == PROC_OK);
    CTL_CHECK(procctl_simple(c, PROC_CTL_KILL, pid) == PROC_E_NOT_FOUND);
    CTL_CHECK(procctl_running(c, "spin", &n) == PROC_OK && n == 0);
    CTL_CHECK(procctl_wait(c, pid, &status) == PROC_OK && status == PROC_STATUS_KILLED);
    CTL_CHECK(procctl_counters(c, &ctl_run.counters) == PROC_OK);     /* checked by the main thread */
    CTL_CHECK(procctl_restarts(c, "echo", &ctl_run.echo_restarts) == PROC_OK);
    CTL_CHECK(procctl_simple(c, 0x1ff, 0) == PROC_E_BAD_REQUEST);     /* no such control request */
    /* Memory back. */
    unsigned long free1, blocks1;
    CTL_CHECK(procctl_memory(c, &free1, &blocks1) == PROC_OK);
    CTL_CHECK(free1 == free0 + (blocks1 - blocks0) * (1UL << PROCSRV_BLOCK_BITS));
    return true;
}

static void ctl_thread(void)
{
    struct procctl c = { .cap = procsrv_control_cap(), .ipc = test_own_buf() };
    ctl_run.ok = ctl_script(&c);
    ctl_run.done = true;
    procsrv_wake();                     /* the main thread waits for a record or this */
    for (;;)
        sys_yield();
}

static bool test_control(void)
{
    NEED_SYSTEM();
    /* The thread (its TCB, stack and IPC buffer) and the notification's
     * slot are made at the first run and reused by every later one: a run
     * leaves nothing behind. */
    static unsigned long tcb, regs[FERRY_REG_COUNT];
    if (!ctl_run.slot)
        ctl_run.slot = slot_alloc();
    ctl_run.done = false;
    ctl_run.ok = false;
    ctl_run.line = 0;
    CHECK(ctl_run.slot && procsrv_control_cap());
    unsigned long free0 = mm_free_bytes(), blocks0 = mm_blocks();
    if (!tcb && (tcb = test_thread(ctl_thread, FERRY_CAP_INIT_CNODE, 200, 0, false)) &&
        ferry_tcb_read_registers(tcb, FERRY_REG_COUNT, regs))
        tcb = 0;
    CHECK(tcb);
    CHECK(ferry_tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs) == FERRY_OK);
    PROCSRV_AWAIT(ctl_run.done);
    ferry_tcb_suspend(tcb);             /* (its last Call served, or still queued: cancelled) */
    ferry_cnode_delete(ctl_run.slot);
    if (!ctl_run.ok)
        printf("    the control thread's check at line %u failed\n", ctl_run.line);
    CHECK(ctl_run.ok);
    CHECK(ctl_run.free0 == free0 && ctl_run.blocks0 == blocks0);
    /* The control answers agree with the root task's own calls (stubs
     * over the same interface now, but through another thread's IPC buffer). */
    const struct procctl_counters *k = &ctl_run.counters;
    CHECK(k->procs == proc_count() && k->system == proc_system_count() && k->refused == procsrv_refused());
    CHECK(k->names_restarts == procsrv_names_restarts() && k->pager_restarts == procsrv_pager_restarts());
    CHECK(ctl_run.echo_restarts == procsrv_restarts("echo"));
    CHECK(proc_count() == 0);
    return true;
}

/* No back door: a program that sends every control request with its own
 * capability (and tries to mint the control badge onto a copy of it) is
 * refused every time, and the process it names goes on running. */
static bool test_control_refused(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    unsigned long spin = proc_spawn("spin", NULL, NULL);
    CHECK(spin && serve_until(spin, 1));
    char arg[32];
    fmt_snprintf(arg, sizeof arg, "ctl=%lu", spin);
    const char *argv[] = { arg, NULL };
    unsigned long pid = proc_spawn("hello", argv, NULL);
    long status;
    CHECK(pid && proc_wait(pid, &status));
    CHECK(status == 0);
    struct proc_info pi;
    CHECK(proc_info(spin, &pi) && pi.state == PROC_RUNNING);
    CHECK(proc_kill(spin) && proc_wait(spin, &status) && status == PROC_STATUS_KILLED);
    CHECK(mm_back_to(mark));
    return true;
}

/* A process that fills the slots the process server signals at its end
 * (PROC_NTFN_SLOT0..) with endpoints instead of notifications, one of
 * them the process server's own: its end must not block the server (a
 * blocking Send there waited for ever, and every later request with it);
 * the next spawn is served and the memory comes back. */
static bool test_end_signals_never_block(void)
{
    NEED_SYSTEM();
    struct mm_mark mark = mm_mark();
    const char *trap[] = { "trap", NULL }, *after[] = { "exit=5", NULL };
    for (int round = 0; round < 3; round++) {
        unsigned long pid = proc_spawn("hello", trap, NULL);
        long status;
        CHECK(pid && proc_wait(pid, &status));
        CHECK(status == 0);                      /* both endpoints copied into the slots */
        pid = proc_spawn("hello", after, NULL);
        CHECK(pid && proc_wait(pid, &status));
        CHECK(status == 5);
    }
    CHECK(mm_back_to(mark));
    return true;
}

const struct utest utests_system[] = {
    { test_spawn_exit_status, "sys_spawn_exit" },
    { test_spawn_arguments, "sys_args" },
    { test_kill, "sys_kill" },
    { test_fault_ends_process, "sys_fault" },
    { test_bad_spawns, "sys_bad_spawn" },
    { test_list, "sys_list" },
    { test_names_least_privilege, "sys_names" },
    { test_names_restart, "sys_names_restart" },
    { test_demand_paging, "sys_demand" },
    { test_stack_growth, "sys_stack" },
    { test_supervisor_restarts, "sys_supervisor" },
    { test_supervisor_restart_itself, "sys_supervisor_restart" },
    { test_pager_restart, "sys_pager_restart" },
    { test_pager_dies_holding_fault, "sys_pager_held_fault" },
    { test_system_restart_limit, "sys_restart_limit" },
    { test_exec_in_place, "sys_exec" },
    { test_memory_returned, "sys_memory" },
    { test_libc, "sys_libc" },
    { test_cow_fork, "sys_cow_fork" },
    { test_control, "sys_control" },
    { test_control_refused, "sys_control_refused" },
    { test_end_signals_never_block, "sys_end_signals" },
};
const size_t utests_system_n = sizeof utests_system / sizeof utests_system[0];
