/* machine.h: leaving the machine (QEMU's isa-debug-exit) and halting. */
#ifndef FERRY_ARCH_MACHINE_H
#define FERRY_ARCH_MACHINE_H

#include <types.h>

/* Exit QEMU with FERRY_EXIT_SUCCESS or FERRY_EXIT_FAILURE; without the
 * debug-exit device, reset the machine (QEMU -no-reboot then exits). */
_Noreturn void machine_exit(uint8_t code);

#endif
