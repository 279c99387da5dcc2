/* invariants.c: the invariant check's x86-64 part: every mapping record of a frame or table capability against the page tables, and every user entry of the VSpaces walked against the records. */
#ifndef FERRY_BENCHMARK
#define FERRY_BENCHMARK 1
#endif
#if FERRY_BENCHMARK   /* the check is a debug/benchmark-build call */
#include <arch/asid.h>
#include <arch/kpti.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/vspace.h>
#include <core/invariants.h>
#include <ferry/arch_x86_64.h>
#include <printk.h>

/*
 * A frame or table capability records (ASID, vaddr) of its mapping.  A
 * record may be stale (its VSpace gone, its ASID reused, its entry
 * replaced): the kernel's unmap checks before it clears.  What must hold:
 *   - forward: a record is well formed (ASID in range, address aligned to
 *     its level and in user space); at most one capability records a live
 *     mapping (its entry points to the object) at one place;
 *   - reverse: every present user entry of every VSpace walked is recorded
 *     by a capability of the object it points to, and no table is reached
 *     twice (a table mapped at two places has TLB entries its one record
 *     cannot flush);
 *   - the ASID pools and each VSpace's own ASID entry agree.
 */

#define MAX_RECORDS 16384
#define MAX_VSPACES 8192       /* the fuzzer's ASID burst makes 4,080 */
#define TABLE_HASH  8192

struct record {
    vaddr_t va;
    paddr_t pa;
    uint16_t asid;
    uint8_t type;
    uint8_t live;          /* its entry points to the object */
};

static struct record recs[MAX_RECORDS];
static word_t nrecs;
static paddr_t vspaces[MAX_VSPACES];
static word_t nvspaces;
static paddr_t tables_seen[TABLE_HASH];

/* The walk and the level sizes are the mapping code's own (object/vspace.c). */
static bool type_is_table(word_t type)
{
    return type == FERRY_OBJ_PT || type == FERRY_OBJ_PD || type == FERRY_OBJ_PDPT;
}

static bool is_mappable(word_t type)
{
    return type >= FERRY_OBJ_FRAME_4K && type <= FERRY_OBJ_PDPT;
}

void arch_inv_begin(void)
{
    nrecs = nvspaces = 0;
    for (word_t i = 0; i < TABLE_HASH; i++)
        tables_seen[i] = 0;
}

const char *arch_inv_cap(const struct cte *slot, bool object_root)
{
    const struct cap *c = &slot->cap;
    if (c->type == FERRY_OBJ_VSPACE && object_root) {
        if (nvspaces == MAX_VSPACES)
            return INV_LIMIT_MSG "too many VSpaces to check";
        vspaces[nvspaces++] = c->paddr;
    }
    if (!is_mappable(c->type) || !c->u.map.vspace)
        return NULL;
    word_t asid = c->u.map.vspace;
    vaddr_t va = c->u.map.vaddr;
    if (asid >= ASID_COUNT)
        return "mapping record names an ASID out of range";
    if (!IS_ALIGNED(va, BIT(vspace_level_shift(c->type))) || va >= FERRY_USER_TOP)
        return "mapping record's address is unaligned or outside user space";
    if (nrecs == MAX_RECORDS)
        return INV_LIMIT_MSG "too many mapping records to check";
    recs[nrecs++] = (struct record){ .asid = (uint16_t)asid, .va = va, .pa = c->paddr, .type = c->type };
    return NULL;
}

static bool rec_less(const struct record *a, const struct record *b)
{
    if (a->asid != b->asid)
        return a->asid < b->asid;
    if (a->va != b->va)
        return a->va < b->va;
    return a->type < b->type;
}

/* Shell sort: no allocation, no recursion, fast enough for the bound. */
static void sort_records(void)
{
    for (word_t gap = nrecs / 2; gap; gap /= 2)
        for (word_t i = gap; i < nrecs; i++) {
            struct record r = recs[i];
            word_t j = i;
            for (; j >= gap && rec_less(&r, &recs[j - gap]); j -= gap)
                recs[j] = recs[j - gap];
            recs[j] = r;
        }
}

/* A live record (asid, va) of this type for the object at pa? */
static bool recorded(word_t asid, vaddr_t va, word_t type, paddr_t pa)
{
    word_t lo = 0, hi = nrecs;
    struct record key = { .asid = (uint16_t)asid, .va = va, .type = 0 };
    while (lo < hi) {
        word_t mid = lo + (hi - lo) / 2;
        if (rec_less(&recs[mid], &key))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < nrecs && recs[lo].asid == asid && recs[lo].va == va; lo++)
        if (recs[lo].type == type && recs[lo].pa == pa && recs[lo].live)
            return true;
    return false;
}

static bool table_first_visit(paddr_t pa)
{
    word_t h = (word_t)((pa >> 12) * 0x9e3779b97f4a7c15ULL >> 51) & (TABLE_HASH - 1);
    for (word_t i = 0; i < TABLE_HASH; i++, h = (h + 1) & (TABLE_HASH - 1)) {
        if (tables_seen[h] == pa)
            return false;
        if (!tables_seen[h]) {
            tables_seen[h] = pa;
            return true;
        }
    }
    return false;                        /* full: reported as a double visit */
}

/* Reverse: every present entry below this table (of type, covering va
 * upwards) is recorded by a capability of what it points to. */
static const char *walk_table(word_t asid, paddr_t table, word_t type, vaddr_t base)
{
    static const word_t below[][2] = {   /* table type -> (table below, large frame) */
        [FERRY_OBJ_PDPT] = { FERRY_OBJ_PD, 0 },
        [FERRY_OBJ_PD] = { FERRY_OBJ_PT, FERRY_OBJ_FRAME_2M },
        [FERRY_OBJ_PT] = { FERRY_OBJ_FRAME_4K, 0 },
    };
    const uint64_t *t = phys_to_virt(table);
    unsigned shift = vspace_level_shift(type) - 9;
    for (word_t i = 0; i < 512; i++) {
        uint64_t e = t[i];
        if (!(e & PTE_P))
            continue;
        vaddr_t va = base + (i << shift);
        bool large = (e & PTE_PS) && type != FERRY_OBJ_PT;
        word_t what = large ? below[type][1] : below[type][0];
        if (!what)
            return "a 1 GiB page in a user address space";
        if (!recorded(asid, va, what, e & PTE_ADDR)) {
            kprintf("invariant: ASID %lu, address %#lx: entry %#lx (object type %lu) in table %#lx\n", asid, va,
                    e, what, table);
            return "a present page-table entry no capability records (mapping without record)";
        }
        if (what >= FERRY_OBJ_PT) {
            if (!table_first_visit(e & PTE_ADDR)) {
                kprintf("invariant: ASID %lu, address %#lx: table %#lx met before\n", asid, va, (unsigned long)(e & PTE_ADDR));
                return "a page table is mapped at two places";
            }
            const char *why = walk_table(asid, e & PTE_ADDR, what, va);
            if (why)
                return why;
        }
    }
    return NULL;
}

const char *arch_inv_end(void)
{
    sort_records();
    /* Forward: which records are live, and never two at one place. */
    for (word_t i = 0; i < nrecs; i++) {
        struct record *r = &recs[i];
        paddr_t pml4 = asid_pml4(r->asid);
        const uint64_t *e = pml4 ? vspace_walk(pml4, r->va, vspace_level_shift(r->type)) : NULL;
        r->live = e && (*e & PTE_P) && (*e & PTE_ADDR) == r->pa &&
                  !!(*e & PTE_PS) == (r->type == FERRY_OBJ_FRAME_2M);
        /* Copies of a mapped table share its record (seL4's rule: only
         * one of them ever mapped it); frame capabilities map one each. */
        if (r->live && i && recs[i - 1].live && recs[i - 1].asid == r->asid && recs[i - 1].va == r->va &&
            recs[i - 1].type == r->type && !(type_is_table(r->type) && recs[i - 1].pa == r->pa))
            return "two capabilities record the same live mapping";
    }
    /* With PCIDs, every CPU's asid_dirty[0] stays set: the assembly fast
     * path's PCID copy sends "no ASID" to C by that mark (pcid.c's
     * vspace_init). */
    for (unsigned c = 0; c < ks_ncpus; c++)
        if (ks_percpu_of[c].asid_dirty[0] != ks_pcid_on)
            return "asid_dirty[0] is not pcid_on (ASID 0 must read as stale with PCIDs)";
    /* The ASID pools and the VSpaces' own ASID entries. */
    for (word_t a = 1; a < ASID_COUNT; a++) {
        paddr_t pml4 = asid_pml4(a);
        if (pml4 && PML4_ASID(((const uint64_t *)phys_to_virt(pml4))[PML4_ASID_INDEX]) != a)
            return "ASID table names a VSpace whose ASID entry differs";
    }
#if FERRY_KPTI
    /* KPTI=1: the window maps only what the entry needs, and every
     * ASID's user table is its VSpace's user half and the window. */
    const char *kwhy = kpti_check_window();
    if (kwhy)
        return kwhy;
    for (word_t a = 1; a < ASID_COUNT; a++) {
        paddr_t pml4 = asid_pml4(a);
        if (pml4 && (kwhy = kpti_check(pml4, a)))
            return kwhy;
    }
#endif
    /* Reverse, for every VSpace walked. */
    for (word_t v = 0; v < nvspaces; v++) {
        const uint64_t *pml4 = phys_to_virt(vspaces[v]);
        if (pml4[PML4_ASID_INDEX] & PTE_P)
            return "a VSpace's ASID entry is present (a translation above user space)";
        /* The assembly fast path's PCID copy (fastpath_asm.S, CR3_PCID)
         * takes the entry shifted right by one as the ASID, unmasked. */
        if (pml4[PML4_ASID_INDEX] != PML4_ASID(pml4[PML4_ASID_INDEX]) << 1)
            return "a VSpace's ASID entry holds more than its ASID";
        word_t asid = PML4_ASID(pml4[PML4_ASID_INDEX]);
        if (asid && asid_pml4(asid) != vspaces[v])
            asid = 0;                    /* a stale ASID entry: no mapping may exist */
        for (word_t i = 0; i < PML4_ASID_INDEX; i++) {
            uint64_t e = pml4[i];
            if (!(e & PTE_P))
                continue;
            if (!asid)
                return "a VSpace without an ASID has mappings";
            if (e & PTE_PS)
                return "a large page in a PML4";
            if (!recorded(asid, (vaddr_t)i << 39, FERRY_OBJ_PDPT, e & PTE_ADDR))
                return "a present PML4 entry no PDPT capability records (mapping without record)";
            if (!table_first_visit(e & PTE_ADDR))
                return "a page table is mapped at two places";
            const char *why = walk_table(asid, e & PTE_ADDR, FERRY_OBJ_PDPT, (vaddr_t)i << 39);
            if (why)
                return why;
        }
    }
    return NULL;
}

#endif /* FERRY_BENCHMARK */
