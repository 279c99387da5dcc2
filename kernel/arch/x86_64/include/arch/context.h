/* context.h: the saved user-mode register state of a thread (x86-64).
 *
 * Entry stubs save and restore this layout; its order is fixed by the
 * assembly in entry.S (byte offsets CTX_*_OFF below, for it).  Core code
 * reads and writes registers only through the accessors at the bottom.
 *
 * RCX and R11 sit side by side just below RIP: after `syscall` they hold
 * RIP and RFLAGS, so syscall_entry skips both slots with one instruction
 * and restore_user_sysret likewise; ctx_get reports them as the CPU left
 * them (see ctx_get_reg). */
#ifndef FERRY_ARCH_CONTEXT_H
#define FERRY_ARCH_CONTEXT_H

#define CTX_RAX_OFF    (0 * 8)
#define CTX_RBX_OFF    (1 * 8)
#define CTX_RDX_OFF    (2 * 8)
#define CTX_RSI_OFF    (3 * 8)
#define CTX_RDI_OFF    (4 * 8)
#define CTX_RBP_OFF    (5 * 8)
#define CTX_R8_OFF     (6 * 8)
#define CTX_R9_OFF     (7 * 8)
#define CTX_R10_OFF    (8 * 8)
#define CTX_R12_OFF    (9 * 8)
#define CTX_R13_OFF    (10 * 8)
#define CTX_R14_OFF    (11 * 8)
#define CTX_R15_OFF    (12 * 8)
#define CTX_RCX_OFF    (13 * 8)
#define CTX_R11_OFF    (14 * 8)
#define CTX_RIP_OFF    (15 * 8)
#define CTX_RSP_OFF    (16 * 8)
#define CTX_RFLAGS_OFF (17 * 8)
#define CTX_ENTRY_OFF  (20 * 8)     /* user_context.entry, after FS_BASE and GS_BASE */

#ifndef __ASSEMBLER__
#include <arch/x86.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <types.h>

enum ctx_reg {
    CTX_RAX, CTX_RBX, CTX_RDX, CTX_RSI, CTX_RDI, CTX_RBP,
    CTX_R8, CTX_R9, CTX_R10, CTX_R12, CTX_R13, CTX_R14, CTX_R15,
    CTX_RCX, CTX_R11,
    CTX_RIP, CTX_RSP, CTX_RFLAGS, CTX_FS_BASE, CTX_GS_BASE,
    CTX_NREGS
};
_Static_assert(CTX_RAX * 8 == CTX_RAX_OFF && CTX_RBX * 8 == CTX_RBX_OFF && CTX_RDX * 8 == CTX_RDX_OFF &&
               CTX_RSI * 8 == CTX_RSI_OFF && CTX_RDI * 8 == CTX_RDI_OFF && CTX_RBP * 8 == CTX_RBP_OFF &&
               CTX_R8 * 8 == CTX_R8_OFF && CTX_R9 * 8 == CTX_R9_OFF && CTX_R10 * 8 == CTX_R10_OFF &&
               CTX_R12 * 8 == CTX_R12_OFF && CTX_R13 * 8 == CTX_R13_OFF && CTX_R14 * 8 == CTX_R14_OFF &&
               CTX_R15 * 8 == CTX_R15_OFF && CTX_RCX * 8 == CTX_RCX_OFF && CTX_R11 * 8 == CTX_R11_OFF &&
               CTX_RIP * 8 == CTX_RIP_OFF && CTX_RSP * 8 == CTX_RSP_OFF && CTX_RFLAGS * 8 == CTX_RFLAGS_OFF,
               "entry.S offsets");
/* ReadRegisters/WriteRegisters number the registers as the context
 * stores them (uapi/ferry/arch_x86_64.h), so an index is a slot. */
_Static_assert((int)FERRY_REG_RAX == (int)CTX_RAX && (int)FERRY_REG_R15 == (int)CTX_R15, "reg order");
_Static_assert((int)FERRY_REG_RCX == (int)CTX_RCX && (int)FERRY_REG_R11 == (int)CTX_R11, "reg order");
_Static_assert((int)FERRY_REG_RDX == (int)CTX_RDX && (int)FERRY_REG_R10 == (int)CTX_R10, "reg order");
_Static_assert((int)FERRY_REG_RIP == (int)CTX_RIP && (int)FERRY_REG_RSP == (int)CTX_RSP, "reg order");
_Static_assert((int)FERRY_REG_RFLAGS == (int)CTX_RFLAGS && (int)FERRY_REG_FS_BASE == (int)CTX_FS_BASE, "reg order");
_Static_assert((int)FERRY_REG_GS_BASE == (int)CTX_GS_BASE && (int)FERRY_REG_COUNT == (int)CTX_NREGS, "reg order");

/* How the thread last entered the kernel, and so how it may leave:
 * after `syscall`, by `sysret` (which clobbers RCX and R11, as the ABI
 * allows); after anything else, or once its registers were written, by
 * `iretq`, which restores every register. */
enum ctx_entry { CTX_ENTRY_SYSCALL = 0, CTX_ENTRY_FULL = 1 };
/* While a thread runs in user mode its entry reads CTX_ENTRY_SYSCALL:
 * sysret leaves it so, and restore_user_iret sets it on the way out
 * (entry.S), since every other way in (traps.c's trap save, int 0x80,
 * the compatibility-mode syscall, a stall) writes its own value.  So a
 * `syscall` finds it already right, and the IPC fast path does not store
 * it (one store per leg). */

/* Bits of user_context.bases and percpu.bases_live. */
#define CTX_BASE_FS 0x1UL
#define CTX_BASE_GS 0x2UL

struct user_context {
    word_t regs[CTX_NREGS];
    /* entry (enum ctx_entry, 32 bits: every way in writes it, and only
     * it) beside fp_home, the IPC fast path's "ready" half (object/tcb.h,
     * tcb_set_fp_home), which no entry touches: the assembly fast path
     * tests both with one 64-bit compare (entry_home). */
    union {
        struct {
            uint32_t entry;
            uint32_t fp_home;
        };
        uint64_t entry_home;
    };
    word_t error_code;                        /* of the last exception */
    word_t vector;                            /* last trap vector, for fault IPC */
    word_t bases;                             /* CTX_BASE_*: which of FS, GS base is not 0 (thread.c) */
    uint8_t fpu[512] __attribute__((aligned(16)));  /* FXSAVE area */
};

_Static_assert(__builtin_offsetof(struct user_context, entry) == CTX_ENTRY_OFF, "entry.S's CTX_ENTRY_OFF");
_Static_assert(CTX_ENTRY_SYSCALL == 0, "restore_user_iret stores 0");
_Static_assert(__builtin_offsetof(struct user_context, fp_home) == CTX_ENTRY_OFF + 4,
               "entry low, fp_home high: restore_user_iret's 32-bit store leaves fp_home");

/* After `syscall` the CPU left RIP in RCX and RFLAGS in R11, and
 * syscall_entry did not store those two slots: they are read as the CPU
 * left them, and filled in before anything may leave by iretq (which
 * restores them). */
static inline word_t ctx_get(const struct user_context *c, enum ctx_reg r)
{
    if (c->entry == CTX_ENTRY_SYSCALL && (r == CTX_RCX || r == CTX_R11))
        return c->regs[r == CTX_RCX ? CTX_RIP : CTX_RFLAGS];
    return c->regs[r];
}

/* The thread will leave by iretq, with every register as saved. */
static inline void ctx_make_full(struct user_context *c)
{
    if (c->entry == CTX_ENTRY_SYSCALL) {
        c->regs[CTX_RCX] = c->regs[CTX_RIP];
        c->regs[CTX_R11] = c->regs[CTX_RFLAGS];
        c->entry = CTX_ENTRY_FULL;
    }
}

/* The raw slot; a write on a user's behalf calls ctx_make_full first. */
static inline void ctx_set(struct user_context *c, enum ctx_reg r, word_t v) { c->regs[r] = v; }

/* The syscall register ABI (uapi/ferry/syscall.h), for core code that must
 * not name registers. */
static const enum ctx_reg ctx_mr_regs[4] = { CTX_RDX, CTX_R8, CTX_R9, CTX_R10 };
static inline word_t ctx_get_mr(const struct user_context *c, unsigned i) { return c->regs[ctx_mr_regs[i]]; }
static inline void ctx_set_mr(struct user_context *c, unsigned i, word_t v) { c->regs[ctx_mr_regs[i]] = v; }
static inline void ctx_set_result(struct user_context *c, word_t err) { c->regs[CTX_RAX] = err; }
static inline word_t ctx_get_msginfo(const struct user_context *c) { return c->regs[CTX_RSI]; }
static inline void ctx_set_msginfo(struct user_context *c, word_t v) { c->regs[CTX_RSI] = v; }
static inline void ctx_set_badge(struct user_context *c, word_t v) { c->regs[CTX_RDI] = v; }
static inline word_t ctx_get_cptr(const struct user_context *c) { return c->regs[CTX_RDI]; }
/* An IPC that ends in an error after waiting: err, and no badge, message
 * info or words (the IPC fast path does not save a waiting thread's
 * message registers, so they are not the call's own any more). */
static inline void ctx_set_ipc_error(struct user_context *c, word_t err)
{
    c->regs[CTX_RAX] = err;
    c->regs[CTX_RDI] = 0;
    c->regs[CTX_RSI] = 0;
    for (unsigned i = 0; i < sizeof ctx_mr_regs / sizeof ctx_mr_regs[0]; i++)
        c->regs[ctx_mr_regs[i]] = 0;
}

/* ---- what core and object code need beyond the message registers ------ */

/* The flags WriteRegisters may set: CF PF AF ZF SF OF. */
#define CTX_RFLAGS_WRITABLE 0x8d5UL

/* Both `syscall` (0f 05) and `int $0x80` (cd 80) are two bytes long. */
#define CTX_SYSCALL_INSN_LEN 2

/* The user program counter: where the thread resumes (or faulted). */
static inline word_t ctx_get_pc(const struct user_context *c) { return c->regs[CTX_RIP]; }

/* Back onto the system call instruction, so that the thread makes the
 * same call again when it next runs; false (and nothing moved) when the
 * PC is too low to have come from one. */
static inline bool ctx_restart_syscall(struct user_context *c)
{
    if (c->regs[CTX_RIP] < CTX_SYSCALL_INSN_LEN)
        return false;
    c->regs[CTX_RIP] -= CTX_SYSCALL_INSN_LEN;
    return true;
}

/* A new thread's registers: interrupts on, everything else 0. */
static inline void ctx_init_user(struct user_context *c) { c->regs[CTX_RFLAGS] = RFLAGS_IF | RFLAGS_FIXED; }

/* The first thread's start: PC, stack and the C ABI's first argument. */
static inline void ctx_set_start(struct user_context *c, word_t pc, word_t sp, word_t arg0)
{
    c->regs[CTX_RIP] = pc;
    c->regs[CTX_RSP] = sp;
    c->regs[CTX_RDI] = arg0;
}

/* How the thread entered the kernel this time (see enum ctx_entry). */
static inline void ctx_entered_by_syscall(struct user_context *c) { c->entry = CTX_ENTRY_SYSCALL; }
static inline void ctx_entered_by_trap(struct user_context *c) { c->entry = CTX_ENTRY_FULL; }

/* ReadRegisters/WriteRegisters, register reg (FERRY_REG_*, < FERRY_REG_COUNT):
 * a user-supplied value is checked (addresses within user space: sysret to
 * a non-canonical RIP would fault in ring 0) and RFLAGS sanitised. */
static inline word_t ctx_get_user_reg(const struct user_context *c, word_t reg)
{
    return ctx_get(c, (enum ctx_reg)reg);
}

static inline word_t ctx_check_user_reg(word_t reg, word_t value)
{
    switch (reg) {
    case FERRY_REG_RIP:
    case FERRY_REG_RSP:
    case FERRY_REG_FS_BASE:
    case FERRY_REG_GS_BASE:
        return value < FERRY_USER_TOP ? FERRY_OK : FERRY_E_INVALID_ARG;
    default:
        return reg < FERRY_REG_COUNT ? FERRY_OK : FERRY_E_RANGE;
    }
}

/* Writes a checked value; true when it was an FS or GS base (thread.c's
 * arch_user_bases_written must then be told). */
static inline bool ctx_set_user_reg(struct user_context *c, word_t reg, word_t value)
{
    if (reg == FERRY_REG_RFLAGS)
        value = (value & CTX_RFLAGS_WRITABLE) | RFLAGS_IF | RFLAGS_FIXED;
    /* sysret would clobber the RCX/R11 written here: leave by iretq. */
    ctx_make_full(c);
    ctx_set(c, (enum ctx_reg)reg, value);
    return reg == FERRY_REG_FS_BASE || reg == FERRY_REG_GS_BASE;
}

#endif /* __ASSEMBLER__ */
#endif
