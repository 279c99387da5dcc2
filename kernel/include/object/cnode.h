/* cnode.h: CNodes, the capability derivation tree, and the slot operations (insert, copy, move, delete, revoke). */
#ifndef FERRY_OBJECT_CNODE_H
#define FERRY_OBJECT_CNODE_H

#include <object/cap.h>

struct tcb;
struct invocation;

/* Slot i of the CNode a CNode capability names (i < 2^radix). */
static inline struct cte *cnode_slot(const struct cap *cnode, word_t i)
{
    return (struct cte *)cap_object(cnode) + i;
}

/* --- derivation tree ------------------------------------------------- */

/* Put cap into the empty slot dst as the last child of parent (NULL: a
 * root, as for boot capabilities). */
void cte_insert(struct cte *dst, const struct cap *cap, struct cte *parent);

/* Is this the only capability to its object?  (Deleting it destroys it.) */
bool cte_is_final(const struct cte *slot);

/* --- operations (kernel API; checks of user arguments are in decode) -- */

/* Derive a capability from src with rights & mask into empty dst, as a
 * CDT child of src.  Untyped capabilities cannot be copied. */
word_t cte_copy(struct cte *src, struct cte *dst, word_t rights_mask);

/* Like cte_copy, also setting a badge (endpoint/notification, only if src
 * is unbadged; 0 keeps it unbadged) or a guard (CNode: FERRY_CNODE_GUARD). */
word_t cte_mint(struct cte *src, struct cte *dst, word_t rights_mask, word_t data);

/* Move the capability from src into empty dst, keeping its derivation. */
void cte_move(struct cte *src, struct cte *dst);

/* Empty the slot.  If it held the last capability to an object, destroy
 * the object; a CNode or TCB destroyed this way has its own slots deleted
 * too (iteratively, without recursion on the kernel stack). */
void cte_delete(struct cte *slot);

/* The same with preemption points: FERRY_OK when done, INVOKE_PREEMPTED
 * when stopped with the slot holding a Zombie (cnode.c) that the next
 * Delete or Revoke finishes. */
word_t cte_delete_preemptible(struct cte *slot);

/* Delete every capability derived from slot (its CDT descendants), in
 * time linear in their number. */
void cte_revoke(struct cte *slot);

/* The same with preemption points (core/preempt.h): FERRY_OK when done,
 * INVOKE_PREEMPTED when stopped early (a restart goes on from there). */
word_t cte_revoke_preemptible(struct cte *slot);

/* The reaper's entry for a TCB's private slots: tcb_destroy calls it last,
 * and the TCB's slot becomes a Zombie that empties them. */
void cte_reap_slots(struct cte *slots, word_t n);

/* The memory a Zombie holds (its container's size; 0 for a preempted
 * Delete's marker), for the invariant check. */
word_t cte_zombie_bytes(const struct cap *z);

/* Invocation on a CNode capability (FERRY_CNODE_*). */
word_t cnode_decode(struct tcb *caller, struct cte *slot, struct invocation *inv,
                    struct cte **extra, unsigned nextra);

#endif
