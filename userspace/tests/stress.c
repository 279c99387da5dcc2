/* stress.c: object churn under IPC load: rounds that create and destroy a thread, a VSpace with its tables and mappings, an endpoint and a notification, while two other threads keep a Call/Reply stream going; at the end the kernel's invariant check must pass and the untyped memory must be back to the byte. */
#include "utest.h"
#include <ferry/ipc.h>

#define STRESS_ROUNDS  10000      /* default; stress_rounds= on the command line */
#define STRESS_AREA    0x3d000000UL  /* stacks: client, server, round thread */
#define STRESS_UT_BITS 17         /* one round's objects, with alignment slack */

bool kernel_check(const char *when, struct inv_state *out)
{
    struct sys_msg m = { .w = { 0 } };
    if (!ulib_bootinfo->benchmark) {
        /* BENCHMARK=0: the check is not built; nothing to compare */
        *out = (struct inv_state){ 0 };
        return true;
    }
    unsigned long err = sys_raw(FERRY_SYS_DEBUG_CHECK, FERRY_CAP_DEBUG, &m);
    out->code = m.w[0];
    out->free_bytes = m.w[1];
    out->caps = m.w[2];
    out->threads = m.w[3];
    if (err) {
        printf("    invariant check (%s): the call failed: %s\n", when, ferry_error_name(err));
        return false;
    }
    if (out->code != FERRY_INV_OK) {
        printf("    invariant check (%s): invariant %lu broken (the kernel printed which)\n", when, out->code);
        return false;
    }
    return true;
}

/* ---- background traffic: a client and a server in the root VSpace ---- */

static unsigned long traffic_ep;
static volatile unsigned long traffic_calls, traffic_bad;

static void traffic_server(void)
{
    struct sys_msg m = { 0 };
    ipc_recv(traffic_ep, &m);
    for (;;) {
        /* Echo a function of the words, so the client can check them. */
        m.w[0] = m.w[0] * 3 + 1;
        m.w[1] = ~m.w[1];
        m.info = FERRY_MSGINFO(0, 2, 0);
        ipc_reply_recv(traffic_ep, &m);
    }
}

static void traffic_client(void)
{
    for (unsigned long i = 1;; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(7, 2, 0), .w = { i, i << 7 } };
        unsigned long err = ipc_call(traffic_ep, &m);
        if (err || m.w[0] != i * 3 + 1 || m.w[1] != ~(i << 7))
            traffic_bad++;
        traffic_calls++;
        sys_yield();                    /* one call per turn: the rounds go on meanwhile */
    }
}

/* ---- one round's thread: tells us it ran, then blocks in Recv ---- */

static unsigned long round_ntfn, round_ep;
static volatile unsigned long round_ran;

static void round_thread(void)
{
    round_ran++;
    ntfn_signal(round_ntfn);
    struct sys_msg m = { 0 };
    for (;;)
        ipc_recv(round_ep, &m);       /* deleted while it waits here (or earlier) */
}

enum { S_TCB, S_VSPACE, S_PDPT, S_PD, S_PT, S_FRAME, S_FRAME_COPY, S_STACK, S_EP, S_NTFN, S_CNODE, S_N };

/* One round; the round's thread runs on CPU cpu (smp.c's churn test puts
 * it on every CPU in turn; this file's test on CPU 0). */
static bool stress_round(unsigned long ut, const unsigned long *s, unsigned long round, unsigned long cpu)
{
    static const struct { unsigned long type, bits; } objs[S_N] = {
        [S_TCB] = { FERRY_OBJ_TCB, 0 }, [S_VSPACE] = { FERRY_OBJ_VSPACE, 0 },
        [S_PDPT] = { FERRY_OBJ_PDPT, 0 }, [S_PD] = { FERRY_OBJ_PD, 0 }, [S_PT] = { FERRY_OBJ_PT, 0 },
        [S_FRAME] = { FERRY_OBJ_FRAME_4K, 0 }, [S_FRAME_COPY] = { 0, 0 },
        [S_STACK] = { FERRY_OBJ_FRAME_4K, 0 }, [S_EP] = { FERRY_OBJ_ENDPOINT, 0 },
        [S_NTFN] = { FERRY_OBJ_NOTIFICATION, 0 }, [S_CNODE] = { FERRY_OBJ_CNODE, 4 },
    };
    for (unsigned i = 0; i < S_N; i++)
        if (objs[i].type)
            CHECK_OK(ferry_untyped_retype(ut, objs[i].type, objs[i].bits, s[i], 1));
    CHECK_OK(ferry_asid_assign(FERRY_CAP_INIT_ASID_POOL, s[S_VSPACE], NULL));   /* back to the pool with it */
    /* A VSpace with all three table levels and a frame mapped twice
     * (the frame and a copy), unmapped and remapped. */
    unsigned long va = 0x400000UL + (round % 64) * 0x1000;
    CHECK_OK(ferry_table_map(s[S_PDPT], s[S_VSPACE], 0));
    CHECK_OK(ferry_table_map(s[S_PD], s[S_VSPACE], 0));
    CHECK_OK(ferry_table_map(s[S_PT], s[S_VSPACE], va));
    CHECK_OK(ferry_frame_map(s[S_FRAME], s[S_VSPACE], va, FERRY_MAP_READ | FERRY_MAP_WRITE));
    CHECK_OK(ferry_cnode_copy(s[S_FRAME_COPY], s[S_FRAME], FERRY_RIGHTS_ALL));
    CHECK_OK(ferry_frame_map(s[S_FRAME_COPY], s[S_VSPACE], va ^ 0x100000UL, FERRY_MAP_READ));
    CHECK_OK(ferry_frame_unmap(s[S_FRAME]));
    CHECK_OK(ferry_frame_map(s[S_FRAME], s[S_VSPACE], va, FERRY_MAP_READ));
    /* A thread in our VSpace on a fresh stack: it runs, then blocks. */
    round_ntfn = s[S_NTFN];
    round_ep = s[S_EP];
    CHECK_OK(ferry_frame_map(s[S_STACK], FERRY_CAP_INIT_VSPACE, STRESS_AREA + 0x2000, FERRY_MAP_READ | FERRY_MAP_WRITE));
    CHECK_OK(ferry_tcb_configure(s[S_TCB], FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, FERRY_CAP_IPC_BUFFER,
                           FERRY_ROOT_IPC_BUFFER, 0));
    CHECK_OK(ferry_tcb_set_priority(s[S_TCB], FERRY_CAP_INIT_TCB, 255));
    if (cpu)
        CHECK_OK(ferry_tcb_set_affinity(s[S_TCB], cpu));
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)round_thread;
    regs[FERRY_REG_RSP] = STRESS_AREA + 0x3000 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    CHECK_OK(ferry_tcb_write_registers(s[S_TCB], true, FERRY_REG_COUNT, regs));
    unsigned long bits;
    CHECK_OK(ntfn_wait(s[S_NTFN], &bits));
    sys_yield();                        /* the round thread blocks in Recv; traffic runs */
    /* Tear down in an order that depends on the round. */
    switch (round % 4) {
    case 0:                             /* everything at once */
        CHECK_OK(ferry_cnode_revoke(ut));
        break;
    case 1:                             /* thread first, tables before their frames */
        for (unsigned i = 0; i < S_N; i++)
            CHECK_OK(ferry_cnode_delete(s[i]));
        break;
    case 2:                             /* endpoint first (the thread wakes with an error and is
                                         * deleted while ready), VSpace before its tables */
        CHECK_OK(ferry_cnode_delete(s[S_EP]));
        CHECK_OK(ferry_cnode_delete(s[S_TCB]));
        CHECK_OK(ferry_cnode_delete(s[S_VSPACE]));
        for (unsigned i = S_N; i-- > 0;)
            if (i != S_EP && i != S_TCB && i != S_VSPACE)
                CHECK_OK(ferry_cnode_delete(s[i]));
        break;
    default:                            /* suspend, unmap everything, then revoke */
        CHECK_OK(ferry_tcb_suspend(s[S_TCB]));
        CHECK_OK(ferry_frame_unmap(s[S_FRAME_COPY]));
        CHECK_OK(ferry_frame_unmap(s[S_FRAME]));
        CHECK_OK(ferry_table_unmap(s[S_PT]));
        CHECK_OK(ferry_table_unmap(s[S_PD]));
        CHECK_OK(ferry_table_unmap(s[S_PDPT]));
        CHECK_OK(ferry_cnode_revoke(ut));
        break;
    }
    return true;
}

static bool stress_objects_ipc(void)
{
    uint64_t rounds = STRESS_ROUNDS;
    cmdline_get_u64(ulib_bootinfo->cmdline, "stress_rounds", &rounds);
    CHECK(table_ensure(STRESS_AREA));
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    traffic_ep = ep;
    traffic_calls = traffic_bad = 0;
    round_ran = 0;
    unsigned long server = thread_start(traffic_server, STRESS_AREA, 255, true);
    unsigned long client = thread_start(traffic_client, STRESS_AREA + 0x1000, 255, true);
    CHECK(server && client);
    ALLOC(ut, FERRY_OBJ_UNTYPED, STRESS_UT_BITS);
    unsigned long s[S_N];
    for (unsigned i = 0; i < S_N; i++)
        CHECK((s[i] = slot_alloc()) != 0);

    struct inv_state before, now;
    CHECK(kernel_check("before", &before));
    printf("    %lu rounds; before: %lu untyped bytes free, %lu capabilities, %lu threads\n", rounds,
           before.free_bytes, before.caps, before.threads);
    for (unsigned long r = 0; r < rounds; r++) {
        if (!stress_round(ut, s, r, 0)) {
            printf("    round %lu failed\n", r);
            return false;
        }
        if ((r + 1) % 2500 == 0) {
            CHECK(kernel_check("during", &now));
            printf("    round %lu: %lu untyped bytes free, %lu calls of traffic\n", r + 1, now.free_bytes,
                   traffic_calls);
        }
    }
    CHECK_OK(ferry_tcb_suspend(client));
    CHECK_OK(ferry_tcb_suspend(server));
    CHECK(kernel_check("after", &now));
    printf("    after: %lu untyped bytes free, %lu capabilities, %lu threads; %lu rounds ran a thread, "
           "%lu calls of traffic, %lu bad\n",
           now.free_bytes, now.caps, now.threads, round_ran, traffic_calls, traffic_bad);
    CHECK(round_ran == rounds);
    CHECK(traffic_calls > 0 && traffic_bad == 0);
    CHECK(now.free_bytes == before.free_bytes);
    CHECK(now.caps == before.caps);
    return true;
}

/* smp.c: rounds of object churn with each round's thread on CPU
 * round % ncpus (while that test keeps IPC going on every CPU); true when
 * all ran (the caller checks memory and invariants). */
bool stress_churn_rounds(unsigned long rounds, unsigned long ncpus)
{
    CHECK(table_ensure(STRESS_AREA));
    ALLOC(ut, FERRY_OBJ_UNTYPED, STRESS_UT_BITS);
    unsigned long s[S_N];
    for (unsigned i = 0; i < S_N; i++)
        CHECK((s[i] = slot_alloc()) != 0);
    round_ran = 0;
    for (unsigned long r = 0; r < rounds; r++) {
        if (!stress_round(ut, s, r, r % ncpus)) {
            printf("    churn round %lu failed\n", r);
            return false;
        }
    }
    CHECK(round_ran == rounds);
    return true;
}

/* The check itself, on whatever the tests before it left behind. */
static bool kernel_invariants(void)
{
    struct inv_state st;
    if (!ulib_bootinfo->benchmark) {
        printf("    BENCHMARK=0: the invariant check is not built\n");
        return true;
    }
    CHECK(kernel_check("suite", &st));
    printf("    %lu capabilities, %lu threads, %lu untyped bytes free\n", st.caps, st.threads, st.free_bytes);
    CHECK(st.caps > 0 && st.threads > 0);
    return true;
}

const struct utest utests_stress[] = {
    UTEST(stress_objects_ipc),
    UTEST(kernel_invariants),
};
const size_t utests_stress_n = sizeof utests_stress / sizeof utests_stress[0];
