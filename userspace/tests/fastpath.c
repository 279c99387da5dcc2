/* fastpath.c: in-guest tests that the IPC fast path is taken where it
 * should be: Call + ReplyRecv between threads of one priority, to a server
 * one priority below, with an idle bound notification, with an FS base,
 * across address spaces; that message registers beyond the length read
 * as zero, and no register returns holding the other thread's value;
 * that its fall-back counters do count (so a count of zero
 * means something); what a cancelled wait after it does; and that a
 * reused ASID does not bring its old translations along. */
#include "ipc_lib.h"
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

/* The first Call to a server just started (it may not have waited yet,
 * so the slow path may take it); then, where the build counts them, the
 * fast-path misses from here on are the test's own. */
static bool first_call(unsigned long ep, bool counting, unsigned long *before)
{
    sys_yield();
    struct sys_msg m = { .info = FERRY_MSGINFO(3, 0, 0) };
    CHECK_OK(ipc_call(ep, &m));
    if (counting)
        CHECK(test_fastpath_misses(before));
    return true;
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
    CHECK(first_call(ep, counting, &before));
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

/* Every register across the fast path, both ways: the client and the
 * server each load all fifteen general registers with a pattern of their
 * own before their Call / ReplyRecv and record all fifteen after it.  No
 * register may come back holding one of the other thread's values (nor a
 * kernel value: what is not the message is the thread's own or zero):
 * rbx rbp r12-r15 are the thread's own pattern, rax 0, rdi the badge (0),
 * rsi the message info, the message registers beyond the length (0 here)
 * zero, rcx and r11 the return RIP and RFLAGS.  Same space and across
 * address spaces. */
enum { AR_RAX, AR_RBX, AR_RCX, AR_RDX, AR_RSI, AR_RDI, AR_RBP, AR_R8, AR_R9, AR_R10, AR_R11, AR_R12,
       AR_R13, AR_R14, AR_R15, AR_N };
#define AR_CLIENT_PAT 0xc1e7000000000000UL
#define AR_SERVER_PAT 0x5e7e000000000000UL
#define AR_PAT_MASK   0xffff000000000000UL

/* regs_syscall(io): loads the registers from io[AR_*], executes syscall,
 * stores all fifteen back into io (the callee-saved ones restored after). */
void regs_syscall(unsigned long *io);
__asm__(".text\n"
        ".global regs_syscall\n"
        "regs_syscall:\n"
        "  pushq %rbx\n  pushq %rbp\n  pushq %r12\n  pushq %r13\n  pushq %r14\n  pushq %r15\n"
        "  pushq %rdi\n"
        "  movq 0(%rdi), %rax\n  movq 8(%rdi), %rbx\n  movq 16(%rdi), %rcx\n  movq 24(%rdi), %rdx\n"
        "  movq 32(%rdi), %rsi\n  movq 48(%rdi), %rbp\n  movq 56(%rdi), %r8\n  movq 64(%rdi), %r9\n"
        "  movq 72(%rdi), %r10\n  movq 80(%rdi), %r11\n  movq 88(%rdi), %r12\n  movq 96(%rdi), %r13\n"
        "  movq 104(%rdi), %r14\n  movq 112(%rdi), %r15\n  movq 40(%rdi), %rdi\n"
        "  syscall\n"
        "  xchgq %rdi, (%rsp)\n"
        "  movq %rax, 0(%rdi)\n  movq %rbx, 8(%rdi)\n  movq %rcx, 16(%rdi)\n  movq %rdx, 24(%rdi)\n"
        "  movq %rsi, 32(%rdi)\n  movq %rbp, 48(%rdi)\n  movq %r8, 56(%rdi)\n  movq %r9, 64(%rdi)\n"
        "  movq %r10, 72(%rdi)\n  movq %r11, 80(%rdi)\n  movq %r12, 88(%rdi)\n  movq %r13, 96(%rdi)\n"
        "  movq %r14, 104(%rdi)\n  movq %r15, 112(%rdi)\n"
        "  popq %rax\n  movq %rax, 40(%rdi)\n"
        "  popq %r15\n  popq %r14\n  popq %r13\n  popq %r12\n  popq %rbp\n  popq %rbx\n"
        "  ret\n");

/* io loaded for a system call: number, cptr, message info, every other
 * register the pattern pat | its index. */
static void ar_load(unsigned long *io, unsigned long sysno, unsigned long cptr, unsigned long info,
                    unsigned long pat)
{
    for (unsigned i = 0; i < AR_N; i++)
        io[i] = pat | i;
    io[AR_RAX] = sysno;
    io[AR_RDI] = cptr;
    io[AR_RSI] = info;
}

/* After a zero-length IPC receive: which of the checks failed (0: none). */
static unsigned long ar_check(const unsigned long *io, unsigned long own, unsigned long other)
{
    static const unsigned char saved[] = { AR_RBX, AR_RBP, AR_R12, AR_R13, AR_R14, AR_R15 };
    static const unsigned char msg[] = { AR_RDX, AR_R8, AR_R9, AR_R10 };
    for (unsigned i = 0; i < AR_N; i++)
        if ((io[i] & AR_PAT_MASK) == other)
            return 100 + i;                   /* the other thread's value */
    for (unsigned i = 0; i < sizeof saved; i++)
        if (io[saved[i]] != (own | saved[i]))
            return 200 + saved[i];            /* our own callee-saved register lost */
    for (unsigned i = 0; i < sizeof msg; i++)
        if (io[msg[i]] != 0)
            return 300 + msg[i];              /* a message register beyond the length */
    if (io[AR_RAX] != FERRY_OK || io[AR_RDI] != 0 || FERRY_MSGINFO_LEN(io[AR_RSI]) != 0)
        return 400;
    return 0;
}

static volatile unsigned long ar_bad, ar_rounds;

static void fp_allregs_server(void)
{
    struct sys_msg m = { 0 };
    unsigned long io[AR_N];
    ipc_recv(fp_ep, &m);
    for (;;) {
        ar_load(io, FERRY_SYS_REPLY_RECV, fp_ep, FERRY_MSGINFO(5, 0, 0), AR_SERVER_PAT);
        regs_syscall(io);
        unsigned long why = ar_check(io, AR_SERVER_PAT, AR_CLIENT_PAT);
        if (why && !ar_bad)
            ar_bad = why;
        ar_rounds++;
    }
}

static bool fastpath_all_registers(void)
{
    for (unsigned cross = 0; cross < 2; cross++) {
        unsigned long before = 0, after = 0;
        bool counting = test_fastpath_misses(&before);
        ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
        fp_ep = ep;
        ar_bad = 0;
        ar_rounds = 0;
        unsigned long srv;
        if (cross) {
            struct process p;
            unsigned long va = test_page();
            CHECK(va != 0);
            CHECK_OK(process_create(&p, fp_allregs_server, va, 255, true));
            srv = p.tcb;
        } else {
            srv = test_thread(fp_allregs_server, FERRY_CAP_INIT_CNODE, 255, 0, true);
            CHECK(srv != 0);
        }
        CHECK(first_call(ep, counting, &before));
        unsigned long io[AR_N];
        for (unsigned round = 0; round < 20; round++) {
            ar_load(io, FERRY_SYS_CALL, ep, FERRY_MSGINFO(3, 0, 0), AR_CLIENT_PAT);
            regs_syscall(io);
            unsigned long why = ar_check(io, AR_CLIENT_PAT, AR_SERVER_PAT);
            if (why)
                printf("    %s: client check %lu failed\n", cross ? "cross-space" : "same space", why);
            CHECK(why == 0);
            CHECK(FERRY_MSGINFO_LABEL(io[AR_RSI]) == 5);
        }
        if (ar_bad)
            printf("    %s: server check %lu failed\n", cross ? "cross-space" : "same space", ar_bad);
        CHECK(ar_bad == 0 && ar_rounds >= 20);
        if (counting) {
            CHECK(test_fastpath_misses(&after));
            CHECK(after == before);
        }
        CHECK_OK(ferry_tcb_suspend(srv));
    }
    return true;
}

/* A ReplyRecv whose reply carries one capability, the name service's
 * answer: the fast path moves an endpoint or a notification itself
 * (fastpath.c's cap_transfer_fp) and leaves every other case to the
 * medium path (core/ipc.c) or the slow path, which must give the same
 * answer.  Each case checks what arrives (the capability with its rights,
 * badge and place in the derivation tree, or the reply without it) and,
 * in kernels that count, which path answered: the fast path (no
 * fall-back counted at all), or the medium path (FERRY_FP_RR_CAP_XFER
 * once, FERRY_FP_RR_CAPS_SLOW not: it moved the capability itself). */
static volatile unsigned long fpc_cap, fpc_len;

static void fp_cap_server(void)
{
    struct ferry_ipc_buffer *buf = test_own_buf();
    struct sys_msg m = { 0 };
    ipc_recv(fp_ep, &m);
    for (;;) {
        m.w[0]++;
        unsigned long len = fpc_len;
        for (unsigned long i = FERRY_MSG_REG_WORDS; i < len; i++)
            buf->mr[i] = 0x100 + i;
        m.info = FERRY_MSGINFO(9, len, 1);
        buf->caps_or_badges[0] = fpc_cap;
        ipc_reply_recv(fp_ep, &m);
    }
}

/* The fall-back counters (false: this kernel does not count). */
static bool fp_counts(unsigned long c[FERRY_FP_COUNT])
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    struct sys_msg m = { 0 };
    if (!bi->fastpath || !bi->benchmark || sys_raw(FERRY_SYS_FASTPATH_STATS, FERRY_CAP_DEBUG, &m) != FERRY_OK ||
        m.w[0] < FERRY_FP_COUNT)
        return false;
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
        c[i] = ulib_ipc->mr[i];
    return true;
}

/* Which path answered the last Call: FAST (nothing counted) or MEDIUM
 * (one FERRY_FP_RR_CAP_XFER, nothing else). */
enum fpc_path { FAST, MEDIUM };
static bool fpc_counting;
static unsigned long fpc_before[FERRY_FP_COUNT];

static bool fpc_path_was(enum fpc_path want)
{
    unsigned long now[FERRY_FP_COUNT];
    if (!fpc_counting)
        return true;
    if (!fp_counts(now))
        return false;
    bool ok = true;
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++) {
        unsigned long d = now[i] - fpc_before[i];
        if (d != (want == MEDIUM && i == FERRY_FP_RR_CAP_XFER ? 1UL : 0UL)) {
            printf("    fall-back counter %u moved by %lu\n", i, d);
            ok = false;
        }
    }
    return ok;
}

/* One Call on ep with word w, the reply's capability (if any) into
 * (cnode, slot, depth); counters read just before. */
static unsigned long cap_call_at(unsigned long ep, unsigned long w, unsigned long cnode, unsigned long slot,
                                 unsigned long depth, struct sys_msg *m)
{
    ulib_ipc->recv_cnode = cnode;
    ulib_ipc->recv_index = slot;
    ulib_ipc->recv_depth = depth;
    if (fpc_counting && !fp_counts(fpc_before))
        return ~0UL;
    *m = (struct sys_msg){ .info = FERRY_MSGINFO(3, 1, 0), .w = { w } };
    return ipc_call(ep, m);
}

static unsigned long cap_call(unsigned long ep, unsigned long w, unsigned long slot, struct sys_msg *m)
{
    return cap_call_at(ep, w, FERRY_CAP_INIT_CNODE, slot, 64, m);
}

/* The reply arrived (word w + 1, label 9) with caps capabilities. */
#define REPLY_IS(m, word, caps)                                              \
    ((m).w[0] == (word) + 1 && FERRY_MSGINFO_LABEL((m).info) == 9 && FERRY_MSGINFO_CAPS((m).info) == (caps))

/* Is slot empty?  (A Copy from it fails with FERRY_E_SLOT_EMPTY.) */
static bool slot_empty(unsigned long slot)
{
    unsigned long tmp = slot_alloc();
    if (!tmp)
        return false;
    unsigned long err = ferry_cnode_copy(tmp, slot, FERRY_RIGHTS_ALL);
    if (err == FERRY_OK)
        ferry_cnode_delete(tmp);
    return err == FERRY_E_SLOT_EMPTY;
}

/* The ready word (the TCB's ctx.fp_home beside ctx.entry: entered by
 * syscall, has a VSpace, runs on this CPU; object/tcb.h), which the fast
 * path reads instead of testing each: a server moved to CPU 1 must be
 * reached by the slow path (the C's FERRY_FP_CALL_PARTNER counted for
 * Calls from here; a SetAffinity that left the word as it was would run
 * it here, on the fast path, with nothing counted), and once moved back,
 * by the fast path again (nothing counted); the kernel's invariant walk
 * checks every thread's word against its slots and affinity. */
static bool fastpath_ready_word(void)
{
    unsigned long c0[FERRY_FP_COUNT], c1[FERRY_FP_COUNT];
    if (ulib_bootinfo->ncpus < 2 || !fp_counts(c0)) {
        printf("    needs two CPUs and a kernel that counts fast-path fall-backs: skipped\n");
        return true;
    }
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    fp_ep = ep;
    unsigned long srv = test_thread(fp_echo, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(srv != 0);
    sys_yield();                              /* the server reaches its Recv */
    CHECK(calls(ep));
    CHECK(fp_counts(c0));
    CHECK(calls(ep));
    CHECK(fp_counts(c1));
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
        CHECK(c1[i] == c0[i]);                /* here: all on the fast path */
    CHECK_OK(ferry_tcb_set_affinity(srv, 1));
    CHECK(fp_counts(c0));
    CHECK(calls(ep));
    CHECK(fp_counts(c1));
    unsigned long total = 0;
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
        total += c1[i] - c0[i];
    CHECK(c1[FERRY_FP_CALL_PARTNER] > c0[FERRY_FP_CALL_PARTNER]);
    CHECK(total >= CALLS);                    /* every Call left the fast path */
    CHECK_OK(ferry_tcb_set_affinity(srv, 0));
    CHECK(calls(ep));                         /* (the first may find it still on its way) */
    CHECK(fp_counts(c0));
    CHECK(calls(ep));
    CHECK(fp_counts(c1));
    for (unsigned i = 0; i < FERRY_FP_COUNT; i++)
        CHECK(c1[i] == c0[i]);                /* back: the fast path again */
    CHECK_OK(ferry_tcb_suspend(srv));
    struct inv_state inv;
    CHECK(kernel_check("after the server's moves", &inv));
    return true;
}

static bool fastpath_reply_cap(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(other, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(ut, FERRY_OBJ_UNTYPED, 12);
    unsigned long granting = slot_alloc(), grant = slot_alloc(), plain = slot_alloc(), badged = slot_alloc(),
                  nbadged = slot_alloc(), empty = slot_alloc();
    CHECK(granting && grant && plain && badged && nbadged && empty);
    CHECK_OK(ferry_cnode_mint(granting, ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT_REPLY, 0));
    CHECK_OK(ferry_cnode_mint(grant, ep, FERRY_RIGHT_WRITE | FERRY_RIGHT_GRANT, 0));
    CHECK_OK(ferry_cnode_mint(plain, ep, FERRY_RIGHT_WRITE, 0));
    CHECK_OK(ferry_cnode_mint(badged, other, FERRY_RIGHT_WRITE, 0x5a));   /* send-only, as the name service's */
    CHECK_OK(ferry_cnode_mint(nbadged, ntfn, FERRY_RIGHT_WRITE, 0x77));
    fp_ep = ep;
    fpc_cap = badged;
    fpc_len = 1;
    unsigned long srv = test_thread(fp_cap_server, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(srv != 0);
    sys_yield();                              /* the server reaches its Recv */
    struct sys_msg m;
    unsigned long s0 = slot_alloc();
    CHECK(s0);
    CHECK_OK(cap_call(granting, 1, s0, &m));  /* the first: the server may not have waited yet */
    fpc_counting = fp_counts(fpc_before);
    if (!fpc_counting)
        printf("    this kernel does not count fast-path fall-backs: transfers checked only\n");

    /* A badged send-only endpoint, the name service's answer: it arrives
     * with its badge reported and its rights (no READ: a Recv on it is
     * refused), a child of the server's copy (revoking that empties the
     * slot); the fast path moved it. */
    unsigned long s1 = slot_alloc(), s1b = slot_alloc();
    CHECK(s1 && s1b);
    CHECK_OK(cap_call(granting, 10, s1, &m));
    CHECK(REPLY_IS(m, 10, 1) && ulib_ipc->caps_or_badges[0] == 0x5a);
    CHECK(fpc_path_was(FAST));
    CHECK_ERR(ipc_nbrecv(s1, &(struct sys_msg){ 0 }), FERRY_E_RIGHTS);
    /* Through a Call capability with GRANT (not GRANT_REPLY) as well, and
     * a second child of the same parent. */
    CHECK_OK(cap_call(grant, 15, s1b, &m));
    CHECK(REPLY_IS(m, 15, 1) && ulib_ipc->caps_or_badges[0] == 0x5a);
    CHECK(fpc_path_was(FAST));
    /* A badged notification: signalling through the copy sets its badge. */
    fpc_cap = nbadged;
    unsigned long s2 = slot_alloc();
    CHECK(s2);
    CHECK_OK(cap_call(granting, 20, s2, &m));
    CHECK(REPLY_IS(m, 20, 1) && ulib_ipc->caps_or_badges[0] == 0x77);
    CHECK(fpc_path_was(FAST));
    unsigned long bits = 0;
    CHECK_OK(ntfn_signal(s2));
    CHECK_OK(ntfn_poll(ntfn, &bits));
    CHECK(bits == 0x77);
    /* Six words and the capability: the words beyond the registers too. */
    fpc_cap = badged;
    fpc_len = 6;
    unsigned long s3 = slot_alloc();
    CHECK(s3);
    ulib_ipc->mr[4] = ulib_ipc->mr[5] = 0;
    CHECK_OK(cap_call(granting, 30, s3, &m));
    CHECK(REPLY_IS(m, 30, 1) && FERRY_MSGINFO_LEN(m.info) == 6 && ulib_ipc->caps_or_badges[0] == 0x5a);
    CHECK(ulib_ipc->mr[4] == 0x104 && ulib_ipc->mr[5] == 0x105);
    CHECK(fpc_path_was(FAST));
    fpc_len = 1;

    /* The reply without the capability, on the fast path, where the slow
     * path's transfer_caps moves nothing: an occupied receive slot; a null
     * or empty receive slot or CNode, or a receive CNode that is not one;
     * a null or empty cptr on the server's side; an untyped (never
     * copied); a Call capability without a grant right. */
    unsigned long s4 = slot_alloc();
    CHECK(s4);
    struct { const char *what; unsigned long cap, via, cnode, slot; } refused[] = {
        { "occupied slot", badged, granting, FERRY_CAP_INIT_CNODE, s1 },
        { "receive slot 0", badged, granting, FERRY_CAP_INIT_CNODE, 0 },
        { "receive CNode 0", badged, granting, 0, s4 },
        { "receive CNode an empty slot", badged, granting, empty, s4 },
        { "receive CNode an endpoint", badged, granting, other, s4 },
        { "server's cptr 0", 0, granting, FERRY_CAP_INIT_CNODE, s4 },
        { "server's cptr an empty slot", empty, granting, FERRY_CAP_INIT_CNODE, s4 },
        { "an untyped", ut, granting, FERRY_CAP_INIT_CNODE, s4 },
        { "no grant right", badged, plain, FERRY_CAP_INIT_CNODE, s4 },
    };
    for (unsigned i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        fpc_cap = refused[i].cap;
        CHECK_OK(cap_call_at(refused[i].via, 40 + i, refused[i].cnode, refused[i].slot, 64, &m));
        if (!REPLY_IS(m, 40 + i, 0) || !fpc_path_was(FAST)) {
            printf("    %s: reply %lu, %lu capabilities\n", refused[i].what, m.w[0], FERRY_MSGINFO_CAPS(m.info));
            return false;
        }
        if (!slot_empty(s4)) {
            printf("    %s: the receive slot is not empty\n", refused[i].what);
            return false;
        }
    }
    /* What the fast path leaves to the medium path, which answers as the
     * slow path: a receive depth other than 64 (here the lookup fails:
     * the root CNode resolves 64 bits), a frame (its copy is the arch's
     * derivation). */
    fpc_cap = badged;
    CHECK_OK(cap_call_at(granting, 60, FERRY_CAP_INIT_CNODE, s4, 32, &m));
    CHECK(REPLY_IS(m, 60, 0));
    CHECK(fpc_path_was(MEDIUM));
    CHECK(slot_empty(s4));
    fpc_cap = frame;
    CHECK_OK(cap_call(granting, 70, s4, &m));
    CHECK(REPLY_IS(m, 70, 1) && ulib_ipc->caps_or_badges[0] == 0);
    CHECK(fpc_path_was(MEDIUM));
    unsigned long pa0, pa1;
    CHECK_OK(ferry_frame_address(frame, &pa0));
    CHECK_OK(ferry_frame_address(s4, &pa1));
    CHECK(pa0 == pa1);

    CHECK_OK(ferry_tcb_suspend(srv));
    /* The derivation tree: the copies are children of what the server
     * sent (revoking it empties them), and the kernel's invariant walk
     * finds every link right. */
    struct inv_state inv;
    CHECK(kernel_check("after the transfers", &inv));
    CHECK_OK(ferry_cnode_revoke(badged));
    CHECK(slot_empty(s1) && slot_empty(s1b) && slot_empty(s3));
    CHECK_OK(ferry_cnode_revoke(nbadged));
    CHECK(slot_empty(s2));
    CHECK(kernel_check("after the revokes", &inv));
    return true;
}

/* Two CPUs filling receive slots at once from one parent: a server and
 * its client on each CPU (the fast path takes partners on the same CPU),
 * all in the root CSpace, every reply carrying a copy of the same badged
 * endpoint, so both CPUs' fast paths link children of one capability
 * (ks_fp_cdt_lock) while both look slots up in the CNode they fill.
 * Every copy must arrive, the derivation tree stay whole (the invariant
 * walk) and revoking the parent empty every slot.  One CPU: skipped. */
#define SMP_ROUNDS 150
static volatile unsigned long smp_ep[2], smp_src, smp_done[2], smp_bad[2];
static unsigned long smp_slots[2][SMP_ROUNDS];

static void smp_cap_server(unsigned k)
{
    struct ferry_ipc_buffer *buf = test_own_buf();
    struct sys_msg m = { 0 };
    ipc_recv(smp_ep[k], &m);
    for (;;) {
        m.w[0]++;
        m.info = FERRY_MSGINFO(9, 1, 1);
        buf->caps_or_badges[0] = smp_src;
        ipc_reply_recv(smp_ep[k], &m);
    }
}
static void smp_srv0(void) { smp_cap_server(0); }
static void smp_srv1(void) { smp_cap_server(1); }

static void smp_client_run(unsigned k, struct ferry_ipc_buffer *buf)
{
    for (unsigned long i = 0; i < SMP_ROUNDS; i++) {
        buf->recv_cnode = FERRY_CAP_INIT_CNODE;
        buf->recv_index = smp_slots[k][i];
        buf->recv_depth = 64;
        struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 0), .w = { i } };
        if (ipc_call(smp_ep[k], &m) != FERRY_OK || !REPLY_IS(m, i, 1) || buf->caps_or_badges[0] != 0x5a)
            smp_bad[k]++;
    }
    smp_done[k] = 1;
}
static void smp_client1(void)
{
    smp_client_run(1, test_own_buf());
    for (;;)
        sys_yield();
}

static bool fastpath_reply_cap_smp(void)
{
    if (ulib_bootinfo->ncpus < 2) {
        printf("    one CPU: skipped\n");
        return true;
    }
    ALLOC(ep0, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ep1, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(target, FERRY_OBJ_ENDPOINT, 0);
    unsigned long badged = slot_alloc();
    CHECK(badged);
    CHECK_OK(ferry_cnode_mint(badged, target, FERRY_RIGHT_WRITE, 0x5a));
    for (unsigned k = 0; k < 2; k++)
        for (unsigned i = 0; i < SMP_ROUNDS; i++)
            CHECK((smp_slots[k][i] = slot_alloc()) != 0);
    smp_ep[0] = ep0;
    smp_ep[1] = ep1;
    smp_src = badged;
    smp_done[0] = smp_done[1] = smp_bad[0] = smp_bad[1] = 0;
    unsigned long srv0 = test_thread(smp_srv0, FERRY_CAP_INIT_CNODE, 255, 0, true);
    unsigned long srv1 = test_thread(smp_srv1, FERRY_CAP_INIT_CNODE, 255, 0, false);
    unsigned long cl1 = test_thread(smp_client1, FERRY_CAP_INIT_CNODE, 255, 0, false);
    CHECK(srv0 && srv1 && cl1);
    CHECK_OK(ferry_tcb_set_affinity(srv1, 1));
    CHECK_OK(ferry_tcb_set_affinity(cl1, 1));
    CHECK_OK(ferry_tcb_resume(srv1));
    sys_yield();                              /* our server reaches its Recv */
    CHECK_OK(ferry_tcb_resume(cl1));
    smp_client_run(0, ulib_ipc);
    for (unsigned long spin = 0; !smp_done[1] && spin < 100000000; spin++)
        __asm__ __volatile__("pause" ::: "memory");
    CHECK(smp_done[1]);
    if (smp_bad[0] || smp_bad[1])
        printf("    wrong replies: %lu on CPU 0, %lu on CPU 1\n", smp_bad[0], smp_bad[1]);
    CHECK(smp_bad[0] == 0 && smp_bad[1] == 0);
    CHECK_OK(ferry_tcb_suspend(cl1));
    CHECK_OK(ferry_tcb_suspend(srv1));
    CHECK_OK(ferry_tcb_suspend(srv0));
    struct inv_state inv;
    CHECK(kernel_check("after the transfers on two CPUs", &inv));
    CHECK_OK(ferry_cnode_revoke(badged));
    for (unsigned k = 0; k < 2; k++)
        for (unsigned i = 0; i < SMP_ROUNDS; i++)
            CHECK(slot_empty(smp_slots[k][i]));
    CHECK(kernel_check("after the revoke", &inv));
    return true;
}

/* A thread blocked after a fast-path Call or ReplyRecv has not its
 * message registers saved (the entry keeps cptr and msginfo only:
 * docs/design.md, "Message registers"), so cancelling its wait must not
 * restart from them: a server waiting in a ReplyRecv the fast path
 * completed restarts as a Recv on the same endpoint when suspended and
 * resumed; a caller waiting for its reply returns FERRY_E_INVALID_CAP
 * with an empty message, without sending the request again. */
static volatile unsigned long fb_park, fb_err, fb_info, fb_w[FERRY_MSG_REG_WORDS];

static void fb_client(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(5, FERRY_MSG_REG_WORDS, 0), .w = { 1, 2, 3, 4 } };
    fb_err = ipc_call(hold_ep, &m) + 1;
    fb_info = m.info;
    for (unsigned i = 0; i < FERRY_MSG_REG_WORDS; i++)
        fb_w[i] = m.w[i];
    for (;;) {
        unsigned long bits;
        ntfn_wait(fb_park, &bits);
    }
}

static bool fastpath_blocked_restart(void)
{
    unsigned long before = 0, after = 0;
    bool counting = test_fastpath_misses(&before);
    /* The server: one fast round trip, then it waits in a fast ReplyRecv
     * with its cptr saved. */
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    fp_ep = ep;
    unsigned long srv = test_thread(fp_echo, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(srv != 0);
    CHECK(first_call(ep, counting, &before));
    struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 0), .w = { 10 } };
    CHECK_OK(ipc_call(ep, &m));
    CHECK(m.w[0] == 11);
    if (counting) {
        CHECK(test_fastpath_misses(&after));
        CHECK(after == before);
    }
    unsigned long r[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_suspend(srv));
    CHECK_OK(ferry_tcb_read_registers(srv, FERRY_REG_COUNT, r));
    CHECK(r[FERRY_REG_RAX] == FERRY_SYS_RECV && r[FERRY_REG_RDI] == ep);
    CHECK_OK(ferry_tcb_resume(srv));
    sys_yield();                              /* it reaches its Recv again */
    m = (struct sys_msg){ .info = FERRY_MSGINFO(3, 1, 0), .w = { 20 } };
    CHECK_OK(ipc_call(ep, &m));
    CHECK(m.w[0] == 21);
    CHECK(calls(ep));
    CHECK_OK(ferry_tcb_suspend(srv));

    /* The caller: its Call taken by the fast path, the reply held. */
    ALLOC(ep2, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    ALLOC(park_ntfn, FERRY_OBJ_NOTIFICATION, 0);
    hold_ep = ep2;
    hold_ntfn = ntfn;
    fb_park = park_ntfn;
    hold_calls = fb_err = 0;
    fb_info = ~0UL;
    for (unsigned i = 0; i < FERRY_MSG_REG_WORDS; i++)
        fb_w[i] = ~0UL;
    unsigned long holder = test_thread(holding_server, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(holder != 0);
    sys_yield();                              /* the holder waits in its Recv */
    unsigned long cl = test_thread(fb_client, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(cl != 0);
    if (counting)
        CHECK(test_fastpath_misses(&before));
    sys_yield();                              /* the Call, then the holder's Wait */
    if (counting) {
        CHECK(test_fastpath_misses(&after));
        CHECK(after == before);               /* the Call was the fast path's */
    }
    CHECK(hold_calls == 1 && fb_err == 0);
    CHECK_OK(ferry_tcb_suspend(cl));
    CHECK_OK(ntfn_signal(ntfn));              /* the reply finds nobody */
    sys_yield();
    CHECK(hold_calls == 1 && fb_err == 0);
    CHECK_OK(ferry_tcb_resume(cl));
    sys_yield();
    CHECK(fb_err == FERRY_E_INVALID_CAP + 1 && hold_calls == 1 && fb_info == 0);
    for (unsigned i = 0; i < FERRY_MSG_REG_WORDS; i++)
        CHECK(fb_w[i] == 0);
    CHECK_OK(ferry_tcb_suspend(cl));
    CHECK_OK(ferry_tcb_suspend(holder));
    return true;
}

/* A reused ASID brings none of its old translations along: a server's
 * VSpace deleted gives its ASID back, and the next VSpace made takes it
 * (the pool hands out its lowest free one).  A server there, with its
 * own stack page at the same address, must see its own page on every
 * fast-path round trip (with PCIDs, Bochs in guest-tests: the assembly's
 * PCID copy, which reads the ASID from the VSpace at every switch), then
 * the kernel's invariant walk (the ASID entries, asid_dirty[0]).  Each
 * server answers with a mark it copied from asid_mark into a volatile
 * local, on its stack, when it started.  What this does not reach: the
 * reused PCID is flushed at the server's first run, by the scheduler's
 * vspace_activate, before any fast path enters it; a VSpace entered
 * first through the fast path after its ASID changed needs a thread
 * that waits in Recv while its VSpace loses its ASID and gets another
 * (a pool's deletion empties the VSpace: it must be rebuilt under the
 * waiting thread). */
static volatile unsigned long asid_mark;

static void asid_echo(void)
{
    volatile unsigned long mine = asid_mark;
    struct sys_msg m = { 0 };
    ipc_recv(fp_ep, &m);
    for (;;) {
        m.w[0] = mine;
        ipc_reply_recv(fp_ep, &m);
    }
}

static bool fastpath_asid_reused(void)
{
    unsigned long before = 0, after = 0;
    bool counting = test_fastpath_misses(&before);
    unsigned long va = test_page();
    CHECK(va != 0);
    for (unsigned long round = 1; round <= 3; round++) {
        ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
        fp_ep = ep;
        asid_mark = round;
        struct process p;
        CHECK_OK(process_create(&p, asid_echo, va, 255, true));
        sys_yield();                          /* it reaches its Recv */
        struct sys_msg m = { .info = FERRY_MSGINFO(3, 1, 0) };
        CHECK_OK(ipc_call(ep, &m));
        CHECK(m.w[0] == round);
        if (counting)
            CHECK(test_fastpath_misses(&before));
        for (unsigned i = 0; i < CALLS; i++) {
            m = (struct sys_msg){ .info = FERRY_MSGINFO(3, 1, 0) };
            CHECK_OK(ipc_call(ep, &m));
            if (m.w[0] != round)
                printf("    round %lu: the server read %lu\n", round, m.w[0]);
            CHECK(m.w[0] == round);
        }
        if (counting) {
            CHECK(test_fastpath_misses(&after));
            CHECK(after == before);           /* all on the fast path */
        }
        CHECK_OK(ferry_tcb_suspend(p.tcb));
        CHECK_OK(ferry_cnode_delete(p.tcb));
        CHECK_OK(ferry_cnode_delete(p.vspace));   /* its ASID goes back to the pool */
    }
    struct inv_state inv;
    CHECK(kernel_check("after the ASIDs' reuse", &inv));
    return true;
}

const struct utest utests_fastpath[] = {
    UTEST(fastpath_taken),
    UTEST(fastpath_message_registers),
    UTEST(fastpath_all_registers),
    UTEST(fastpath_counters_count),
    UTEST(fastpath_reply_cap),
    UTEST(fastpath_ready_word),
    UTEST(fastpath_reply_cap_smp),
    UTEST(fastpath_blocked_restart),
    UTEST(fastpath_asid_reused),
};
const size_t utests_fastpath_n = sizeof utests_fastpath / sizeof utests_fastpath[0];
