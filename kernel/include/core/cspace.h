/* cspace.h: resolving capability pointers (cptrs) through a CSpace of CNodes with guards and radix, as in seL4. */
#ifndef FERRY_CORE_CSPACE_H
#define FERRY_CORE_CSPACE_H

#include <object/cap.h>

/* Resolve cptr using exactly depth bits (1..64) from the CNode capability
 * root, most significant of those bits first: at each CNode the guard
 * bits must match, then radix bits index a slot; the path continues
 * through CNode capabilities while bits remain.  On success *slot is the
 * slot (possibly empty).  Errors: FERRY_E_RANGE (depth), FERRY_E_INVALID_CAP
 * (root or an intermediate slot is not a CNode), FERRY_E_LOOKUP_GUARD,
 * FERRY_E_LOOKUP_DEPTH (a level needs more bits than remain, or bits
 * remain at a non-CNode).  *bits_left tells how many bits were unresolved
 * where it failed (may be NULL).  The null cptr 0 resolves to nothing
 * (FERRY_E_INVALID_CAP) at any depth: slot 0 of a CNode is never named
 * through that CNode. */
word_t cspace_lookup_slot(const struct cap *root, word_t cptr, word_t depth,
                          struct cte **slot, unsigned *bits_left);

/* Resolve an invoked capability: depth 64, stopping early at the first
 * slot that holds a non-CNode capability (the remaining low bits are
 * ignored, as in seL4).  The slot must be non-empty (else
 * FERRY_E_INVALID_CAP). */
word_t cspace_lookup_cap(const struct cap *root, word_t cptr, struct cte **slot, unsigned *bits_left);

#endif
