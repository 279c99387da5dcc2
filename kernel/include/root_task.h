/* root_task.h: building the first user program's world at boot. */
#ifndef FERRY_ROOT_TASK_H
#define FERRY_ROOT_TASK_H

#include <bootinfo.h>
#include <memmap.h>

/* Loads the ELF image of module 0 as the root task: its CNode, VSpace,
 * TCB, IPC buffer, stack, boot-info page, and untyped capabilities to all
 * remaining free memory (free is empty afterwards).  Makes the thread
 * runnable.  A root task that cannot be built is a panic with the reason. */
void root_task_create(const struct boot_info *bi, struct memmap *free);

#endif
