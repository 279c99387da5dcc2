/* tests.c: runs the in-guest test table (all, or those named by test=),
 * prints "N passed, N failed" and returns non-zero when any failed. */
#include <ferry/ulib.h>
#include <ferry/rootprogs.h>
#include "utest.h"

static const struct {
    const struct utest *tests;
    const size_t *n;
} groups[] = {
    { utests_objects, &utests_objects_n },
    { utests_vspace, &utests_vspace_n },
    { utests_threads, &utests_threads_n },
    { utests_ipc_message, &utests_ipc_message_n },
    { utests_ipc_notify, &utests_ipc_notify_n },
    { utests_ipc_fault, &utests_ipc_fault_n },
    { utests_ipc_state, &utests_ipc_state_n },
    { utests_ipc_cross, &utests_ipc_cross_n },
    { utests_ioport, &utests_ioport_n },
    { utests_irq, &utests_irq_n },
    { utests_fastpath, &utests_fastpath_n },
    { utests_attack_entry, &utests_attack_entry_n },
    { utests_attack_memory, &utests_attack_memory_n },
    { utests_fuzz, &utests_fuzz_n },
    { utests_system, &utests_system_n },
    { utests_smp, &utests_smp_n },
    { utests_stress, &utests_stress_n },
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

int tests_main(const struct ferry_bootinfo *bi)
{
    char only[256];
    bool select = cmdline_get(bi->cmdline, "test", only, sizeof only);
    unsigned passed = 0, failed = 0, matched = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
        for (size_t i = 0; i < *groups[g].n; i++) {
            const struct utest *t = &groups[g].tests[i];
            if (select && !listed(only, t->name))
                continue;
            matched++;
            printf("test %s: ...\n", t->name);
            bool ok = t->fn();
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
