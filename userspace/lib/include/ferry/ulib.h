/* ulib.h: the user-space library: printing, capability invocations with
 * their error reporting, and small helpers shared by the root task, the
 * in-guest tests and the benchmarks. */
#ifndef FERRY_USER_ULIB_H
#define FERRY_USER_ULIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ferry/arch_x86_64.h>
#include <ferry/bootinfo.h>
#include <ferry/errors.h>
#include <ferry/invocation.h>
#include <ferry/objtypes.h>
#include <ferry/rights.h>
#include <ferry/sys.h>

/* The calling thread's IPC buffer.  Threads other than the root task that
 * use the calls below set it first (one thread at a time uses the lib). */
extern struct ferry_ipc_buffer *ulib_ipc;

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
void puts_raw(const char *s, size_t n);

/* The kernel's freestanding string routines and command-line parser are
 * shared with user space (lib/string.c, lib/cmdline.c). */
#include <cmdline.h>
#include <kstring.h>

const char *ferry_error_name(unsigned long err);

/* The result of an invocation: error code, which argument was wrong (on
 * error), and the returned words. */
struct inv_result {
    unsigned long err, err_arg, len;
    unsigned long mr[8];
};

/* Invoke cptr with a label, n words and nc extra capabilities. */
unsigned long ferry_invoke(unsigned long cptr, unsigned long label, unsigned long n,
                           const unsigned long *words, unsigned nc, const unsigned long *caps,
                           struct inv_result *res);

/* Convenience wrappers; all return the error code (0 = success).  Slots
 * are named in the root CNode (cptr = slot, depth 64). */
unsigned long ferry_untyped_retype(unsigned long ut, unsigned long type, unsigned long size_bits,
                             unsigned long dest_slot, unsigned long count);
unsigned long ferry_cnode_copy(unsigned long dest, unsigned long src, unsigned long rights);
unsigned long ferry_cnode_mint(unsigned long dest, unsigned long src, unsigned long rights, unsigned long badge);
unsigned long ferry_cnode_move(unsigned long dest, unsigned long src);
unsigned long ferry_cnode_delete(unsigned long slot);
unsigned long ferry_cnode_revoke(unsigned long slot);
unsigned long ferry_frame_map(unsigned long frame, unsigned long vspace, unsigned long vaddr, unsigned long rights);
unsigned long ferry_frame_unmap(unsigned long frame);
unsigned long ferry_frame_address(unsigned long frame, unsigned long *paddr);
unsigned long ferry_frame_vaddr(unsigned long frame, unsigned long *vaddr);   /* 0 when unmapped */
unsigned long ferry_table_map(unsigned long table, unsigned long vspace, unsigned long vaddr);
unsigned long ferry_table_unmap(unsigned long table);
/* ASIDs (see ferry/arch_x86_64.h): a pool from a 4 KiB untyped into the
 * root CNode's dest slot (*first_asid: its block's first ASID, may be
 * NULL); an ASID from pool for vspace (*asid may be NULL). */
unsigned long ferry_asid_make_pool(unsigned long asid_control, unsigned long untyped, unsigned long dest,
                             unsigned long *first_asid);
unsigned long ferry_asid_assign(unsigned long pool, unsigned long vspace, unsigned long *asid);
/* I/O ports and interrupt lines (ferry/arch_x86_64.h); dest slots are in the root CNode. */
unsigned long ferry_ioport_in(unsigned long cap, unsigned long port, unsigned long width, unsigned long *value);
unsigned long ferry_ioport_out(unsigned long cap, unsigned long port, unsigned long width, unsigned long value);
unsigned long ferry_ioport_issue(unsigned long cap, unsigned long first, unsigned long last, unsigned long dest);
/* rep ins/outs of count bytes (width at a time) between port and the
 * calling thread's IPC buffer words mr[word..] (FERRY_IOPORT_STRING_MAX at most). */
unsigned long ferry_ioport_in_string(unsigned long cap, unsigned long port, unsigned long width,
                                     unsigned long count, unsigned long word);
unsigned long ferry_ioport_out_string(unsigned long cap, unsigned long port, unsigned long width,
                                      unsigned long count, unsigned long word);
unsigned long ferry_irq_get(unsigned long irq_control, unsigned long line, unsigned long dest);
unsigned long ferry_irq_set_notification(unsigned long handler, unsigned long ntfn);
unsigned long ferry_irq_ack(unsigned long handler);
unsigned long ferry_irq_clear(unsigned long handler);
unsigned long ferry_tcb_configure(unsigned long tcb, unsigned long cspace, unsigned long vspace,
                            unsigned long ipcbuf_frame, unsigned long ipcbuf_vaddr, unsigned long fault_ep);
unsigned long ferry_tcb_set_priority(unsigned long tcb, unsigned long authority, unsigned long prio);
unsigned long ferry_tcb_set_mcpriority(unsigned long tcb, unsigned long authority, unsigned long mcp);
unsigned long ferry_tcb_write_registers(unsigned long tcb, bool resume, unsigned long count,
                                  const unsigned long *regs);
unsigned long ferry_tcb_read_registers(unsigned long tcb, unsigned long count, unsigned long *regs);
unsigned long ferry_tcb_resume(unsigned long tcb);
unsigned long ferry_tcb_suspend(unsigned long tcb);
/* TCB SetAffinity: the thread runs on CPU cpu (0 .. bootinfo ncpus - 1). */
unsigned long ferry_tcb_set_affinity(unsigned long tcb, unsigned long cpu);

/* The boot information and a simple slot and untyped allocator over it. */
extern const struct ferry_bootinfo *ulib_bootinfo;
void ulib_init(const struct ferry_bootinfo *bi);
unsigned long slot_alloc(void);
/* Retype one object from the first untyped with room; returns its slot or
 * 0 (and prints why) when none has room. */
unsigned long object_alloc(unsigned long type, unsigned long size_bits);

/* Test sandboxes.  Between ulib_sandbox_begin and ulib_sandbox_end,
 * object_alloc retypes from one untyped (made once, 2^bits bytes, by
 * ulib_sandbox_create) and slot_alloc hands out slots above a mark; the
 * end revokes that untyped (every object made in between goes, with every
 * capability derived from it: threads stop), deletes whatever is left in
 * the slots handed out, and hands them out again.  What must outlive a
 * sandbox (shared helpers made on first use, the root VSpace's page
 * tables) is made between ulib_persistent_begin and _end: from the other
 * untypeds, into slots counted down from the top of the free range; the
 * free untyped bytes that took (the kernel's count, BENCHMARK builds) are
 * added to ulib_persistent_bytes, so a caller can tell them from a leak. */
unsigned ulib_sandbox_create(unsigned min_bits, unsigned max_bits);   /* its bits, 0: none */
bool ulib_sandbox_ready(void);        /* made, and none open */
void ulib_sandbox_begin(void);
bool ulib_sandbox_end(void);
void ulib_persistent_begin(void);
void ulib_persistent_end(void);
extern unsigned long ulib_persistent_bytes;
/* The kernel's count of free untyped bytes (FERRY_SYS_DEBUG_CHECK); false
 * where the check is not built (BENCHMARK=0) or fails. */
bool ulib_free_bytes(unsigned long *bytes);

/* A new VSpace with an ASID from the root task's pool, ready to be mapped
 * into; its slot or 0 (reason printed). */
unsigned long vspace_create(void);

/* Start a thread in the root task's address space running fn(), on a
 * fresh one-page stack mapped at stack_va (its page table must exist).
 * Returns the TCB's slot, or 0 with the reason printed. */
unsigned long thread_start(void (*fn)(void), unsigned long stack_va, unsigned prio, bool resume);

/* Start a thread in the root task's address space running fn() with a
 * stack page at va and its own IPC buffer page at va + 4 KiB (so a thread
 * finds its buffer from its stack pointer), in CSpace cspace (a CNode
 * capability in the root CNode), with fault endpoint cptr fault_ep (0:
 * none).  The page table for va must be there (table_ensure).  Returns
 * the TCB's slot, or 0. */
unsigned long thread_create_at(void (*fn)(void), unsigned long va, unsigned long cspace, unsigned prio,
                               unsigned long fault_ep, bool resume);

/* The 2 MiB regions of one VSpace known to have a page table. */
struct pt_set {
    unsigned long vspace;
    unsigned long base[16];
    unsigned n;
};

/* Make sure a page table covers the 2 MiB region around va in set's
 * VSpace (its PD must exist); 0 or the error of the map. */
unsigned long pt_ensure(struct pt_set *set, unsigned long va);

/* pt_ensure in the root task's own VSpace; prints the error, if any. */
bool table_ensure(unsigned long va);

#endif
