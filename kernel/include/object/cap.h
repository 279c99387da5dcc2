/* cap.h: the capability and capability-slot (CTE) representation, and small helpers on them. */
#ifndef FERRY_OBJECT_CAP_H
#define FERRY_OBJECT_CAP_H

#include <types.h>
#include <ferry/objtypes.h>
#include <ferry/rights.h>
#include <mm/physmap.h>

/* Device memory (not RAM), on untyped caps and the frames made from
 * them: never zeroed, and only frames or smaller untypeds come from it. */
#define CAP_FLAG_DEVICE 0x1
/* On a VSpace (CNode) capability: this slot is a TCB's TCB_SLOT_VSPACE
 * (TCB_SLOT_CSPACE), set by Configure, cleared by every insert: when the
 * capability leaves the slot (deleted, moved, replaced by its Zombie:
 * cnode.c's root_slot_leaving) the TCB's fast-path words that depend on it
 * are cleared (object/tcb.h).  (Zombies use flags for ZOMBIE_*: these
 * bits mean something only with their type.) */
#define CAP_FLAG_TCB_VSPACE 0x2
#define CAP_FLAG_TCB_CSPACE 0x4

/* Internal type of the capability left in a slot whose container (CNode
 * or TCB) is being emptied after its last capability was deleted: it
 * holds the slot's place in the derivation tree, and so the container's
 * memory, until the reaper is done (see cnode.c).  It cannot be copied,
 * moved or invoked. */
#define CAP_TYPE_ZOMBIE 0xfe

/* A capability: 32 bytes.  paddr is the object's physical address (the
 * kernel reaches it through the physmap). */
struct cap {
    uint8_t type;        /* enum ferry_obj_type */
    uint8_t rights;      /* FERRY_RIGHT_* */
    uint8_t size_bits;   /* untyped: log2 size; CNode: radix; frame: 12 or 21 */
    uint8_t guard_bits;  /* CNode: guard width */
    uint8_t flags;       /* CAP_FLAG_* */
    uint8_t pad[3];
    paddr_t paddr;
    union {
        struct { word_t badge; } ep;              /* endpoint, notification: 0 = none */
        struct {
            word_t guard;
            /* For a single-level CNode (guard_bits + radix = 64): the
             * kernel address of slot 0 less guard << radix slots, so that
             * after the guard check the slot of cptr is fp_base + cptr
             * slots (arch/x86_64/fastpath.c); 0 for any other CNode.  A function
             * of the other fields: cap_cnode_set_fp after every write of
             * guard or radix (checked by the invariant walk). */
            word_t fp_base;
        } cnode;
        struct {                                  /* untyped (untyped.c) */
            word_t watermark;                     /* bytes used from paddr */
            word_t cleared;                       /* [watermark, cleared) is known zero */
        } untyped;
        struct { vaddr_t vaddr; paddr_t vspace; } map; /* frame, page tables: arch owns */
        word_t raw[2];                            /* IRQ, I/O ports: arch owns */
    } u;
};

/* A capability slot: the capability plus its place in the capability
 * derivation tree (CDT).  Invariant: all capabilities to one object form a
 * single subtree (copies and mints are children of what they were made
 * from); an object's first capability is a child of the untyped it was
 * retyped from (or a root for boot objects). */
struct cte {
    struct cap cap;
    struct cte *parent;           /* its place in the CDT */
    struct cte *first_child;
    struct cte *next_sibling;
    struct cte *prev_sibling;
};

_Static_assert(sizeof(struct cap) == 32, "cap layout");
_Static_assert(sizeof(struct cte) == (1UL << FERRY_CTE_BITS), "cte size must match FERRY_CTE_BITS");

static inline bool cap_is_null(const struct cap *c) { return c->type == FERRY_OBJ_NULL; }

static inline bool cap_has_rights(const struct cap *c, word_t need)
{
    return (c->rights & need) == need;
}

/* Two capabilities refer to the same object.  Untyped capabilities are
 * never copied, so each names its own region even if the address matches. */
static inline bool cap_same_object(const struct cap *a, const struct cap *b)
{
    return a->type != FERRY_OBJ_UNTYPED && a->type == b->type && a->paddr == b->paddr;
}

static inline bool cap_is_arch(const struct cap *c)
{
    return c->type >= FERRY_OBJ_FRAME_4K && c->type < FERRY_OBJ_COUNT;
}


static inline void *cap_object(const struct cap *c) { return phys_to_virt(c->paddr); }

/* u.cnode.fp_base as it must be for CNode capability c. */
static inline word_t cap_cnode_fp_base(const struct cap *c)
{
    if (c->guard_bits + c->size_bits != 64)
        return 0;
    return (word_t)cap_object(c) - ((c->u.cnode.guard << c->size_bits) << FERRY_CTE_BITS);
}

static inline void cap_cnode_set_fp(struct cap *c)
{
    c->u.cnode.fp_base = cap_cnode_fp_base(c);
}

#endif
