/* bootinfo.h: what the kernel gives the root task: its capabilities, the
 * untyped memory list and the boot facts, in a page mapped read-only. */
#ifndef FERRY_UAPI_BOOTINFO_H
#define FERRY_UAPI_BOOTINFO_H

/* Fixed slots of the root task's CNode (cptr = slot index, depth 64). */
enum ferry_root_slot {
    FERRY_CAP_NULL = 0,
    FERRY_CAP_INIT_TCB,          /* the root task's own thread */
    FERRY_CAP_INIT_CNODE,        /* its CNode (this one) */
    FERRY_CAP_INIT_VSPACE,       /* its address space */
    FERRY_CAP_IPC_BUFFER,        /* the frame of its IPC buffer */
    FERRY_CAP_BOOTINFO_FRAME,    /* the frame holding this structure */
    FERRY_CAP_BOOT_UNTYPED,      /* what is left of the memory its objects came from */
    FERRY_CAP_IRQ_CONTROL,       /* makes IRQHandler capabilities (when the machine has an I/O APIC) */
    FERRY_CAP_ASID_CONTROL,      /* makes ASID pools from untyped memory */
    FERRY_CAP_INIT_ASID_POOL,    /* the pool the root task's VSpace was assigned from */
    FERRY_CAP_DEBUG,             /* console output, ending the run, benchmark floors */
    FERRY_CAP_FIRST_FREE_FIXED,  /* from here on: the ranges in struct ferry_bootinfo */
};

#define FERRY_BOOTINFO_MAGIC    0x4f464e49544f4f42UL   /* "BOOTINFO" */
#define FERRY_BOOTINFO_UNTYPED_MAX 128
#define FERRY_BOOTINFO_CMDLINE_MAX 1024

struct ferry_slot_range {
    unsigned long start, end;    /* [start, end) */
};

struct ferry_untyped_desc {
    unsigned long paddr;
    unsigned char size_bits;
    unsigned char device;
    unsigned char pad[6];
};

struct ferry_bootinfo {
    unsigned long magic;
    unsigned long cnode_radix;              /* the root CNode has 2^radix slots */
    struct ferry_slot_range empty;          /* free slots */
    struct ferry_slot_range untyped;        /* untyped capabilities, one per untyped[] entry */
    struct ferry_slot_range paging;         /* page tables of the root task's VSpace */
    struct ferry_slot_range image_frames;   /* frames of the root task's ELF image */
    struct ferry_slot_range stack_frames;
    struct ferry_slot_range ioports;        /* I/O port capabilities (all ports the kernel does not keep) */
    unsigned long ipc_buffer;               /* user address of the IPC buffer */
    unsigned long stack_top;
    unsigned long tsc_hz;                   /* 0: not stated by the CPU */
    unsigned long pcid_on;                  /* VSpace switches keep TLB entries */
    unsigned long cpu_pcid;                 /* the CPU offers PCID */
    unsigned long fastpath;                 /* the kernel was built with the IPC fast path */
    unsigned long lazy_fpu;                 /* FPU state is switched on first use (else on every switch) */
    unsigned long benchmark;                /* the floor system calls are built (BENCHMARK=1) */
    unsigned long direct_switch;            /* IPC switches straight to the partner (DIRECTSWITCH=1) */
    unsigned long kpti;                     /* user page tables map only the kernel's entry window (KPTI=1) */
    unsigned long boot_untyped_bits;
    struct ferry_untyped_desc untyped_list[FERRY_BOOTINFO_UNTYPED_MAX];
    char cmdline[FERRY_BOOTINFO_CMDLINE_MAX];  /* the kernel command line */
    char kernel_version[64];
    unsigned long modules;                  /* user address of the struct ferry_bootinfo_modules page */
    unsigned long modules_frame;            /* slot of that page's frame */
    unsigned long ncpus;                    /* CPUs running the kernel (TCB SetAffinity: 0 .. ncpus - 1) */
};

/* The boot modules after the first (the root task itself), in the
 * loader's order, on a page of their own next to the boot info.  The
 * kernel only hands over what it was given: each module's pages as
 * read-only 4 KiB frame capabilities (frames.start is the page holding
 * paddr, in address order) and the string the loader gave with it (QEMU's
 * -initrd: the path and its arguments; GRUB's module2: the words after the
 * file name); a string longer than the name's room loses its first word's
 * directory (the file name and arguments stay), and what is still too
 * long is cut at the end.  A module the kernel could not describe
 * (outside RAM, over the limits below) is left out with a boot message. */
#define FERRY_BOOTINFO_MODULES_MAX      21      /* room for the system's servers, drivers and test programs */
#define FERRY_BOOTINFO_MODULE_NAME_MAX  160     /* a stored path: results/.binaries/<sha256>/<name> */
#define FERRY_BOOTINFO_MODULE_FRAMES_MAX 4096   /* frame capabilities for all modules together */

struct ferry_module_desc {
    struct ferry_slot_range frames;         /* read-only frames covering [paddr, paddr + size) */
    unsigned long paddr;                    /* where the loader put it (need not be page-aligned) */
    unsigned long size;                     /* bytes */
    char name[FERRY_BOOTINFO_MODULE_NAME_MAX];
};

struct ferry_bootinfo_modules {
    unsigned long count;
    struct ferry_module_desc m[FERRY_BOOTINFO_MODULES_MAX];
};

_Static_assert(sizeof(struct ferry_bootinfo) <= 4096, "the boot info fits its page");
_Static_assert(sizeof(struct ferry_bootinfo_modules) <= 4096, "the module list fits its page");

/* Where the root task finds things in its address space. */
#define FERRY_ROOT_STACK_TOP   0x10000000UL
#define FERRY_ROOT_STACK_PAGES 16
#define FERRY_ROOT_IPC_BUFFER  0x10010000UL
#define FERRY_ROOT_BOOTINFO    0x10020000UL
#define FERRY_ROOT_MODULES     0x10021000UL   /* struct ferry_bootinfo_modules */

#endif
