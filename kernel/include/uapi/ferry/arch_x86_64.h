/* arch_x86_64.h: x86-64 invocations on frames, page tables and VSpaces (kernel ABI). */
#ifndef FERRY_UAPI_ARCH_X86_64_H
#define FERRY_UAPI_ARCH_X86_64_H

#include <ferry/invocation.h>

/*
 * User virtual addresses run from 0 to FERRY_USER_TOP.  Mapping is done
 * level by level, as in seL4: a PDPT, then a PD, then a PT must be mapped
 * before a 4 KiB frame can be (a 2 MiB frame needs the PD level only).
 *
 * Frame Map:      caps[0] = VSpace; mr[0] vaddr (aligned to the frame),
 *                 mr[1] FERRY_MAP_* rights (READ is implied; WRITE needs
 *                 the capability's WRITE right).  A frame capability maps
 *                 at one place; map a copy to map it again.
 * Frame Unmap:    no arguments.
 * Frame Address:  returns mr[0] = physical address (for device drivers),
 *                 mr[1] = the user address it is mapped at, 0 when unmapped.
 * Table Map:      (PT, PD, PDPT) caps[0] = VSpace; mr[0] vaddr; the table
 *                 then covers the aligned region around vaddr.
 * Table Unmap:    no arguments.
 * Errors: FERRY_E_NO_TABLE (a level above is missing), FERRY_E_SLOT_OCCUPIED
 * (something is mapped there already), FERRY_E_ILLEGAL_OP (this capability
 * is mapped already), FERRY_E_NOT_MAPPED, FERRY_E_RANGE (address outside
 * user space), FERRY_E_ALIGNMENT, FERRY_E_NO_ASID (the VSpace has no ASID:
 * see ASIDPool Assign below).
 *
 * Page tables, as in seL4: a copy (Copy, Mint, transfer) of a table
 * capability keeps its mapping, and only a mapped table can be copied
 * (FERRY_E_ILLEGAL_OP), so exactly one capability can map an unmapped
 * table.  Table Unmap needs the table's last capability
 * (FERRY_E_REVOKE_FIRST while copies exist) and empties the table, which
 * then maps elsewhere with nothing in it; deleting the last capability
 * unmaps it too.  A table whose VSpace was deleted (or lost its ASID)
 * still counts as mapped until it is unmapped.  A frame copy starts
 * unmapped: each frame capability maps once.
 */
/*
 * I/O ports: a capability covers the ports [first, last].
 * IOPort In:      mr[0] port, mr[1] width (1, 2 or 4 bytes); returns mr[0] value.
 * IOPort Out:     mr[0] port, mr[1] width, mr[2] value.
 * IOPort Issue:   caps[0] = root CNode of the destination; mr[0] first,
 *                 mr[1] last (inside this capability's range), mr[2] slot
 *                 index, mr[3] depth: a capability to the sub-range, a child
 *                 of this one (revoking this one removes it).
 * IOPort InString, OutString: mr[0] port, mr[1] width (1, 2 or 4), mr[2]
 *                 byte count (a multiple of width, 1..FERRY_IOPORT_STRING_MAX),
 *                 mr[3] first word of the caller's IPC buffer: `rep ins` of
 *                 count/width items from the port into the IPC buffer's
 *                 mr[word..] (InString), or `rep outs` from there (OutString);
 *                 mr[word..] must lie inside mr[] (words 0-3 there are plain
 *                 memory: a message's first words travel in registers).  No
 *                 results.  One invocation moves a whole ATA sector.
 * Errors: FERRY_E_RANGE (a port outside the capability; a string past the
 * end of mr[]), FERRY_E_INVALID_ARG (width, count), FERRY_E_RIGHTS (READ for
 * In, WRITE for Out), FERRY_E_ILLEGAL_OP (InString/OutString by a thread
 * without an IPC buffer), the slot errors of the CNode operations.
 */
/*
 * Address-space identifiers (ASIDs), as seL4's: a VSpace must be given an
 * ASID before anything can be mapped into it (FERRY_E_NO_ASID otherwise);
 * with PCIDs on, the ASID is also its PCID.  The 4096 ASIDs form
 * FERRY_ASID_POOLS blocks of FERRY_ASIDS_PER_POOL; a block becomes usable
 * when an ASID pool is made for it from untyped memory, so the kernel's
 * ASID state is charged to whoever holds the memory.  ASID 0 means none
 * and PCID 4095 belongs to the benchmark floors: neither is ever handed
 * out.
 * ASIDControl MakePool: caps[0] = an untyped capability of exactly
 *                 2^FERRY_ASID_POOL_BITS bytes of RAM with nothing
 *                 retyped from it (WRITE); caps[1] = root CNode of the
 *                 destination; mr[0] slot index, mr[1] depth: an ASID pool
 *                 for the next free block, a child of the untyped (revoking
 *                 the untyped deletes the pool).  Returns mr[0] = the
 *                 pool's first ASID.  FERRY_E_NO_ASID: every block has a
 *                 pool already.
 * ASIDPool Assign: caps[0] = a VSpace (WRITE) without an ASID: gives it
 *                 the lowest free ASID of this pool; returns mr[0] = the
 *                 ASID.  FERRY_E_ILLEGAL_OP: it has one already;
 *                 FERRY_E_NO_ASID: the pool is full.
 * Deleting a VSpace returns its ASID to the pool.  Deleting the last
 * capability to a pool takes the ASIDs from its VSpaces: their user half
 * is emptied (nothing is mapped there any more, and their page tables'
 * records no longer match, so those tables must be unmapped before they
 * map again); they can be assigned again from another pool.
 */
/* The argument layouts (named as in ferry/invocation.h). */
enum {
    FERRY_FRAME_MAP_ARG_VADDR, FERRY_FRAME_MAP_ARG_RIGHTS, FERRY_FRAME_MAP_NARGS,
    FERRY_TABLE_MAP_ARG_VADDR = 0, FERRY_TABLE_MAP_NARGS,
    FERRY_MAP_CAP_VSPACE = 0,                          /* Frame Map and Table Map */
    FERRY_FRAME_ADDRESS_RES_PADDR = 0, FERRY_FRAME_ADDRESS_RES_VADDR, FERRY_FRAME_ADDRESS_NRES,
};
enum {
    FERRY_IOPORT_ARG_PORT, FERRY_IOPORT_ARG_WIDTH, FERRY_IOPORT_ARG_VALUE,
    FERRY_IOPORT_IN_NARGS = FERRY_IOPORT_ARG_VALUE, FERRY_IOPORT_OUT_NARGS,
    FERRY_IOPORT_IN_RES_VALUE = 0,
    FERRY_IOPORT_ISSUE_ARG_FIRST = 0, FERRY_IOPORT_ISSUE_ARG_LAST, FERRY_IOPORT_ISSUE_ARG_DEST_INDEX,
    FERRY_IOPORT_ISSUE_ARG_DEST_DEPTH, FERRY_IOPORT_ISSUE_NARGS,
    FERRY_IOPORT_ISSUE_CAP_ROOT = 0,
    FERRY_IOPORT_STRING_ARG_PORT = 0, FERRY_IOPORT_STRING_ARG_WIDTH, FERRY_IOPORT_STRING_ARG_COUNT,
    FERRY_IOPORT_STRING_ARG_WORD, FERRY_IOPORT_STRING_NARGS,
};
#define FERRY_IOPORT_STRING_MAX 512   /* bytes: one sector; the kernel's time with the port bounded */
enum {
    FERRY_MAKE_POOL_ARG_DEST_INDEX, FERRY_MAKE_POOL_ARG_DEST_DEPTH, FERRY_MAKE_POOL_NARGS,
    FERRY_MAKE_POOL_CAP_UNTYPED = 0, FERRY_MAKE_POOL_CAP_ROOT, FERRY_MAKE_POOL_NCAPS,
    FERRY_MAKE_POOL_RES_FIRST_ASID = 0,
    FERRY_ASSIGN_CAP_VSPACE = 0, FERRY_ASSIGN_RES_ASID = 0,
};
enum {
    FERRY_IRQ_GET_ARG_LINE, FERRY_IRQ_GET_ARG_DEST_INDEX, FERRY_IRQ_GET_ARG_DEST_DEPTH, FERRY_IRQ_GET_NARGS,
    FERRY_IRQ_GET_CAP_ROOT = 0,
    FERRY_IRQ_SET_NOTIFICATION_CAP_NTFN = 0,
};

#define FERRY_ASID_POOL_BITS   12
#define FERRY_ASID_POOLS       8
#define FERRY_ASIDS_PER_POOL   512

enum ferry_arch_label {
    FERRY_FRAME_MAP = FERRY_ARCH_LABEL_BASE,
    FERRY_FRAME_UNMAP,
    FERRY_FRAME_ADDRESS,
    FERRY_TABLE_MAP,
    FERRY_TABLE_UNMAP,
    FERRY_IOPORT_IN = FERRY_ARCH_LABEL_BASE + 0x10,
    FERRY_IOPORT_OUT,
    FERRY_IOPORT_ISSUE,
    FERRY_IOPORT_IN_STRING,
    FERRY_IOPORT_OUT_STRING,
    FERRY_IRQ_CONTROL_GET = FERRY_ARCH_LABEL_BASE + 0x20,
    FERRY_IRQ_SET_NOTIFICATION,
    FERRY_IRQ_ACK,
    FERRY_IRQ_CLEAR,
    FERRY_ASID_CONTROL_MAKE_POOL = FERRY_ARCH_LABEL_BASE + 0x30,
    FERRY_ASID_POOL_ASSIGN,
};

/*
 * Interrupts: ISA lines 1..15 through the I/O APIC (line 0 is the kernel's).
 * IRQControl Get:  caps[0] = root CNode; mr[0] line, mr[1] slot index,
 *                  mr[2] depth: an IRQHandler capability for the line (one
 *                  per line; FERRY_E_ILLEGAL_OP when it was issued already).
 *                  Line 4 (COM1) is the user-space serial driver's: the
 *                  kernel console only polls and writes COM1, never
 *                  enables its interrupts (docs/serial.md).
 * IRQHandler SetNotification: caps[0] = a notification (WRITE): each
 *                  interrupt signals it with that capability's badge.
 * IRQHandler Ack:  the line was served: unmask it (the kernel masks a line
 *                  from the interrupt until Ack).
 * IRQHandler Clear: stop signalling; the line stays masked.
 * Deleting the IRQHandler capability frees the line for another Get.
 */
#define FERRY_IRQ_LINES 16

#define FERRY_MAP_READ  0x1UL
#define FERRY_MAP_WRITE 0x2UL
#define FERRY_MAP_EXEC  0x4UL

/* The last 512 GiB of the lower half is kept by the kernel. */
#define FERRY_USER_TOP 0x00007f8000000000UL

#endif
