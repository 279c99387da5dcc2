/* objtypes.h: kernel object types user space can create by Retype, and their sizes. */
#ifndef FERRY_UAPI_OBJTYPES_H
#define FERRY_UAPI_OBJTYPES_H

/* Types below FERRY_OBJ_RETYPABLE can be Retype targets; the rest name
 * capabilities the kernel hands out at boot (IRQ, I/O ports), never made
 * from untyped memory.  Type 0 is the empty capability. */
enum ferry_obj_type {
    FERRY_OBJ_NULL = 0,
    FERRY_OBJ_UNTYPED,
    FERRY_OBJ_TCB,
    FERRY_OBJ_ENDPOINT,
    FERRY_OBJ_NOTIFICATION,
    FERRY_OBJ_CNODE,        /* 2^radix capability slots, radix given at Retype */
    FERRY_OBJ_FRAME_4K,
    FERRY_OBJ_FRAME_2M,
    FERRY_OBJ_PT,           /* level-1 page table (maps 4 KiB pages) */
    FERRY_OBJ_PD,           /* level-2 page directory */
    FERRY_OBJ_PDPT,         /* level-3 page-directory-pointer table */
    FERRY_OBJ_VSPACE,       /* level-4 table (PML4): an address space root */
    FERRY_OBJ_RETYPABLE,    /* end of the types Retype accepts */
    FERRY_OBJ_IRQ_CONTROL = FERRY_OBJ_RETYPABLE,
    FERRY_OBJ_IRQ_HANDLER,
    FERRY_OBJ_IO_PORT,
    FERRY_OBJ_ASID_CONTROL, /* makes ASID pools from untyped memory (seL4's ASIDControl) */
    FERRY_OBJ_ASID_POOL,    /* a block of address-space identifiers VSpaces are assigned from */
    FERRY_OBJ_DEBUG,        /* the kernel-debug and benchmark capability (console, exit, floors) */
    FERRY_OBJ_COUNT
};

/* log2 of object sizes in bytes.  Variable-sized types take a size_bits
 * argument at Retype: for untyped the log2 size, for CNode the radix (the
 * object then occupies radix + FERRY_CTE_BITS bits). */
#define FERRY_CTE_BITS          6   /* one capability slot: 64 bytes */
#define FERRY_TCB_BITS          11
#define FERRY_ENDPOINT_BITS     5
#define FERRY_NOTIFICATION_BITS 6
#define FERRY_FRAME_4K_BITS     12
#define FERRY_FRAME_2M_BITS     21
#define FERRY_PAGE_TABLE_BITS   12  /* PT, PD, PDPT and VSpace alike */

#define FERRY_UNTYPED_MIN_BITS  4
#define FERRY_UNTYPED_MAX_BITS  47
#define FERRY_CNODE_MIN_RADIX   1
#define FERRY_CNODE_MAX_RADIX   24

/* Most objects one Retype may create. */
#define FERRY_RETYPE_MAX_OBJECTS 256

#endif
