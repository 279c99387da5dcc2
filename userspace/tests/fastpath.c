/* fastpath.c: in-guest tests that the IPC fast path is taken where it
 * should be: Call + ReplyRecv between threads of one priority, to a server
 * one priority below, with an idle bound notification, with an FS base,
 * across address spaces; that message registers beyond the length read
 * as zero; and that its fall-back counters do count (so a count of zero
 * means something). */
#include "utest.h"
#include <ferry/ipc.h>
#include <ferry/process.h>

#define CALLS 200
static volatile unsigned long fp_ep;

static void fp_echo(void)
{
    struct sys_msg m = { 0 };
    ipc_recv(fp_ep, &m);
    for (;;) {
        m.w[0]++;
        ipc_reply_recv(fp_ep, &m);
    }
}

/* CALLS round trips with the echo server on ep; false on a wrong reply. */
static bool calls(unsigned long ep)
{
    for (unsigned long i = 0; i < CALLS; i++) {
        struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 0), .w = { i } };
        if (ipc_call(ep, &m) != FERRY_OK || m.w[0] != i + 1)
            return false;
    }
    return true;
}

enum setting { PLAIN, LOWER_PRIO, BOUND_IDLE, FS_BASE, CROSS_SPACE, NSETTINGS };
static const char *const setting_names[] = {
    [PLAIN] = "same priority", [LOWER_PRIO] = "server one priority below",
    [BOUND_IDLE] = "idle bound notification", [FS_BASE] = "server with an FS base",
    [CROSS_SPACE] = "server in another address space",
};

static bool fastpath_taken(void)
{
    unsigned long before, after;
    bool counting = test_fastpath_misses(&before);
    if (!counting)
        printf("    this kernel does not count fast-path fall-backs: calls checked only\n");
    for (unsigned s = 0; s < NSETTINGS; s++) {
        ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
        fp_ep = ep;
        unsigned long srv;
        if (s == CROSS_SPACE) {
            struct process p;
            unsigned long va = test_page();
            CHECK(va != 0);
            CHECK_OK(process_create(&p, fp_echo, va, 255, true));
            srv = p.tcb;
        } else {
            srv = test_thread(fp_echo, FERRY_CAP_INIT_CNODE, s == LOWER_PRIO ? 254 : 255, 0, false);
            CHECK(srv != 0);
            if (s == BOUND_IDLE) {
                ALLOC(n, FERRY_OBJ_NOTIFICATION, 0);
                CHECK_OK(tcb_bind_notification(srv, n));
            } else if (s == FS_BASE) {
                unsigned long r[FERRY_REG_COUNT];
                CHECK_OK(ferry_tcb_read_registers(srv, FERRY_REG_COUNT, r));
                r[FERRY_REG_FS_BASE] = test_page();
                CHECK_OK(ferry_tcb_write_registers(srv, false, FERRY_REG_COUNT, r));
            }
            CHECK_OK(ferry_tcb_resume(srv));
        }
        sys_yield();                          /* a server of our priority reaches its Recv */
        /* The first call may find the server not yet waiting (one below us
         * runs only when we block): count from the second. */
        struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 0) };
        CHECK_OK(ipc_call(ep, &m));
        if (counting)
            CHECK(test_fastpath_misses(&before));
        CHECK(calls(ep));
        if (counting) {
            CHECK(test_fastpath_misses(&after));
            if (after != before)
                printf("    %s: %lu fall-backs to the slow path\n", setting_names[s], after - before);
            CHECK(after == before);
        }
        CHECK_OK(ferry_tcb_suspend(srv));
    }
    return true;
}

/* The counters count: a Call carrying a capability is the slow path's. */
static bool fastpath_counters_count(void)
{
    unsigned long before, after;
    if (!test_fastpath_misses(&before))
        return true;                          /* FASTPATH=0 or BENCHMARK=0 */
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    fp_ep = ep;
    unsigned long srv = test_thread(fp_echo, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(srv != 0);
    sys_yield();
    CHECK(test_fastpath_misses(&before));
    ulib_ipc->caps_or_badges[0] = ep;
    struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 1), .w = { 41 } };
    CHECK_OK(ipc_call(ep, &m));
    CHECK(m.w[0] == 42);
    CHECK(test_fastpath_misses(&after));
    CHECK(after >= before + 1);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* Message registers on the fast path (the words stay in registers from
 * syscall to sysret): words up to the length arrive, the registers beyond
 * it read as zero both ways, never as the sender's values. */
static volatile unsigned long fpr_bad;

static void fp_regs_server(void)
{
    struct sys_msg m = { 0 };
    ipc_recv(fp_ep, &m);
    for (;;) {
        unsigned long len = FERRY_MSGINFO_LEN(m.info);
        for (unsigned long i = len; i < FERRY_MSG_REG_WORDS; i++)
            if (m.w[i] != 0)
                fpr_bad++;
        /* Reply with the length received, each word + 1, and junk beyond. */
        for (unsigned long i = 0; i < FERRY_MSG_REG_WORDS; i++)
            m.w[i] = i < len ? m.w[i] + 1 : 0x5ec0 + i;
        ipc_reply_recv(fp_ep, &m);
    }
}

static bool fastpath_message_registers(void)
{
    unsigned long before = 0, after = 0;
    bool counting = test_fastpath_misses(&before);
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    fp_ep = ep;
    fpr_bad = 0;
    unsigned long srv = test_thread(fp_regs_server, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(srv != 0);
    sys_yield();
    struct sys_msg m = { .info = FERRY_MSGINFO(3, 0, 0) };
    CHECK_OK(ipc_call(ep, &m));                /* the server may not have waited yet */
    if (counting)
        CHECK(test_fastpath_misses(&before));
    for (unsigned long round = 0; round < 3; round++)
        for (unsigned long len = 0; len <= FERRY_MSG_REG_WORDS; len++) {
            struct sys_msg c = { .info = FERRY_MSGINFO(3, len, 0) };
            for (unsigned long i = 0; i < FERRY_MSG_REG_WORDS; i++)
                c.w[i] = i < len ? 100 * round + i : 0xbad0 + i;
            CHECK_OK(ipc_call(ep, &c));
            CHECK(FERRY_MSGINFO_LEN(c.info) == len && c.badge == 0);
            for (unsigned long i = 0; i < FERRY_MSG_REG_WORDS; i++)
                CHECK(c.w[i] == (i < len ? 100 * round + i + 1 : 0));
        }
    CHECK(fpr_bad == 0);
    if (counting) {
        CHECK(test_fastpath_misses(&after));
        CHECK(after == before);
    }
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* The medium path (core/ipc.c): a ReplyRecv whose reply carries one
 * capability, the name service's answer.  The capability arrives as on
 * the slow path (the same frame; an endpoint with its badge reported), an
 * occupied receive slot or a caller without a grant right gets the
 * message without it, and (counting kernels) the medium path itself did
 * not hand any of these on (FERRY_FP_RR_CAPS_SLOW). */
static volatile unsigned long fpc_cap;

static void fp_cap_server(void)
{
    struct ferry_ipc_buffer *buf = test_own_buf();
    struct sys_msg m = { 0 };
    ipc_recv(fp_ep, &m);
    for (;;) {
        m.w[0]++;
        m.info = FERRY_MSGINFO(9, 1, 1);
        buf->caps_or_badges[0] = fpc_cap;
        ipc_reply_recv(fp_ep, &m);
    }
}

static bool medium_misses(unsigned long *n)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    struct sys_msg m = { 0 };
    if (!bi->fastpath || !bi->benchmark || sys_raw(FERRY_SYS_FASTPATH_STATS, FERRY_CAP_DEBUG, &m) != FERRY_OK ||
        m.w[0] <= FERRY_FP_RR_CAPS_SLOW)
        return false;
    *n = ulib_ipc->mr[FERRY_FP_RR_CAPS_SLOW];
    return true;
}

/* One Call on ep with word w, the reply's capability (if any) into slot. */
static unsigned long cap_call(unsigned long ep, unsigned long w, unsigned long slot, struct sys_msg *m)
{
    ulib_ipc->recv_cnode = FERRY_CAP_INIT_CNODE;
    ulib_ipc->recv_index = slot;
    ulib_ipc->recv_depth = 64;
    *m = (struct sys_msg){ .info = FERRY_MSGINFO(3, 1, 0), .w = { w } };
    return ipc_call(ep, m);
}

static bool fastpath_reply_cap(void)
{
    unsigned long before = 0, after = 0;
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(other, FERRY_OBJ_ENDPOINT, 0);
    unsigned long granting = slot_alloc(), plain = slot_alloc(), badged = slot_alloc();
    CHECK(granting && plain && badged);
    CHECK_OK(ferry_cnode_mint(granting, ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, 0));
    CHECK_OK(ferry_cnode_mint(plain, ep, FERRY_RIGHT_WRITE, 0));
    CHECK_OK(ferry_cnode_mint(badged, other, FERRY_RIGHTS_ALL, 0x5a));
    fp_ep = ep;
    fpc_cap = frame;
    unsigned long srv = test_thread(fp_cap_server, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(srv != 0);
    sys_yield();                              /* the server reaches its Recv */
    struct sys_msg m;
    unsigned long s0 = slot_alloc();
    CHECK(s0);
    CHECK_OK(cap_call(granting, 1, s0, &m));  /* the first: the server may not have waited yet */
    bool counting = medium_misses(&before);
    /* A frame: the same frame arrives. */
    unsigned long s1 = slot_alloc();
    CHECK(s1);
    CHECK_OK(cap_call(granting, 10, s1, &m));
    CHECK(m.w[0] == 11 && FERRY_MSGINFO_LABEL(m.info) == 9 && FERRY_MSGINFO_CAPS(m.info) == 1);
    CHECK(ulib_ipc->caps_or_badges[0] == 0);
    unsigned long pa0, pa1;
    CHECK_OK(ferry_frame_address(frame, &pa0));
    CHECK_OK(ferry_frame_address(s1, &pa1));
    CHECK(pa0 == pa1);
    /* An occupied receive slot: the message, not the capability. */
    CHECK_OK(cap_call(granting, 20, s1, &m));
    CHECK(m.w[0] == 21 && FERRY_MSGINFO_CAPS(m.info) == 0);
    /* A badged endpoint: its badge reported. */
    fpc_cap = badged;
    unsigned long s2 = slot_alloc();
    CHECK(s2);
    CHECK_OK(cap_call(granting, 30, s2, &m));
    CHECK(m.w[0] == 31 && FERRY_MSGINFO_CAPS(m.info) == 1 && ulib_ipc->caps_or_badges[0] == 0x5a);
    if (counting) {
        CHECK(medium_misses(&after));
        CHECK(after == before);
    }
    /* A caller without a grant right: the message, not the capability (the
     * slow path's answer: the medium path hands it on). */
    unsigned long s3 = slot_alloc();
    CHECK(s3);
    CHECK_OK(cap_call(plain, 40, s3, &m));
    CHECK(m.w[0] == 41 && FERRY_MSGINFO_CAPS(m.info) == 0);
    CHECK(ferry_frame_address(s3, &pa1) != FERRY_OK);   /* s3 stayed empty */
    if (counting) {
        CHECK(medium_misses(&after));
        CHECK(after == before + 1);
    }
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

const struct utest utests_fastpath[] = {
    UTEST(fastpath_taken),
    UTEST(fastpath_message_registers),
    UTEST(fastpath_counters_count),
    UTEST(fastpath_reply_cap),
};
const size_t utests_fastpath_n = sizeof utests_fastpath / sizeof utests_fastpath[0];
