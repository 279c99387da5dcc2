/* gdt.h: segment selectors, the GDT and the TSS. */
#ifndef FERRY_ARCH_GDT_H
#define FERRY_ARCH_GDT_H

/* Order fixed by SYSRET: user SS = STAR[63:48] + 8, user CS = STAR[63:48] + 16. */
#define SEL_KCODE   0x08
#define SEL_KDATA   0x10
#define SEL_UCODE32 0x18     /* an empty GDT slot: keeps the SYSRET layout, no 32-bit user code */
#define SEL_UDATA   0x23     /* 0x20 | RPL 3 */
#define SEL_UCODE   0x2b     /* 0x28 | RPL 3 */
#define SEL_TSS     0x30

#define IST_DF  1
#define IST_NMI 2
#define IST_DB  3

#ifndef __ASSEMBLER__
#include <types.h>

/* Load CPU cpu's GDT and TSS (its kernel and IST stacks: kstack_of). */
void gdt_init(unsigned cpu);
#endif

#endif
