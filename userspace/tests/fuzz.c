/* fuzz.c: the kernel must survive any system call: a thread in a sandbox
 * (its own CNode, address space and untyped memory) makes random calls
 * with random arguments by both entries and with random RFLAGS bits,
 * valid-looking invocations on its objects (retype, copy, move, delete,
 * revoke, map, unmap, register writes, suspend and resume of a victim
 * thread blocked in IPC), deep derivation chains and table exhaustion; a
 * watchdog restarts it whenever it blocks or faults and runs the kernel's
 * invariant check as it goes.  Its SSE register xmm7 must survive each
 * call too (the watchdog uses SSE as well, so FPU state moves between
 * them all the time). */
#include "utest.h"
#include <ferry/ipc.h>
#include <ferry/process.h>

#define FUZZ_CALLS     20000       /* default; fuzz_calls= and fuzz_seed= on the command line */
#define SANDBOX_RADIX  13          /* slots 1..63 are the busy ones; the rest take chains and bursts */
#define SANDBOX_SLOTS  (1UL << SANDBOX_RADIX)
#define SANDBOX_UT_BITS 24         /* enough for 4096 VSpaces: ASID exhaustion */
#define FUZZ_STACK     0x36000000UL
#define VICTIM_STACK   (FUZZ_STACK + 0x1000)
#define CHECK_EVERY    100000      /* fuzz_check_every=: invariant check this often (calls) */

/*
 * Classes of attack from issues #11 and #21, each a command-line word,
 * all on by default (FUZZ_DEFAULT_CLASSES) now that their kernel fixes
 * are in (debug capability, entry flags, no 32-bit code segment, exit
 * paths that loop, page tables the seL4 way); `fuzz_X=0` turns one off.
 * What each one broke at 40be06e:
 *   fuzz_debug=1   system calls 10-16 (debug and benchmark calls): the
 *                  sandbox holds no debug capability, so each must be
 *                  refused; an accepted one fails the test.  At 40be06e
 *                  11 ended the run and 12/13 switched every thread's
 *                  entry; a blocked thread whose rax was rewritten to 11
 *                  restarted into it.  Off, no such number is sent or
 *                  written into a register.
 *   fuzz_nt_df=1   NT and DF among the random RFLAGS bits (NT: #GP on a
 *                  kernel iretq; DF through int 0x80: Retype clears the
 *                  wrong memory).  TF, AC and IOPL bits are always tried.
 *   fuzz_compat=1  a far jump to the 32-bit user code selector, then
 *                  `syscall` (CSTAR was 0: ring 0 at RIP 0, a double
 *                  fault).  The same attempt with `int 0x80` always runs.
 *   fuzz_remap=1   Table Map and Unmap by the sandbox.  Today a table
 *                  unmapped with its entries, a copy of a mapped table, or
 *                  a table left in a deleted VSpace can be mapped again
 *                  elsewhere and the frames below it show up at addresses
 *                  no capability records (#11 items 5 and 6; the invariant
 *                  check reports "mapping without record").  Off, neither
 *                  label is ever sent and the watchdog maps the tables of
 *                  the sandbox's second VSpace itself (frames still map,
 *                  unmap, remap, with copies, everywhere).
 *   fuzz_threads=1 a burst of 2048 threads blocked in Recv whose RIP is
 *                  written to 1, then suspended (the restart-PC step
 *                  wraps it below 0) and resumed with no fault handler:
 *                  each one's exit path nests in the last one's (#21 item
 *                  1: the kernel stack overflows into its guard page).
 *   fuzz_smp=1     threads on several CPUs (docs/smp.md; with -smp 2 or
 *                  more): the fuzzer runs on CPU 1, the victim on the last
 *                  CPU, the watchdog and the burst threads on CPU 0, and
 *                  SetAffinity (to a CPU index up to ncpus, the last one
 *                  invalid) is in the mix of TCB invocations; every
 *                  suspend, write, delete or move of a thread then crosses
 *                  CPUs.  On one CPU only the SetAffinity calls remain.
 *   fuzz_all=1     all six.  A word with 0 (fuzz_debug=0) turns a class off.
 */
#define FZ_DEBUG  0x1UL
#define FZ_NT_DF  0x2UL
#define FZ_COMPAT 0x4UL
#define FZ_REMAP  0x8UL
#define FZ_THREADS 0x10UL
#define FZ_SMP    0x20UL
#define FUZZ_BURST_THREADS 2048UL   /* fuzz_threads: 4 MiB of TCBs */
#define FUZZ_DEFAULT_CLASSES (FZ_DEBUG | FZ_NT_DF | FZ_COMPAT | FZ_THREADS | FZ_REMAP | FZ_SMP)

#define RFL_TF   0x100UL
#define RFL_DF   0x400UL
#define RFL_IOPL 0x3000UL
#define RFL_NT   0x4000UL
#define RFL_AC   0x40000UL
#define SEL_USER_CODE32 0x1bUL     /* GDT entry 3 with RPL 3 */
#define IMAGE_START 0x400000UL     /* the program image (userspace/lib/linker.ld), generously */
#define IMAGE_END   0x1000000UL

/* The sandbox's slots (cptr = slot number in its CSpace). */
enum {
    SB_CNODE = 1, SB_TCB, SB_VSPACE, SB_UNTYPED, SB_FRAME, SB_EP, SB_NTFN, SB_PT, SB_PD, SB_PDPT,
    SB_VICTIM, SB_VSPACE2, SB_FIXED_END
};
#define SB_HIGH 4096UL             /* chains and bursts use SB_HIGH.. */

/* Shared with the sandbox (process_create shares the writable data). */
static volatile unsigned long fuzz_done, fuzz_fpu_bad, fuzz_debug_ok, fuzz_seed = 0x5eed5eedUL;
static volatile unsigned long fuzz_classes, victim_seed = 0x71c71c71UL, victim_runs;
static volatile unsigned long fuzz_chains, fuzz_chain_max, fuzz_bursts, fuzz_compat_tries;
static volatile unsigned long fuzz_ncpus = 1;

/* fuzz_smp: the CPU the fuzzer and the victim are put on at each (re)start. */
static unsigned long fuzzer_cpu(void)
{
    return (fuzz_classes & FZ_SMP) && fuzz_ncpus > 1 ? 1 : 0;
}

static unsigned long victim_cpu(void)
{
    return (fuzz_classes & FZ_SMP) ? fuzz_ncpus - 1 : 0;
}

static inline unsigned long fuzz_rdtsc(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((unsigned long)hi << 32) | lo;
}

static unsigned long next_rand(void)
{
    unsigned long x = fuzz_seed;      /* xorshift64: the sequence is the same for a seed */
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

/* A slot: mostly the fuzzer's own low ones, sometimes one of the objects
 * it was given (the watchdog puts back what it deletes or moves away),
 * sometimes the chain area. */
static unsigned long slot(void)
{
    unsigned long r = next_rand();
    switch (r & 15) {
    case 0: return SB_HIGH + (r >> 8) % (SANDBOX_SLOTS - SB_HIGH);
    case 1: return (r >> 8) % SB_FIXED_END;
    default: return SB_FIXED_END + (r >> 8) % (48 - SB_FIXED_END);
    }
}

/* An address worth mapping at or writing into RIP/RSP. */
static unsigned long addr(void)
{
    static const unsigned long some[] = {
        0, 0x1000, 0x200000, 0x400000, 0x40000000, 0x8000000000UL, FUZZ_STACK, FERRY_USER_TOP - 0x1000,
        FERRY_USER_TOP - 0x200000, FERRY_USER_TOP, 0x00007fffffffe000UL, 0x0000800000000000UL,
        0xffff800000000000UL, 0xffffffff80000000UL, 1, ~0UL,
    };
    unsigned long r = next_rand();
    if (r & 1)
        return some[(r >> 1) % (sizeof some / sizeof some[0])];
    return (r >> 8) & ~0xfffUL & 0x7fffffffffffUL;
}

/* A blocked thread's rax is the call it restarts when resumed: without
 * fuzz_debug, never a debug call (see above). */
static unsigned long no_debug_call(unsigned long v)
{
    if (!(fuzz_classes & FZ_DEBUG) && v >= FERRY_SYS_DEBUG_WRITE && v <= FERRY_SYS_FASTPATH_STATS)
        v += FERRY_SYS_FASTPATH_STATS + 1 - FERRY_SYS_DEBUG_WRITE;
    return v;
}

/* ---- one system call: random entry, random RFLAGS bits ---- */

/* Set while a chain or burst runs: a single-step trap would end it early. */
static volatile bool fuzz_no_tf;

static unsigned long rflags_bits(void)
{
    unsigned long r = next_rand();
    if (r & 3)
        return 0;
    unsigned long allowed = RFL_AC | RFL_IOPL | ((r & 0x3f00) == 0 && !fuzz_no_tf ? RFL_TF : 0);
    if (fuzz_classes & FZ_NT_DF)
        allowed |= RFL_NT | RFL_DF;
    return (r >> 16) & allowed;
}

/* The registers of sys_raw_entry, with `set` ORed into RFLAGS just before
 * the entry instruction and the risky bits cleared right after (the C
 * code around must run with DF, NT, AC and TF clear).  The red zone is
 * stepped over: pushfq writes below RSP. */
#define FZ_ENTRY(insn)                                                                      \
    __asm__ __volatile__("sub $128, %%rsp\n\tpushfq\n\torq %[set], (%%rsp)\n\tpopfq\n\t" insn \
                         "\n\tpushfq\n\tandq $~0x44500, (%%rsp)\n\tpopfq\n\tadd $128, %%rsp"   \
                         : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r8), "+r"(r9),     \
                           "+r"(r10)                                                         \
                         : [set] "r"(set)                                                    \
                         : "rcx", "r11", "memory", "cc")

static unsigned long fz_syscall(unsigned long no, unsigned long cptr, struct sys_msg *m)
{
    unsigned long r = next_rand();
    unsigned long set = rflags_bits();
    register unsigned long r10 __asm__("r10") = m->w[3];
    register unsigned long r8 __asm__("r8") = m->w[1];
    register unsigned long r9 __asm__("r9") = m->w[2];
    unsigned long rax = no, rdi = cptr, rsi = m->info, rdx = m->w[0];
    if (r & 1)
        FZ_ENTRY("int $0x80");
    else
        FZ_ENTRY("syscall");
    m->info = rsi;
    m->w[0] = rdx;
    m->w[1] = r8;
    m->w[2] = r9;
    m->w[3] = r10;
    m->badge = rdi;
    fuzz_done++;
    return rax;
}

/* An invocation with words and extra capabilities through fz_syscall. */
static unsigned long fz_invoke(unsigned long cptr, unsigned long label, unsigned long n,
                               const unsigned long *w, unsigned nc, const unsigned long *caps)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(label, n, nc) };
    for (unsigned long i = 0; i < n; i++) {
        if (i < FERRY_MSG_REG_WORDS)
            m.w[i] = w[i];
        else
            ulib_ipc->mr[i] = w[i];
    }
    for (unsigned i = 0; i < nc; i++)
        ulib_ipc->caps_or_badges[i] = caps[i];
    return fz_syscall(FERRY_SYS_CALL, cptr, &m);
}

#define FZ(cptr, label, ncaps, caps, ...)                                                   \
    ({                                                                                      \
        const unsigned long w_[] = { __VA_ARGS__ };                                         \
        fz_invoke((cptr), (label), sizeof w_ / sizeof w_[0], w_, (ncaps), (caps));          \
    })

static const unsigned long sb_root = SB_CNODE;

/* ---- the kinds of operation ---- */

/* Anything at all: today's fuzzer, plus every system call number. */
static void op_raw(void)
{
    static const unsigned long sysnos[] = {
        FERRY_SYS_CALL, FERRY_SYS_CALL, FERRY_SYS_CALL, FERRY_SYS_REPLY_RECV, FERRY_SYS_SEND,
        FERRY_SYS_NBSEND, FERRY_SYS_RECV, FERRY_SYS_NBRECV, FERRY_SYS_REPLY, FERRY_SYS_YIELD,
        FERRY_SYS_NULL, 0, 16, 99, ~0UL, 0x80000000UL,
    };
    unsigned long r = next_rand();
    unsigned long no = sysnos[r % (sizeof sysnos / sizeof sysnos[0])];
    if ((fuzz_classes & FZ_DEBUG) && ((r >> 4) & 7) == 0)
        no = FERRY_SYS_DEBUG_WRITE + (r >> 7) % 7;   /* 10..16 */
    unsigned long label = (r >> 8) & 1 ? (r >> 9) & 0x3f : arg();
    if ((label == FERRY_TABLE_UNMAP || label == FERRY_TABLE_MAP) && !(fuzz_classes & FZ_REMAP))
        label = label == FERRY_TABLE_MAP ? FERRY_FRAME_MAP : FERRY_FRAME_UNMAP;
    struct sys_msg m = { .info = FERRY_MSGINFO(label, (r >> 16) % 9, (r >> 20) % 4),
                         .w = { arg(), arg(), arg(), arg() } };
    for (int i = 0; i < 3; i++)
        ulib_ipc->caps_or_badges[i] = arg() & 63;
    for (int i = 4; i < 8; i++)
        ulib_ipc->mr[i] = arg();
    ulib_ipc->recv_cnode = arg() & 63;
    ulib_ipc->recv_index = arg() & 63;
    ulib_ipc->recv_depth = 64;
    if (label == FERRY_TCB_WRITE_REGISTERS)
        m.w[2] = no_debug_call(m.w[2]);        /* the first value written is rax */
    unsigned long mark = r ^ fuzz_done, back;
    __asm__ __volatile__("movq %0, %%xmm7" : : "r"(mark) : "xmm7");
    unsigned long err = fz_syscall(no, arg() & 63, &m);
    __asm__ __volatile__("movq %%xmm7, %0" : "=r"(back));
    if (back != mark)
        fuzz_fpu_bad++;
    /* The sandbox holds no debug capability: every debug call must fail. */
    if (no >= FERRY_SYS_DEBUG_WRITE && no <= FERRY_SYS_FASTPATH_STATS && err == FERRY_OK)
        fuzz_debug_ok++;
}

/* CNode operations between random slots. */
static void op_cnode(void)
{
    unsigned long r = next_rand(), dst = slot(), src = slot();
    switch (r % 6) {
    case 0: FZ(SB_CNODE, FERRY_CNODE_COPY, 1, &sb_root, dst, 64, src, 64, next_rand() & FERRY_RIGHTS_ALL); break;
    case 1: FZ(SB_CNODE, FERRY_CNODE_MINT, 1, &sb_root, dst, 64, src, 64, FERRY_RIGHTS_ALL, arg()); break;
    case 2: FZ(SB_CNODE, FERRY_CNODE_MOVE, 1, &sb_root, dst, 64, src, 64); break;
    case 3: FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, dst, 64); break;
    case 4: FZ(SB_CNODE, FERRY_CNODE_REVOKE, 0, NULL, dst, 64); break;
    default: FZ(SB_CNODE, FERRY_CNODE_MINT, 1, &sb_root, dst, 64, src, 64, next_rand(), next_rand()); break;
    }
}

/* Retype from the sandbox's untyped (or whatever sits in a random slot). */
static void op_retype(void)
{
    unsigned long r = next_rand();
    unsigned long type = 1 + r % (FERRY_OBJ_RETYPABLE - 1);
    unsigned long bits = type == FERRY_OBJ_UNTYPED ? 4 + (r >> 8) % 16 : type == FERRY_OBJ_CNODE ? 1 + (r >> 8) % 6 : 0;
    unsigned long count = (r >> 16) & 7 ? 1 + ((r >> 20) & 3) : 1 + ((r >> 20) & 255);
    if (type == FERRY_OBJ_FRAME_2M && (r >> 30) & 7)
        type = FERRY_OBJ_FRAME_4K;     /* keep most of the memory for many small objects */
    FZ((r >> 32) & 3 ? SB_UNTYPED : slot(), FERRY_UNTYPED_RETYPE, 1, &sb_root, type, bits, 0, 0, slot(), count);
}

/* Map, unmap and remap tables and frames in the two VSpaces. */
static void op_map(void)
{
    unsigned long r = next_rand(), what = slot();
    unsigned long vs = (r >> 8) & 1 ? SB_VSPACE2 : (r >> 9) & 3 ? SB_VSPACE : slot();
    switch (r % 5) {
    case 0:
        if (fuzz_classes & FZ_REMAP)
            FZ(what, FERRY_TABLE_MAP, 1, &vs, addr());
        break;
    case 1: FZ(what, FERRY_FRAME_MAP, 1, &vs, addr(), next_rand() & 7); break;
    case 2:
        if (fuzz_classes & FZ_REMAP)
            FZ(what, FERRY_TABLE_UNMAP, 0, NULL, 0);
        break;
    case 3: FZ(what, FERRY_FRAME_UNMAP, 0, NULL, 0); break;
    default: {
        /* A fixed table or frame, where it is likeliest to fit. */
        static const unsigned long fixed[] = { SB_PDPT, SB_PD, SB_PT, SB_FRAME };
        unsigned long c = fixed[(r >> 12) & 3];
        if (c != SB_FRAME && !(fuzz_classes & FZ_REMAP))
            c = SB_FRAME;
        unsigned long va = c == SB_FRAME ? ((r >> 16) & 511) << 12
                                         : ((r >> 16) & 3) * 0x200000UL + ((r >> 20) & 1) * 0x40000000UL;
        if ((r >> 24) & 1)
            FZ(c, c == SB_FRAME ? FERRY_FRAME_UNMAP : FERRY_TABLE_UNMAP, 0, NULL, 0);
        else if (c == SB_FRAME)
            FZ(c, FERRY_FRAME_MAP, 1, &vs, va, FERRY_MAP_READ | FERRY_MAP_WRITE);
        else
            FZ(c, FERRY_TABLE_MAP, 1, &vs, va);
        break;
    }
    }
}

/* Register values worth writing: valid code, the restart edge cases, junk. */
static unsigned long reg_value(unsigned idx)
{
    unsigned long r = next_rand();
    if (idx == FERRY_REG_RIP && (r & 3) == 0)
        return (r >> 2) & 1 ? 1 : 2;            /* the restart-PC subtraction wraps */
    if (idx == FERRY_REG_RFLAGS)
        return r;
    unsigned long v = (r & 4) ? addr() : arg();
    /* The sandbox maps the program image writable (process_create shares
     * it with the watchdog): a stack or any pointer there would let the
     * fuzzer's own code overwrite the watchdog's code and data, a test
     * artefact, not a kernel bug. */
    if (v >= IMAGE_START && v < IMAGE_END)
        v = FUZZ_STACK + 0x800;
    if (idx == FERRY_REG_RAX)
        v = no_debug_call(v);
    return v;
}

/* TCB operations on itself or on the victim (which is mostly blocked in
 * Recv, Call or Wait on the sandbox's endpoint and notification). */
static void op_tcb(void)
{
    unsigned long r = next_rand();
    unsigned long t = (r & 7) == 0 ? SB_TCB : (r & 7) == 1 ? slot() : SB_VICTIM;
    switch ((r >> 3) % 10) {
    case 0:
    case 1: {
        unsigned long w[2 + FERRY_REG_COUNT];
        unsigned long n = (r >> 8) % (FERRY_REG_COUNT + 1);
        w[0] = (r >> 16) & 1 ? FERRY_WRITEREGS_RESUME : 0;
        w[1] = n;
        for (unsigned i = 0; i < n; i++)
            w[2 + i] = reg_value(i);
        fz_invoke(t, FERRY_TCB_WRITE_REGISTERS, 2 + n, w, 0, NULL);
        break;
    }
    case 2: FZ(t, FERRY_TCB_SUSPEND, 0, NULL, 0); break;
    case 3: FZ(t, FERRY_TCB_RESUME, 0, NULL, 0); break;
    case 4: FZ(t, FERRY_TCB_READ_REGISTERS, 0, NULL, (r >> 8) % (FERRY_REG_COUNT + 2)); break;
    case 5: { unsigned long a = SB_TCB; FZ(t, FERRY_TCB_SET_PRIORITY, 1, &a, (r >> 8) & 0xff); break; }
    case 6: { unsigned long n = (r >> 8) & 1 ? SB_NTFN : slot(); FZ(t, FERRY_TCB_BIND_NOTIFICATION, 1, &n, 0); break; }
    case 7: FZ(t, FERRY_TCB_UNBIND_NOTIFICATION, 0, NULL, 0); break;
    case 8:
        /* Suspend, write, resume: the victim restarts an IPC call from
         * wherever its registers now say. */
        FZ(SB_VICTIM, FERRY_TCB_SUSPEND, 0, NULL, 0);
        if ((r >> 8) & 1) {
            FZ(SB_VICTIM, FERRY_TCB_WRITE_REGISTERS, 0, NULL, 0, 1, reg_value(0));   /* rax: another call */
        } else {
            unsigned long w[2 + FERRY_REG_RIP + 1] = { 0, FERRY_REG_RIP + 1 };
            for (unsigned i = 0; i <= FERRY_REG_RIP; i++)
                w[2 + i] = reg_value(i);
            fz_invoke(SB_VICTIM, FERRY_TCB_WRITE_REGISTERS, 2 + FERRY_REG_RIP + 1, w, 0, NULL);
        }
        FZ(SB_VICTIM, FERRY_TCB_RESUME, 0, NULL, 0);
        break;
    default:
        if (((r >> 8) & 63) == 0) {        /* rare: a new CSpace, VSpace or IPC buffer for the victim */
            unsigned long caps[3] = { slot(), slot(), slot() };
            FZ(SB_VICTIM, FERRY_TCB_CONFIGURE, 3, caps, SB_EP, next_rand() & ~0x3ffUL & 0x7fffffffffffUL);
        } else if (fuzz_classes & FZ_SMP) {  /* to another CPU (or one past the last: refused) */
            FZ(t, FERRY_TCB_SET_AFFINITY, 0, NULL, (r >> 14) % (fuzz_ncpus + 1));
        }
        break;
    }
}

/* IPC on the sandbox's endpoint and notification (a blocking one stops
 * the fuzzer until the victim or the watchdog frees it). */
static void op_ipc(void)
{
    unsigned long r = next_rand();
    static const unsigned long nos[] = {
        FERRY_SYS_NBSEND, FERRY_SYS_NBRECV, FERRY_SYS_SEND, FERRY_SYS_CALL, FERRY_SYS_REPLY,
        FERRY_SYS_NBSEND, FERRY_SYS_NBRECV, FERRY_SYS_RECV,
    };
    unsigned long no = nos[r & 7];
    unsigned long obj = (r >> 3) & 1 ? SB_NTFN : (r >> 4) & 3 ? SB_EP : slot();
    struct sys_msg m = { .info = FERRY_MSGINFO(arg(), (r >> 8) % 12, (r >> 12) % 4), .w = { arg(), arg(), arg(), arg() } };
    for (int i = 0; i < 3; i++)
        ulib_ipc->caps_or_badges[i] = slot();
    ulib_ipc->recv_cnode = SB_CNODE;
    ulib_ipc->recv_index = slot();
    ulib_ipc->recv_depth = 64;
    fz_syscall(no, obj, &m);
}

/* A derivation chain: copies of copies, thousands deep, then taken apart
 * in one of several ways (revoke from the base, deletes in the middle,
 * or left for the next operations to find). */
static void op_chain(void)
{
    unsigned long r = next_rand();
    unsigned long base = SB_HIGH + (r >> 8) % 64;
    unsigned long depth = 1 + (r >> 16) % (SANDBOX_SLOTS - SB_HIGH - 64);
    static const unsigned long from[] = { SB_EP, SB_NTFN, SB_FRAME, SB_PT, SB_CNODE, SB_VSPACE2 };
    unsigned long src = from[(r >> 32) % 6], made = 0;
    fuzz_chains++;
    for (unsigned long i = 0; i < depth; i++) {
        unsigned long dst = base + i;
        unsigned long err = FZ(SB_CNODE, FERRY_CNODE_COPY, 1, &sb_root, dst, 64, src, 64, FERRY_RIGHTS_ALL);
        if (err == FERRY_E_SLOT_OCCUPIED) {       /* left by an earlier chain or burst */
            FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, dst, 64);
            err = FZ(SB_CNODE, FERRY_CNODE_COPY, 1, &sb_root, dst, 64, src, 64, FERRY_RIGHTS_ALL);
        }
        if (err)
            break;
        src = dst;
        made++;
    }
    if (made > fuzz_chain_max)
        fuzz_chain_max = made;
    switch ((r >> 40) & 3) {
    case 0: FZ(SB_CNODE, FERRY_CNODE_REVOKE, 0, NULL, base, 64); FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, base, 64); break;
    case 1:
        for (unsigned long i = 0; i < made; i += 1 + (next_rand() & 7))
            FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, base + made / 2 + i / 2, 64);
        break;
    case 2:
        for (unsigned long i = made; i-- > 0;)
            FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, base + i, 64);
        break;
    default:
        break;
    }
}

/* Table exhaustion: fill the untyped, the CNode, the ASIDs. */
/* A burst thread: waits in Recv on the sandbox's endpoint, for ever. */
static void burst_thread(void)
{
    for (;;) {
        struct sys_msg m = { 0 };
        sys_raw(FERRY_SYS_RECV, SB_EP, &m);
    }
}

static void op_burst(void)
{
    unsigned long r = next_rand();
    fuzz_bursts++;
    switch (r % ((fuzz_classes & FZ_THREADS) ? 4 : 3)) {
    case 0:
        /* As many objects as memory and slots allow, 256 per Retype. */
        for (unsigned long s = SB_HIGH; s + 256 <= SANDBOX_SLOTS; s += 256)
            if (FZ(SB_UNTYPED, FERRY_UNTYPED_RETYPE, 1, &sb_root, (r >> 8) & 1 ? FERRY_OBJ_ENDPOINT : FERRY_OBJ_TCB,
                   0, 0, 0, s, 256))
                break;
        break;
    case 1:
        /* VSpaces, each given an ASID by a map attempt: 4096 would be all. */
        for (unsigned long s = SB_HIGH; s + 256 <= SANDBOX_SLOTS; s += 256) {
            if (FZ(SB_UNTYPED, FERRY_UNTYPED_RETYPE, 1, &sb_root, FERRY_OBJ_VSPACE, 0, 0, 0, s, 255) ||
                FZ(SB_UNTYPED, FERRY_UNTYPED_RETYPE, 1, &sb_root, FERRY_OBJ_FRAME_4K, 0, 0, 0, s + 255, 1))
                break;
            /* A frame map takes an ASID before it finds no table there. */
            for (unsigned long i = 0; i < 255; i++) {
                unsigned long vs = s + i;
                FZ(s + 255, FERRY_FRAME_MAP, 1, &vs, 0, FERRY_MAP_READ);
            }
        }
        break;
    case 3:
        /* Many threads blocked in Recv, each rewritten, suspended and resumed. */
        for (unsigned long t = SB_HIGH; t < SB_HIGH + FUZZ_BURST_THREADS; t++)
            FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, t, 64);
        for (unsigned long s = SB_HIGH; s < SB_HIGH + FUZZ_BURST_THREADS; s += 256) {
            if (FZ(SB_UNTYPED, FERRY_UNTYPED_RETYPE, 1, &sb_root, FERRY_OBJ_TCB, 0, 0, 0, s, 256))
                break;
            for (unsigned long t = s; t < s + 256; t++) {
                unsigned long caps[3] = { SB_CNODE, SB_VSPACE, SB_FRAME };
                FZ(t, FERRY_TCB_CONFIGURE, 3, caps, 0, 0);
                unsigned long w[2 + FERRY_REG_RSP + 1] = { FERRY_WRITEREGS_RESUME, FERRY_REG_RSP + 1 };
                w[2 + FERRY_REG_RIP] = (unsigned long)burst_thread;
                w[2 + FERRY_REG_RSP] = VICTIM_STACK + 0x800;
                unsigned long auth = SB_TCB;
                FZ(t, FERRY_TCB_SET_PRIORITY, 1, &auth, 255);
                fz_invoke(t, FERRY_TCB_WRITE_REGISTERS, 2 + FERRY_REG_RSP + 1, w, 0, NULL);
            }
        }
        sys_yield();                    /* they run into Recv and block */
        for (unsigned long t = SB_HIGH; t < SB_HIGH + FUZZ_BURST_THREADS; t++) {
            unsigned long w[2 + FERRY_REG_RIP + 1] = { 0, FERRY_REG_RIP + 1 };
            w[2 + FERRY_REG_RAX] = FERRY_SYS_RECV;
            w[2 + FERRY_REG_RIP] = 1;
            fz_invoke(t, FERRY_TCB_WRITE_REGISTERS, 2 + FERRY_REG_RIP + 1, w, 0, NULL);
            FZ(t, FERRY_TCB_SUSPEND, 0, NULL, 0);
        }
        for (unsigned long t = SB_HIGH; t < SB_HIGH + FUZZ_BURST_THREADS; t++)
            FZ(t, FERRY_TCB_RESUME, 0, NULL, 0);
        sys_yield();
        break;
    default:
        /* Give it all back: the high slots empty, the memory reusable. */
        for (unsigned long s = SB_HIGH; s < SANDBOX_SLOTS; s++)
            FZ(SB_CNODE, FERRY_CNODE_DELETE, 0, NULL, s, 64);
        break;
    }
}

/* A far jump into the 32-bit user code segment, then an entry from
 * compatibility mode.  Code at label 1 runs as 32-bit code: the bytes of
 * syscall (0f 05), int 0x80 (cd 80) and ud2 (0f 0b) mean the same there.
 * It never comes back: it faults (ud2, or the far jump itself once the
 * kernel has no such segment), and the watchdog restarts it.  (A far
 * jump through memory, not lretq: QEMU's lretq reads the stack as a
 * supervisor access, which SMAP refuses, so it never got there.) */
static void op_compat(void)
{
    unsigned long r = next_rand();
    bool use_syscall = (fuzz_classes & FZ_COMPAT) && (r & 1);
    fuzz_compat_tries++;
    fuzz_done++;
    if (use_syscall)
        __asm__ __volatile__("sub $128, %%rsp\n\tmovl %0, %%eax\n\tleaq 1f(%%rip), %%rdx\n\t"
                             "movl %%edx, (%%rsp)\n\tmovw %1, 4(%%rsp)\n\tljmpl *(%%rsp)\n"
                             "1:\n\t.byte 0x0f, 0x05\n\t.byte 0x0f, 0x0b"
                             : : "i"(FERRY_SYS_NULL), "i"(SEL_USER_CODE32) : "rax", "rdx", "memory");
    else
        __asm__ __volatile__("sub $128, %%rsp\n\tmovl %0, %%eax\n\tleaq 1f(%%rip), %%rdx\n\t"
                             "movl %%edx, (%%rsp)\n\tmovw %1, 4(%%rsp)\n\tljmpl *(%%rsp)\n"
                             "1:\n\t.byte 0xcd, 0x80\n\t.byte 0x0f, 0x0b"
                             : : "i"(FERRY_SYS_NULL), "i"(SEL_USER_CODE32) : "rax", "rdx", "memory");
    __builtin_unreachable();
}

/* The mix, per mille; fuzz_ops= (a mask of these rows, default all) narrows
 * a replay down to the kinds that matter. */
static const struct {
    void (*fn)(void);
    unsigned per_mille, one_in;   /* chosen when r < per_mille (cumulative), then 1 in one_in */
} ops[] = {
    { op_raw, 400, 1 },     { op_cnode, 550, 1 }, { op_retype, 650, 1 }, { op_map, 800, 1 },
    { op_tcb, 920, 1 },     { op_ipc, 995, 1 },   { op_compat, 997, 1 }, { op_chain, 999, 8 },
    { op_burst, 1000, 32 },
};
static volatile unsigned long fuzz_ops = ~0UL;

static void fuzzer(void)
{
    for (;;) {
        unsigned long r = next_rand() % 1000;
        unsigned i = 0;
        while (r >= ops[i].per_mille)
            i++;
        if ((fuzz_ops >> i) & 1 && (ops[i].one_in == 1 || next_rand() % ops[i].one_in == 0)) {
            fuzz_no_tf = ops[i].one_in > 1;
            ops[i].fn();
            fuzz_no_tf = false;
        }
    }
}

/* The victim: waits in Recv, Call, Wait or Send, over and over, for the
 * fuzzer to rewrite, suspend and resume it. */
static void victim(void)
{
    for (;;) {
        unsigned long x = victim_seed;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        victim_seed = x;
        victim_runs++;
        struct sys_msg m = { .info = FERRY_MSGINFO(x >> 60, (x >> 8) % 6, 0), .w = { x, ~x, 0, 0 } };
        static const unsigned long nos[] = { FERRY_SYS_RECV, FERRY_SYS_CALL, FERRY_SYS_SEND, FERRY_SYS_REPLY_RECV };
        sys_raw(nos[x & 3], (x >> 4) & 1 ? SB_NTFN : SB_EP, &m);
    }
}

/* ---- the watchdog (the root task) ---- */

struct sandbox {
    unsigned long cnode, root, ut_parent;
    struct inv_state empty;             /* the kernel's state while the sandbox's memory was unused */
    struct process p;
    unsigned long victim;
    unsigned long give[SB_FIXED_END];   /* the originals of the sandbox's fixed slots */
};

/* Put each given capability back into its fixed slot (a copy; the
 * untyped only if it was moved back to the watchdog, which never happens:
 * where the fuzzer moved it, it stays). */
static void refill(const struct sandbox *sb)
{
    const unsigned long root_cptr = FERRY_CAP_INIT_CNODE;
    for (unsigned i = SB_CNODE; i < SB_FIXED_END; i++) {
        if (i == SB_UNTYPED)
            continue;
        unsigned long args[] = { i, SANDBOX_RADIX, sb->give[i], 64, FERRY_RIGHTS_ALL };
        ferry_invoke(sb->cnode, FERRY_CNODE_COPY, 5, args, 1, &root_cptr, NULL);  /* occupied: fine */
    }
}

/* Start a thread of the sandbox over: its CSpace, VSpace, IPC buffer,
 * fault endpoint, priority and registers as at the start. */
static bool restart(const struct sandbox *sb, unsigned long tcb, void (*fn)(void), unsigned long stack)
{
    unsigned long cpu = tcb == sb->victim ? victim_cpu() : fuzzer_cpu();
    unsigned long regs[FERRY_REG_COUNT] = { 0 };
    regs[FERRY_REG_RIP] = (unsigned long)fn;
    regs[FERRY_REG_RSP] = stack + 4096 - 8;
    regs[FERRY_REG_RFLAGS] = 0x202;
    return ferry_tcb_suspend(tcb) == FERRY_OK &&
           ferry_tcb_configure(tcb, sb->root, sb->p.vspace, sb->p.ipc_frame, FERRY_ROOT_IPC_BUFFER, SB_EP) == FERRY_OK &&
           ferry_tcb_set_mcpriority(tcb, FERRY_CAP_INIT_TCB, 255) == FERRY_OK &&
           ferry_tcb_set_priority(tcb, FERRY_CAP_INIT_TCB, 255) == FERRY_OK &&
           ferry_tcb_set_affinity(tcb, cpu) == FERRY_OK &&
           ferry_tcb_write_registers(tcb, true, FERRY_REG_COUNT, regs) == FERRY_OK;
}

static bool sandbox_create(struct sandbox *sb)
{
    /* The sandbox CSpace: one CNode whose guard makes a slot number a cptr. */
    sb->cnode = object_alloc(FERRY_OBJ_CNODE, SANDBOX_RADIX);
    sb->root = slot_alloc();
    CHECK(sb->cnode && sb->root);
    CHECK_OK(ferry_cnode_mint(sb->root, sb->cnode, FERRY_RIGHTS_ALL, FERRY_CNODE_GUARD(0, 64 - SANDBOX_RADIX)));
    CHECK_OK(process_create(&sb->p, fuzzer, FUZZ_STACK, 255, false));
    /* The victim: a second thread in the sandbox's VSpace, own stack. */
    sb->victim = object_alloc(FERRY_OBJ_TCB, 0);
    unsigned long vstack = object_alloc(FERRY_OBJ_FRAME_4K, 0);
    CHECK(sb->victim && vstack);
    CHECK_OK(ferry_frame_map(vstack, sb->p.vspace, VICTIM_STACK, FERRY_MAP_READ | FERRY_MAP_WRITE));
    unsigned long vspace2 = vspace_create();
    CHECK(vspace2 != 0);
    if (!(fuzz_classes & FZ_REMAP)) {
        /* Tables of its own the sandbox cannot unmap: frames go at 0-2 MiB. */
        ALLOC(pdpt2, FERRY_OBJ_PDPT, 0);
        ALLOC(pd2, FERRY_OBJ_PD, 0);
        ALLOC(pt2, FERRY_OBJ_PT, 0);
        CHECK_OK(ferry_table_map(pdpt2, vspace2, 0));
        CHECK_OK(ferry_table_map(pd2, vspace2, 0));
        CHECK_OK(ferry_table_map(pt2, vspace2, 0));
    }
    /* Its memory: a child untyped of one the watchdog keeps, so that one
     * revoke at the end returns every byte the sandbox made objects of. */
    sb->ut_parent = object_alloc(FERRY_OBJ_UNTYPED, SANDBOX_UT_BITS);
    unsigned long ut = slot_alloc();
    CHECK(sb->ut_parent && ut);
    CHECK_OK(ferry_untyped_retype(sb->ut_parent, FERRY_OBJ_UNTYPED, SANDBOX_UT_BITS, ut, 1));
    /* The free memory now, with the sandbox's untyped unused: after the
     * final revoke it must be this again, to the byte.  The page tables it
     * is given come from its own untyped (they are moved in, the only
     * capabilities to them, so it may destroy them: they must not be
     * memory from elsewhere). */
    unsigned long frame = object_alloc(FERRY_OBJ_FRAME_4K, 0), ep = object_alloc(FERRY_OBJ_ENDPOINT, 0),
                  ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
    CHECK(kernel_check("before the sandbox", &sb->empty));
    unsigned long tables[3] = { slot_alloc(), slot_alloc(), slot_alloc() };
    static const unsigned long table_types[3] = { FERRY_OBJ_PT, FERRY_OBJ_PD, FERRY_OBJ_PDPT };
    for (unsigned i = 0; i < 3; i++) {
        CHECK(tables[i] != 0);
        CHECK_OK(ferry_untyped_retype(ut, table_types[i], 0, tables[i], 1));
    }
    unsigned long *give = sb->give;
    const unsigned long given[SB_FIXED_END] = {
        [SB_CNODE] = sb->root, [SB_TCB] = sb->p.tcb, [SB_VSPACE] = sb->p.vspace, [SB_UNTYPED] = ut,
        [SB_FRAME] = frame, [SB_EP] = ep, [SB_NTFN] = ntfn, [SB_PT] = tables[0],
        [SB_PD] = tables[1], [SB_PDPT] = tables[2],
        [SB_VICTIM] = sb->victim, [SB_VSPACE2] = vspace2,
    };
    for (unsigned i = 0; i < SB_FIXED_END; i++)
        give[i] = given[i];
    const unsigned long root_cptr = FERRY_CAP_INIT_CNODE;
    for (unsigned i = SB_CNODE; i < SB_FIXED_END; i++) {
        CHECK(give[i] != 0);
        /* slot i of the sandbox, named by depth radix from the unguarded
         * CNode; untyped memory and unmapped page tables cannot be
         * copied, only moved */
        unsigned long args[] = { i, SANDBOX_RADIX, give[i], 64, FERRY_RIGHTS_ALL };
        bool move = i == SB_UNTYPED || i == SB_PT || i == SB_PD || i == SB_PDPT;
        CHECK_OK(ferry_invoke(sb->cnode, move ? FERRY_CNODE_MOVE : FERRY_CNODE_COPY, move ? 4 : 5,
                              args, 1, &root_cptr, NULL));
    }
    CHECK(restart(sb, sb->victim, victim, VICTIM_STACK));
    CHECK(restart(sb, sb->p.tcb, fuzzer, FUZZ_STACK));
    /* Neither runs before fuzz_run has counted the free memory (a timer
     * tick could otherwise let the victim make objects first). */
    CHECK_OK(ferry_tcb_suspend(sb->p.tcb));
    CHECK_OK(ferry_tcb_suspend(sb->victim));
    return true;
}

static bool fuzz_run(struct sandbox *sb, unsigned long seed);

static bool syscall_fuzz(void)
{
    uint64_t seed = 0, v;
    if (cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_seed", &seed) == 1 && seed)
        fuzz_seed = seed;
    seed = fuzz_seed;
    fuzz_classes = FUZZ_DEFAULT_CLASSES;
    if (cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_all", &v) == 1 && v)
        fuzz_classes |= FZ_DEBUG | FZ_NT_DF | FZ_COMPAT | FZ_REMAP | FZ_THREADS | FZ_SMP;
    static const struct { const char *word; unsigned long bit; } words[] = {
        { "fuzz_debug", FZ_DEBUG }, { "fuzz_nt_df", FZ_NT_DF }, { "fuzz_compat", FZ_COMPAT },
        { "fuzz_remap", FZ_REMAP }, { "fuzz_threads", FZ_THREADS }, { "fuzz_smp", FZ_SMP },
    };
    for (unsigned i = 0; i < sizeof words / sizeof words[0]; i++)
        if (cmdline_get_u64(ulib_bootinfo->cmdline, words[i].word, &v) == 1)
            fuzz_classes = v ? fuzz_classes | words[i].bit : fuzz_classes & ~words[i].bit;
    if (cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_ops", &v) == 1)
        fuzz_ops = v;
    fuzz_ncpus = ulib_bootinfo->ncpus ? ulib_bootinfo->ncpus : 1;

    static struct sandbox sb;
    if (!sandbox_create(&sb))
        return false;
    bool ok = fuzz_run(&sb, seed);
    /* Whatever happened, the sandbox's threads stop here. */
    ferry_tcb_suspend(sb.p.tcb);
    ferry_tcb_suspend(sb.victim);
    return ok;
}

static bool fuzz_run(struct sandbox *psb, unsigned long seed)
{
    struct sandbox sb = *psb;
    uint64_t calls = FUZZ_CALLS, check_every = CHECK_EVERY;
    cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_calls", &calls);
    cmdline_get_u64(ulib_bootinfo->cmdline, "fuzz_check_every", &check_every);
    struct inv_state before, now;
    CHECK(kernel_check("before the fuzz", &before));
    printf("    seed %#lx, %lu calls, classes %#lx (debug %s, NT/DF %s, compat syscall %s, table remap %s, "
           "thread burst %s, smp %s: fuzzer on CPU %lu, victim on CPU %lu of %lu)\n", seed, calls, fuzz_classes,
           fuzz_classes & FZ_DEBUG ? "on" : "off", fuzz_classes & FZ_NT_DF ? "on" : "off",
           fuzz_classes & FZ_COMPAT ? "on" : "off", fuzz_classes & FZ_REMAP ? "on" : "off",
           fuzz_classes & FZ_THREADS ? "on" : "off", fuzz_classes & FZ_SMP ? "on" : "off", fuzzer_cpu(),
           victim_cpu(), fuzz_ncpus);
    fuzz_done = fuzz_fpu_bad = fuzz_debug_ok = 0;
    fuzz_chains = fuzz_chain_max = fuzz_bursts = fuzz_compat_tries = 0;
    unsigned long restarts = 0, last = 0, still = 0, checks = 0, next_check = check_every;
    unsigned long progress = calls / 10 ? calls / 10 : 1, next_progress = progress;
    CHECK_OK(ferry_tcb_resume(sb.victim));
    CHECK_OK(ferry_tcb_resume(sb.p.tcb));
    /* With the fuzzer on another CPU a Yield here returns at once: each
     * look then waits a while (about 5 ms of TSC), yielding meanwhile. */
    unsigned long hz = ulib_bootinfo->tsc_hz ? ulib_bootinfo->tsc_hz : 3000000000UL;
    unsigned long poll = fuzzer_cpu() ? hz / 200 : 0;
    while (fuzz_done < calls && restarts < calls) {
        __asm__ __volatile__("movq %0, %%xmm7" : : "r"(restarts) : "xmm7");   /* our own SSE state */
        unsigned long until = fuzz_rdtsc() + poll;
        do
            sys_yield();
        while (fuzz_rdtsc() < until);
        if (fuzz_done != last) {
            last = fuzz_done;
            still = 0;
        } else if (++still > 3) {
            /* Blocked, faulted or stopped itself: start it (and the victim) over. */
            refill(&sb);
            CHECK(restart(&sb, sb.p.tcb, fuzzer, FUZZ_STACK));
            if (restarts % 8 == 0)
                CHECK(restart(&sb, sb.victim, victim, VICTIM_STACK));
            restarts++;
            still = 0;
        }
        if (check_every && fuzz_done >= next_check) {
            next_check = fuzz_done + check_every;
            checks++;
            if (!kernel_check("during the fuzz", &now)) {
                printf("    fuzz: invariant broken after %lu calls: replay with fuzz_seed=%#lx\n", fuzz_done, seed);
                return false;
            }
        }
        if (fuzz_done >= next_progress) {
            next_progress += progress;
            printf("    fuzz: seed %#lx: %lu calls, %lu restarts\n", seed, fuzz_done, restarts);
        }
    }
    ferry_tcb_suspend(sb.p.tcb);
    ferry_tcb_suspend(sb.victim);
    printf("    %lu random system calls, %lu restarts, %lu victim rounds, %lu chains (deepest %lu), "
           "%lu bursts, %lu compat-mode entries, %lu invariant checks\n",
           fuzz_done, restarts, victim_runs, fuzz_chains, fuzz_chain_max, fuzz_bursts, fuzz_compat_tries, checks);
    bool ok = kernel_check("after the fuzz", &now);
    /* Everything the sandbox made goes; its memory must come back whole. */
    CHECK_OK(ferry_cnode_revoke(sb.ut_parent));
    struct inv_state after;
    ok = kernel_check("after the revoke", &after) && ok;
    printf("    untyped bytes free: %lu with the sandbox's memory unused, %lu after the revoke\n",
           sb.empty.free_bytes, after.free_bytes);
    if (!ok || fuzz_done < calls || fuzz_fpu_bad || fuzz_debug_ok || after.free_bytes != sb.empty.free_bytes) {
        printf("    fuzz: FAILED (%lu FPU mismatches, %lu debug calls accepted without capability): "
               "replay with fuzz_seed=%#lx\n", fuzz_fpu_bad, fuzz_debug_ok, seed);
        return false;
    }
    /* The kernel still works for everyone else. */
    unsigned long pa;
    ALLOC(f, FERRY_OBJ_FRAME_4K, 0);
    CHECK_OK(ferry_frame_address(f, &pa));
    printf("    fuzz: done, seed %#lx, %lu calls\n", seed, fuzz_done);
    return true;
}

const struct utest utests_fuzz[] = {
    UTEST(syscall_fuzz),
};
const size_t utests_fuzz_n = sizeof utests_fuzz / sizeof utests_fuzz[0];
