/* arch_hooks.h: what the object layer needs from architecture code (frames, page tables, VSpace, IRQ, I/O ports). */
#ifndef FERRY_OBJECT_ARCH_HOOKS_H
#define FERRY_OBJECT_ARCH_HOOKS_H

#include <object/cap.h>

struct tcb;
struct invocation;

/* A frame/page-table/VSpace object was just retyped: its memory at paddr
 * (2^size_bits bytes) is already zeroed (unless from device untyped).  E.g.
 * a VSpace copies the kernel half of the page tables here. */
void arch_object_init(word_t type, paddr_t paddr, unsigned size_bits);

/* A capability of an arch type (cap_is_arch) is being deleted.  final: it
 * was the last capability to the object, which is destroyed (e.g. free the
 * VSpace's PCID, unmap a page table).  Not final: drop what belongs to this
 * capability only (e.g. the mapping recorded in cap->u.map).  The slot is
 * already empty; cap is a copy. */
void arch_cap_delete(const struct cap *cap, bool final);

/* A capability of an arch type is copied or minted: clear per-capability
 * state in *cap that must not be duplicated (a frame copy is unmapped),
 * or refuse the derivation with an error code (an unmapped page table,
 * as in seL4: see arch/x86_64/object/objtype.c); 0 when *cap may be inserted. */
word_t arch_cap_derive(struct cap *cap);

/* Decode and perform an invocation on an arch-type capability.  slot is the
 * invoked capability's slot, extra[i] the slots of inv->caps[i] (already
 * resolved, non-empty).  Returns a FERRY_* error code, 0 on success. */
word_t arch_decode_invocation(struct tcb *caller, struct cte *slot, struct invocation *inv,
                              struct cte **extra, unsigned nextra);

/* A fresh TCB's architecture state (FPU defaults, how it leaves the
 * kernel); tcb_init calls it after the generic part. */
void arch_tcb_init(struct tcb *t);

/* t's FS or GS base was written: arch code notes whether t now has a
 * non-zero one (only switches to or from such threads load the bases). */
void arch_user_bases_written(struct tcb *t);

/* A TCB is about to be destroyed (already suspended and off every queue):
 * forget any per-CPU reference to it (current thread, FPU owner). */
void arch_tcb_destroy(struct tcb *tcb);

#endif
