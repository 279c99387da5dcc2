/* utest.h: the in-guest test table and its checks (after xv6's usertests). */
#ifndef FERRY_UTEST_H
#define FERRY_UTEST_H

#include <ferry/ulib.h>
#include <ferry/invariants.h>

struct utest {
    bool (*fn)(void);
    const char *name;
};

/* One entry of a test table: the test's name is its function's name, written once. */
#define UTEST(fn) { fn, #fn }

/* Each test file exports its table; tests.c runs them all. */
extern const struct utest utests_objects[], utests_vspace[], utests_threads[], utests_ioport[],
    utests_ipc_message[], utests_ipc_notify[], utests_ipc_fault[], utests_ipc_state[], utests_ipc_cross[], utests_irq[], utests_fuzz[], utests_attack_entry[], utests_fastpath[], utests_stress[],
    utests_attack_memory[], utests_system[], utests_io[], utests_smp[];
extern const size_t utests_objects_n, utests_vspace_n, utests_threads_n, utests_ioport_n,
    utests_ipc_message_n, utests_ipc_notify_n, utests_ipc_fault_n, utests_ipc_state_n, utests_ipc_cross_n, utests_irq_n, utests_fuzz_n, utests_attack_entry_n, utests_fastpath_n, utests_stress_n,
    utests_attack_memory_n, utests_system_n, utests_io_n, utests_smp_n;

/* tests.c: how many boot services (boot.conf: start with restart) run
 * now: the tests outside the bare groups run beside them. */
unsigned tests_boot_services(void);

/* testlib.c: a thread of our address space running fn() with its own
 * stack and IPC buffer pages (the buffer right above the stack), in CSpace
 * cspace (a CNode capability of ours), 0 on failure; a free page address
 * with its page table; the calling thread's own IPC buffer; the total of
 * the fast path's fall-back counters (false: this kernel does not count). */
unsigned long test_thread(void (*fn)(void), unsigned long cspace, unsigned prio, unsigned long fault_ep,
                          bool resume);
unsigned long test_page(void);
struct ferry_ipc_buffer *test_own_buf(void);
bool test_fastpath_misses(unsigned long *total);

/* The kernel's invariant check (FERRY_SYS_DEBUG_CHECK, uapi/ferry/invariants.h)
 * from the root CNode: false (and the reason printed) when the call fails
 * or an invariant is broken; *out gets the figures either way. */
struct inv_state {
    unsigned long code, free_bytes, caps, threads;
};
bool kernel_check(const char *when, struct inv_state *out);

/* stress.c: rounds of object creation and destruction (a thread, a
 * VSpace with tables and mappings, an endpoint, a notification), each
 * round's thread on CPU round % ncpus; false (and why printed) on failure. */
bool stress_churn_rounds(unsigned long rounds, unsigned long ncpus);

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("    check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
            return false;                                                    \
        }                                                                    \
    } while (0)

/* An invocation must return exactly this error code. */
#define CHECK_ERR(call, expect)                                              \
    do {                                                                     \
        unsigned long e_ = (call);                                           \
        if (e_ != (expect)) {                                                \
            printf("    %s:%d: %s returned %lu (%s), expected %s\n", __FILE__, __LINE__, \
                   #call, e_, ferry_error_name(e_), #expect);                \
            return false;                                                    \
        }                                                                    \
    } while (0)

#define CHECK_OK(call) CHECK_ERR(call, FERRY_OK)

/* Allocate an object or fail the test. */
#define ALLOC(var, type, bits)                                               \
    unsigned long var = object_alloc((type), (bits));                        \
    CHECK(var != 0)

#endif
