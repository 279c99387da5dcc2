/* cspace.c: capability-pointer resolution through guarded CNodes (seL4's resolveAddressBits). */
#include <core/cspace.h>
#include <object/cnode.h>
#include <ferry/errors.h>

static inline word_t low_bits(word_t v, unsigned n)
{
    return n >= 64 ? v : v & (BIT(n) - 1);
}

/* Bits [lo, lo + n) of v (n may be 0 or 64). */
static inline word_t bit_field(word_t v, unsigned lo, unsigned n)
{
    return lo >= 64 ? 0 : low_bits(v >> lo, n);
}

/* Walk from root consuming depth bits of cptr.  stop_early: return the
 * first slot holding a non-CNode capability even if bits remain. */
static word_t resolve(const struct cap *root, word_t cptr, unsigned depth, bool stop_early,
                      struct cte **slot, unsigned *bits_left)
{
    const struct cap *node = root;
    unsigned n = depth;
    word_t err;

    for (;;) {
        if (node->type != FERRY_OBJ_CNODE) {
            err = FERRY_E_INVALID_CAP;
            break;
        }
        unsigned radix = node->size_bits, gbits = node->guard_bits;
        unsigned level = radix + gbits;
        if (level > n) {
            err = FERRY_E_LOOKUP_DEPTH;
            break;
        }
        /* The top level bits of the remaining n: guard, then index. */
        if (bit_field(cptr, n - gbits, gbits) != node->u.cnode.guard) {
            err = FERRY_E_LOOKUP_GUARD;
            break;
        }
        struct cte *s = cnode_slot(node, bit_field(cptr, n - level, radix));
        n -= level;
        if (n == 0 || (stop_early && s->cap.type != FERRY_OBJ_CNODE)) {
            *slot = s;
            if (bits_left)
                *bits_left = n;
            return FERRY_OK;
        }
        if (s->cap.type != FERRY_OBJ_CNODE) {
            /* Bits remain but the path ends: empty slot, or a capability
             * reached with too large a depth. */
            err = cap_is_null(&s->cap) ? FERRY_E_INVALID_CAP : FERRY_E_LOOKUP_DEPTH;
            break;
        }
        node = &s->cap;
    }
    if (bits_left)
        *bits_left = n;
    return err;
}

/* The usual CSpace, one CNode whose guard and radix take all 64 bits
 * (its capability's u.cnode.fp_base is non-zero: object/cap.h), with the
 * guard matched: the slot resolve would reach at full depth, in one step
 * (the IPC fast path's lookup, arch/x86_64/fastpath.c).  NULL for
 * anything else, which resolve walks and reports.  A radix is 1..24, so
 * the shift is defined. */
static inline struct cte *single_level(const struct cap *root, word_t cptr)
{
    word_t base = root->u.cnode.fp_base;
    if (root->type != FERRY_OBJ_CNODE || !base || (cptr >> root->size_bits) != root->u.cnode.guard)
        return NULL;
    return (struct cte *)(base + (cptr << FERRY_CTE_BITS));
}

/* The null capability pointer (0, at any depth) names no slot: nothing
 * can be put there or found there, so a cptr left at 0 by mistake never
 * acts on a real capability (#21: a Move into slot 0 used to succeed). */
static word_t null_cptr(unsigned depth, unsigned *bits_left)
{
    if (bits_left)
        *bits_left = depth;
    return FERRY_E_INVALID_CAP;
}

word_t cspace_lookup_slot(const struct cap *root, word_t cptr, word_t depth,
                          struct cte **slot, unsigned *bits_left)
{
    if (depth < 1 || depth > 64) {
        if (bits_left)
            *bits_left = 0;
        return FERRY_E_RANGE;
    }
    if (cptr == 0)
        return null_cptr((unsigned)depth, bits_left);
    struct cte *s = depth == 64 ? single_level(root, cptr) : NULL;
    if (s) {
        *slot = s;
        if (bits_left)
            *bits_left = 0;
        return FERRY_OK;
    }
    return resolve(root, cptr, (unsigned)depth, false, slot, bits_left);
}

word_t cspace_lookup_cap(const struct cap *root, word_t cptr, struct cte **slot, unsigned *bits_left)
{
    struct cte *s;
    if (cptr == 0)
        return null_cptr(64, bits_left);
    s = single_level(root, cptr);
    if (s) {
        if (bits_left)
            *bits_left = 0;
    } else {
        word_t err = resolve(root, cptr, 64, true, &s, bits_left);
        if (err)
            return err;
    }
    if (cap_is_null(&s->cap))
        return FERRY_E_INVALID_CAP;
    *slot = s;
    return FERRY_OK;
}
