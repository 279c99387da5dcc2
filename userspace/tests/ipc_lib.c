/* ipc_lib.c: helpers of the IPC tests (ipc_*.c): threads of the root
 * task with their own IPC buffers, settle() (let every lower-priority
 * thread run until it blocks), an echo server, and processes. */
#include "ipc_lib.h"

/* ---- helpers ------------------------------------------------------------ */

/* Test threads: a stack page at va and their own IPC buffer page right
 * above it (so a thread finds its buffer from its stack pointer, and
 * long messages of different threads never share a buffer). */
#define THREAD_AREA 0x34000000UL
static unsigned long next_thread_va = THREAD_AREA;
struct ferry_ipc_buffer *last_spawn_buf;   /* the IPC buffer of the last thread spawned */

struct ferry_ipc_buffer *my_buf(void)
{
    unsigned long sp;
    __asm__ __volatile__("movq %%rsp, %0" : "=r"(sp));
    return (struct ferry_ipc_buffer *)((sp & ~0xfffUL) + 0x1000);
}

/* Start fn() at prio in the root task's address space with its own IPC
 * buffer, fault endpoint cptr fault_ep (0: none) and FS/GS bases.
 * Returns the TCB slot. */
unsigned long spawn_with(void (*fn)(void), unsigned prio, unsigned long fault_ep,
                                unsigned long fs_base, unsigned long gs_base)
{
    unsigned long va = next_thread_va, err;
    next_thread_va += 0x2000;
    if (!table_ensure(va))
        return 0;
    unsigned long tcb = object_alloc(FERRY_OBJ_TCB, 0);
    unsigned long stack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    unsigned long buf = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    if (!tcb || !stack || !buf)
        return 0;
    if ((err = ferry_frame_map(stack, FERRY_CAP_INIT_VSPACE, va, RW)) ||
        (err = ferry_frame_map(buf, FERRY_CAP_INIT_VSPACE, va + 0x1000, RW)) ||
        (err = ferry_tcb_configure(tcb, FERRY_CAP_INIT_CNODE, FERRY_CAP_INIT_VSPACE, buf, va + 0x1000, fault_ep)) ||
        (err = ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, prio))) {
        printf("    spawn: %s\n", ferry_error_name(err));
        return 0;
    }
    last_spawn_buf = (struct ferry_ipc_buffer *)(va + 0x1000);
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = va + 0x1000 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    regs[FERRY_REG_FS_BASE] = fs_base;
    regs[FERRY_REG_GS_BASE] = gs_base;
    if ((err = ferry_tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs))) {
        printf("    spawn: %s\n", ferry_error_name(err));
        return 0;
    }
    return tcb;
}

unsigned long spawn(void (*fn)(void), unsigned prio, unsigned long fault_ep)
{
    return spawn_with(fn, prio, fault_ep, 0, 0);
}

/* Let every ready thread of lower priority run until it blocks: the root
 * task waits on a notification nobody else signals, woken by a helper at
 * the lowest priority that runs only when all others are blocked. */
static unsigned long idle_ntfn, idle_tcb, park_ntfn;

/* A thread that is done blocks for good (a spinning one would keep
 * settle() from ever seeing everybody blocked). */
void park(void)
{
    unsigned long bits;
    for (;;)
        ntfn_wait(park_ntfn, &bits);
}

volatile unsigned long hold_ep, hold_ntfn, hold_calls, hold_reply_err;

void holding_server(void)
{
    struct sys_msg m = { 0 };
    unsigned long bits;
    ipc_recv(hold_ep, &m);
    for (;;) {
        hold_calls++;
        ntfn_wait(hold_ntfn, &bits);     /* hold the reply until told */
        m.info = FERRY_MSGINFO(0, 1, 0);
        m.w[0] = 555;
        hold_reply_err = ipc_reply(&m) + 1;
        ipc_recv(hold_ep, &m);
    }
}

static void idle_helper(void)
{
    for (;;) {
        ntfn_signal(idle_ntfn);
        sys_yield();
    }
}

bool settle(void)
{
    unsigned long bits;
    if (!idle_ntfn) {
        /* Made once and kept by every later test: outside the sandbox. */
        ulib_persistent_begin();
        idle_ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        park_ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
        idle_tcb = idle_ntfn && park_ntfn ? spawn(idle_helper, 1, 0) : 0;
        ulib_persistent_end();
        if (!idle_tcb)
            return false;
    } else if (ferry_tcb_resume(idle_tcb)) {
        return false;
    }
    bool ok = ntfn_wait(idle_ntfn, &bits) == FERRY_OK;
    /* The helper is stopped again so it never competes with a test. */
    return ferry_tcb_suspend(idle_tcb) == FERRY_OK && ok;
}

unsigned long mint(unsigned long src, unsigned long rights, unsigned long badge)
{
    unsigned long s = slot_alloc();
    return s && ferry_cnode_mint(s, src, rights, badge) == FERRY_OK ? s : 0;
}

/* ---- an echo server --------------------------------------------------------- */

/* Replies to each Call with label + 1, every word w[i] transformed to
 * w[i] * 3 + i, the badge it saw in the last word slot it was not sent
 * (so the caller can check it), over as many words as it received. */
volatile unsigned long srv_ep, srv_calls, srv_last_badge, srv_last_err;
volatile bool srv_in_process;   /* the server runs in its own address space */

unsigned long echo_word(unsigned long w, unsigned long i)
{
    return w * 3 + i;
}

void echo_server(void)
{
    struct ferry_ipc_buffer *buf = srv_in_process ? ulib_ipc : my_buf();
    struct sys_msg m = { 0 };
    unsigned long err = ipc_recv(srv_ep, &m);
    for (;;) {
        srv_last_err = err;
        if (err) {
            m.info = 0;
            err = ipc_recv(srv_ep, &m);
            continue;
        }
        srv_calls++;
        srv_last_badge = m.badge;
        unsigned long len = FERRY_MSGINFO_LEN(m.info);
        for (unsigned long i = 0; i < len; i++) {
            if (i < FERRY_MSG_REG_WORDS)
                m.w[i] = echo_word(m.w[i], i);
            else
                buf->mr[i] = echo_word(buf->mr[i], i);
        }
        m.info = FERRY_MSGINFO(FERRY_MSGINFO_LABEL(m.info) + 1, len, 0);
        err = ipc_reply_recv(srv_ep, &m);
    }
}

unsigned long start_echo(unsigned long ep, unsigned prio)
{
    srv_ep = ep;
    srv_calls = 0;
    srv_in_process = false;
    unsigned long t = spawn(echo_server, prio, 0);
    return t && settle() ? t : 0;
}

/* ---- processes --------------------------------------------------------------- */

#define PROC_STACKS 0x37000000UL
static unsigned long next_proc_stack = PROC_STACKS;

bool new_process(struct process *p, void (*fn)(void), unsigned prio)
{
    unsigned long va = next_proc_stack;
    next_proc_stack += 0x1000;
    return process_create(p, fn, va, prio, true) == FERRY_OK;
}
