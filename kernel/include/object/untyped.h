/* untyped.h: untyped memory: boot-time creation and Retype into typed objects. */
#ifndef FERRY_OBJECT_UNTYPED_H
#define FERRY_OBJECT_UNTYPED_H

#include <object/cap.h>

struct tcb;
struct invocation;

struct untyped_block {
    paddr_t base;
    unsigned size_bits;
};

/* Split [start, end) into the maximal power-of-two blocks aligned to their
 * size, no larger than 2^FERRY_UNTYPED_MAX_BITS; pieces smaller than
 * 2^FERRY_UNTYPED_MIN_BITS are dropped.  Writes up to max blocks (in
 * address order) and returns how many the region needs: a result > max
 * means out[] was too small. */
size_t untyped_split_region(paddr_t start, paddr_t end, struct untyped_block *out, size_t max);

/* Boot: put a root untyped capability for [base, base + 2^size_bits) into
 * the empty slot dst.  Errors: FERRY_E_RANGE (size), FERRY_E_ALIGNMENT
 * (base not aligned to the size), FERRY_E_SLOT_OCCUPIED. */
word_t untyped_boot_create(struct cte *dst, paddr_t base, unsigned size_bits, bool device);

/* Where the next `count` objects of 2^obj_bits bytes would go in the
 * untyped (byte offset from its base), or an error: FERRY_E_NO_MEMORY if
 * they do not fit.  Pure arithmetic on the capability. */
word_t untyped_fit(const struct cap *ut, unsigned obj_bits, word_t count, word_t *offset);

/* Kernel API (boot code): retype `count` objects of `type` (size_bits for
 * untyped/CNode) from the untyped in ut_slot into dest[0..count), which
 * must be empty.  Does every check the Retype invocation does except
 * rights and lookups. */
word_t untyped_retype(struct cte *ut_slot, word_t type, word_t size_bits, struct cte *dest, word_t count);

/* Invocation on an untyped capability (FERRY_UNTYPED_RETYPE). */
word_t untyped_decode(struct tcb *caller, struct cte *slot, struct invocation *inv,
                      struct cte **extra, unsigned nextra);

#endif
