/* untyped.c: untyped memory: splitting boot regions, the watermark arithmetic, and Retype. */
#include <object/untyped.h>
#include <object/objtype.h>
#include <object/cnode.h>
#include <core/cspace.h>
#include <core/invoke.h>
#include <core/preempt.h>
#include <ferry/errors.h>
#include <kstring.h>

size_t untyped_split_region(paddr_t start, paddr_t end, struct untyped_block *out, size_t max)
{
    size_t n = 0;
    start = ALIGN_UP(start, BIT(FERRY_UNTYPED_MIN_BITS));
    end = ALIGN_DOWN(end, BIT(FERRY_UNTYPED_MIN_BITS));
    while (start < end) {
        /* Largest block aligned at start that still fits before end. */
        unsigned bits = start ? (unsigned)__builtin_ctzll(start) : 63;
        if (bits > FERRY_UNTYPED_MAX_BITS)
            bits = FERRY_UNTYPED_MAX_BITS;
        while (BIT(bits) > end - start)
            bits--;
        if (n < max) {
            out[n].base = start;
            out[n].size_bits = bits;
        }
        n++;
        start += BIT(bits);
    }
    return n;
}

word_t untyped_boot_create(struct cte *dst, paddr_t base, unsigned size_bits, bool device)
{
    if (size_bits < FERRY_UNTYPED_MIN_BITS || size_bits > FERRY_UNTYPED_MAX_BITS)
        return FERRY_E_RANGE;
    if (!IS_ALIGNED(base, BIT(size_bits)))
        return FERRY_E_ALIGNMENT;
    if (!cap_is_null(&dst->cap))
        return FERRY_E_SLOT_OCCUPIED;
    struct cap c = object_create(FERRY_OBJ_UNTYPED, base, size_bits, device);
    cte_insert(dst, &c, NULL);
    return FERRY_OK;
}

word_t untyped_fit(const struct cap *ut, unsigned obj_bits, word_t count, word_t *offset)
{
    if (obj_bits > ut->size_bits)
        return FERRY_E_NO_MEMORY;
    word_t size = BIT(ut->size_bits);
    /* The untyped is aligned to its size, so aligning the offset aligns
     * the physical address. */
    word_t start = ALIGN_UP(ut->u.untyped.watermark, BIT(obj_bits));
    if (start > size || count > (size - start) >> obj_bits)
        return FERRY_E_NO_MEMORY;
    *offset = start;
    return FERRY_OK;
}

/* Decode half shared by the invocation and the kernel API: checks that do
 * not involve lookups.  *bad names the failing argument (Retype layout). */
static word_t retype_check(const struct cap *ut, word_t type, word_t size_bits, word_t count,
                           unsigned *obj_bits, word_t *offset, word_t *bad)
{
    if (type == FERRY_OBJ_NULL || type >= FERRY_OBJ_RETYPABLE)
        return *bad = FERRY_RETYPE_ARG_TYPE, FERRY_E_INVALID_ARG;
    if ((ut->flags & CAP_FLAG_DEVICE) && type != FERRY_OBJ_UNTYPED &&
        type != FERRY_OBJ_FRAME_4K && type != FERRY_OBJ_FRAME_2M)
        return *bad = FERRY_RETYPE_ARG_TYPE, FERRY_E_ILLEGAL_OP;  /* kernel objects need RAM */
    *obj_bits = object_size_bits(type, size_bits);
    if (*obj_bits == 0)
        return *bad = FERRY_RETYPE_ARG_SIZE_BITS, FERRY_E_RANGE;
    if (count == 0 || count > FERRY_RETYPE_MAX_OBJECTS)
        return *bad = FERRY_RETYPE_ARG_COUNT, FERRY_E_RANGE;
    word_t err = untyped_fit(ut, *obj_bits, count, offset);
    if (err)
        *bad = FERRY_RETYPE_ARG_COUNT;
    return err;
}

/* Clearing is the part of a Retype that grows with memory (256 MiB of
 * frames in one call), so it runs in 4 KiB units with preemption points
 * and keeps its progress in the untyped capability: [watermark, cleared)
 * is known to be zero.  A Retype stopped here has created nothing and
 * moved no watermark; restarted (the same call again, or another Retype
 * from this untyped), it finds the cleared part and goes on.  Clearing
 * starts at the watermark, not at the aligned offset, so the known-zero
 * part stays contiguous (the gap is smaller than one object). */
static word_t retype_clear(struct cap *ut, word_t end, bool preemptible)
{
    word_t z = ut->u.untyped.cleared;
    if (z < ut->u.untyped.watermark)
        z = ut->u.untyped.watermark;
    while (z < end) {
        word_t n = PAGE_SIZE - (z & (PAGE_SIZE - 1));
        if (n > end - z)
            n = end - z;
        memset(phys_to_virt(ut->paddr + z), 0, n);
        z += n;
        ut->u.untyped.cleared = z;
        if (preemptible && z < end && preemption_point())
            return INVOKE_PREEMPTED;
    }
    return FERRY_OK;
}

/* The objects' memory [offset, offset + count << obj_bits) must be zero
 * (retype_clear) unless it is device memory or becomes untyped (an
 * untyped child is cleared when it is retyped in turn). */
static bool retype_needs_clearing(const struct cap *ut, word_t type)
{
    return !(ut->flags & CAP_FLAG_DEVICE) && type != FERRY_OBJ_UNTYPED;
}

static void invoke_untyped_retype(struct cte *ut_slot, word_t type, word_t size_bits,
                                  unsigned obj_bits, word_t offset, struct cte *dest, word_t count)
{
    struct cap *ut = &ut_slot->cap;
    bool device = ut->flags & CAP_FLAG_DEVICE;

    ut->u.untyped.watermark = offset + (count << obj_bits);
    if (ut->u.untyped.cleared < ut->u.untyped.watermark)
        ut->u.untyped.cleared = ut->u.untyped.watermark;
    for (word_t i = 0; i < count; i++) {
        paddr_t pa = ut->paddr + offset + (i << obj_bits);
        struct cap c = object_create(type, pa, (unsigned)size_bits, device);
        cte_insert(&dest[i], &c, ut_slot);
    }
}

word_t untyped_retype(struct cte *ut_slot, word_t type, word_t size_bits, struct cte *dest, word_t count)
{
    unsigned obj_bits;
    word_t offset, bad;

    if (ut_slot->cap.type != FERRY_OBJ_UNTYPED)
        return FERRY_E_WRONG_TYPE;
    word_t err = retype_check(&ut_slot->cap, type, size_bits, count, &obj_bits, &offset, &bad);
    if (err)
        return err;
    for (word_t i = 0; i < count; i++)
        if (!cap_is_null(&dest[i].cap))
            return FERRY_E_SLOT_OCCUPIED;
    if (retype_needs_clearing(&ut_slot->cap, type))
        retype_clear(&ut_slot->cap, offset + (count << obj_bits), false);
    invoke_untyped_retype(ut_slot, type, size_bits, obj_bits, offset, dest, count);
    return FERRY_OK;
}

word_t untyped_decode(struct tcb *caller, struct cte *slot, struct invocation *inv,
                      struct cte **extra, unsigned nextra)
{
    (void)caller;
    unsigned obj_bits;
    word_t offset, bad = FERRY_ERR_ARG_NONE, err;

    if (inv->label != FERRY_UNTYPED_RETYPE)
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    if (inv->len < FERRY_RETYPE_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    if (nextra < FERRY_RETYPE_CAP_ROOT + 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_RETYPE_CAP_ROOT));
    if (!cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);

    word_t type = inv->mr[FERRY_RETYPE_ARG_TYPE], size_bits = inv->mr[FERRY_RETYPE_ARG_SIZE_BITS];
    word_t index = inv->mr[FERRY_RETYPE_ARG_NODE_INDEX], depth = inv->mr[FERRY_RETYPE_ARG_NODE_DEPTH];
    word_t first = inv->mr[FERRY_RETYPE_ARG_OFFSET], count = inv->mr[FERRY_RETYPE_ARG_COUNT];

    /* Destination CNode: the root itself (depth 0) or a CNode below it. */
    const struct cap *root = &extra[FERRY_RETYPE_CAP_ROOT]->cap;
    if (root->type != FERRY_OBJ_CNODE)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_RETYPE_CAP_ROOT));
    const struct cap *node = root;
    if (depth != 0) {
        struct cte *s;
        unsigned left = 0;
        err = cspace_lookup_slot(root, index, depth, &s, &left);
        if (err) {
            inv->err_bits_left = left;
            return inv_fail(inv, err, FERRY_RETYPE_ARG_NODE_INDEX);
        }
        node = &s->cap;
        if (node->type != FERRY_OBJ_CNODE)
            return inv_fail(inv, cap_is_null(node) ? FERRY_E_SLOT_EMPTY : FERRY_E_WRONG_TYPE, FERRY_RETYPE_ARG_NODE_INDEX);
    }
    if (!cap_has_rights(node, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_RETYPE_ARG_NODE_INDEX);

    err = retype_check(&slot->cap, type, size_bits, count, &obj_bits, &offset, &bad);
    if (err)
        return inv_fail(inv, err, bad);
    word_t nslots = BIT(node->size_bits);
    /* Offset 0 is the slot the null cptr would name (core/cspace.c). */
    if (first == 0 || first >= nslots)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_RETYPE_ARG_OFFSET);
    if (count > nslots - first)
        return inv_fail(inv, FERRY_E_RANGE, FERRY_RETYPE_ARG_COUNT);
    struct cte *dest = cnode_slot(node, first);
    for (word_t i = 0; i < count; i++)
        if (!cap_is_null(&dest[i].cap))
            return inv_fail(inv, FERRY_E_SLOT_OCCUPIED, FERRY_RETYPE_ARG_OFFSET);

    if (retype_needs_clearing(&slot->cap, type) &&
        retype_clear(&slot->cap, offset + (count << obj_bits), true) == INVOKE_PREEMPTED)
        return INVOKE_PREEMPTED;
    invoke_untyped_retype(slot, type, size_bits, obj_bits, offset, dest, count);
    inv->len = 0;   /* no results */
    return FERRY_OK;
}
