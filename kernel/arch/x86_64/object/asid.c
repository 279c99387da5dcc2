/* asid.c: address-space identifiers after seL4: ASID control makes pools from untyped memory, a pool assigns ASIDs to VSpaces. */
#include <arch/asid.h>
#include <arch/kpti.h>
#include <arch/percpu.h>
#include <arch/vspace.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <object/cnode.h>

/* A pool object: its block's ASID -> PML4 map, in the pool's own memory
 * (so the memory that holds the state is the memory that was charged). */
struct asid_pool {
    paddr_t vspace[FERRY_ASIDS_PER_POOL];
};
_Static_assert(sizeof(struct asid_pool) == BIT(FERRY_ASID_POOL_BITS), "pool size");
_Static_assert(FERRY_ASID_POOLS * FERRY_ASIDS_PER_POOL == ASID_COUNT, "pools cover the ASIDs");

/* Block -> its pool, NULL while the block has none. */
static struct asid_pool *ks_asid_pools[FERRY_ASID_POOLS];

/* ASID 0 is "none"; the floor benchmarks load PCID 4095 (floor.c). */
static bool asid_reserved(word_t asid)
{
#if FERRY_KPTI
    /* KPTI=1 with PCIDs: an ASID's user table has PCID asid | 2048, so
     * ASIDs stay below 2047 (2047 | 2048 is the floors' PCID 4095). */
    if (ks_pcid_on && asid >= KPTI_USER_PCID_BIT - 1)
        return true;
#endif
    return asid == 0 || asid == ASID_FLOOR_PCID;
}

static struct asid_pool *pool_of(const struct cap *c) { return phys_to_virt(c->paddr); }
static word_t pool_base(const struct cap *c) { return c->u.raw[0]; }

paddr_t asid_pml4(word_t asid)
{
    if (!asid || asid >= ASID_COUNT)
        return 0;
    struct asid_pool *p = ks_asid_pools[asid / FERRY_ASIDS_PER_POOL];
    return p ? p->vspace[asid % FERRY_ASIDS_PER_POOL] : 0;
}

word_t asid_pool_create(paddr_t mem, struct cap *out)
{
    for (word_t b = 0; b < FERRY_ASID_POOLS; b++) {
        if (ks_asid_pools[b])
            continue;
        struct asid_pool *p = phys_to_virt(mem);
        memset(p, 0, sizeof *p);
        ks_asid_pools[b] = p;
        *out = (struct cap){ .type = FERRY_OBJ_ASID_POOL, .rights = FERRY_RIGHTS_ALL,
                             .size_bits = FERRY_ASID_POOL_BITS, .paddr = mem };
        out->u.raw[0] = b * FERRY_ASIDS_PER_POOL;
        return FERRY_OK;
    }
    return FERRY_E_NO_ASID;
}

word_t asid_assign(const struct cap *pool, paddr_t pml4, word_t *asid_out)
{
    if (vspace_asid(pml4))
        return FERRY_E_ILLEGAL_OP;
    struct asid_pool *p = pool_of(pool);
    for (word_t i = 0; i < FERRY_ASIDS_PER_POOL; i++) {
        word_t asid = pool_base(pool) + i;
        if (p->vspace[i] || asid_reserved(asid))
            continue;
        p->vspace[i] = pml4;
        vspace_set_asid(pml4, asid);
#if FERRY_KPTI
        kpti_asid_assigned(pml4, asid);
#endif
        *asid_out = asid;
        return FERRY_OK;
    }
    return FERRY_E_NO_ASID;
}

void asid_vspace_deleted(paddr_t pml4)
{
    word_t asid = vspace_asid(pml4);
    if (!asid)
        return;
    ks_asid_pools[asid / FERRY_ASIDS_PER_POOL]->vspace[asid % FERRY_ASIDS_PER_POOL] = 0;
    vspace_set_asid(pml4, 0);
    vspace_asid_released(asid);
}

void asid_pool_deleted(const struct cap *pool)
{
    struct asid_pool *p = pool_of(pool);
    word_t b = pool_base(pool) / FERRY_ASIDS_PER_POOL;
    if (ks_asid_pools[b] != p)
        return;
    /* Its VSpaces lose their ASIDs, and with them everything mapped: the
     * records of their tables and frames name ASIDs that may go to other
     * VSpaces later, so nothing they link may stay reachable. */
    for (word_t i = 0; i < FERRY_ASIDS_PER_POOL; i++) {
        paddr_t pml4 = p->vspace[i];
        if (!pml4)
            continue;
        p->vspace[i] = 0;
        vspace_set_asid(pml4, 0);
        vspace_orphan(pml4, pool_base(pool) + i);
    }
    ks_asid_pools[b] = NULL;
}

/* ---- invocations ------------------------------------------------------ */

static word_t decode_make_pool(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    (void)slot;
    if (inv->len < FERRY_MAKE_POOL_NARGS)
        return inv_fail(inv, FERRY_E_TRUNCATED, inv->len);
    if (nextra < FERRY_MAKE_POOL_NCAPS)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(nextra));
    struct cte *ut = extra[FERRY_MAKE_POOL_CAP_UNTYPED];
    const struct cap *u = &ut->cap;
    if (u->type != FERRY_OBJ_UNTYPED)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_MAKE_POOL_CAP_UNTYPED));
    if (!cap_has_rights(u, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_MAKE_POOL_CAP_UNTYPED));
    if (u->size_bits != FERRY_ASID_POOL_BITS || (u->flags & CAP_FLAG_DEVICE))
        return inv_fail(inv, FERRY_E_INVALID_ARG, FERRY_ERR_ARG_CAP(FERRY_MAKE_POOL_CAP_UNTYPED));
    if (ut->first_child || u->u.untyped.watermark)
        return inv_fail(inv, FERRY_E_REVOKE_FIRST, FERRY_ERR_ARG_CAP(FERRY_MAKE_POOL_CAP_UNTYPED));
    struct cte *dst;
    word_t err = inv_dest_slot(inv, extra[FERRY_MAKE_POOL_CAP_ROOT], FERRY_MAKE_POOL_ARG_DEST_INDEX, &dst);
    if (err) {
        /* inv_dest_slot names its root capability as the first. */
        if (inv->err_arg == FERRY_ERR_ARG_CAP(0))
            inv->err_arg = FERRY_ERR_ARG_CAP(FERRY_MAKE_POOL_CAP_ROOT);
        return err;
    }
    struct cap pool;
    if ((err = asid_pool_create(u->paddr, &pool)))
        return inv_fail(inv, err, FERRY_ERR_ARG_NONE);
    /* The untyped is used up: nothing else is retyped from it while the
     * pool lives (it is the pool's CDT parent). */
    ut->cap.u.untyped.watermark = BIT(u->size_bits);
    cte_insert(dst, &pool, ut);
    inv->mr[FERRY_MAKE_POOL_RES_FIRST_ASID] = pool_base(&pool);
    inv->len = 1;
    return FERRY_OK;
}

static word_t decode_assign(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (nextra < FERRY_ASSIGN_CAP_VSPACE + 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(FERRY_ASSIGN_CAP_VSPACE));
    const struct cap *vs = &extra[FERRY_ASSIGN_CAP_VSPACE]->cap;
    if (vs->type != FERRY_OBJ_VSPACE)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(FERRY_ASSIGN_CAP_VSPACE));
    if (!cap_has_rights(vs, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(FERRY_ASSIGN_CAP_VSPACE));
    word_t asid, err = asid_assign(&slot->cap, vs->paddr, &asid);
    if (err)
        return inv_fail(inv, err, err == FERRY_E_ILLEGAL_OP ? FERRY_ERR_ARG_CAP(FERRY_ASSIGN_CAP_VSPACE) : FERRY_ERR_ARG_NONE);
    inv->mr[FERRY_ASSIGN_RES_ASID] = asid;
    inv->len = 1;
    return FERRY_OK;
}

word_t asid_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (!cap_has_rights(&slot->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
    if (slot->cap.type == FERRY_OBJ_ASID_CONTROL && inv->label == FERRY_ASID_CONTROL_MAKE_POOL)
        return decode_make_pool(slot, inv, extra, nextra);
    if (slot->cap.type == FERRY_OBJ_ASID_POOL && inv->label == FERRY_ASID_POOL_ASSIGN)
        return decode_assign(slot, inv, extra, nextra);
    return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
}
