/* cnode.c: CNodes, the capability derivation tree (CDT) and the slot operations Copy, Mint, Move, Delete, Revoke. */
#include <object/cnode.h>
#include <object/objtype.h>
#include <object/tcb.h>
#include <object/arch_hooks.h>
#include <core/cspace.h>
#include <core/invoke.h>
#include <core/preempt.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <panic.h>

/* ---- derivation tree ------------------------------------------------
 *
 * Explicit tree: parent, first child and a doubly linked sibling list.
 * Invariant (see cap.h): the capabilities to one object form one subtree;
 * its root's parent is an untyped (or none).  Removing a node keeps that
 * invariant: its children either move up to a parent naming the same
 * object, or one of them takes the removed node's place. */

static void sib_unlink(struct cte *c)
{
    if (c->prev_sibling)
        c->prev_sibling->next_sibling = c->next_sibling;
    else if (c->parent)
        c->parent->first_child = c->next_sibling;
    if (c->next_sibling)
        c->next_sibling->prev_sibling = c->prev_sibling;
    c->next_sibling = c->prev_sibling = NULL;
}

/* Make c the first child of parent (sibling order carries no meaning, so
 * prepending keeps insertion O(1)). */
static void child_link(struct cte *parent, struct cte *c)
{
    c->parent = parent;
    c->prev_sibling = NULL;
    c->next_sibling = parent ? parent->first_child : NULL;
    if (!parent)
        return;
    if (parent->first_child)
        parent->first_child->prev_sibling = c;
    parent->first_child = c;
}

/* Move all children of from under to (to may be NULL: they become roots). */
static void children_adopt(struct cte *from, struct cte *to)
{
    struct cte *c = from->first_child;
    from->first_child = NULL;
    while (c) {
        struct cte *next = c->next_sibling;
        child_link(to, c);
        c = next;
    }
}

/* Put heir where old is in its parent's child list. */
static void sib_replace(struct cte *old, struct cte *heir)
{
    heir->parent = old->parent;
    heir->prev_sibling = old->prev_sibling;
    heir->next_sibling = old->next_sibling;
    if (heir->prev_sibling)
        heir->prev_sibling->next_sibling = heir;
    else if (heir->parent)
        heir->parent->first_child = heir;
    if (heir->next_sibling)
        heir->next_sibling->prev_sibling = heir;
    old->parent = old->prev_sibling = old->next_sibling = NULL;
}

static void untyped_maybe_reset(struct cte *p)
{
    /* With no children left, no object lives in the untyped any more. */
    if (p && p->cap.type == FERRY_OBJ_UNTYPED && !p->first_child)
        p->cap.u.untyped.watermark = p->cap.u.untyped.cleared = 0;
}

/* Take slot out of the tree, keeping its descendants in it. */
static void cdt_remove(struct cte *slot)
{
    struct cte *p = slot->parent;

    if (!slot->first_child) {
        sib_unlink(slot);
    } else if (p && cap_same_object(&p->cap, &slot->cap)) {
        sib_unlink(slot);
        children_adopt(slot, p);
    } else {
        /* slot roots its object's subtree: a child naming the same object
         * becomes the new root, the other children go under it. */
        struct cte *heir = slot->first_child;
        while (heir && !cap_same_object(&heir->cap, &slot->cap))
            heir = heir->next_sibling;
        if (heir) {
            sib_unlink(heir);
            children_adopt(slot, heir);
            sib_replace(slot, heir);
        } else {
            sib_unlink(slot);
            children_adopt(slot, p);
        }
    }
    slot->parent = slot->first_child = NULL;
    untyped_maybe_reset(p);
}

void cte_insert(struct cte *dst, const struct cap *cap, struct cte *parent)
{
    assert(cap_is_null(&dst->cap));
    dst->cap = *cap;
    if (cap->type == FERRY_OBJ_VSPACE || cap->type == FERRY_OBJ_CNODE)   /* only Configure marks a slot */
        dst->cap.flags &= (uint8_t)~(CAP_FLAG_TCB_VSPACE | CAP_FLAG_TCB_CSPACE);
    dst->first_child = NULL;
    child_link(parent, dst);
}

bool cte_is_final(const struct cte *slot)
{
    if (slot->parent && cap_same_object(&slot->parent->cap, &slot->cap))
        return false;
    for (const struct cte *c = slot->first_child; c; c = c->next_sibling)
        if (cap_same_object(&c->cap, &slot->cap))
            return false;
    return true;
}

/* ---- deletion ---------------------------------------------------------
 *
 * Deleting the last capability to a CNode or TCB deletes the capabilities
 * it holds, which may be last capabilities to more CNodes, and so on.
 * That work is unbounded (a radix-24 CNode, a chain of CNodes each
 * holding the last capability to the next), so it must neither recurse
 * on the kernel stack nor run without preemption points; and while it is
 * half done, the container's memory must stay allocated, or its untyped
 * could be reset and retyped over it while the reaper still points into
 * it.  seL4's answer, followed here: a Zombie capability (CAP_TYPE_ZOMBIE)
 * takes the last capability's place in the derivation tree until the
 * container is empty:
 *   1. the final capability becomes a Zombie in its own slot (a TCB is
 *      first stopped and detached: tcb_destroy), pushed on the reap stack,
 *      which is linked through the Zombies themselves;
 *   2. the reaper deletes the top Zombie's slots one by one from its
 *      cursor (kept in the Zombie), each a unit of work between preemption
 *      points; a final container met there becomes a Zombie on top, so
 *      nothing recurses;
 *   3. once the container's slot 0 is empty, the Zombie moves there, tree
 *      position and all (seL4 swaps Zombies into their own CNode), and a
 *      Zombie below that waited on the slot it left follows to its own
 *      slot 0: a Zombie must end inside its own container, never in one
 *      that is freed before it; dead CNodes that hold each other's last
 *      capability in slot 0 (a cycle) are rotated into place at once;
 *   4. an empty container's Zombie leaves the tree and is cleared: only
 *      now can its untyped be reset.
 * A Delete or Revoke first finishes what is on the stack, so the stack is
 * always one chain of Zombies, each made while emptying the one below.
 * Every Zombie is on the stack and the stack lives in the Zombies, so a
 * reap stopped at a preemption point is consistent: the next Delete or
 * Revoke (the restarted system call, or anyone's) runs the stack on.
 * User space cannot name a Zombie (it lies in a container no capability
 * reaches any more); a Revoke meets it as a leaf of the untyped and
 * deleting it runs the reaper.  A Delete invocation stopped that way
 * leaves a marker Zombie (ZOMBIE_MARK: no object, outside the tree) in
 * the slot it was asked to empty, so that its restart, which finds the
 * marker, finishes the reaping and then empties the slot, instead of
 * finding an empty slot and failing; the reaper just clears a marker it
 * meets in a dead container. */

#define ZOMBIE_TCB   0x1        /* cap.flags: the container is a TCB's slots */
#define ZOMBIE_MARK  0x2        /* cap.flags: a preempted Delete's slot, no container */

static struct cte *reap_stack;  /* the newest Zombie; each links to the one before */
static struct cte *zombie_pending;   /* the slot tcb_destroy's cte_reap_slots turns into one */

static void finalise(struct cap *c);

static bool cap_is_zombie(const struct cap *c) { return c->type == CAP_TYPE_ZOMBIE; }
static bool cap_is_container(const struct cap *c)
{
    return c->type == FERRY_OBJ_CNODE || c->type == FERRY_OBJ_TCB;
}

/* Zombie fields: paddr is the container's object; u.raw[0] = cursor |
 * count << 32; u.raw[1] = the next Zombie down the stack. */
static struct cte *zombie_slots(const struct cap *z)
{
    return (z->flags & ZOMBIE_TCB) ? ((struct tcb *)phys_to_virt(z->paddr))->slots
                                   : (struct cte *)phys_to_virt(z->paddr);
}

/* The capability in slot is about to leave it (deleted, moved out, or
 * replaced by its Zombie).  If Configure marked the slot as a TCB's VSpace
 * or CSpace root (CAP_FLAG_TCB_*), the fast-path words that TCB keeps
 * from it go stale now, before anything can run: its ready word
 * (ctx.fp_home) or its precomputed lookup (fp_cs_*).  These are the only
 * ways a capability leaves a slot (cte_swap exchanges Zombies only, which
 * zombie_make already passed through here). */
static void root_slot_leaving(struct cte *slot)
{
    struct cap *c = &slot->cap;
    if (c->type == FERRY_OBJ_VSPACE && (c->flags & CAP_FLAG_TCB_VSPACE)) {
        c->flags &= (uint8_t)~CAP_FLAG_TCB_VSPACE;
        tcb_fp_vspace_gone(slot);
    } else if (c->type == FERRY_OBJ_CNODE && (c->flags & CAP_FLAG_TCB_CSPACE)) {
        c->flags &= (uint8_t)~CAP_FLAG_TCB_CSPACE;
        tcb_fp_cspace_gone(slot);
    }
}

static void ptr_swap_ref(struct cte **p, struct cte *a, struct cte *b)
{
    if (*p == a)
        *p = b;
    else if (*p == b)
        *p = a;
}

static void node_swap_refs(struct cte *n, struct cte *a, struct cte *b)
{
    ptr_swap_ref(&n->parent, a, b);
    ptr_swap_ref(&n->first_child, a, b);
    ptr_swap_ref(&n->next_sibling, a, b);
    ptr_swap_ref(&n->prev_sibling, a, b);
}

/* Exchange two slots' capabilities and places in the tree.  Every link
 * that named one slot must name the other: those of the two slots
 * themselves, of their parents and siblings and of their children, each
 * visited once (a neighbour may be a child of the other slot). */
static void cte_swap(struct cte *a, struct cte *b)
{
    if (a == b)
        return;
    struct cte *near[6] = { a->parent, a->prev_sibling, a->next_sibling,
                            b->parent, b->prev_sibling, b->next_sibling };
    for (struct cte *c = a->first_child; c; c = c->next_sibling)
        if (c != b)
            node_swap_refs(c, a, b);
    for (struct cte *c = b->first_child; c; c = c->next_sibling)
        if (c != a)
            node_swap_refs(c, a, b);
    for (int i = 0; i < 6; i++) {
        struct cte *n = near[i];
        bool seen = !n || n == a || n == b || n->parent == a || n->parent == b;
        for (int j = 0; j < i && !seen; j++)
            seen = near[j] == n;
        if (!seen)
            node_swap_refs(n, a, b);
    }
    struct cte t = *a;
    *a = *b;
    *b = t;
    node_swap_refs(a, a, b);
    node_swap_refs(b, a, b);
}

/* slot holds the last capability to a container of count slots: it
 * becomes the container's Zombie, in place, on top of the stack. */
static void zombie_make(struct cte *slot, word_t count, uint8_t flags)
{
    root_slot_leaving(slot);             /* a TCB's CSpace root becoming its CNode's Zombie */
    struct cap *z = &slot->cap;
    z->type = CAP_TYPE_ZOMBIE;
    z->rights = 0;
    z->flags = flags;
    z->u.raw[0] = count << 32;           /* cursor 0 */
    z->u.raw[1] = (word_t)reap_stack;
    reap_stack = slot;
}

word_t cte_zombie_bytes(const struct cap *z)
{
    if (z->flags & ZOMBIE_MARK)
        return 0;
    return (z->flags & ZOMBIE_TCB) ? BIT(FERRY_TCB_BITS) : BIT(z->size_bits + FERRY_CTE_BITS);
}

static word_t zombie_cursor(const struct cte *z) { return z->cap.u.raw[0] & 0xffffffffUL; }
static struct cte *zombie_next(const struct cte *z) { return (struct cte *)z->cap.u.raw[1]; }
static struct cte *zombie_home(const struct cte *z) { return &zombie_slots(&z->cap)[0]; }

/* Step 3: the top Zombie has emptied its slot 0: it moves there (a
 * Zombie has no children, and its home is empty, so the swap is O(1)),
 * then each Zombie below whose own slot 0 is the slot just left. */
static void zombie_settle(void)
{
    struct cte *z = reap_stack, *above = NULL;
    for (;;) {
        struct cte *home = zombie_home(z), *below = zombie_next(z);
        if (z == home || !cap_is_null(&home->cap))
            return;
        cte_swap(z, home);
        if (above)
            above->cap.u.raw[1] = (word_t)home;
        else
            reap_stack = home;
        if (!below || zombie_cursor(below) != 0 || zombie_home(below) != z)
            return;
        above = home;
        z = below;
    }
}

/* The top Zombie's slot 0 holds a Zombie w further down: the Zombies from
 * the top down to w each live in slot 0 of the one below (each was made
 * while that one emptied its slot 0) and w lives in the top's.  Rotate
 * them all home: the top into w's place, then each next one into the
 * place w was moved to, w last; each link then names where the Zombie
 * below now is. */
static void zombie_cycle(void)
{
    struct cte *top = reap_stack, *wend = zombie_home(top);
    struct cte *next = zombie_next(top);
    cte_swap(top, wend);                 /* the top is home; w is where the top was */
    reap_stack = wend;
    struct cte *holder = wend, *wloc = top;
    while (next != wend) {
        assert(next);
        struct cte *at = next;
        next = zombie_next(at);
        cte_swap(wloc, at);              /* this one is home (wloc); w moves on to at */
        holder->cap.u.raw[1] = (word_t)wloc;
        holder = wloc;
        wloc = at;
    }
    holder->cap.u.raw[1] = (word_t)wloc;
}

/* Take the capability out of slot; return true if it was the last one to
 * its object (the caller then finalises the copy in *out). */
static bool slot_clear(struct cte *slot, struct cap *out)
{
    root_slot_leaving(slot);
    *out = slot->cap;
    bool final = cte_is_final(slot);
    cdt_remove(slot);
    memset(&slot->cap, 0, sizeof slot->cap);
    if (cap_is_arch(out))
        arch_cap_delete(out, final);
    return final;
}

/* Delete the capability in slot (not a Zombie): a final container
 * becomes a Zombie on the reap stack, anything else goes now. */
static void slot_delete(struct cte *slot)
{
    if (cap_is_container(&slot->cap) && cte_is_final(slot)) {
        if (slot->cap.type == FERRY_OBJ_CNODE) {
            zombie_make(slot, BIT(slot->cap.size_bits), 0);
        } else {
            zombie_pending = slot;
            tcb_destroy(cap_tcb(&slot->cap));    /* ends in cte_reap_slots */
            assert(!zombie_pending);
        }
        return;
    }
    struct cap c;
    if (slot_clear(slot, &c))
        finalise(&c);
}

void cte_reap_slots(struct cte *slots, word_t n)
{
    struct cte *slot = zombie_pending;
    assert(slot && slots == cap_tcb(&slot->cap)->slots);
    zombie_pending = NULL;
    zombie_make(slot, n, ZOMBIE_TCB);
}

/* Empty the containers on the reap stack (see above).  preemptible:
 * stop at a preemption point (INVOKE_PREEMPTED), else run to the end. */
static word_t reap_run(bool preemptible)
{
    while (reap_stack) {
        struct cte *top = reap_stack;
        struct cap *z = &top->cap;
        word_t cursor = z->u.raw[0] & 0xffffffffUL, count = z->u.raw[0] >> 32;
        if (cursor < count) {
            struct cte *s = &zombie_slots(z)[cursor];
            if (s == top) {
                z->u.raw[0]++;           /* the Zombie itself, at home */
            } else if (cap_is_zombie(&s->cap) && (s->cap.flags & ZOMBIE_MARK)) {
                memset(&s->cap, 0, sizeof s->cap);     /* a marker holds nothing */
            } else if (cap_is_zombie(&s->cap)) {
                assert(cursor == 0);     /* a cycle of slot-0 Zombies (see above) */
                zombie_cycle();
            } else if (!cap_is_null(&s->cap)) {
                slot_delete(s);          /* may push a Zombie (in s) on top */
            }
            if (reap_stack == top && cap_is_null(&s->cap)) {
                z->u.raw[0]++;
                if (cursor == 0)
                    zombie_settle();
            }
        } else {
            reap_stack = (struct cte *)z->u.raw[1];
            cdt_remove(top);             /* now the untyped may be reset */
            memset(&top->cap, 0, sizeof top->cap);
        }
        if (preemptible && preemption_point())
            return INVOKE_PREEMPTED;
    }
    return FERRY_OK;
}

/* The last capability to the object in *c is gone: destroy the object
 * (containers do not come here: they become Zombies). */
static void finalise(struct cap *c)
{
    object_destroy(c);
}

static word_t delete_run(struct cte *slot, bool preemptible)
{
    /* What earlier deletions left is finished first, so that a new Zombie
     * never lands on an unrelated stack (step 3 relies on one chain). */
    if (reap_run(preemptible) == INVOKE_PREEMPTED)
        return INVOKE_PREEMPTED;
    /* A Zombie here was finished with the stack. */
    if (!cap_is_null(&slot->cap) && !cap_is_zombie(&slot->cap))
        slot_delete(slot);
    return reap_run(preemptible);
}

void cte_delete(struct cte *slot)
{
    if (cap_is_zombie(&slot->cap) && (slot->cap.flags & ZOMBIE_MARK))
        memset(&slot->cap, 0, sizeof slot->cap);
    delete_run(slot, false);
}

word_t cte_delete_preemptible(struct cte *slot)
{
    bool marked = cap_is_zombie(&slot->cap) && (slot->cap.flags & ZOMBIE_MARK);
    if (delete_run(slot, true) == INVOKE_PREEMPTED) {
        if (!marked && cap_is_null(&slot->cap))
            slot->cap = (struct cap){ .type = CAP_TYPE_ZOMBIE, .flags = ZOMBIE_MARK };
        return INVOKE_PREEMPTED;
    }
    if (marked)
        memset(&slot->cap, 0, sizeof slot->cap);
    return FERRY_OK;
}

/* Delete slot's descendants in units of constant work, so that the
 * whole is linear in their number and a preemption point may come after
 * any unit; no progress lives on the stack, so a restarted revoke simply
 * starts again from slot (seL4 deletes the next node of its CDT list).
 * A unit is one of:
 *   - delete a leaf (nothing is removed while it has children, so there
 *     is no re-parenting work, and an object is destroyed once, when its
 *     last capability goes);
 *   - move one child of a copy up to the copy's parent (the child names
 *     the same object, so the tree stays one subtree per object); each
 *     capability moves up at most once, to a node that is deleted only
 *     as a leaf.
 * The unit is found from slot by a walk through untyped capabilities and
 * object roots only (their parent names another object), at most one
 * step per level of nested untyped, so a restart costs little whatever
 * the shape below.  (The leaf search used to walk the whole depth from
 * slot after every deletion: quadratic in a chain's length.)  Deleting a
 * leaf may reap a container holding slot itself: the revoke ends when
 * slot is empty. */
static word_t revoke_run(struct cte *slot, bool preemptible)
{
    while (!cap_is_null(&slot->cap) && slot->first_child) {
        struct cte *x = slot->first_child;
        while (x->first_child && !cap_same_object(&x->parent->cap, &x->cap))
            x = x->first_child;
        if (x->first_child) {
            struct cte *c = x->first_child;
            sib_unlink(c);
            child_link(x->parent, c);
        } else if (delete_run(x, preemptible) == INVOKE_PREEMPTED) {
            return INVOKE_PREEMPTED;     /* x holds a Zombie leaf: the restart finds it */
        }
        if (preemptible && preemption_point())
            return INVOKE_PREEMPTED;
    }
    return FERRY_OK;
}

void cte_revoke(struct cte *slot)
{
    revoke_run(slot, false);
}

word_t cte_revoke_preemptible(struct cte *slot)
{
    return revoke_run(slot, true);
}

/* ---- copy, mint, move -------------------------------------------------- */

/* Check a derivation and build the new capability (decode half). */
static word_t derive_data(const struct cap *src, word_t data, struct cap *out)
{
    switch (src->type) {
    case FERRY_OBJ_ENDPOINT:
    case FERRY_OBJ_NOTIFICATION:
        if (src->u.ep.badge != 0)
            return FERRY_E_ILLEGAL_OP;   /* a badge is set once */
        out->u.ep.badge = data;
        return FERRY_OK;
    case FERRY_OBJ_CNODE: {
        word_t gbits = data & 0x3f, guard = data >> 6;
        if (gbits + src->size_bits > 64)
            return FERRY_E_RANGE;
        if (gbits < 64 && (guard >> gbits) != 0)
            return FERRY_E_RANGE;
        out->guard_bits = (uint8_t)gbits;
        out->u.cnode.guard = guard;
        cap_cnode_set_fp(out);
        return FERRY_OK;
    }
    default:
        return FERRY_E_INVALID_ARG;  /* nothing to mint into this type */
    }
}

static word_t derive_check(const struct cap *src, word_t mask, bool mint, word_t data,
                           struct cap *out)
{
    if (src->type == FERRY_OBJ_UNTYPED)
        return FERRY_E_ILLEGAL_OP;  /* two caps would hand out the same memory */
    if (cap_is_zombie(src))
        return FERRY_E_DELETE_IN_PROGRESS;
    if (src->type == FERRY_OBJ_NULL || src->type >= FERRY_OBJ_COUNT)
        return FERRY_E_SLOT_EMPTY;
    *out = *src;
    out->rights &= (uint8_t)(mask & FERRY_RIGHTS_ALL);
    if (mint && data != 0) {
        word_t err = derive_data(src, data, out);
        if (err)
            return err;
    }
    if (cap_is_arch(out))
        return arch_cap_derive(out);
    return FERRY_OK;
}

static void invoke_cnode_insert(struct cte *dst, const struct cap *cap, struct cte *src)
{
    cte_insert(dst, cap, src);
}

static void invoke_cnode_move(struct cte *src, struct cte *dst)
{
    cte_move(src, dst);
}

static word_t invoke_cnode_delete(struct cte *slot) { return cte_delete_preemptible(slot); }
static word_t invoke_cnode_revoke(struct cte *slot) { return cte_revoke_preemptible(slot); }

word_t cte_copy(struct cte *src, struct cte *dst, word_t rights_mask)
{
    return cte_mint(src, dst, rights_mask, 0);
}

word_t cte_mint(struct cte *src, struct cte *dst, word_t rights_mask, word_t data)
{
    struct cap c;
    if (cap_is_null(&src->cap))
        return FERRY_E_SLOT_EMPTY;
    if (!cap_is_null(&dst->cap))
        return FERRY_E_SLOT_OCCUPIED;
    word_t err = derive_check(&src->cap, rights_mask, true, data, &c);
    if (err)
        return err;
    invoke_cnode_insert(dst, &c, src);
    return FERRY_OK;
}

void cte_move(struct cte *src, struct cte *dst)
{
    assert(cap_is_null(&dst->cap) && !cap_is_null(&src->cap));
    root_slot_leaving(src);              /* (dst is no TCB's root slot: Configure marks it after) */
    dst->cap = src->cap;
    dst->first_child = src->first_child;
    for (struct cte *c = dst->first_child; c; c = c->next_sibling)
        c->parent = dst;
    src->first_child = NULL;
    sib_replace(src, dst);
    memset(src, 0, sizeof *src);
}

/* ---- CNode invocations -------------------------------------------------- */

/* A slot argument is an index word followed by its depth word. */
_Static_assert(FERRY_CNODE_ARG_DEST_DEPTH == FERRY_CNODE_ARG_DEST_INDEX + 1 &&
               FERRY_CNODE_ARG_SRC_DEPTH == FERRY_CNODE_ARG_SRC_INDEX + 1 &&
               FERRY_CNODE_ARG_DEPTH == FERRY_CNODE_ARG_INDEX + 1, "index, then depth");

static word_t lookup_arg(struct invocation *inv, const struct cap *root, word_t idx_arg,
                         struct cte **out)
{
    unsigned left = 0;
    word_t err = cspace_lookup_slot(root, inv->mr[idx_arg], inv->mr[idx_arg + 1], out, &left);
    if (err) {
        inv->err_bits_left = left;
        return inv_fail(inv, err, idx_arg);
    }
    return FERRY_OK;
}

static word_t decode_copy_move(struct cte *slot, struct invocation *inv, struct cte **extra,
                               unsigned nextra)
{
    bool move = inv->label == FERRY_CNODE_MOVE, mint = inv->label == FERRY_CNODE_MINT;
    word_t need_len = move ? FERRY_CNODE_MOVE_NARGS : mint ? FERRY_CNODE_MINT_NARGS : FERRY_CNODE_COPY_NARGS;
    struct cte *dst, *src;
    word_t err;

    if (inv->len < need_len)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    if (nextra < FERRY_CNODE_CAP_SRC_ROOT + 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_CNODE_CAP_SRC_ROOT));
    if (!cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
    const struct cap *src_root = &extra[FERRY_CNODE_CAP_SRC_ROOT]->cap;
    if (src_root->type != FERRY_OBJ_CNODE)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_CNODE_CAP_SRC_ROOT));
    word_t src_rights = move ? FERRY_RIGHT_READ | FERRY_RIGHT_WRITE : FERRY_RIGHT_READ;
    if (!cap_has_rights(src_root, src_rights))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_CNODE_CAP_SRC_ROOT));

    if ((err = lookup_arg(inv, &slot->cap, FERRY_CNODE_ARG_DEST_INDEX, &dst)))
        return err;
    if (!cap_is_null(&dst->cap))
        return inv_fail(inv, FERRY_E_SLOT_OCCUPIED, FERRY_CNODE_ARG_DEST_INDEX);
    if ((err = lookup_arg(inv, src_root, FERRY_CNODE_ARG_SRC_INDEX, &src)))
        return err;
    if (cap_is_null(&src->cap))
        return inv_fail(inv, FERRY_E_SLOT_EMPTY, FERRY_CNODE_ARG_SRC_INDEX);
    if (cap_is_zombie(&src->cap))
        return inv_fail(inv, FERRY_E_DELETE_IN_PROGRESS, FERRY_CNODE_ARG_SRC_INDEX);

    if (move) {
        invoke_cnode_move(src, dst);
        return FERRY_OK;
    }
    struct cap c;
    err = derive_check(&src->cap, inv->mr[FERRY_CNODE_ARG_RIGHTS], mint, mint ? inv->mr[FERRY_CNODE_ARG_BADGE] : 0, &c);
    if (err)
        return inv_fail(inv, err, err == FERRY_E_ILLEGAL_OP && (src->cap.type == FERRY_OBJ_UNTYPED ||
                                                            cap_is_arch(&src->cap))
                                      ? FERRY_CNODE_ARG_SRC_INDEX : FERRY_CNODE_ARG_BADGE);
    invoke_cnode_insert(dst, &c, src);
    return FERRY_OK;
}

static word_t decode_delete_revoke(struct cte *slot, struct invocation *inv)
{
    struct cte *target;
    word_t err;

    if (inv->len < FERRY_CNODE_DELETE_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    if (!cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
    if ((err = lookup_arg(inv, &slot->cap, FERRY_CNODE_ARG_INDEX, &target)))
        return err;
    if (cap_is_null(&target->cap))
        return inv_fail(inv, FERRY_E_SLOT_EMPTY, FERRY_CNODE_ARG_INDEX);

    if (inv->label == FERRY_CNODE_REVOKE)
        return invoke_cnode_revoke(target);
    /* An untyped with live objects would lose track of them. */
    if (target->cap.type == FERRY_OBJ_UNTYPED && target->first_child)
        return inv_fail(inv, FERRY_E_REVOKE_FIRST, FERRY_CNODE_ARG_INDEX);
    return invoke_cnode_delete(target);
}

word_t cnode_decode(struct tcb *caller, struct cte *slot, struct invocation *inv,
                    struct cte **extra, unsigned nextra)
{
    (void)caller;
    word_t err;
    switch (inv->label) {
    case FERRY_CNODE_COPY:
    case FERRY_CNODE_MINT:
    case FERRY_CNODE_MOVE:
        err = decode_copy_move(slot, inv, extra, nextra);
        break;
    case FERRY_CNODE_DELETE:
    case FERRY_CNODE_REVOKE:
        err = decode_delete_revoke(slot, inv);
        break;
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
    if (!err)
        inv->len = 0;   /* no results */
    return err;
}
