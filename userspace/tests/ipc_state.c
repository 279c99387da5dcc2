/* ipc_state.c: in-guest tests of what IPC keeps per thread: replies to a
 * lower priority, FS/GS bases and FPU registers across switches. */
#include "ipc_lib.h"

/* A reply to a caller of lower priority than the server: the caller runs
 * next only if no ready thread is above it (the fast path asks the ready
 * queues' bitmap, the slow path the scheduler: same order either way). */
static volatile unsigned long lp_ep, lp_ntfn, lp_signal;
static volatile char lp_log[4];
static volatile unsigned lp_n;

static void lp_server(void)
{
    struct sys_msg m = { 0 };
    ipc_recv(lp_ep, &m);
    for (;;) {
        if (lp_signal)
            ntfn_signal(lp_ntfn);       /* the waiter (150) is ready now */
        m.info = FERRY_MSGINFO(2, 1, 0);
        m.w[0]++;
        ipc_reply_recv(lp_ep, &m);
    }
}

static void lp_waiter(void)
{
    unsigned long bits;
    ntfn_wait(lp_ntfn, &bits);
    lp_log[lp_n++] = 'W';
    park();
}

static void lp_client(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 1, 0), .w = { 41 } };
    unsigned long e = ipc_call(lp_ep, &m);
    lp_log[lp_n++] = e == 0 && m.w[0] == 42 && FERRY_MSGINFO_LABEL(m.info) == 2 ? 'C' : 'x';
    park();
}

static bool ipc_reply_to_lower_priority(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    lp_ep = ep;
    lp_ntfn = ntfn;
    lp_signal = 0;
    lp_n = 0;
    unsigned long srv = spawn(lp_server, 200, 0);
    CHECK(srv && settle());
    /* Nothing ready between them: the client (100) gets its answer. */
    unsigned long c1 = spawn(lp_client, 100, 0);
    CHECK(c1 && settle());
    CHECK(lp_n == 1 && lp_log[0] == 'C');
    /* The server wakes a waiter of priority 150 before replying: the
     * waiter runs first, then the client. */
    lp_n = 0;
    unsigned long w = spawn(lp_waiter, 150, 0);
    CHECK(w && settle());
    CHECK(lp_n == 0);
    lp_signal = 1;
    unsigned long c2 = spawn(lp_client, 100, 0);
    CHECK(c2 && settle());
    CHECK(lp_n == 2 && lp_log[0] == 'W' && lp_log[1] == 'C');
    CHECK_OK(ferry_tcb_suspend(srv));
    CHECK_OK(ferry_tcb_suspend(c1));
    CHECK_OK(ferry_tcb_suspend(c2));
    CHECK_OK(ferry_tcb_suspend(w));
    return true;
}

/* A server for the per-thread state tests below: it answers each Call
 * with word 0 + 1 and counts the requests on which its own state (FS/GS
 * bases, FPU registers) was not what it left there.  state_ok checks and
 * then (re)establishes that state; it runs once before the first Recv. */
static volatile unsigned long state_ep, state_server_bad;
static bool (*volatile state_ok)(void);

static void state_server(void)
{
    struct sys_msg m = { 0 };
    state_ok();
    ipc_recv(state_ep, &m);
    for (;;) {
        if (!state_ok())
            state_server_bad++;
        m.info = FERRY_MSGINFO(0, 1, 0);
        m.w[0]++;
        ipc_reply_recv(state_ep, &m);
    }
}

/* Threads with their own FS and GS bases keep them across IPC (the fast
 * path writes the MSRs only when some thread has non-zero bases, and then
 * only those that differ). */
#define BASES_VA 0x3a000000UL
#define BASES_ROUNDS 200
static volatile unsigned long bases_client_ok;

static unsigned long read_fs0(void)
{
    unsigned long v;
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(v));
    return v;
}

static unsigned long read_gs0(void)
{
    unsigned long v;
    __asm__ __volatile__("movq %%gs:0, %0" : "=r"(v));
    return v;
}

static bool server_bases_ok(void)
{
    return read_fs0() == 0x3333 && read_gs0() == 0x4444;
}

static void bases_client(void)
{
    unsigned long ok = 0;
    for (unsigned long i = 0; i < BASES_ROUNDS; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { i } };
        if (ipc_call(state_ep, &m) == 0 && m.w[0] == i + 1 && read_fs0() == 0x1111 && read_gs0() == 0x2222)
            ok++;
    }
    bases_client_ok = ok;
    park();
}

static bool ipc_fs_gs_bases(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(page, FERRY_OBJ_FRAME_4K, 0);
    CHECK(table_ensure(BASES_VA));
    CHECK_OK(ferry_frame_map(page, FERRY_CAP_INIT_VSPACE, BASES_VA, RW));
    volatile unsigned long *w = (volatile unsigned long *)BASES_VA;
    w[0] = 0x1111;                      /* client FS:0 */
    w[16] = 0x2222;                     /* client GS:0 */
    w[32] = 0x3333;                     /* server FS:0 */
    w[48] = 0x4444;                     /* server GS:0 */
    state_ep = ep;
    state_ok = server_bases_ok;
    bases_client_ok = state_server_bad = 0;
    unsigned long srv = spawn_with(state_server, 200, 0, BASES_VA + 32 * 8, BASES_VA + 48 * 8);
    CHECK(srv && settle());
    unsigned long cl = spawn_with(bases_client, 200, 0, BASES_VA, BASES_VA + 16 * 8);
    CHECK(cl && settle());
    CHECK(bases_client_ok == BASES_ROUNDS && state_server_bad == 0);
    CHECK_OK(ferry_tcb_suspend(srv));
    CHECK_OK(ferry_tcb_suspend(cl));
    return true;
}

/* Thread-local storage: FS alone (the assembly fast path's TLS copy,
 * which writes FS_BASE and nothing else).  A server with an FS base and a
 * client without one: the client's FS base must be 0 again after every
 * reply (it reads %fs:TLS_PLAIN, which is the marker only with base 0;
 * with the server's base the address is unmapped and the client faults,
 * failing the test); then a client with an FS base of its own.  Where the
 * kernel counts them, no fall-back to the slow path during the calls. */
#define TLS_VA 0x3a200000UL           /* (ipc_fs_gs_bases keeps BASES_VA mapped) */
#define TLS_PLAIN (TLS_VA + 64 * 8)
#define TLS_WARMUP 100                 /* > FPU_CLEAR_RETURNS (64) */
static void xmm5_set(unsigned long v);
static volatile unsigned long tls_client_ok, tls_client_counted, tls_client_misses, tls_client_own;

static unsigned long read_fs_at(unsigned long off)
{
    unsigned long v;
    __asm__ __volatile__("movq %%fs:(%1), %0" : "=r"(v) : "r"(off));
    return v;
}

static bool server_fs_ok(void)
{
    return read_fs0() == 0x3333;
}

static void tls_client(void)
{
    unsigned long ok = 0, before = 0, after = 0;
    bool own = tls_client_own;
    /* The client owns the FPU (one use), so the lazy FPU's count-down
     * (FPU_CLEAR_RETURNS returns to the owner, docs/design.md) runs out in
     * the warm-up and the calls after it find the switch quiet but for FS:
     * the assembly's TLS copy, not its general one. */
    xmm5_set(1);
    for (unsigned long i = 0; i < TLS_WARMUP; i++) {
        struct sys_msg m0 = { .info = FERRY_MSGINFO(0, 1, 0) };
        ipc_call(state_ep, &m0);                  /* the first may be the slow path's */
    }
    tls_client_counted = test_fastpath_misses(&before);
    for (unsigned long i = 0; i < BASES_ROUNDS; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { i } };
        if (ipc_call(state_ep, &m) == 0 && m.w[0] == i + 1 &&
            (own ? read_fs0() == 0x1111 : read_fs_at(TLS_PLAIN) == 0x5555))
            ok++;
    }
    if (tls_client_counted && test_fastpath_misses(&after))
        tls_client_misses = after - before;
    tls_client_ok = ok;
    park();
}

static bool ipc_fs_base_tls(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(page, FERRY_OBJ_FRAME_4K, 0);
    CHECK(table_ensure(TLS_VA));
    CHECK_OK(ferry_frame_map(page, FERRY_CAP_INIT_VSPACE, TLS_VA, RW));
    volatile unsigned long *w = (volatile unsigned long *)TLS_VA;
    w[0] = 0x1111;                      /* client FS:0 (the second client) */
    w[32] = 0x3333;                     /* server FS:0 */
    w[64] = 0x5555;                     /* TLS_PLAIN: a client without a base */
    state_ep = ep;
    state_ok = server_fs_ok;
    state_server_bad = 0;
    unsigned long srv = spawn_with(state_server, 200, 0, TLS_VA + 32 * 8, 0);
    CHECK(srv && settle());
    for (unsigned own = 0; own < 2; own++) {
        tls_client_ok = tls_client_counted = tls_client_misses = 0;
        tls_client_own = own;
        unsigned long cl = spawn_with(tls_client, 200, 0, own ? TLS_VA : 0, 0);
        CHECK(cl && settle());
        if (tls_client_misses)
            printf("    client %s an FS base: %lu fall-backs\n", own ? "with" : "without", tls_client_misses);
        if (tls_client_ok != BASES_ROUNDS)
            printf("    client %s an FS base: %lu of %u calls right\n", own ? "with" : "without", tls_client_ok, BASES_ROUNDS);
        CHECK(tls_client_ok == BASES_ROUNDS && state_server_bad == 0 && tls_client_misses == 0);
        CHECK_OK(ferry_tcb_suspend(cl));
    }
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* FPU state stays each thread's own across IPC: client and server keep
 * different values in xmm5 (with lazy switching every direction traps
 * and moves the state; eager switching moves it on every switch). */
#define FPU_ROUNDS 100

static void xmm5_set(unsigned long v)
{
    __asm__ __volatile__("movq %0, %%xmm5" : : "r"(v) : "xmm5");
}

static unsigned long xmm5_get(void)
{
    unsigned long v;
    __asm__ __volatile__("movq %%xmm5, %0" : "=r"(v));
    return v;
}

static bool server_xmm5_ok(void)
{
    bool ok = xmm5_get() == 0x5e5e5e5e;
    xmm5_set(0x5e5e5e5e);
    return ok;
}

static bool ipc_fpu_private(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    state_ep = ep;
    state_ok = server_xmm5_ok;
    state_server_bad = 0;
    unsigned long srv = spawn(state_server, 255, 0);
    CHECK(srv && settle());
    unsigned long ok = 0;
    for (unsigned long i = 0; i < FPU_ROUNDS; i++) {
        xmm5_set(0xc1c1c1c1 + i);
        struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { i } };
        unsigned long e = ipc_call(ep, &m);
        if (xmm5_get() == 0xc1c1c1c1 + i && e == 0 && m.w[0] == i + 1)
            ok++;
    }
    CHECK(ok == FPU_ROUNDS && state_server_bad == 0);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

const struct utest utests_ipc_state[] = {
    UTEST(ipc_reply_to_lower_priority),
    UTEST(ipc_fs_gs_bases),
    UTEST(ipc_fs_base_tls),
    UTEST(ipc_fpu_private),
};
const size_t utests_ipc_state_n = sizeof utests_ipc_state / sizeof utests_ipc_state[0];
