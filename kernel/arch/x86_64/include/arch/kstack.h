/* kstack.h: kernel stacks, each with a non-present guard page below it. */
#ifndef FERRY_ARCH_KSTACK_H
#define FERRY_ARCH_KSTACK_H

#define KSTACK_SIZE  16384      /* bytes of usable stack above the guard */
#define KSTACK_GUARD 4096       /* one unmapped page */

#ifndef __ASSEMBLER__
#include <types.h>

struct kstack {
    uint8_t guard[KSTACK_GUARD];   /* never mapped: an overflow faults here */
    uint8_t stack[KSTACK_SIZE];
} __attribute__((aligned(4096)));

/* The stacks the kernel runs on: boot/kernel stack, and separate IST stacks
 * for double fault and NMI so a kernel stack overflow is still reported,
 * and for the debug exception, which can arrive at the first instruction
 * of syscall_entry, before it has left the user's stack (traps.c). */
extern struct kstack ks_boot_stack, ks_df_stack, ks_nmi_stack, ks_db_stack;

/* Every CPU has one stack of each kind (CPU 0's are the four above). */
enum kstack_kind { KSTACK_KERNEL, KSTACK_DF, KSTACK_NMI, KSTACK_DB, KSTACK_KINDS };
struct kstack *kstack_of(unsigned cpu, enum kstack_kind kind);

static inline void *kstack_top(struct kstack *k) { return k->stack + KSTACK_SIZE; }

/* Is va inside the guard page of any kernel stack?  Returns the stack's
 * name, or NULL. */
const char *kstack_guard_owner(vaddr_t va);
/* Is the page at va a guard page (and so must stay unmapped)? */
bool kstack_is_guard_page(vaddr_t va);
#endif

#endif
