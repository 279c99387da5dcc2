/* bootinfo.h: what the boot loader told the kernel, from Multiboot 1 or 2. */
#ifndef FERRY_BOOTINFO_H
#define FERRY_BOOTINFO_H

#include <memmap.h>
#include <types.h>

#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB2_BOOT_MAGIC 0x36d76289u

#define BOOT_CMDLINE_MAX 1024
#define BOOT_MODULES_MAX 22
#define BOOT_NAME_MAX    64
#define BOOT_MODULE_NAME_MAX 160   /* = FERRY_BOOTINFO_MODULE_NAME_MAX */

struct boot_module {
    paddr_t start, end;
    char name[BOOT_MODULE_NAME_MAX];   /* the loader's string, truncated */
};

struct boot_info {
    int multiboot_version;          /* 1 or 2 */
    char loader[BOOT_NAME_MAX];
    char cmdline[BOOT_CMDLINE_MAX];
    struct memmap firmware_map;     /* as the loader reported it */
    struct boot_module modules[BOOT_MODULES_MAX];
    size_t nmodules;
    size_t modules_dropped;         /* modules past BOOT_MODULES_MAX, not kept */
    paddr_t info_start, info_end;   /* the loader's info structure itself */
};

/* Parses the loader's information structure at physical address info_pa
 * (read through phys_to_virt).  Returns NULL on success, else a message
 * saying what was wrong; out then holds what was parsed before the error.
 * Every length is checked against the structure's stated size. */
const char *bootinfo_parse(uint32_t magic, paddr_t info_pa, struct boot_info *out);

#endif
