/* tests.c: runs the in-guest test table (all, or those named by test=),
 * each test in its own sandbox (ulib.h: its objects and slots go when it
 * ends, so do its threads) and checks that the free untyped memory is
 * back afterwards; prints "N passed, N failed" and returns non-zero when
 * any failed. */
#include <ferry/ulib.h>
#include <ferry/rootprogs.h>
#include "utest.h"
#include "ipc_lib.h"
#include "../servers/procsrv.h"

/* shared: true for the process-server tests, whose objects belong to
 * the process server (made on its behalf while a test drives it) and
 * outlive the test by design. */
static const struct {
    const struct utest *tests;
    const size_t *n;
    bool shared;
} groups[] = {
    { utests_objects, &utests_objects_n, false },
    { utests_vspace, &utests_vspace_n, false },
    { utests_threads, &utests_threads_n, false },
    { utests_ipc_message, &utests_ipc_message_n, false },
    { utests_ipc_notify, &utests_ipc_notify_n, false },
    { utests_ipc_fault, &utests_ipc_fault_n, false },
    { utests_ipc_state, &utests_ipc_state_n, false },
    { utests_ipc_cross, &utests_ipc_cross_n, false },
    { utests_ioport, &utests_ioport_n, false },
    { utests_irq, &utests_irq_n, false },
    { utests_fastpath, &utests_fastpath_n, false },
    { utests_attack_entry, &utests_attack_entry_n, false },
    { utests_attack_memory, &utests_attack_memory_n, false },
    { utests_fuzz, &utests_fuzz_n, false },
    { utests_system, &utests_system_n, true },
    { utests_io, &utests_io_n, true },
    { utests_smp, &utests_smp_n, false },
    { utests_stress, &utests_stress_n, false },
};

/* Is name in the comma-separated list? */
static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = p;
        while (*e && *e != ',')
            e++;
        if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
            return true;
        p = *e ? e + 1 : e;
    }
    return false;
}

/* Sandbox size: the largest power of two up to 64 MiB that a root untyped has room for. */
#define SANDBOX_MIN_BITS 22
#define SANDBOX_MAX_BITS 26

/* One test, in a sandbox unless shared; then the free untyped bytes (the
 * kernel's count, BENCHMARK builds) must be what they were before, less
 * what the test's helpers kept on purpose (ulib_persistent_bytes).  The
 * count after one sandboxed test is the count before the next (nothing
 * runs in between): one invariant check per test, not two. */
static unsigned long known_free;
static bool known;

static bool run_one(const struct utest *t, bool shared)
{
    unsigned long before = known_free, after = 0, kept0 = ulib_persistent_bytes;
    bool sandboxed = !shared && ulib_sandbox_ready();
    bool count = sandboxed && (known || ulib_free_bytes(&before));
    known = false;
    if (sandboxed)
        ulib_sandbox_begin();
    bool ok = t->fn();
    if (sandboxed && !ulib_sandbox_end())
        ok = false;
    if (count) {
        unsigned long kept = ulib_persistent_bytes - kept0;
        if (!ulib_free_bytes(&after)) {
            printf("    after the test: the kernel invariant check failed\n");
            ok = false;
        } else if (after + kept != before) {
            printf("    after the test: %ld untyped bytes not returned (free before %lu, after %lu, kept by helpers %lu)\n",
                   (long)(before - after - kept), before, after, kept);
            ok = false;
        } else {
            known_free = after;
            known = true;
        }
    }
    return ok;
}

/* The boot services (boot.conf: start with restart, the serial driver):
 * up (started at boot) until a bare group's test, then stopped, started
 * again for the next test of another group.  Stopping and starting them
 * change the free memory: the next test counts it afresh. */
static bool services_up = true;

/* The groups whose tests expect no boot service running (the sys_* tests
 * count every process and look serial: up expecting it missing;
 * irq_rtc_interrupt_signals gets IRQ line 4).  Every other test runs
 * beside the services, so its programs' console output goes through the
 * serial driver. */
static bool bare_group(const struct utest *tests)
{
    return tests == utests_system || tests == utests_irq;
}

static void boot_services(bool up)
{
    const struct bootconf *conf = system_ready() ? system_conf() : NULL;
    if (!conf || up == services_up)
        return;
    services_up = up;
    known = false;
    for (unsigned i = 0; i < conf->n; i++) {
        const struct bootconf_program *prog = &conf->prog[i];
        if (!prog->start || !prog->restart)
            continue;
        unsigned long pid = proc_running(prog->name);
        long status;
        if (!up && pid && proc_stop(pid) && proc_wait(pid, &status)) {
            printf("tests: boot service %s (pid %lu) stopped for the tests that expect none\n", prog->name, pid);
        } else if (up && !pid) {
            struct proc_info pi;
            pid = proc_spawn(prog->name, NULL, NULL);
            while (pid && proc_info(pid, &pi) && pi.state == PROC_RUNNING && pi.registered < 1)
                procsrv_serve_one();
            printf("tests: boot service %s %s again (pid %lu)\n", prog->name,
                   pid && proc_info(pid, &pi) && pi.state == PROC_RUNNING ? "started" : "FAILED to start", pid);
        }
    }
    /* A restarted service may still have work left after it registered,
     * at its own priority, below ours: it then runs in the first test
     * that leaves CPU 0 idle, and memory it takes counts against that
     * test (fastpath_ready_word, whose Calls wait on CPU 1, first after
     * the irq group: 4096 bytes "not returned" on 2 vCPUs, with the
     * kernel before the ready word too, and gone with this).  Let every
     * ready thread run to its wait before the next test counts. */
    if (up && !settle())
        printf("tests: the boot services did not settle\n");
}

unsigned tests_boot_services(void)
{
    const struct bootconf *conf = system_ready() ? system_conf() : NULL;
    unsigned n = 0;
    for (unsigned i = 0; conf && i < conf->n; i++)
        n += conf->prog[i].start && conf->prog[i].restart && proc_running(conf->prog[i].name);
    return n;
}

int tests_main(const struct ferry_bootinfo *bi)
{
    unsigned bits = ulib_sandbox_create(SANDBOX_MIN_BITS, SANDBOX_MAX_BITS);
    if (bits)
        printf("tests: each test in a sandbox of %lu MiB (the process-server tests share the server's memory)%s\n",
               (1UL << bits) >> 20, bi->benchmark ? "; free untyped bytes checked after each" : "");
    else
        printf("tests: no untyped for a test sandbox: tests run unisolated\n");
    /* As long as the command line itself, so no list of names is ever cut. */
    static char only[FERRY_BOOTINFO_CMDLINE_MAX];
    bool select = cmdline_get(bi->cmdline, "test", only, sizeof only);
    unsigned passed = 0, failed = 0, matched = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        for (size_t i = 0; i < *groups[g].n; i++) {
            const struct utest *t = &groups[g].tests[i];
            if (select && !listed(only, t->name))
                continue;
            matched++;
            boot_services(!bare_group(groups[g].tests));
            printf("test %s: ...\n", t->name);
            bool ok = run_one(t, groups[g].shared);
            printf("test %s: %s\n", t->name, ok ? "ok" : "FAILED");
            if (ok)
                passed++;
            else
                failed++;
        }
    }
    if (select && matched == 0) {
        printf("tests: no test named in test=%s\n", only);
        failed++;
    }
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
