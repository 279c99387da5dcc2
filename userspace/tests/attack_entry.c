/* attack_entry.c: in-guest regression tests for the attack classes on the
 * kernel's entries, exits and thread state (docs/security.md): debug and
 * floor calls without the debug capability, a floor that changes other
 * threads' system calls, compatibility-mode entry, user RFLAGS (NT, DF) on
 * entry and exit, register writes on blocked threads, FS base changes by
 * selector loads, and the smaller rules (receive CNode rights, priority
 * authority, self-suspend).  Each was a way in on commit 40be06e. */
#include "utest.h"
#include <ferry/fault.h>
#include <ferry/ipc.h>

#define RW (FERRY_MAP_READ | FERRY_MAP_WRITE)
#define SANDBOX_RADIX 4

/* ---- helpers (and testlib.c's test_thread, test_page, test_own_buf) ----------- */

/* A CNode of 2^SANDBOX_RADIX slots whose capability, minted with a guard
 * so that a slot number is a whole cptr, is returned (the unguarded one
 * in *raw, for filling it). */
static unsigned long sandbox_cnode(unsigned long *raw)
{
    unsigned long cn = object_alloc(FERRY_OBJ_CNODE, SANDBOX_RADIX), root = slot_alloc();
    if (!cn || !root || ferry_cnode_mint(root, cn, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 64 - SANDBOX_RADIX)))
        return 0;
    *raw = cn;
    return root;
}

/* Copy our capability src into slot i of a sandbox CNode. */
static unsigned long sandbox_put(unsigned long raw, unsigned long i, unsigned long src, unsigned long rights)
{
    const unsigned long root = FERRY_CAP_INIT_CNODE;
    unsigned long w[] = { i, SANDBOX_RADIX, src, 64, rights };
    return ferry_invoke(raw, FERRY_CNODE_COPY, 5, w, 1, &root, NULL);
}

static unsigned long tsc(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

/* Yield until *flag is set or about a second of TSC time (the emulators'
 * TSC runs near the host's) has passed. */
static bool wait_flag(volatile unsigned long *flag)
{
    unsigned long end = tsc() + 3000000000UL;
    while (!*flag && tsc() < end)
        sys_yield();
    return *flag != 0;
}

/* ---- debug and floor calls need the debug capability ------------------------ */

static volatile unsigned long dbg_err[8], dbg_done;

static unsigned long dbg_call(unsigned long no, unsigned long cptr, unsigned long w0)
{
    struct sys_msg m = { .w = { w0 } };
    return sys_raw(no, cptr, &m);
}

/* Runs in a CSpace whose slot FERRY_CAP_DEBUG is empty (slot 1 holds a
 * notification, slot 2 a read-only copy of the debug capability). */
static void capless_caller(void)
{
    dbg_err[0] = dbg_call(FERRY_SYS_DEBUG_EXIT, FERRY_CAP_DEBUG, 1);    /* would end the run, failing */
    dbg_err[1] = dbg_call(FERRY_SYS_DEBUG_WRITE, FERRY_CAP_DEBUG, 1);
    dbg_err[2] = dbg_call(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, FERRY_FLOOR_SYSCALL);
    dbg_err[3] = dbg_call(FERRY_SYS_KFLOOR, FERRY_CAP_DEBUG, FERRY_KFLOOR_RDTSC);
    dbg_err[4] = dbg_call(FERRY_SYS_FLOOR_END, FERRY_CAP_DEBUG, 0);
    dbg_err[5] = dbg_call(FERRY_SYS_DEBUG_EXIT, 1, 1);                  /* a notification */
    dbg_err[6] = dbg_call(FERRY_SYS_DEBUG_EXIT, 2, 1);                  /* no WRITE right */
    dbg_err[7] = sys_null();                                             /* still served */
    dbg_done = 1;
    for (;;)
        sys_yield();
}

static bool debug_calls_need_the_capability(void)
{
    unsigned long raw, cs = sandbox_cnode(&raw);
    CHECK(cs != 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    CHECK_OK(sandbox_put(raw, 1, ntfn, FERRY_RIGHTS_ALL));
    CHECK_OK(sandbox_put(raw, 2, FERRY_CAP_DEBUG, FERRY_RIGHT_READ));
    dbg_done = 0;
    unsigned long t = test_thread(capless_caller, cs, 255, 0, true);
    CHECK(t != 0);
    CHECK(wait_flag(&dbg_done));
    CHECK_OK(ferry_tcb_suspend(t));
    CHECK(dbg_err[0] == FERRY_E_INVALID_CAP && dbg_err[1] == FERRY_E_INVALID_CAP);
    /* the floor calls: refused for the capability, or not built at all */
    unsigned long floor_err = ulib_bootinfo->benchmark ? FERRY_E_INVALID_CAP : FERRY_E_ILLEGAL_OP;
    for (int i = 2; i < 5; i++)
        CHECK(dbg_err[i] == floor_err);
    CHECK(dbg_err[5] == FERRY_E_WRONG_TYPE);
    CHECK(dbg_err[6] == FERRY_E_RIGHTS);
    CHECK(dbg_err[7] == FERRY_OK);
    return true;
}

/* ---- a floor changes its own thread's system calls only --------------------- */

static volatile unsigned long fl_mode, fl_stop, fl_owner_done, fl_other_done, fl_began;
static volatile unsigned long fl_err_begin, fl_err_addr, fl_err_null, fl_paddr, fl_frame, fl_owner, fl_other;

static void floor_owner(void)
{
    struct sys_msg m = { .w = { fl_mode } };
    fl_err_begin = sys_raw(FERRY_SYS_FLOOR_BEGIN, FERRY_CAP_DEBUG, &m);
    fl_began = 1;
    /* Spin (no system call: every one but FLOOR_END is a floor entry now)
     * until the other thread has run, preempted by the timer. */
    unsigned long end = tsc() + 3000000000UL;
    while (!fl_stop && tsc() < end)
        ;
    m.w[0] = 0;
    sys_raw(FERRY_SYS_FLOOR_END, FERRY_CAP_DEBUG, &m);
    fl_owner_done = 1;
    ferry_tcb_suspend(fl_owner);
    for (;;)
        sys_yield();
}

static void floor_other(void)
{
    unsigned long pa = 0;
    fl_err_addr = ferry_frame_address(fl_frame, &pa);
    fl_paddr = pa;
    fl_err_null = sys_null();
    fl_stop = 1;
    fl_other_done = 1;
    ferry_tcb_suspend(fl_other);
    for (;;)
        sys_yield();
}

static bool floor_serves_its_owner_only(void)
{
    if (!ulib_bootinfo->benchmark)
        return true;                       /* BENCHMARK=0: no floor to misuse */
    ALLOC(f, FERRY_OBJ_FRAME_4K, 0);
    unsigned long want;
    CHECK_OK(ferry_frame_address(f, &want));
    fl_frame = f;
    static const unsigned long modes[] = { FERRY_FLOOR_SYSCALL, FERRY_FLOOR_IPC };
    for (unsigned i = 0; i < 2; i++) {
        fl_mode = modes[i];
        fl_stop = fl_owner_done = fl_other_done = fl_began = 0;
        fl_err_addr = fl_err_null = ~0UL;
        /* Both at our priority: the owner begins its floor and spins; the
         * timer hands the CPU to the other thread, whose calls must be
         * served as usual. */
        fl_owner = test_thread(floor_owner, FERRY_CAP_INIT_CNODE, 255, 0, false);
        fl_other = test_thread(floor_other, FERRY_CAP_INIT_CNODE, 255, 0, false);
        CHECK(fl_owner && fl_other);
        CHECK_OK(ferry_tcb_resume(fl_owner));
        CHECK(wait_flag(&fl_began));
        CHECK_OK(ferry_tcb_resume(fl_other));
        CHECK(wait_flag(&fl_owner_done));
        CHECK(wait_flag(&fl_other_done));
        CHECK(fl_err_begin == FERRY_OK);
        CHECK(fl_err_addr == FERRY_OK && fl_paddr == want);
        CHECK(fl_err_null == FERRY_OK);
    }
    CHECK_OK(sys_null());
    return true;
}

/* ---- compatibility mode cannot be entered ------------------------------------- */

static void compat_jumper(void)
{
    /* A far jump to 0x1b: a 32-bit user code segment, if the GDT had one;
     * there the bytes 0f 05 are `syscall`, which AMD CPUs send to
     * MSR_CSTAR.  It must fault this thread, never the kernel.  (A far
     * jump through memory, m16:32, which Intel and AMD both take; QEMU's
     * lret reads its stack as the kernel would, which SMAP refuses.) */
    static struct __attribute__((packed)) { unsigned offset; unsigned short sel; } target;
    extern char compat_target[];
    target.offset = (unsigned)(unsigned long)compat_target;
    target.sel = 0x1b;
    __asm__ __volatile__("ljmpl *%0\n"
                         "compat_target: .byte 0x0f, 0x05\n\t"
                         "ud2"
                         : : "m"(target) : "memory");
    for (;;)
        sys_yield();
}

static bool compat_mode_entry_faults(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long t = test_thread(compat_jumper, FERRY_CAP_INIT_CNODE, 254, ep, true);
    CHECK(t != 0);
    struct sys_msg m = { 0 };
    CHECK_OK(ipc_recv(ep, &m));            /* the fault message */
    CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_EXCEPTION);
    CHECK(m.w[FERRY_FAULT_MR_VECTOR] == 13);   /* #GP: no such segment */
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* ---- user flags on entry and exit --------------------------------------------- */

static volatile unsigned long nt_done, nt_err, nt_flags_after, nt_tcb;

static void nt_setter(void)
{
    /* NT set, then a system call that must leave by iretq (a register
     * write on itself): with NT still set in the kernel, iretq attempts a
     * task return and faults in ring 0. */
    unsigned long w[] = { 0, 1, 0x77 };        /* flags, count 1: RAX */
    __asm__ __volatile__("pushfq; orq $0x4000, (%%rsp); popfq" ::: "memory", "cc");
    nt_err = ferry_invoke(nt_tcb, FERRY_TCB_WRITE_REGISTERS, 3, w, 0, NULL, NULL);
    unsigned long fl;
    __asm__ __volatile__("pushfq; popq %0" : "=r"(fl));
    nt_flags_after = fl;
    nt_done = 1;
    for (;;)
        sys_yield();
}

static bool nt_flag_on_entry(void)
{
    nt_done = 0;
    nt_tcb = test_thread(nt_setter, FERRY_CAP_INIT_CNODE, 255, 0, false);
    CHECK(nt_tcb != 0);
    CHECK_OK(ferry_tcb_resume(nt_tcb));
    CHECK(wait_flag(&nt_done));
    CHECK_OK(ferry_tcb_suspend(nt_tcb));
    CHECK(nt_err == FERRY_OK);              /* and it came back, by iretq */
    CHECK(!(nt_flags_after & 0x4000));      /* no NT leaves the kernel */
    return true;
}

/* Retype through int 0x80 with DF set: the new object must be cleared
 * (a backwards memset would clear the memory below it instead). */
static bool df_flag_on_int80(void)
{
    ALLOC(ut, FERRY_OBJ_UNTYPED, 12);
    unsigned long f = slot_alloc();
    CHECK_OK(ferry_untyped_retype(ut, FERRY_OBJ_FRAME_4K, 0, f, 1));
    unsigned long va = test_page();
    CHECK(va != 0);
    CHECK_OK(ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, va, RW));
    memset((void *)va, 0xa5, 4096);
    CHECK_OK(ferry_frame_unmap(f));
    CHECK_OK(ferry_cnode_delete(f));                /* the untyped is empty again */

    ulib_ipc->mr[4] = f;                      /* first slot, count: words 4 and 5 */
    ulib_ipc->mr[5] = 1;
    ulib_ipc->caps_or_badges[0] = FERRY_CAP_INIT_CNODE;
    register unsigned long r8 __asm__("r8") = 0, r9 __asm__("r9") = 0, r10 __asm__("r10") = 0;
    unsigned long rax = FERRY_SYS_CALL, rdi = ut, rsi = FERRY_MSGINFO(FERRY_UNTYPED_RETYPE, 6, 1),
                  rdx = FERRY_OBJ_FRAME_4K;
    __asm__ __volatile__("std\n\tint $0x80\n\tcld"
                         : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r9), "+r"(r10)
                         : : "memory", "cc");
    CHECK(rax == FERRY_OK);
    CHECK_OK(ferry_frame_map(f, FERRY_CAP_INIT_VSPACE, va, RW));
    const unsigned long *p = (const unsigned long *)va;
    for (unsigned i = 0; i < 512; i++)
        CHECK(p[i] == 0);
    CHECK_OK(ferry_frame_unmap(f));
    CHECK_OK(ferry_cnode_delete(f));
    return true;
}

/* ---- register writes on blocked threads ----------------------------------------- */

static volatile unsigned long bs_ep, bs_err, bs_done;

static void blocked_sender(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(5, 4, 0), .w = { 1, 2, 3, 4 } };
    bs_err = sys_raw(FERRY_SYS_SEND, bs_ep, &m);   /* waits: nobody receives yet */
    bs_done = 1;
    for (;;)
        sys_yield();
}

/* A sender's message was checked when it blocked; rewriting its message
 * info must not let a longer message (or capabilities) through: the
 * write restarts the send, which is checked again and refused. */
static bool blocked_sender_rewrite(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long send_only = slot_alloc();
    CHECK_OK(ferry_cnode_mint(send_only, ep, FERRY_RIGHT_WRITE, 0));
    bs_ep = send_only;
    bs_done = 0;
    bs_err = ~0UL;
    unsigned long t = test_thread(blocked_sender, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(t != 0);
    sys_yield();
    unsigned long regs[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(regs[FERRY_REG_RAX] == FERRY_SYS_SEND);
    regs[FERRY_REG_RSI] = FERRY_MSGINFO(5, 127, 0);
    CHECK_OK(ferry_tcb_write_registers(t, false, FERRY_REG_RSI + 1, regs));
    /* Our receive fields are where an overlong message would spill. */
    ulib_ipc->recv_cnode = 0x1111;
    ulib_ipc->recv_index = 0x2222;
    ulib_ipc->recv_depth = 0x3333;
    struct sys_msg m = { 0 };
    for (int i = 0; i < 20 && !bs_done; i++)
        sys_yield();
    CHECK_OK(ipc_nbrecv(ep, &m));
    CHECK(FERRY_MSGINFO_LEN(m.info) <= 4);
    CHECK(ulib_ipc->recv_cnode == 0x1111 && ulib_ipc->recv_index == 0x2222 && ulib_ipc->recv_depth == 0x3333);
    CHECK(bs_done && bs_err == FERRY_E_RANGE);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* Many threads that cannot return to user mode where they stand: each is
 * handled in kernel_exit's loop, not by a nested exit (500 were enough to
 * overflow the kernel stack). */
#define MANY 600
static volatile unsigned long many_ep;

static void many_receiver(void)
{
    struct sys_msg m = { 0 };
    for (;;)
        ipc_recv(many_ep, &m);
}

static bool many_threads_fault_on_exit(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(fault_ep, FERRY_OBJ_ENDPOINT, 0);
    many_ep = ep;
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0), va = test_page();
    CHECK(stack && va && !ferry_frame_map(stack, FERRY_CAP_INIT_VSPACE, va, RW));
    static unsigned long tcbs[MANY];
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)many_receiver;
    regs[FERRY_REG_RSP] = va + 0x1000 - 8;    /* one stack: each blocks at once and never returns there */
    regs[FERRY_REG_RFLAGS] = 0x202;
    for (unsigned i = 0; i < MANY; i++) {
        tcbs[i] = object_alloc(FERRY_OBJ_TCB, 0);
        CHECK(tcbs[i] != 0);
        CHECK_OK(ferry_tcb_configure(tcbs[i], FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, FERRY_CAP_IPC_BUFFER,
                               FERRY_ROOT_IPC_BUFFER, fault_ep));
        CHECK_OK(ferry_tcb_set_priority(tcbs[i], FERRY_CAP_INIT_TCB, 255));
        CHECK_OK(ferry_tcb_write_registers(tcbs[i], true, FERRY_REG_COUNT, regs));
    }
    sys_yield();                              /* each runs and blocks in Recv */
    for (unsigned i = 0; i < MANY; i++) {
        unsigned long r[FERRY_REG_COUNT];
        CHECK_OK(ferry_tcb_read_registers(tcbs[i], FERRY_REG_COUNT, r));
        r[FERRY_REG_RIP] = 1;
        CHECK_OK(ferry_tcb_write_registers(tcbs[i], false, FERRY_REG_COUNT, r));
        CHECK_OK(ferry_tcb_suspend(tcbs[i]));
    }
    for (unsigned i = 0; i < MANY; i++)
        CHECK_OK(ferry_tcb_resume(tcbs[i]));
    /* Each faults at RIP 1 and its fault message queues on fault_ep. */
    struct sys_msg m = { 0 };
    for (unsigned i = 0; i < MANY; i++) {
        CHECK_OK(ipc_recv(fault_ep, &m));
        CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_PAGE && m.w[FERRY_FAULT_MR_IP] == 1);
    }
    for (unsigned i = 0; i < MANY; i++)
        CHECK_OK(ferry_cnode_delete(tcbs[i]));
    return true;
}

/* ---- FS base: a selector load must not leak into the next thread ------------------ */

static volatile unsigned long fs_a_done, fs_ep;

static void fs_loader(void)
{
    /* Loading a selector into FS gives FS the descriptor's base, 0. */
    __asm__ __volatile__("movw $0x23, %%ax; movw %%ax, %%fs" ::: "rax");
    fs_a_done = 1;
    for (;;)
        sys_yield();
}

static void fs_reader(void)
{
    while (!fs_a_done)
        sys_yield();
    sys_yield();                              /* straight after the loader, which ran with base 0 */
    unsigned long v;
    __asm__ __volatile__("movq %%fs:0, %0" : "=r"(v));
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 1, 0), .w = { v } };
    sys_raw(FERRY_SYS_SEND, fs_ep, &m);
    for (;;)
        sys_yield();
}

static bool fs_base_selector_load(void)
{
    ALLOC(page, FERRY_OBJ_FRAME_4K, 0);
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long va = test_page();
    CHECK(va != 0);
    CHECK_OK(ferry_frame_map(page, FERRY_CAP_INIT_VSPACE, va, RW));
    *(volatile unsigned long *)va = 0x1234abcd;
    fs_a_done = 0;
    fs_ep = ep;
    /* Both with the same FS base; the reader's fault (a read through the
     * wrong base) comes to the same endpoint as its answer. */
    unsigned long a = test_thread(fs_loader, FERRY_CAP_INIT_CNODE, 255, 0, false);
    unsigned long b = test_thread(fs_reader, FERRY_CAP_INIT_CNODE, 255, ep, false);
    CHECK(a && b);
    unsigned long r[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(a, FERRY_REG_COUNT, r));
    r[FERRY_REG_FS_BASE] = va;
    CHECK_OK(ferry_tcb_write_registers(a, true, FERRY_REG_COUNT, r));
    CHECK_OK(ferry_tcb_read_registers(b, FERRY_REG_COUNT, r));
    r[FERRY_REG_FS_BASE] = va;
    CHECK_OK(ferry_tcb_write_registers(b, true, FERRY_REG_COUNT, r));
    /* We block: the two run alone, switching straight from one to the other. */
    struct sys_msg m = { 0 };
    CHECK_OK(ipc_recv(ep, &m));
    CHECK_OK(ferry_tcb_suspend(a));
    CHECK_OK(ferry_tcb_suspend(b));
    CHECK(FERRY_MSGINFO_LABEL(m.info) == 1);  /* not a fault */
    CHECK(m.w[0] == 0x1234abcd);
    CHECK_OK(ferry_frame_unmap(page));
    return true;
}

/* ---- register values stay in user space ------------------------------------------------ */

static bool register_writes_stay_user(void)
{
    ALLOC(tcb, FERRY_OBJ_TCB, 0);
    static const struct { unsigned reg; unsigned long v; } bad[] = {
        { FERRY_REG_RIP, FERRY_USER_TOP },
        { FERRY_REG_RIP, 0x00007ffffffff000UL },      /* canonical, above the user top */
        { FERRY_REG_RSP, 0x00007ffffffff000UL },
        { FERRY_REG_FS_BASE, 0xffff800000000000UL },  /* canonical kernel half */
        { FERRY_REG_GS_BASE, 0xffffffff80000000UL },
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned long regs[FERRY_REG_COUNT] = { 0 };
        regs[FERRY_REG_RIP] = 0x400000;
        regs[FERRY_REG_RSP] = 0x400000;
        regs[bad[i].reg] = bad[i].v;
        CHECK_ERR(ferry_tcb_write_registers(tcb, false, FERRY_REG_COUNT, regs), FERRY_E_INVALID_ARG);
    }
    return true;
}

/* ---- smaller rules ---------------------------------------------------------------------- */

static volatile unsigned long rc_ep, rc_cnode, rc_slot, rc_caps, rc_done;

static void ro_receiver(void)
{
    struct ferry_ipc_buffer *b = test_own_buf();
    b->recv_cnode = rc_cnode;                 /* a read-only capability to our CNode */
    b->recv_index = rc_slot;
    b->recv_depth = 64;
    struct sys_msg m = { 0 };
    sys_raw(FERRY_SYS_RECV, rc_ep, &m);
    rc_caps = FERRY_MSGINFO_CAPS(m.info);
    rc_done = 1;
    for (;;)
        sys_yield();
}

static volatile unsigned long ss_tcb, ss_err, ss_done;

static void self_suspender(void)
{
    ss_err = ferry_tcb_suspend(ss_tcb);
    ss_done = 1;
    for (;;)
        sys_yield();
}

static bool small_isolation_rules(void)
{
    /* A capability arrives only in a CNode the receiver may write. */
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(gift, FERRY_OBJ_NOTIFICATION, 0);
    unsigned long ro = slot_alloc();
    CHECK_OK(ferry_cnode_copy(ro, FERRY_CAP_INIT_CNODE, FERRY_RIGHT_READ));
    rc_ep = ep;
    rc_cnode = ro;
    rc_slot = slot_alloc();
    rc_done = 0;
    rc_caps = ~0UL;
    unsigned long t = test_thread(ro_receiver, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(t != 0);
    sys_yield();
    ulib_ipc->caps_or_badges[0] = gift;
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 1) };
    CHECK_OK(sys_raw(FERRY_SYS_SEND, ep, &m));
    for (int i = 0; i < 10 && !rc_done; i++)
        sys_yield();
    CHECK(rc_done && rc_caps == 0);
    unsigned long pa;
    CHECK_ERR(ferry_frame_address(rc_slot, &pa), FERRY_E_INVALID_CAP);   /* the slot stayed empty */
    CHECK_OK(ferry_tcb_suspend(t));

    /* Priority authority needs WRITE on the authority's TCB capability. */
    ALLOC(victim, FERRY_OBJ_TCB, 0);
    unsigned long ro_auth = slot_alloc();
    CHECK_OK(ferry_cnode_copy(ro_auth, FERRY_CAP_INIT_TCB, FERRY_RIGHT_READ));
    CHECK_ERR(ferry_tcb_set_priority(victim, ro_auth, 10), FERRY_E_RIGHTS);
    CHECK_ERR(ferry_tcb_set_mcpriority(victim, ro_auth, 10), FERRY_E_RIGHTS);
    CHECK_OK(ferry_tcb_set_priority(victim, FERRY_CAP_INIT_TCB, 10));

    /* A thread that suspends itself reads success when resumed. */
    ss_done = 0;
    ss_err = ~0UL;
    ss_tcb = test_thread(self_suspender, FERRY_CAP_INIT_CNODE, 255, 0, true);
    CHECK(ss_tcb != 0);
    for (int i = 0; i < 5; i++)
        sys_yield();
    CHECK(!ss_done);
    CHECK_OK(ferry_tcb_resume(ss_tcb));
    CHECK(wait_flag(&ss_done));
    CHECK(ss_err == FERRY_OK);
    CHECK_OK(ferry_tcb_suspend(ss_tcb));
    return true;
}

const struct utest utests_attack_entry[] = {
    UTEST(debug_calls_need_the_capability),
    UTEST(floor_serves_its_owner_only),
    UTEST(compat_mode_entry_faults),
    UTEST(nt_flag_on_entry),
    UTEST(df_flag_on_int80),
    UTEST(blocked_sender_rewrite),
    UTEST(many_threads_fault_on_exit),
    UTEST(fs_base_selector_load),
    UTEST(register_writes_stay_user),
    UTEST(small_isolation_rules),
};
const size_t utests_attack_entry_n = sizeof utests_attack_entry / sizeof utests_attack_entry[0];
