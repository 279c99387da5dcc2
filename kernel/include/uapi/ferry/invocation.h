/* invocation.h: invocation labels per object type and their argument layouts (the kernel ABI). */
#ifndef FERRY_UAPI_INVOCATION_H
#define FERRY_UAPI_INVOCATION_H

/*
 * An invocation names a capability by cptr (resolved in the caller's CSpace
 * with the full word as depth), carries a label, message words mr[0..len)
 * and up to FERRY_MAX_EXTRA_CAPS extra capabilities, each given as a cptr
 * in the caller's CSpace (caps[0..extra_caps)).  Labels are unique across
 * object types, so a label sent to the wrong type is caught
 * (FERRY_E_INVALID_LABEL).  Results come back in mr[] with len updated.
 *
 * "index/depth" pairs name a slot relative to a CNode capability: index is
 * a cptr resolved from that CNode using exactly depth bits (1..64).
 *
 * Rights needed: every state-changing invocation needs WRITE on the invoked
 * capability; reading (TCB ReadRegisters) needs READ; source CNodes of
 * Copy/Mint need READ, of Move READ|WRITE; destination CNodes need WRITE.
 *
 * Every layout is defined once, below the labels: FERRY_<INV>_ARG_<NAME>
 * is the index of a message word in mr[], FERRY_<INV>_NARGS how many the
 * invocation needs, FERRY_<INV>_CAP_<NAME> the index of an extra
 * capability in caps[], FERRY_<INV>_RES_<NAME> a result word.  The kernel's
 * decoders read the arguments by these names and name a bad argument by
 * them (FERRY_ERR_ARG_CAP() for capabilities); the user stubs
 * (userspace/lib/ulib.c) write them by these names.
 */

#define FERRY_MAX_EXTRA_CAPS 3
#define FERRY_MSG_MAX_WORDS  120   /* message words: registers + IPC buffer */

enum ferry_label {
    FERRY_LABEL_INVALID = 0,

    /* Untyped.
     * Retype: caps[0] = root CNode of the destination;
     *   mr[0] object type (enum ferry_obj_type)
     *   mr[1] size_bits: log2 size for untyped, radix for CNode, else ignored
     *   mr[2] node index, mr[3] node depth: the destination CNode relative
     *         to caps[0] (depth 0: caps[0] itself)
     *   mr[4] first slot offset in that CNode, mr[5] number of objects
     *   Objects are placed in slots offset .. offset+n-1, which must be empty.
     *   Objects are carved at the untyped's watermark, each aligned to its
     *   size; the watermark returns to 0 when the untyped's last child goes. */
    FERRY_UNTYPED_RETYPE = 1,

    /* CNode (the invoked capability is the destination root).
     * Copy:   mr[0] dest index, mr[1] dest depth, mr[2] src index,
     *         mr[3] src depth, mr[4] rights mask; caps[0] = src root CNode.
     * Mint:   as Copy plus mr[5] = badge (endpoint/notification; 0 keeps
     *         the source unbadged) or guard (CNode: FERRY_CNODE_GUARD()).
     * Move:   mr[0..3] as Copy; caps[0] = src root.  Keeps the derivation.
     * Delete: mr[0] index, mr[1] depth.
     * Revoke: mr[0] index, mr[1] depth: deletes every capability derived
     *         from that slot, but not the slot itself.
     * Untyped capabilities cannot be copied or minted (only moved), so two
     * capabilities never hand out the same memory. */
    FERRY_CNODE_COPY = 0x10,
    FERRY_CNODE_MINT,
    FERRY_CNODE_MOVE,
    FERRY_CNODE_DELETE,
    FERRY_CNODE_REVOKE,

    /* TCB.
     * Configure: caps[0] CSpace root CNode, caps[1] VSpace, caps[2] IPC
     *   buffer frame (needs READ|WRITE); mr[0] fault endpoint cptr (in the
     *   thread's own CSpace, looked up at fault time), mr[1] IPC buffer
     *   user address (FERRY_IPC_BUFFER_ALIGN aligned, inside the frame).
     * SetPriority / SetMCPriority: caps[0] authority TCB (WRITE); mr[0] priority
     *   (0..255), at most the authority's maximum controlled priority.
     * ReadRegisters: mr[0] count (from FERRY_REG_RAX); returns count words.
     * WriteRegisters: mr[0] flags (FERRY_WRITEREGS_RESUME), mr[1] count,
     *   mr[2..2+count) values.  RIP, RSP and the FS/GS bases must be user
     *   addresses (below FERRY_USER_TOP); RFLAGS keeps only CF PF AF ZF SF
     *   OF, IF is forced on.  A thread blocked in IPC leaves it first and
     *   restarts its system call with the new registers (as after Suspend +
     *   Resume), so no IPC in flight sees them.
     * Resume: make an inactive, configured thread runnable.
     * Suspend: stop a thread (removed from every queue).  A thread
     *   suspended inside an IPC system call restarts that call when
     *   resumed (as in seL4; a Call already delivered is sent again).
     * BindNotification: caps[0] notification (needs READ): a Recv of the
     *   thread on any endpoint also returns when it is signalled.
     * UnbindNotification: undo it (FERRY_E_ILLEGAL_OP when none bound).
     * SetAffinity: w[0] = the CPU the thread runs on from now, 0 ..
     *   bootinfo.ncpus - 1 (FERRY_E_INVALID_ARG beyond); a thread running
     *   on another CPU moves at that CPU's next kernel exit, at once by an
     *   IPI. */
    FERRY_TCB_CONFIGURE = 0x20,
    FERRY_TCB_SET_PRIORITY,
    FERRY_TCB_SET_MCPRIORITY,
    FERRY_TCB_READ_REGISTERS,
    FERRY_TCB_WRITE_REGISTERS,
    FERRY_TCB_RESUME,
    FERRY_TCB_SUSPEND,
    FERRY_TCB_BIND_NOTIFICATION,
    FERRY_TCB_UNBIND_NOTIFICATION,
    FERRY_TCB_SET_AFFINITY,

    /* Labels from here on are decoded by architecture code (frames, page
     * tables, VSpace, IRQ, I/O ports): see the arch ABI header. */
    FERRY_ARCH_LABEL_BASE = 0x100,
};

/* ---- argument layouts (see the labels above for what each means) ------- */

/* Untyped Retype. */
enum {
    FERRY_RETYPE_ARG_TYPE, FERRY_RETYPE_ARG_SIZE_BITS, FERRY_RETYPE_ARG_NODE_INDEX,
    FERRY_RETYPE_ARG_NODE_DEPTH, FERRY_RETYPE_ARG_OFFSET, FERRY_RETYPE_ARG_COUNT,
    FERRY_RETYPE_NARGS,
    FERRY_RETYPE_CAP_ROOT = 0,
};

/* CNode Copy, Mint, Move: the destination, then the source (relative to
 * caps[FERRY_CNODE_CAP_SRC_ROOT]), then Copy's and Mint's rights and
 * Mint's badge.  Delete, Revoke: the slot. */
enum {
    FERRY_CNODE_ARG_DEST_INDEX, FERRY_CNODE_ARG_DEST_DEPTH,
    FERRY_CNODE_ARG_SRC_INDEX, FERRY_CNODE_ARG_SRC_DEPTH,
    FERRY_CNODE_ARG_RIGHTS, FERRY_CNODE_ARG_BADGE,
    FERRY_CNODE_MOVE_NARGS = FERRY_CNODE_ARG_SRC_DEPTH + 1,
    FERRY_CNODE_COPY_NARGS = FERRY_CNODE_ARG_RIGHTS + 1,
    FERRY_CNODE_MINT_NARGS = FERRY_CNODE_ARG_BADGE + 1,
    FERRY_CNODE_CAP_SRC_ROOT = 0,
};
enum { FERRY_CNODE_ARG_INDEX, FERRY_CNODE_ARG_DEPTH, FERRY_CNODE_DELETE_NARGS };

/* TCB Configure. */
enum {
    FERRY_TCB_CONFIGURE_ARG_FAULT_EP, FERRY_TCB_CONFIGURE_ARG_IPC_BUFFER, FERRY_TCB_CONFIGURE_NARGS,
    FERRY_TCB_CONFIGURE_CAP_CSPACE = 0, FERRY_TCB_CONFIGURE_CAP_VSPACE, FERRY_TCB_CONFIGURE_CAP_IPC_BUFFER,
    FERRY_TCB_CONFIGURE_NCAPS,
};
/* TCB SetPriority and SetMCPriority. */
enum { FERRY_TCB_PRIO_ARG_PRIO, FERRY_TCB_PRIO_NARGS, FERRY_TCB_PRIO_CAP_AUTHORITY = 0 };
/* TCB ReadRegisters: the count in, that many registers out (from FERRY_REG_RAX). */
enum { FERRY_TCB_READREGS_ARG_COUNT, FERRY_TCB_READREGS_NARGS };
/* TCB WriteRegisters: FERRY_TCB_WRITEREGS_NARGS words, then count values. */
enum { FERRY_TCB_WRITEREGS_ARG_FLAGS, FERRY_TCB_WRITEREGS_ARG_COUNT, FERRY_TCB_WRITEREGS_ARG_VALUES,
       FERRY_TCB_WRITEREGS_NARGS = FERRY_TCB_WRITEREGS_ARG_VALUES };
/* TCB BindNotification. */
enum { FERRY_TCB_BIND_CAP_NOTIFICATION };
/* TCB SetAffinity. */
enum { FERRY_TCB_AFFINITY_ARG_CPU, FERRY_TCB_AFFINITY_NARGS };

/* CNode guard for Mint: guard value and its width in bits. */
#define FERRY_CNODE_GUARD(guard, bits) (((unsigned long)(guard) << 6) | ((bits) & 0x3f))

#define FERRY_WRITEREGS_RESUME 0x1UL

#define FERRY_IPC_BUFFER_ALIGN 1024UL  /* = sizeof(struct ferry_ipc_buffer), see syscall.h */
#define FERRY_MAX_PRIO         255

/* Register indices for Read/WriteRegisters: the order of the saved user
 * context (the kernel checks it matches arch/context.h).  RCX and R11 come
 * last among the general registers: after `syscall` the CPU put RIP and
 * RFLAGS there, and ReadRegisters of a thread that entered by `syscall`
 * reports exactly that. */
enum ferry_reg {
    FERRY_REG_RAX, FERRY_REG_RBX, FERRY_REG_RDX,
    FERRY_REG_RSI, FERRY_REG_RDI, FERRY_REG_RBP,
    FERRY_REG_R8, FERRY_REG_R9, FERRY_REG_R10,
    FERRY_REG_R12, FERRY_REG_R13, FERRY_REG_R14, FERRY_REG_R15,
    FERRY_REG_RCX, FERRY_REG_R11,
    FERRY_REG_RIP, FERRY_REG_RSP, FERRY_REG_RFLAGS,
    FERRY_REG_FS_BASE, FERRY_REG_GS_BASE,
    FERRY_REG_COUNT
};

#endif
