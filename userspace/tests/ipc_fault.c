/* ipc_fault.c: in-guest tests of fault IPC and of IPC partners that go
 * away: deleted endpoints, callers gone, suspend and register writes while blocked. */
#include "ipc_lib.h"

/* Faults as IPC. */
#define FAULT_VA 0x35000000UL
static volatile unsigned long ft_progress;

static void page_faulter(void)
{
    ft_progress = 1;
    *(volatile unsigned long *)FAULT_VA = 0xabcd;      /* not mapped yet */
    ft_progress = *(volatile unsigned long *)FAULT_VA;
    park();
}

static void ud_faulter(void)
{
    ft_progress = 1;
    __asm__ __volatile__("ud2");
    ft_progress = 2;                     /* after the handler skipped ud2 */
    volatile unsigned long zero = 0, x = 7;
    x /= zero;                           /* divide error: never fixed */
    ft_progress = 3;
    park();
}

static bool ipc_fault_handler(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long fep = mint(ep, FERRY_RIGHT_WRITE, 0xfa);
    CHECK(fep);
    ft_progress = 0;
    unsigned long t = spawn(page_faulter, 254, fep);
    CHECK(t);
    struct sys_msg m = { 0 };
    CHECK_OK(ipc_recv(ep, &m));         /* the fault message */
    CHECK(ft_progress == 1);
    CHECK(m.badge == 0xfa && FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_PAGE);
    CHECK(FERRY_MSGINFO_LEN(m.info) == FERRY_FAULT_MSG_LEN);
    CHECK(m.w[FERRY_FAULT_MR_ADDR] == FAULT_VA && m.w[FERRY_FAULT_MR_VECTOR] == 14);
    CHECK((m.w[FERRY_FAULT_MR_ERROR] & 2) != 0);        /* a write */
    CHECK(m.w[FERRY_FAULT_MR_IP] > (unsigned long)page_faulter &&
          m.w[FERRY_FAULT_MR_IP] < (unsigned long)page_faulter + 64);
    /* Fix it: map a page there, then reply to resume the thread. */
    CHECK(table_ensure(FAULT_VA));
    ALLOC(frame, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_frame_map(frame, FERRY_CAP_INIT_VSPACE, FAULT_VA, RW));
    m.info = 0;
    CHECK_OK(ipc_reply(&m));
    CHECK(settle());
    CHECK(ft_progress == 0xabcd);
    CHECK_OK(ferry_tcb_suspend(t));

    /* An undefined instruction: the handler moves RIP past it. */
    ft_progress = 0;
    t = spawn(ud_faulter, 254, fep);
    CHECK(t);
    CHECK_OK(ipc_recv(ep, &m));
    CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_EXCEPTION && m.w[FERRY_FAULT_MR_VECTOR] == 6);
    unsigned long rip = m.w[FERRY_FAULT_MR_IP];
    CHECK(*(const unsigned short *)rip == 0x0b0f);      /* ud2 */
    unsigned long regs[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(regs[FERRY_REG_RIP] == rip);
    regs[FERRY_REG_RIP] = rip + 2;
    CHECK_OK(ferry_tcb_write_registers(t, false, FERRY_REG_COUNT, regs));
    m.info = 0;
    CHECK_OK(ipc_reply_recv(ep, &m));   /* resume it, wait for its next fault */
    CHECK(ft_progress == 2);
    CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_EXCEPTION && m.w[FERRY_FAULT_MR_VECTOR] == 0);
    /* Not replying leaves it stopped. */
    CHECK(settle());
    CHECK(ft_progress == 2);
    CHECK_OK(ferry_tcb_suspend(t));
    /* A fault endpoint that is not there: suspended and reported as before. */
    ft_progress = 0;
    unsigned long bad = slot_alloc();
    t = spawn(ud_faulter, 254, bad);
    CHECK(t && settle());
    CHECK(ft_progress == 1);
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(*(const unsigned short *)regs[FERRY_REG_RIP] == 0x0b0f);
    return true;
}

/* Robustness: an endpoint deleted under its waiters. */
static volatile unsigned long rb_ep, rb_err[2];

static void rb_receiver(void)
{
    struct sys_msg m = { 0 };
    rb_err[0] = ipc_recv(rb_ep, &m) + 1;
    park();
}

static void rb_sender(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 0) };
    rb_err[1] = ipc_call(rb_ep, &m) + 1;
    park();
}

static bool ipc_endpoint_deleted(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ep2, FERRY_OBJ_ENDPOINT, 0);
    rb_err[0] = rb_err[1] = 0;
    rb_ep = ep;
    unsigned long r = spawn(rb_receiver, 254, 0);
    CHECK(r && settle());
    rb_ep = ep2;
    unsigned long s = spawn(rb_sender, 254, 0);
    CHECK(s && settle());
    CHECK(rb_err[0] == 0 && rb_err[1] == 0);   /* both blocked */
    CHECK_OK(ferry_cnode_delete(ep));
    CHECK_OK(ferry_cnode_delete(ep2));
    CHECK(settle());
    CHECK(rb_err[0] == FERRY_E_INVALID_CAP + 1 && rb_err[1] == FERRY_E_INVALID_CAP + 1);
    CHECK_OK(ferry_tcb_suspend(r));
    CHECK_OK(ferry_tcb_suspend(s));
    return true;
}

/* Robustness: the caller disappears while the server (ipc_lib.c's
 * holding_server) holds its reply. */
static volatile unsigned long cl_done, cl_err;

static void holding_client(void)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 0) };
    cl_err = ipc_call(hold_ep, &m) + 1;
    cl_done = m.w[0];
    park();
}

static bool ipc_caller_gone(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    ALLOC(ntfn, FERRY_OBJ_NOTIFICATION, 0);
    hold_ep = ep;
    hold_ntfn = ntfn;
    hold_calls = hold_reply_err = cl_done = cl_err = 0;
    unsigned long srv = spawn(holding_server, 253, 0);
    CHECK(srv && settle());
    unsigned long cl = spawn(holding_client, 254, 0);
    CHECK(cl && settle());
    CHECK(hold_calls == 1 && cl_err == 0);
    /* Suspend the caller: the reply finds nobody and is dropped. */
    CHECK_OK(ferry_tcb_suspend(cl));
    CHECK_OK(ntfn_signal(ntfn));
    CHECK(settle());
    CHECK(hold_reply_err == 1 && cl_err == 0);
    /* Resumed, the caller's Call returns FERRY_E_INVALID_CAP (its reply
     * was lost) with an empty message, and the request is not sent again:
     * unlike seL4's restart (docs/design.md, "Message registers": a
     * waiting caller's message registers are not kept). */
    cl_done = 777;
    CHECK_OK(ferry_tcb_resume(cl));
    CHECK(settle());
    CHECK(hold_calls == 1 && cl_err == FERRY_E_INVALID_CAP + 1 && cl_done == 0);
    /* Delete a caller outright while its reply is held. */
    cl_err = 0;
    unsigned long cl2 = spawn(holding_client, 254, 0);
    CHECK(cl2 && settle());
    CHECK(hold_calls == 2);
    CHECK_OK(ferry_cnode_delete(cl2));
    hold_reply_err = 0;
    CHECK_OK(ntfn_signal(ntfn));
    CHECK(settle());
    CHECK(hold_reply_err == 1 && cl_err == 0);
    /* The server dies holding a reply: its caller wakes with an error. */
    unsigned long cl3 = spawn(holding_client, 254, 0);
    CHECK(cl3 && settle());
    CHECK(hold_calls == 3 && cl_err == 0);
    CHECK_OK(ferry_cnode_delete(srv));
    CHECK(settle());
    CHECK(cl_err == FERRY_E_INVALID_CAP + 1);
    CHECK_OK(ferry_tcb_suspend(cl));
    CHECK_OK(ferry_tcb_suspend(cl3));
    return true;
}

/* Suspending a blocked receiver and resuming it restarts its Recv. */
static bool ipc_suspend_restarts(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long srv = start_echo(ep, 254);
    CHECK(srv);
    CHECK_OK(ferry_tcb_suspend(srv));
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 1, 0), .w = { 3 } };
    CHECK_OK(ipc_nbsend(ep, &m));       /* nobody waits now */
    CHECK_OK(ferry_tcb_resume(srv));
    CHECK(settle());
    unsigned long before = srv_calls;
    m.info = FERRY_MSGINFO(1, 1, 0);
    m.w[0] = 3;
    CHECK_OK(ipc_call(ep, &m));
    CHECK(m.w[0] == 9 && srv_calls == before + 1 && srv_last_err == 0);
    CHECK_OK(ferry_tcb_suspend(srv));
    return true;
}

/* A thread blocked in a system call entered by `syscall`: the CPU put its
 * RIP in RCX and its RFLAGS in R11, and ReadRegisters says so (the entry
 * stub does not store those two slots, context.h). */
static void blocked_receiver(void)
{
    struct sys_msg m = { 0 };
    for (;;)
        ipc_recv(srv_ep, &m);
}

static bool ipc_blocked_registers(void)
{
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    srv_ep = ep;
    unsigned long t = spawn(blocked_receiver, 254, 0);
    CHECK(t && settle());
    unsigned long regs[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, regs));
    CHECK(regs[FERRY_REG_RAX] == FERRY_SYS_RECV);          /* kept for a restart */
    CHECK(regs[FERRY_REG_RCX] == regs[FERRY_REG_RIP]);
    CHECK(regs[FERRY_REG_R11] == regs[FERRY_REG_RFLAGS]);
    CHECK(regs[FERRY_REG_RFLAGS] & 0x200);
    /* Writing one register makes RCX/R11 real registers: the thread then
     * leaves by iretq with them as read (a Send wakes it, and it blocks
     * again in the same Recv). */
    CHECK_OK(ferry_tcb_write_registers(t, false, 1, regs));
    struct sys_msg m = { .info = FERRY_MSGINFO(1, 0, 0) };
    CHECK_OK(ipc_send(ep, &m));
    CHECK(settle());
    unsigned long again[FERRY_REG_COUNT];
    CHECK_OK(ferry_tcb_read_registers(t, FERRY_REG_COUNT, again));
    CHECK(again[FERRY_REG_RIP] == regs[FERRY_REG_RIP] && again[FERRY_REG_RCX] == regs[FERRY_REG_RIP]);
    CHECK_OK(ferry_tcb_suspend(t));
    return true;
}

/* The kernel half from ring 3 (KPTI=1, docs/design.md): a read is a page
 * fault either way, but with KPTI the user table does not map the page
 * at all (error code: not present), where without it the page is there,
 * supervisor-only (a protection fault).  Kernel text away from the entry
 * window, and the direct map of the kernel image's memory. */
static volatile unsigned long kh_addr;

static void kernel_half_reader(void)
{
    ft_progress = 1;
    ft_progress = *(volatile unsigned long *)kh_addr;
    park();
}

static bool kernel_half_unmapped(void)
{
    static const unsigned long addrs[] = { 0xffffffff80108000UL, 0xffff800000100000UL };
    ALLOC(ep, FERRY_OBJ_ENDPOINT, 0);
    unsigned long fep = mint(ep, FERRY_RIGHT_WRITE, 0xfb);
    CHECK(fep);
    for (unsigned i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        kh_addr = addrs[i];
        ft_progress = 0;
        unsigned long t = spawn(kernel_half_reader, 254, fep);
        CHECK(t);
        struct sys_msg m = { 0 };
        CHECK_OK(ipc_recv(ep, &m));
        CHECK(ft_progress == 1);
        CHECK(FERRY_MSGINFO_LABEL(m.info) == FERRY_FAULT_PAGE && m.w[FERRY_FAULT_MR_ADDR] == addrs[i]);
        unsigned long err = m.w[FERRY_FAULT_MR_ERROR];
        CHECK((err & 4) != 0);                           /* from user mode */
        CHECK((err & 2) == 0);                           /* a read */
        CHECK(!!(err & 1) == !ulib_bootinfo->kpti);      /* present: only without KPTI */
        CHECK_OK(ferry_tcb_suspend(t));
    }
    return true;
}

const struct utest utests_ipc_fault[] = {
    UTEST(ipc_fault_handler),
    UTEST(kernel_half_unmapped),
    UTEST(ipc_endpoint_deleted),
    UTEST(ipc_caller_gone),
    UTEST(ipc_suspend_restarts),
    UTEST(ipc_blocked_registers),
};
const size_t utests_ipc_fault_n = sizeof utests_ipc_fault / sizeof utests_ipc_fault[0];
