/* vspace.c: x86-64 address spaces: PCIDs (the ASIDs of asid.c), mapping and
 * unmapping frames and page tables, and the arch half of the object layer. */
#include <arch/asid.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/vspace.h>
#include <arch/x86.h>
#include <core/invoke.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <object/arch_hooks.h>
#include <object/cnode.h>
#include <object/tcb.h>
#include <printk.h>

bool ks_pcid_on;

#define INVPCID_ADDRESS 0
#define INVPCID_CONTEXT 1

static void invpcid(word_t type, word_t pcid, vaddr_t va)
{
    struct { uint64_t pcid, addr; } desc = { pcid, va };
    asm volatile("invpcid %0, %1" : : "m"(desc), "r"(type) : "memory");
}

void vspace_init(bool pcid_wanted)
{
    ks_pcid_on = pcid_wanted && ks_cpu.pcid;
    if (ks_pcid_on)
        write_cr4(read_cr4() | CR4_PCIDE);   /* CR3[11:0] is 0 here, as PCIDE requires */
    kprintf("pcid: %s\n", ks_pcid_on ? (ks_cpu.invpcid ? "on (ASID = PCID, INVPCID for precise flushes)"
                                                       : "on (ASID = PCID, flush on reuse)")
                                     : ks_cpu.pcid ? "off (pcid=off): every switch flushes"
                                                   : "off (CPU has no PCID): every switch flushes");
}

static uint64_t *pml4_of(paddr_t pml4) { return phys_to_virt(pml4); }

/* Every CPU's TLB may cache this PCID's translations: each flushes it on
 * its next load of it. */
static void dirty_everywhere(word_t asid)
{
    for (unsigned c = 0; c < FERRY_MAX_CPUS; c++)
        ks_percpu_of[c].asid_dirty[asid] = true;
}

/* The other CPUs that may cache translations of pml4: with PCIDs, all
 * (a PCID's entries outlive a switch away); without, those that have it
 * loaded now (any CR3 load flushes). */
static uint64_t cpus_caching(paddr_t pml4)
{
    uint64_t mask = 0;
    for (unsigned c = 0; c < ks_ncpus; c++)
        if (c != arch_cpu_index() && (ks_pcid_on || ks_percpu_of[c].cur_vspace == pml4))
            mask |= BIT(c);
    return mask;
}

void vspace_pcid_used(word_t pcid)
{
    if (pcid && pcid < ASID_COUNT)
        dirty_everywhere(pcid);
}

uint64_t vspace_cr3(paddr_t pml4)
{
    if (!ks_pcid_on || pml4 == ks_kernel_pml4)
        return pml4;                     /* PCID 0, the load flushes */
    word_t asid = vspace_asid(pml4);
    uint64_t cr3 = pml4 | asid;
    if (asid && !ks_asid_dirty[asid])
        cr3 |= BIT(63);                  /* keep this PCID's translations */
    else if (asid)
        ks_asid_dirty[asid] = false;        /* this load flushes them */
    return cr3;
}

void vspace_activate(paddr_t pml4)
{
    if (!pml4)
        pml4 = ks_kernel_pml4;
    ks_percpu.cur_vspace = pml4;
    write_cr3(vspace_cr3(pml4));
}

void vspace_asid_released(word_t asid)
{
    dirty_everywhere(asid);
}

/* On each CPU that has pml4 loaded: load it again (now without a PCID, or
 * with a dirty one: the load flushes). */
static void reload_fn(word_t pml4)
{
    if (ks_percpu.cur_vspace == pml4)
        vspace_activate(pml4);
}

void vspace_orphan(paddr_t pml4, word_t old_asid)
{
    memset(pml4_of(pml4), 0, PML4_ASID_INDEX * sizeof(uint64_t));
    dirty_everywhere(old_asid);
    reload_fn(pml4);
    if (ks_ncpus > 1)
        smp_call_others(cpus_caching(pml4), reload_fn, pml4);
}

/* A deleted VSpace stays loaded on no CPU (its PML4's memory may be
 * reused): they switch to the kernel's tables. */
static void drop_fn(word_t pml4)
{
    if (ks_percpu.cur_vspace == pml4)
        vspace_activate(0);
}

static void flush_local(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space);

/* TLB shootdown: what flush_local does here, run by every other CPU that
 * may cache the translation, waited for (smp_call_others) before the
 * caller goes on to free or reuse the memory. */
struct shootdown {
    word_t asid;
    paddr_t pml4;
    vaddr_t va;
    bool whole_space;
};

static void shootdown_fn(word_t arg)
{
    const struct shootdown *s = (const struct shootdown *)arg;
    flush_local(s->asid, s->pml4, s->va, s->whole_space);
}

static void flush_mapping(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space)
{
    flush_local(asid, pml4, va, whole_space);
    if (ks_ncpus > 1) {
        struct shootdown s = { asid, pml4, va, whole_space };
        uint64_t mask = cpus_caching(pml4);
        if (mask)
            smp_call_others(mask, shootdown_fn, (word_t)&s);
    }
}

/* A translation of (asid, va) is gone: make sure this CPU's TLB no
 * longer holds it. */
static void flush_local(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space)
{
    if (pml4 == ks_percpu.cur_vspace) {
        if (!whole_space) {
            invlpg(va);                  /* the current PCID only: it is this one */
            return;
        }
        if (ks_pcid_on)
            ks_asid_dirty[asid] = true;
        vspace_activate(pml4);           /* a reload without the no-flush bit */
        return;
    }
    if (!ks_pcid_on)
        return;                          /* the next CR3 load flushes anyway */
    if (ks_cpu.invpcid)
        invpcid(whole_space ? INVPCID_CONTEXT : INVPCID_ADDRESS, asid, va);
    else
        ks_asid_dirty[asid] = true;
}

static unsigned table_shift(word_t type)
{
    switch (type) {
    case FERRY_OBJ_PDPT: return 39;
    case FERRY_OBJ_PD: return 30;
    case FERRY_OBJ_PT: return 21;
    case FERRY_OBJ_FRAME_2M: return 21;
    default: return 12;                  /* 4 KiB frame */
    }
}

/* The entry that maps va at the level whose entries span 1 << shift bytes,
 * or NULL when a level above is missing. */
static uint64_t *walk(paddr_t pml4, vaddr_t va, unsigned shift)
{
    uint64_t *table = pml4_of(pml4);
    for (unsigned s = 39; s > shift; s -= 9) {
        uint64_t e = table[(va >> s) & 511];
        if (!(e & PTE_P) || (e & PTE_PS))
            return NULL;
        table = phys_to_virt(e & PTE_ADDR);
    }
    return &table[(va >> shift) & 511];
}

static bool cap_is_frame(const struct cap *c)
{
    return c->type == FERRY_OBJ_FRAME_4K || c->type == FERRY_OBJ_FRAME_2M;
}

static bool cap_is_table(const struct cap *c)
{
    return c->type == FERRY_OBJ_PT || c->type == FERRY_OBJ_PD || c->type == FERRY_OBJ_PDPT;
}

static word_t map_entry(struct cap *c, struct cte *vspace, vaddr_t va, uint64_t entry)
{
    if (c->u.map.vspace)
        return FERRY_E_ILLEGAL_OP;                    /* mapped already */
    paddr_t pml4 = vspace->cap.paddr;
    word_t asid = vspace_asid(pml4);
    if (!asid)
        return FERRY_E_NO_ASID;              /* assign one from an ASID pool first */
    uint64_t *e = walk(pml4, va, table_shift(c->type));
    if (!e)
        return FERRY_E_NO_TABLE;
    if (*e & PTE_P)
        return FERRY_E_SLOT_OCCUPIED;
    *e = entry;
    c->u.map.vaddr = va;
    c->u.map.vspace = asid;
    return FERRY_OK;
}

word_t vspace_map_table(struct cte *table, struct cte *vspace, vaddr_t va)
{
    if (va >= FERRY_USER_TOP)
        return FERRY_E_RANGE;
    va = ALIGN_DOWN(va, 1ULL << table_shift(table->cap.type));
    /* Rights are decided at the leaf: upper levels allow everything. */
    return map_entry(&table->cap, vspace, va, table->cap.paddr | PTE_P | PTE_W | PTE_U);
}

word_t vspace_map_frame(struct cte *frame, struct cte *vspace, vaddr_t va, word_t map_rights)
{
    uint64_t size = 1ULL << table_shift(frame->cap.type);
    if (!IS_ALIGNED(va, size))
        return FERRY_E_ALIGNMENT;
    if (va >= FERRY_USER_TOP || FERRY_USER_TOP - va < size)
        return FERRY_E_RANGE;
    if ((map_rights & FERRY_MAP_WRITE) && !cap_has_rights(&frame->cap, FERRY_RIGHT_WRITE))
        return FERRY_E_RIGHTS;
    uint64_t e = frame->cap.paddr | PTE_P | PTE_U;
    if (map_rights & FERRY_MAP_WRITE)
        e |= PTE_W;
    if (!(map_rights & FERRY_MAP_EXEC) && ks_cpu.nx)
        e |= PTE_NX;
    if (frame->cap.type == FERRY_OBJ_FRAME_2M)
        e |= PTE_PS;
    return map_entry(&frame->cap, vspace, va, e);
}

/* Remove a frame's or table's mapping, if the record still matches the
 * page tables: a record whose VSpace is gone, or whose entry now points
 * elsewhere, is only forgotten.  A table's unlink flushes its whole ASID
 * (every translation through it, and the paging-structure caches); a
 * frame's flushes the one place it was mapped, which is the only place a
 * translation of it through this capability can be cached, since a table
 * is linked at one place at most (see vspace_unmap). */
static void unmap_cap(struct cap *c)
{
    word_t asid = c->u.map.vspace;
    vaddr_t va = c->u.map.vaddr;
    c->u.map.vspace = 0;
    c->u.map.vaddr = 0;
    paddr_t pml4 = asid_pml4(asid);
    if (!pml4)
        return;
    uint64_t *e = walk(pml4, va, table_shift(c->type));
    if (!e || !(*e & PTE_P) || (*e & PTE_ADDR) != c->paddr)
        return;
    *e = 0;
    flush_mapping(asid, pml4, va, cap_is_table(c));
}

/* A table leaves its place empty: whatever it still linked (frames,
 * lower tables) must not reappear where it is mapped next, so it is
 * cleared.  Its entries' own records then no longer match any page
 * table and are forgotten when unmapped.  Nothing can translate through
 * the cleared table any more: it is linked nowhere (unmap_cap unlinked
 * it, or its record was stale, so it was not linked), and the unlink or
 * the VSpace's deletion flushed (or marked for flushing) its ASID. */
static void table_clear(const struct cap *c)
{
    memset(phys_to_virt(c->paddr), 0, BIT(FERRY_PAGE_TABLE_BITS));
}

word_t vspace_unmap(struct cte *slot)
{
    struct cap *c = &slot->cap;
    if (!c->u.map.vspace)
        return FERRY_E_NOT_MAPPED;
    unmap_cap(c);
    if (cap_is_table(c))
        table_clear(c);
    return FERRY_OK;
}

/* ---- hooks of the object layer (object/arch_hooks.h) ---------------------- */

void arch_object_init(word_t type, paddr_t paddr, unsigned size_bits)
{
    (void)size_bits;
    if (type == FERRY_OBJ_VSPACE) {
        /* Every address space maps the kernel: share its upper half. */
        memcpy(pml4_of(paddr) + 256, pml4_of(ks_kernel_pml4) + 256, 256 * sizeof(uint64_t));
    }
}

void arch_cap_delete(const struct cap *cap, bool final)
{
    struct cap c = *cap;
    if (c.type == FERRY_OBJ_IRQ_HANDLER && final)
        irq_handler_deleted(&c);
    /* Each frame capability maps its own place; a table's mapping belongs
     * to all its capabilities together (they are copies of the one that
     * mapped it) and goes with the last of them. */
    if (cap_is_frame(&c) && c.u.map.vspace)
        unmap_cap(&c);
    if (cap_is_table(&c) && c.u.map.vspace && final)
        unmap_cap(&c);
    if (c.type == FERRY_OBJ_VSPACE && final) {
        asid_vspace_deleted(c.paddr);
        drop_fn(c.paddr);
        if (ks_ncpus > 1)
            smp_call_others(cpus_caching(c.paddr), drop_fn, c.paddr);
    }
    if (c.type == FERRY_OBJ_ASID_POOL && final)
        asid_pool_deleted(&c);
}

/* seL4's Arch_deriveCap: a frame copy starts unmapped and maps once on
 * its own; a table copy keeps the mapping record, and only a mapped
 * table may be copied.  So every capability to a table says where it is
 * linked, none of them can link it a second time (an alias whose TLB
 * entries a frame's unmap would not flush), and an unmapped table has
 * exactly one capability, the one that may map it. */
word_t arch_cap_derive(struct cap *cap)
{
    if (cap_is_frame(cap)) {
        cap->u.map.vspace = 0;
        cap->u.map.vaddr = 0;
    } else if (cap_is_table(cap) && !cap->u.map.vspace) {
        return FERRY_E_ILLEGAL_OP;
    }
    return FERRY_OK;
}

static word_t decode_vspace_arg(struct invocation *inv, struct cte **extra, unsigned nextra)
{
    if (nextra < 1)
        return inv_fail(inv, FERRY_E_MISSING_CAP, FERRY_ERR_ARG_CAP(0));
    if (extra[0]->cap.type != FERRY_OBJ_VSPACE)
        return inv_fail(inv, FERRY_E_WRONG_TYPE, FERRY_ERR_ARG_CAP(0));
    if (!cap_has_rights(&extra[0]->cap, FERRY_RIGHT_WRITE))
        return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_CAP(0));
    return FERRY_OK;
}

word_t vspace_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    struct cap *c = &slot->cap;
    word_t err;
    switch (inv->label) {
    case FERRY_FRAME_MAP:
    case FERRY_TABLE_MAP: {
        bool frame = inv->label == FERRY_FRAME_MAP;
        if (frame ? !cap_is_frame(c) : !cap_is_table(c))
            return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
        if (inv->len < (frame ? 2u : 1u))
            return inv_fail(inv, FERRY_E_TRUNCATED, FERRY_ERR_ARG_NONE);
        if (!cap_has_rights(c, frame ? FERRY_RIGHT_READ : FERRY_RIGHT_WRITE))
            return inv_fail(inv, FERRY_E_RIGHTS, FERRY_ERR_ARG_NONE);
        if ((err = decode_vspace_arg(inv, extra, nextra)))
            return err;
        if (frame && (inv->mr[1] & ~(FERRY_MAP_READ | FERRY_MAP_WRITE | FERRY_MAP_EXEC)))
            return inv_fail(inv, FERRY_E_INVALID_ARG, 1);
        err = frame ? vspace_map_frame(slot, extra[0], inv->mr[0], inv->mr[1])
                    : vspace_map_table(slot, extra[0], inv->mr[0]);
        if (err)
            return inv_fail(inv, err, err == FERRY_E_RIGHTS ? FERRY_ERR_ARG_NONE : 0);
        inv->len = 0;
        return FERRY_OK;
    }
    case FERRY_FRAME_UNMAP:
    case FERRY_TABLE_UNMAP:
        if (inv->label == FERRY_FRAME_UNMAP ? !cap_is_frame(c) : !cap_is_table(c))
            return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
        /* A table's copies share its mapping: unmapping through one would
         * leave the others saying it is mapped (seL4: RevokeFirst). */
        if (inv->label == FERRY_TABLE_UNMAP && c->u.map.vspace && !cte_is_final(slot))
            return inv_fail(inv, FERRY_E_REVOKE_FIRST, FERRY_ERR_ARG_NONE);
        if ((err = vspace_unmap(slot)))
            return inv_fail(inv, err, FERRY_ERR_ARG_NONE);
        inv->len = 0;
        return FERRY_OK;
    case FERRY_FRAME_ADDRESS:
        if (!cap_is_frame(c))
            return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
        inv->mr[0] = c->paddr;
        inv->mr[1] = c->u.map.vspace ? c->u.map.vaddr : 0;
        inv->len = 2;
        return FERRY_OK;
    default:
        return inv_fail(inv, FERRY_E_INVALID_LABEL, FERRY_ERR_ARG_NONE);
    }
}
