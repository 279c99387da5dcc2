/* fuzz.c: the kernel must survive any system call: a thread in a sandbox
 * (its own CNode and address space) makes random calls with random
 * arguments; a watchdog restarts it whenever it blocks or faults.  Its SSE
 * register xmm7 must survive each call too (the watchdog uses SSE as
 * well, so FPU state moves between them all the time). */
#include "utest.h"
#include <ferry/process.h>

#define FUZZ_CALLS     20000      /* default; fuzz_calls= and fuzz_seed= on the command line */
#define SANDBOX_RADIX  6
#define FUZZ_STACK     0x36000000UL

static volatile unsigned long fuzz_done, fuzz_fpu_bad, fuzz_seed = 0x5eed5eedUL;

static unsigned long next_rand(void)
{
    unsigned long x = fuzz_seed;      /* xorshift64: the sequence is the same every run */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    fuzz_seed = x;
    return x;
}

/* Small values hit real slots, types and sizes; large ones hit the checks. */
static unsigned long arg(void)
{
    unsigned long r = next_rand();
    switch (r & 3) {
    case 0: return (r >> 8) & 63;
    case 1: return (r >> 8) & 0x1ff;
    case 2: return r;
    default: return FERRY_ARCH_LABEL_BASE + ((r >> 8) & 0x3f);
    }
}

static void fuzzer(void)
{
    /* Debug calls that end the run or change the entry (10-13) are left out. */
    static const unsigned long sysnos[] = {
        FERRY_SYS_CALL, FERRY_SYS_CALL, FERRY_SYS_CALL, FERRY_SYS_REPLY_RECV, FERRY_SYS_SEND,
        FERRY_SYS_NBSEND, FERRY_SYS_RECV, FERRY_SYS_NBRECV, FERRY_SYS_REPLY, FERRY_SYS_YIELD,
        FERRY_SYS_NULL, FERRY_SYS_KFLOOR, 0, 15, 99, ~0UL,
    };
    for (;;) {
        unsigned long r = next_rand();
        unsigned long no = sysnos[r % (sizeof sysnos / sizeof sysnos[0])];
        unsigned long label = (r >> 8) & 1 ? (r >> 9) & 0x3f : arg();
        struct sys_msg m = { .info = FERRY_MSGINFO(label, (r >> 16) % 9, (r >> 20) % 4),
                             .w = { arg(), arg(), arg(), arg() } };
        for (int i = 0; i < 3; i++)
            ulib_ipc->caps_or_badges[i] = arg() & 63;
        for (int i = 4; i < 8; i++)
            ulib_ipc->mr[i] = arg();
        ulib_ipc->recv_cnode = arg() & 63;
        ulib_ipc->recv_index = arg() & 63;
        ulib_ipc->recv_depth = 64;
        unsigned long mark = r ^ fuzz_done, back;
        __asm__ __volatile__("movq %0, %%xmm7" : : "r"(mark) : "xmm7");
        sys_raw(no, arg() & 63, &m);
        __asm__ __volatile__("movq %%xmm7, %0" : "=r"(back));
        if (back != mark)
            fuzz_fpu_bad++;
        fuzz_done++;
    }
}

static bool restart(unsigned long tcb)
{
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fuzzer;
    regs[FERRY_REG_RSP] = FUZZ_STACK + 4096 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    return tcb_suspend(tcb) == FERRY_OK &&
           tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs) == FERRY_OK;
}

static bool syscall_fuzz(void)
{
    /* The sandbox CSpace: one CNode whose guard makes a slot number a cptr. */
    ALLOC(cnode, FERRY_OBJ_CNODE, SANDBOX_RADIX);
    unsigned long root = slot_alloc();
    CHECK_OK(cnode_mint(root, cnode, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 64 - SANDBOX_RADIX)));
    struct process p;
    CHECK_OK(process_create(&p, fuzzer, FUZZ_STACK, 255, false));
    CHECK_OK(tcb_configure(p.tcb, root, p.vspace, p.ipc_frame, FERRY_ROOT_IPC_BUFFER, 0));
    /* What it may play with: its CNode, its TCB and VSpace, memory, IPC objects. */
    const unsigned long root_cptr = FERRY_CAP_INIT_CNODE;
    unsigned long give[] = { root, p.tcb, p.vspace, object_alloc(FERRY_OBJ_UNTYPED, 16),
                             object_alloc(FERRY_OBJ_FRAME_4K, 0), object_alloc(FERRY_OBJ_ENDPOINT, 0),
                             object_alloc(FERRY_OBJ_NOTIFICATION, 0), object_alloc(FERRY_OBJ_PT, 0) };
    for (unsigned i = 0; i < sizeof give / sizeof give[0]; i++) {
        CHECK(give[i] != 0);
        /* slot i+1 of the sandbox, named by depth radix from the unguarded
         * CNode; untyped memory and an unmapped page table cannot be
         * copied, only moved */
        unsigned long args[] = { i + 1, SANDBOX_RADIX, give[i], 64, FERRY_RIGHTS_ALL };
        bool move = i == 3 || i == 7;
        CHECK_OK(ferry_invoke(cnode, move ? FERRY_CNODE_MOVE : FERRY_CNODE_COPY, move ? 4 : 5,
                              args, 1, &root_cptr, NULL));
    }
    uint64_t calls = FUZZ_CALLS, seed;
    cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_calls", &calls);
    if (cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_seed", &seed) == 1 && seed)
        fuzz_seed = seed;
    printf("    seed %#lx, %lu calls\n", fuzz_seed, calls);
    fuzz_done = fuzz_fpu_bad = 0;
    unsigned long restarts = 0, last = 0, still = 0;
    CHECK_OK(tcb_resume(p.tcb));
    while (fuzz_done < calls && restarts < calls) {
        __asm__ __volatile__("movq %0, %%xmm7" : : "r"(restarts) : "xmm7");   /* our own SSE state */
        sys_yield();
        if (fuzz_done != last) {
            last = fuzz_done;
            still = 0;
        } else if (++still > 3) {
            /* Blocked, faulted or stopped itself: start it over. */
            CHECK(restart(p.tcb));
            restarts++;
            still = 0;
        }
    }
    tcb_suspend(p.tcb);
    printf("    %lu random system calls, %lu restarts of the fuzzer\n", fuzz_done, restarts);
    CHECK(fuzz_done >= calls);
    CHECK(fuzz_fpu_bad == 0);
    /* The kernel still works for everyone else. */
    unsigned long pa;
    ALLOC(f, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(frame_address(f, &pa));
    return true;
}

const struct utest utests_fuzz[] = {
    { syscall_fuzz, "syscall_fuzz" },
};
const size_t utests_fuzz_n = sizeof utests_fuzz / sizeof utests_fuzz[0];
