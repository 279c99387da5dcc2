/* context.h: the saved user-mode register state of a thread (x86-64).
 *
 * Entry stubs save and restore this layout; its order is fixed by the
 * assembly in entry.S (offsets in CTX_* below).  Core code reads and writes
 * registers only through the accessors at the bottom. */
#ifndef FERRY_ARCH_CONTEXT_H
#define FERRY_ARCH_CONTEXT_H

#include <types.h>

enum ctx_reg {
    CTX_RAX, CTX_RBX, CTX_RCX, CTX_RDX, CTX_RSI, CTX_RDI, CTX_RBP,
    CTX_R8, CTX_R9, CTX_R10, CTX_R11, CTX_R12, CTX_R13, CTX_R14, CTX_R15,
    CTX_RIP, CTX_RSP, CTX_RFLAGS, CTX_FS_BASE, CTX_GS_BASE,
    CTX_NREGS
};

/* How the thread last entered the kernel, and so how it may leave:
 * after `syscall`, by `sysret` (which clobbers RCX and R11, as the ABI
 * allows); after anything else, or once its registers were written, by
 * `iretq`, which restores every register. */
enum ctx_entry { CTX_ENTRY_SYSCALL = 0, CTX_ENTRY_FULL = 1 };

struct user_context {
    word_t regs[CTX_NREGS];
    word_t entry;                             /* enum ctx_entry */
    word_t error_code;                        /* of the last exception */
    word_t vector;                            /* last trap vector, for fault IPC */
    uint8_t fpu[512] __attribute__((aligned(16)));  /* FXSAVE area */
};

static inline word_t ctx_get(const struct user_context *c, enum ctx_reg r) { return c->regs[r]; }
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

#endif
