/* invariants.c: the kernel invariant check (FERRY_SYS_DEBUG_CHECK): derivation tree, untyped accounting, threads, scheduler and IPC queues; mappings through the arch part. */
#ifndef FERRY_BENCHMARK
#define FERRY_BENCHMARK 1
#endif
#if FERRY_BENCHMARK   /* the check is a debug/benchmark-build call */
#include <arch/smp.h>
#include <core/invariants.h>
#include <core/ipc.h>
#include <core/cspace.h>
#include <core/sched.h>
#include <arch/thread.h>
#include <object/cnode.h>
#include <object/endpoint.h>
#include <object/notification.h>
#include <object/objtype.h>
#include <ferry/arch_x86_64.h>
#include <object/tcb.h>
#include <ferry/errors.h>
#include <printk.h>

/*
 * How the walk enumerates kernel state without allocating and without
 * trusting a single link:
 *   1. roots: from every capability in a CNode we scan, follow parent
 *      links up to the root of its derivation tree; new roots go on a
 *      work list;
 *   2. each tree on the list is walked depth first through first-child
 *      and next-sibling links, every link checked against its reverse
 *      (child->parent, next->prev); the first capability of each object
 *      met (its "object root") triggers the per-object checks, which for a
 *      CNode scans its slots (step 1 again);
 *   3. at the end every slot of every CNode and TCB scanned must have been
 *      reached by step 2 (a capability outside the tree it claims to be in).
 * Visited capabilities carry a generation mark in their padding (cap.pad,
 * 24 bits), so nothing is walked twice and a cycle shows up as a node
 * reached twice.  Every loop has a bound: a corrupted structure makes the
 * check fail with FERRY_INV_LIMIT, never hang.
 */

#define MAX_NODES   (1UL << 22)  /* capabilities in all trees together */
#define MAX_ROOTS   4096         /* derivation trees */
#define MAX_CONTAINERS 8192      /* CNodes and TCBs whose slots are re-checked at the end */
#define MAX_QUEUE   (1UL << 16)  /* threads in one queue */
#define OBJ_HASH    (1UL << 15)  /* distinct retyped objects (256 KiB of marks) */

static struct inv_report *rep;
static uint32_t gen;               /* this run's marks: 2*gen (root known), 2*gen+1 (visited) */
static word_t nodes;
static struct cte *roots[MAX_ROOTS];
static word_t nroots;
static struct { struct cte *slots; word_t n; } containers[MAX_CONTAINERS];
static word_t ncontainers;
static uint64_t objects[OBJ_HASH]; /* paddr | type of every object root met, 0 = free */

static bool fail(word_t code, const char *what, const struct cte *where)
{
    if (rep->code == FERRY_INV_OK) {
        rep->code = code;
        if (where)
            kprintf("invariant %lu broken: %s (slot %p: type %u, paddr %#lx, parent %p)\n", code, what,
                    (const void *)where, where->cap.type, where->cap.paddr, (const void *)where->parent);
        else
            kprintf("invariant %lu broken: %s\n", code, what);
    }
    return false;
}

static bool fail_thread(const char *what, const struct tcb *t)
{
    if (rep->code == FERRY_INV_OK) {
        rep->code = FERRY_INV_THREAD;
        kprintf("invariant %u broken: %s (thread %p, state %u, blocked on %p)\n", FERRY_INV_THREAD, what,
                (const void *)t, (unsigned)t->state, t->blocked_on);
    }
    return false;
}

static uint32_t mark_of(const struct cte *s)
{
    return s->cap.pad[0] | (uint32_t)s->cap.pad[1] << 8 | (uint32_t)s->cap.pad[2] << 16;
}

static void mark(struct cte *s, uint32_t m)
{
    s->cap.pad[0] = (uint8_t)m;
    s->cap.pad[1] = (uint8_t)(m >> 8);
    s->cap.pad[2] = (uint8_t)(m >> 16);
}

#define MARK_KNOWN   ((gen * 2) & 0xffffff)
#define MARK_VISITED ((gen * 2 + 1) & 0xffffff)

static bool seen(const struct cte *s)
{
    uint32_t m = mark_of(s);
    return m == MARK_KNOWN || m == MARK_VISITED;
}

/* Step 1: make sure the tree s is in gets walked. */
static bool note_slot(struct cte *s)
{
    struct cte *top = s;
    word_t steps = 0;
    while (!seen(top) && top->parent) {
        top = top->parent;
        if (++steps > MAX_NODES)
            return fail(FERRY_INV_LIMIT, "parent links do not end (cycle?)", s);
    }
    if (!seen(top)) {
        if (nroots == MAX_ROOTS)
            return fail(FERRY_INV_LIMIT, "too many derivation trees to check", top);
        roots[nroots++] = top;
    }
    /* Mark the path so later climbs from below it stop here. */
    for (struct cte *c = s; !seen(c); c = c->parent) {
        mark(c, MARK_KNOWN);
        if (!c->parent)
            break;
    }
    return true;
}

static bool note_container(struct cte *slots, word_t n)
{
    if (ncontainers == MAX_CONTAINERS)
        return fail(FERRY_INV_LIMIT, "too many CNodes and TCBs to check", NULL);
    containers[ncontainers].slots = slots;
    containers[ncontainers++].n = n;
    for (word_t i = 0; i < n; i++)
        if (!cap_is_null(&slots[i].cap) && !note_slot(&slots[i]))
            return false;
    return true;
}

/* Each retyped object has exactly one object root: else its capabilities
 * are two subtrees (or one object was handed out twice). */
static bool object_unique(const struct cte *n)
{
    uint64_t key = n->cap.paddr | n->cap.type;
    word_t h = (word_t)((key * 0x9e3779b97f4a7c15ULL) >> 49) & (OBJ_HASH - 1);
    for (word_t i = 0; i < OBJ_HASH; i++, h = (h + 1) & (OBJ_HASH - 1)) {
        if (objects[h] == key)
            return fail(FERRY_INV_CDT_OBJECT, "an object's capabilities form two subtrees", n);
        if (!objects[h]) {
            objects[h] = key;
            return true;
        }
    }
    return fail(FERRY_INV_LIMIT, "too many objects to check", n);
}

/* Objects carved from untyped memory: the retypable types, ASID pools
 * (MakePool) and Zombies (a container being emptied keeps its place). */
static bool from_untyped(word_t type)
{
    return (type >= FERRY_OBJ_UNTYPED && type < FERRY_OBJ_RETYPABLE) || type == FERRY_OBJ_ASID_POOL ||
           type == CAP_TYPE_ZOMBIE;
}

static word_t obj_bytes(const struct cap *c)
{
    if (c->type == FERRY_OBJ_ASID_POOL)
        return BIT(FERRY_ASID_POOL_BITS);
    if (c->type == CAP_TYPE_ZOMBIE)
        return cte_zombie_bytes(c);
    return BIT(object_size_bits(c->type, c->size_bits));
}

/* Watermark and children of an untyped: each child lies below the
 * watermark, aligned to its size; children are kept newest first and
 * objects are carved upwards, so each lies wholly above the next. */
static bool check_untyped(const struct cte *u)
{
    const struct cap *c = &u->cap;
    if (c->size_bits < FERRY_UNTYPED_MIN_BITS || c->size_bits > FERRY_UNTYPED_MAX_BITS ||
        !IS_ALIGNED(c->paddr, BIT(c->size_bits)))
        return fail(FERRY_INV_UNTYPED, "untyped of impossible size or alignment", u);
    word_t size = BIT(c->size_bits), wm = c->u.untyped.watermark;
    if (wm > size)
        return fail(FERRY_INV_UNTYPED, "untyped watermark beyond its size", u);
    if (!u->first_child && wm != 0)
        return fail(FERRY_INV_UNTYPED, "untyped without children has a non-zero watermark", u);
    rep->free_bytes += size - wm;
    word_t count = 0;
    for (const struct cte *k = u->first_child; k; k = k->next_sibling) {
        if (++count > MAX_NODES)
            return fail(FERRY_INV_LIMIT, "sibling list does not end (cycle?)", u);
        if (!from_untyped(k->cap.type))
            return fail(FERRY_INV_UNTYPED, "child of an untyped is not a retyped object", k);
        word_t bytes = obj_bytes(&k->cap);
        if (bytes == 1 || !IS_ALIGNED(k->cap.paddr, bytes))
            return fail(FERRY_INV_UNTYPED, "object of impossible size or alignment", k);
        if (k->cap.paddr < c->paddr || k->cap.paddr - c->paddr > wm || wm - (k->cap.paddr - c->paddr) < bytes)
            return fail(FERRY_INV_UNTYPED, "object outside its untyped's used part (below the watermark)", k);
        const struct cte *nx = k->next_sibling;
        if (nx && nx->cap.paddr + obj_bytes(&nx->cap) > k->cap.paddr)
            return fail(FERRY_INV_UNTYPED, "objects of one untyped overlap", k);
    }
    return true;
}

/* Is t in queue q (head..tail through ipc links)?  Also checks the links. */
static bool in_ipc_queue(const struct tcb_queue *q, const struct tcb *t)
{
    word_t n = 0;
    for (const struct tcb *x = q->head; x; x = x->ipc_next) {
        if (x == t)
            return true;
        if (++n > MAX_QUEUE)
            break;
    }
    return false;
}

static bool in_ready_queue(const struct tcb *t)
{
    /* Handed to its CPU (sched.h): in that CPU's slot, or our own
     * handoff_out (published before we leave). */
    if (t->in_handoff)
        return sched_handoff_slot(t->sched_cpu) == t || sched_handoff_pending() == t;
    word_t n = 0;
    for (const struct tcb *x = sched_queue_head(t->sched_cpu, t->prio); x; x = x->sched_next) {
        if (x == t)
            return true;
        if (++n > MAX_QUEUE)
            break;
    }
    return false;
}

/* No thread lost: it is exactly where its state says. */
static bool check_thread(const struct tcb *t)
{
    bool running = smp_running_on(t) >= 0;   /* current on some CPU */
    rep->threads++;
    if (t->in_ready_queue && (t->state != TCB_RUNNABLE || !in_ready_queue(t)))
        return fail_thread("marked ready but not runnable, or not in its priority's ready queue", t);
    switch (t->state) {
    case TCB_INACTIVE:
        if (t->blocked_on)
            return fail_thread("inactive thread still names an object it waits on", t);
        break;
    case TCB_RUNNABLE:
        if (running ? t->in_ready_queue : !t->in_ready_queue)
            return fail_thread("runnable thread neither current nor queued (or both)", t);
        break;
    case TCB_BLOCKED_SEND:
    case TCB_BLOCKED_RECV: {
        const struct endpoint *ep = t->blocked_on;
        word_t want = t->state == TCB_BLOCKED_SEND ? EP_SEND : EP_RECV;
        if (!ep || ep->state != want || !in_ipc_queue(&ep->queue, t))
            return fail_thread("blocked on an endpoint but not in its queue", t);
        break;
    }
    case TCB_BLOCKED_NOTIFICATION: {
        const struct notification *n = t->blocked_on;
        if (!n || n->state != NTFN_WAITING || !in_ipc_queue(&n->queue, t))
            return fail_thread("waiting on a notification but not in its queue", t);
        break;
    }
    case TCB_BLOCKED_REPLY: {
        const struct tcb *server = t->blocked_on;
        if (!server || server->reply_to != t)
            return fail_thread("waits for a reply nobody can give (no reply link to it)", t);
        break;
    }
    default:
        return fail_thread("unknown thread state", t);
    }
    /* Queue links only inside a queue (the fast path's enqueue relies on
     * a thread that runs having none). */
    if (t->state != TCB_BLOCKED_SEND && t->state != TCB_BLOCKED_RECV && t->state != TCB_BLOCKED_NOTIFICATION &&
        (t->ipc_next || t->ipc_prev))
        return fail_thread("queue links on a thread in no queue", t);
    if (t->reply_to && (t->reply_to->state != TCB_BLOCKED_REPLY || t->reply_to->blocked_on != t))
        return fail_thread("holds a reply link to a thread that does not wait for it", t);
    if (t->bound_notification && t->bound_notification->bound != t)
        return fail_thread("bound notification is not bound back", t);
    if (!cap_is_null(&t->slots[TCB_SLOT_IPCBUF].cap) && t->ipc_buffer_kptr != tcb_ipc_buffer_addr(t))
        return fail_thread("kept kernel address of the IPC buffer is stale", t);
    if (t->slots[TCB_SLOT_CSPACE].cap.type == FERRY_OBJ_CNODE) {
        word_t lo, size;
        struct cte *slot0;
        tcb_fp_cspace(t, &lo, &size, &slot0);
        if (t->fp_cs_lo != lo || t->fp_cs_size != size || t->fp_cs_slot0 != slot0)
            return fail_thread("precomputed CSpace lookup (fp_cs_*) is stale", t);
        if (!(t->slots[TCB_SLOT_CSPACE].cap.flags & CAP_FLAG_TCB_CSPACE))
            return fail_thread("CSpace slot not marked CAP_FLAG_TCB_CSPACE (its leaving would keep fp_cs_*)", t);
    } else if (t->fp_cs_size) {
        /* The assembly's lookup tests no type: a slot without its CNode
         * (empty, a Zombie) must make it miss. */
        return fail_thread("precomputed CSpace lookup (fp_cs_size) not cleared with the CNode", t);
    }
    if (t->ctx.fp_home != tcb_fp_home(t))
        return fail_thread("fast-path ready word (ctx.fp_home) is stale", t);
    if ((t->slots[TCB_SLOT_VSPACE].cap.type == FERRY_OBJ_VSPACE) !=
        !!(t->slots[TCB_SLOT_VSPACE].cap.flags & CAP_FLAG_TCB_VSPACE))
        return fail_thread("VSpace slot not marked CAP_FLAG_TCB_VSPACE (its deletion would leave fp_home)", t);
    return true;
}

/* An endpoint's or notification's queue: links both ways, every waiter
 * blocked on this object in the state the queue stands for. */
static bool check_queue(const struct tcb_queue *q, const void *obj, word_t tstate, const struct cte *where)
{
    word_t n = 0;
    const struct tcb *prev = NULL;
    for (const struct tcb *x = q->head; x; prev = x, x = x->ipc_next) {
        if (++n > MAX_QUEUE)
            return fail(FERRY_INV_LIMIT, "wait queue does not end (cycle?)", where);
        if (x->ipc_prev != prev || x->blocked_on != obj || x->state != tstate)
            return fail(FERRY_INV_QUEUE, "a queued thread's links, object or state disagree with its queue", where);
    }
    if (q->tail != prev)
        return fail(FERRY_INV_QUEUE, "queue tail is not its last thread", where);
    return true;
}

static bool check_endpoint(const struct cte *s)
{
    const struct endpoint *ep = cap_endpoint(&s->cap);
    if (ep->state > EP_RECV || (ep->state == EP_IDLE) != (ep->queue.head == NULL))
        return fail(FERRY_INV_QUEUE, "endpoint state disagrees with its queue", s);
    return check_queue(&ep->queue, ep, ep->state == EP_SEND ? TCB_BLOCKED_SEND : TCB_BLOCKED_RECV, s);
}

static bool check_notification(const struct cte *s)
{
    const struct notification *n = cap_notification(&s->cap);
    if (n->state > NTFN_ACTIVE || (n->state == NTFN_WAITING) != (n->queue.head != NULL))
        return fail(FERRY_INV_QUEUE, "notification state disagrees with its queue", s);
    if (n->bound && n->bound->bound_notification != n)
        return fail(FERRY_INV_QUEUE, "notification's bound thread is not bound to it", s);
    return check_queue(&n->queue, n, TCB_BLOCKED_NOTIFICATION, s);
}

static word_t arch_code(const char *why)
{
    for (const char *p = INV_LIMIT_MSG, *q = why; *q == *p; p++, q++)
        if (!p[1])
            return FERRY_INV_LIMIT;
    return FERRY_INV_MAPPING;
}

/* Step 2's per-capability checks. */
static bool visit(struct cte *s)
{
    if (mark_of(s) == MARK_VISITED)
        return fail(FERRY_INV_CDT_LINKS, "capability reached twice in the derivation trees", s);
    mark(s, MARK_VISITED);
    if (++nodes > MAX_NODES)
        return fail(FERRY_INV_LIMIT, "too many capabilities (cycle?)", s);
    rep->caps++;
    const struct cap *c = &s->cap;
    if (c->type == CAP_TYPE_ZOMBIE)
        return true;                     /* a container being emptied (cnode.c) */
    if (c->type == FERRY_OBJ_NULL || c->type >= FERRY_OBJ_COUNT)
        return fail(FERRY_INV_CAP_TYPE, "capability of no known type in the derivation tree", s);
    bool obj_root = !s->parent || !cap_same_object(&s->parent->cap, c);
    if (obj_root && from_untyped(c->type)) {
        if (c->type != FERRY_OBJ_UNTYPED && !object_unique(s))
            return false;
        if (s->parent && s->parent->cap.type != FERRY_OBJ_UNTYPED)
            return fail(FERRY_INV_CDT_OBJECT, "an object's first capability is not a child of an untyped", s);
    }
    if (c->type == FERRY_OBJ_CNODE && c->u.cnode.fp_base != cap_cnode_fp_base(c))
        return fail(FERRY_INV_CAP_TYPE, "CNode capability's fast-path lookup word is stale", s);
    if (cap_is_arch(c)) {
        const char *why = arch_inv_cap(s, obj_root);
        if (why)
            return fail(arch_code(why), why, s);
    }
    if (!obj_root)
        return true;
    switch (c->type) {
    case FERRY_OBJ_UNTYPED:
        return check_untyped(s);
    case FERRY_OBJ_CNODE:
        return note_container(cnode_slot(c, 0), BIT(c->size_bits));
    case FERRY_OBJ_TCB:
        return check_thread(cap_tcb(c)) && note_container(cap_tcb(c)->slots, TCB_NSLOTS);
    case FERRY_OBJ_ENDPOINT:
        return check_endpoint(s);
    case FERRY_OBJ_NOTIFICATION:
        return check_notification(s);
    default:
        return true;
    }
}

/* Step 2: one tree, depth first, every link checked against its reverse. */
static bool walk_tree(struct cte *root)
{
    if (root->parent || root->prev_sibling || root->next_sibling)
        return fail(FERRY_INV_CDT_LINKS, "tree root has a parent or siblings", root);
    struct cte *n = root;
    for (;;) {
        if (!visit(n))
            return false;
        if (n->first_child) {
            struct cte *k = n->first_child;
            if (k->parent != n || k->prev_sibling)
                return fail(FERRY_INV_CDT_LINKS, "first child's parent or previous-sibling link is wrong", k);
            n = k;
            continue;
        }
        for (;;) {
            if (n == root)
                return true;
            struct cte *s = n->next_sibling;
            if (s) {
                if (s->parent != n->parent || s->prev_sibling != n)
                    return fail(FERRY_INV_CDT_LINKS, "sibling's parent or previous-sibling link is wrong", s);
                n = s;
                break;
            }
            n = n->parent;
        }
    }
}

/* The ready queues: links, priorities, states and the two-level bitmap. */
static bool check_sched_cpu(unsigned cpu)
{
    const struct sched_bitmap *bm = sched_bitmap_of(cpu);
    for (unsigned p = 0; p < SCHED_NPRIO; p++) {
        const struct tcb *h = sched_queue_head(cpu, p), *prev = NULL;
        bool bit = (bm->l2[p / 64] >> (p % 64)) & 1;
        if (bit != (h != NULL))
            return fail(FERRY_INV_SCHED, "ready bitmap disagrees with a ready queue", NULL);
        word_t n = 0;
        for (const struct tcb *t = h; t; prev = t, t = t->sched_next) {
            if (++n > MAX_QUEUE)
                return fail(FERRY_INV_LIMIT, "ready queue does not end (cycle?)", NULL);
            if (t->sched_prev != prev || !t->in_ready_queue || t->in_handoff || t->prio != p || t->sched_cpu != cpu ||
                t->state != TCB_RUNNABLE || smp_running_on(t) >= 0 || arch_is_idle(t))
                return fail_thread("a thread in a ready queue is not a runnable, queued thread of that priority",
                                   t);
        }
        if (sched_queue_tail(cpu, p) != prev)
            return fail(FERRY_INV_SCHED, "ready queue tail is not its last thread", NULL);
    }
    /* The hand-off slot: a runnable, queued thread of this CPU, which
     * idles (a thread is handed only to an idle CPU, which takes the slot
     * before it runs anything: thread.c), running nowhere.  Under the lock
     * no reader is taking it (drained at the acquire). */
    const struct tcb *h = sched_handoff_slot(cpu);
    if (h && (!h->in_handoff || !h->in_ready_queue || h->sched_cpu != cpu || h->affinity != cpu ||
              h->state != TCB_RUNNABLE || smp_running_on(h) >= 0 || arch_is_idle(h) ||
              !arch_is_idle(ks_percpu_of[cpu].cur)))
        return fail_thread("the hand-off slot holds a thread that is not a runnable thread handed to that idle CPU", h);
    for (unsigned w = 0; w < L2_WORDS; w++)
        if (((bm->l1 >> w) & 1) != (bm->l2[w] != 0))
            return fail(FERRY_INV_SCHED, "ready bitmap's first level disagrees with its second", NULL);
    if (bm->l1 >> L2_WORDS)
        return fail(FERRY_INV_SCHED, "ready bitmap has bits beyond the priorities", NULL);
    return true;
}

/* Every CPU's queues (all under the big kernel lock, held here). */
static bool check_sched(void)
{
    for (unsigned cpu = 0; cpu < ks_ncpus; cpu++)
        if (!check_sched_cpu(cpu))
            return false;
    return true;
}

void invariants_check(struct cte *start, struct inv_report *r)
{
    *r = (struct inv_report){ .code = FERRY_INV_OK };
    rep = r;
    gen = (gen + 1) & 0x7fffff;
    if (gen == 0)
        gen = 1;                        /* marks 0 and 1 are what fresh slots hold */
    nodes = nroots = ncontainers = 0;
    for (word_t i = 0; i < OBJ_HASH; i++)
        objects[i] = 0;
    arch_inv_begin();
#if FERRY_FASTPATH
    /* The fast path's lock on the derivation tree (a reply carrying a
     * capability): only fast paths take it, and the big kernel lock, held
     * here, waits for every fast path. */
    if (ks_fp_cdt_lock) {
        fail(FERRY_INV_CDT_LINKS, "the fast path's derivation-tree lock is held under the big kernel lock", NULL);
        return;
    }
#endif
    if (!check_sched() || !check_thread(arch_current()))
        return;
    r->threads--;                       /* counted again if a capability names it */
    if (start->cap.type != FERRY_OBJ_CNODE || !note_slot(start) ||
        !note_container(cnode_slot(&start->cap, 0), BIT(start->cap.size_bits)))
        return;
    for (word_t i = 0; i < nroots; i++)     /* nroots grows as CNodes are met */
        if (!walk_tree(roots[i]))
            return;
    /* Step 3: every capability in a container scanned was reached. */
    for (word_t i = 0; i < ncontainers; i++)
        for (word_t j = 0; j < containers[i].n; j++) {
            struct cte *s = &containers[i].slots[j];
            if (!cap_is_null(&s->cap) && mark_of(s) != MARK_VISITED) {
                fail(FERRY_INV_CDT_LINKS, "a slot's capability is not in the derivation tree it links to", s);
                return;
            }
        }
    const char *why = arch_inv_end();
    if (why)
        fail(arch_code(why), why, NULL);
}

void invariants_syscall(struct tcb *cur, word_t debug_cptr)
{
    (void)debug_cptr;                   /* the dispatcher checks the capability */
    struct cte *start = &cur->slots[TCB_SLOT_CSPACE];
    word_t cptr = ctx_get_mr(&cur->ctx, 0);
    if (cptr) {
        struct cte *slot;
        word_t err = cspace_lookup_cap(&start->cap, cptr, &slot, NULL);
        if (!err && slot->cap.type != FERRY_OBJ_CNODE)
            err = FERRY_E_WRONG_TYPE;
        if (err) {
            ctx_set_result(&cur->ctx, err);
            ctx_set_mr(&cur->ctx, 0, FERRY_ERR_ARG_NONE);
            return;
        }
        start = slot;
    }
    struct inv_report r;
    invariants_check(start, &r);
    ctx_set_result(&cur->ctx, FERRY_OK);
    ctx_set_mr(&cur->ctx, 0, r.code);
    ctx_set_mr(&cur->ctx, 1, r.free_bytes);
    ctx_set_mr(&cur->ctx, 2, r.caps);
    ctx_set_mr(&cur->ctx, 3, r.threads);
}

#endif /* FERRY_BENCHMARK */
