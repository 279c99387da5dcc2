/* kpti.h: the Meltdown-mitigated build (KPTI=1): user page tables that hold
 * the user half and only the kernel's entry window (docs/design.md, KPTI). */
#ifndef FERRY_ARCH_KPTI_H
#define FERRY_ARCH_KPTI_H

#ifndef FERRY_KPTI
#define FERRY_KPTI 0
#endif

#include <arch/percpu.h>     /* the macros below use its offsets */

/* The user table's PCID is the address space's kernel PCID with bit 11
 * set (as Linux does), so with PCIDs ASIDs stay below 2048. */
#define KPTI_USER_PCID_BIT 0x800
/* The user tables, one per ASID (4096 x 4 KiB), in one array. */
#define KPTI_USER_TABLES_BYTES (4096 * 4096)

#ifdef __ASSEMBLER__

#if FERRY_KPTI
/* What the CPU and the entry stubs touch before the CR3 switch (and
 * after the switch back): code in .entry.text, data in .entry.data; both
 * are mapped in every user table (paging.c). */
#define ENTRY_TEXT .section .entry.text, "ax"
/* Right after swapgs on an entry from ring 3: the kernel's table of the
 * current address space.  reg is clobbered (RSP in the syscall entry,
 * whose user value is in PERCPU_SCRATCH by then). */
.macro KPTI_SWITCH_TO_KERNEL_CR3 reg
    movq %gs:PERCPU_KPTI_KERNEL_CR3, \reg
    movq \reg, %cr3
.endm
/* Last thing before swapgs on every exit to ring 3 (sysret, iret; the
 * IPC fast path's fastpath_sysret too): the user table.  Nothing of the
 * kernel outside the entry window may be touched after it; reg keeps its
 * value (PERCPU_SCRATCH holds it meanwhile). */
.macro KPTI_SWITCH_TO_USER_CR3 reg
    movq \reg, %gs:PERCPU_SCRATCH
    movq %gs:PERCPU_KPTI_USER_CR3, \reg
    movq \reg, %cr3
    movq %gs:PERCPU_SCRATCH, \reg
.endm
#else
#define ENTRY_TEXT .text
.macro KPTI_SWITCH_TO_KERNEL_CR3 reg
.endm
.macro KPTI_SWITCH_TO_USER_CR3 reg
.endm
#endif

#else /* C */
#include <types.h>

#if FERRY_KPTI
/* Data the entry window holds (the per-CPU blocks, GDTs, TSSs, the IDT,
 * the entry stacks). */
#define KPTI_ENTRY_DATA __attribute__((section(".entry.data")))
#else
#define KPTI_ENTRY_DATA
#endif

/* Bytes of each CPU's entry stack: TSS.rsp0 under KPTI, where the CPU
 * pushes an interrupt frame from ring 3 and the stubs find it after the
 * CR3 switch (and restore_user_iret builds its frame). */
#define KPTI_ENTRY_STACK 512

#if FERRY_KPTI
/* Build the window in the user template table (paging.c, at boot). */
void kpti_init(void);
/* The user table of an ASID (0: the template, the window only). */
paddr_t kpti_user_pml4(word_t asid);
/* A VSpace got an ASID: its user table gets its user half and the window. */
void kpti_asid_assigned(paddr_t pml4, word_t asid);
/* A user-half entry of the VSpace's kernel table changed (e points into
 * the table at pml4, or below it: then nothing to do). */
void kpti_entry_changed(paddr_t pml4, word_t asid, const uint64_t *e);
/* The invariant check: every user table holds its VSpace's user half and
 * the window, and the window maps only what it should.  NULL or why not. */
const char *kpti_check(paddr_t pml4, word_t asid);
const char *kpti_check_window(void);
/* This CPU's entry stack top (gdt.c: TSS.rsp0). */
void *kpti_entry_stack_top(unsigned cpu);

#include <arch/vspace.h>
extern word_t ks_kpti_user_base;

/* The IPC fast path's hook where it loads vs (kernel CR3 value kcr3,
 * clean: no flush owed to either PCID; pcid: PCIDs are on): the per-CPU CR3 pair the stubs
 * load.  No call, so the fast path's live message registers survive. */
static inline __attribute__((always_inline)) void kpti_fastpath_cr3(paddr_t vs, uint64_t kcr3, bool pcid)
{
    word_t asid = PML4_ASID(((const uint64_t *)phys_to_virt(vs))[PML4_ASID_INDEX]);
    uint64_t user = ks_kpti_user_base + asid * 4096;
    if (pcid)
        user |= asid | KPTI_USER_PCID_BIT | BIT(63);
    ks_percpu.kpti_kernel_cr3 = kcr3;
    ks_percpu.kpti_user_cr3 = user;
}
#define KPTI_FASTPATH_CR3(vs, kcr3, pcid) kpti_fastpath_cr3(vs, kcr3, pcid)
#else
#define KPTI_FASTPATH_CR3(vs, kcr3, pcid) ((void)0)
#endif
#endif

#endif
