/* machine.h: the machine: its first set-up (arch_init), leaving it (QEMU's isa-debug-exit) and halting. */
#ifndef FERRY_ARCH_MACHINE_H
#define FERRY_ARCH_MACHINE_H

#include <arch/gdt.h>
#include <arch/trap.h>
#include <types.h>

/* The CPU tables the kernel needs before anything may trap: the GDT with
 * its TSS, and the IDT. */
static inline void arch_init(void)
{
    gdt_init(0);                         /* the boot CPU's (smp.c loads the others') */
    idt_init();
}

/* Exit QEMU with FERRY_EXIT_SUCCESS or FERRY_EXIT_FAILURE; without the
 * debug-exit device, reset the machine (QEMU -no-reboot then exits). */
_Noreturn void machine_exit(uint8_t code);

#endif
