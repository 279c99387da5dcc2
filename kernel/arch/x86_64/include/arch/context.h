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

#ifndef __ASSEMBLER__
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

/* How the thread last entered the kernel, and so how it may leave:
 * after `syscall`, by `sysret` (which clobbers RCX and R11, as the ABI
 * allows); after anything else, or once its registers were written, by
 * `iretq`, which restores every register. */
enum ctx_entry { CTX_ENTRY_SYSCALL = 0, CTX_ENTRY_FULL = 1 };

/* Bits of user_context.bases and percpu.bases_live. */
#define CTX_BASE_FS 0x1UL
#define CTX_BASE_GS 0x2UL

struct user_context {
    word_t regs[CTX_NREGS];
    word_t entry;                             /* enum ctx_entry */
    word_t error_code;                        /* of the last exception */
    word_t vector;                            /* last trap vector, for fault IPC */
    word_t bases;                             /* CTX_BASE_*: which of FS, GS base is not 0 (thread.c) */
    uint8_t fpu[512] __attribute__((aligned(16)));  /* FXSAVE area */
};

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

#endif /* __ASSEMBLER__ */
#endif
