/* SOURCES: kernel/arch/x86_64/object/vspace.c kernel/arch/x86_64/object/frame.c kernel/arch/x86_64/object/pagetable.c kernel/arch/x86_64/object/objtype.c kernel/arch/x86_64/pcid.c kernel/arch/x86_64/object/asid.c tests/unit/host_stubs.c */
/* test_vspace.c: host tests of mapping, page-table rules, ASID pools and the PCID flush logic, on page tables in a buffer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <arch/asid.h>
#include <arch/cpu.h>
#include <arch/irq.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/vspace.h>
#include <ferry/arch_x86_64.h>
#include <ferry/errors.h>
#include <object/arch_hooks.h>

/* What the mapping objects and pcid.c take from the rest of the kernel. */
struct cpu_features ks_cpu;
paddr_t ks_kernel_pml4;

/* IRQ handlers and I/O ports are not mapped objects: their deletion and
 * invocations are object/irq.c's and object/ioport.c's business (tested
 * in the guest); objtype.c's dispatch only has to link here. */
void irq_handler_deleted(const struct cap *cap) { (void)cap; }
word_t irq_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra)
{
    (void)slot; (void)inv; (void)extra; (void)nextra;
    return FERRY_E_ILLEGAL_OP;
}
word_t ioport_decode(struct tcb *caller, struct cte *slot, struct invocation *inv, struct cte **extra,
                     unsigned nextra)
{
    (void)caller; (void)slot; (void)inv; (void)extra; (void)nextra;
    return FERRY_E_ILLEGAL_OP;
}

/* Slots here stand alone, outside any derivation tree: each is final.
 * The invocation halves (decode) are tested in the guest. */
bool cte_is_final(const struct cte *slot) { (void)slot; return true; }
void cte_insert(struct cte *dst, const struct cap *cap, struct cte *parent)
{
    (void)parent;
    dst->cap = *cap;
}
word_t inv_dest_slot(struct invocation *inv, const struct cte *root, word_t argi, struct cte **dst)
{
    (void)inv; (void)root; (void)argi; (void)dst;
    return FERRY_E_ILLEGAL_OP;
}

#define BASE 0x100000ULL
#define PAGES 96
static uint8_t mem[PAGES * 4096] __attribute__((aligned(4096)));
static unsigned next_page;

static paddr_t page(void)
{
    assert_true(next_page < PAGES);
    return BASE + (paddr_t)next_page++ * 4096;
}

static uint64_t *table(paddr_t pa) { return phys_to_virt(pa); }

static struct cap pool;             /* an ASID pool, made by setup, deleted by teardown */

static struct cte make(word_t type)
{
    struct cte c;
    memset(&c, 0, sizeof c);
    c.cap.type = (uint8_t)type;
    c.cap.rights = FERRY_RIGHTS_ALL;
    c.cap.paddr = page();
    if (type == FERRY_OBJ_VSPACE)
        arch_object_init(type, c.cap.paddr, 12);
    return c;
}

static int setup(void **state)
{
    (void)state;
    memset(mem, 0, sizeof mem);
    next_page = 0;
    host_physmap_offset = (uintptr_t)mem - BASE;
    ks_kernel_pml4 = page();
    table(ks_kernel_pml4)[511] = 0xabc000 | PTE_P;       /* a kernel mapping to share */
    ks_percpu.cur_vspace = ks_kernel_pml4;
    ks_cpu = (struct cpu_features){ .nx = true, .pcid = true };
    ks_pcid_on = false;
    memset(ks_asid_dirty, 0, sizeof ks_asid_dirty);       /* a fresh machine's PCIDs */
    assert_int_equal(asid_pool_create(page(), &pool), FERRY_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    asid_pool_deleted(&pool);
    return 0;
}

/* A VSpace with an ASID from the pool. */
static struct cte make_vspace(void)
{
    struct cte vs = make(FERRY_OBJ_VSPACE);
    word_t asid;
    assert_int_equal(asid_assign(&pool, vs.cap.paddr, &asid), FERRY_OK);
    return vs;
}

/* A VSpace with tables for the first GiB and one PT at 4 MiB. */
static void build(struct cte *vs, struct cte *pdpt, struct cte *pd, struct cte *pt)
{
    *vs = make_vspace();
    *pdpt = make(FERRY_OBJ_PDPT);
    *pd = make(FERRY_OBJ_PD);
    *pt = make(FERRY_OBJ_PT);
    assert_int_equal(vspace_map_table(pt, vs, 0x400000), FERRY_E_NO_TABLE);   /* top down only */
    assert_int_equal(vspace_map_table(pdpt, vs, 0x400000), FERRY_OK);
    assert_int_equal(vspace_map_table(pd, vs, 0x400000), FERRY_OK);
    assert_int_equal(vspace_map_table(pt, vs, 0x400000), FERRY_OK);
}

static void test_vspace_shares_kernel_half(void **state)
{
    (void)state;
    struct cte vs = make(FERRY_OBJ_VSPACE);
    assert_int_equal(table(vs.cap.paddr)[511], 0xabc000 | PTE_P);
    assert_int_equal(table(vs.cap.paddr)[0], 0);
}

static void test_map_frame_entry_bits(void **state)
{
    (void)state;
    struct cte vs, pdpt, pd, pt;
    build(&vs, &pdpt, &pd, &pt);
    struct cte f = make(FERRY_OBJ_FRAME_4K), g = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_map_frame(&f, &vs, 0x401000, FERRY_MAP_READ | FERRY_MAP_WRITE), FERRY_OK);
    uint64_t pte = table(pt.cap.paddr)[1];
    assert_int_equal(pte & PTE_ADDR, f.cap.paddr);
    assert_true((pte & (PTE_P | PTE_U | PTE_W | PTE_NX)) == (PTE_P | PTE_U | PTE_W | PTE_NX));
    /* read-only, executable */
    assert_int_equal(vspace_map_frame(&g, &vs, 0x402000, FERRY_MAP_READ | FERRY_MAP_EXEC), FERRY_OK);
    pte = table(pt.cap.paddr)[2];
    assert_false(pte & PTE_W);
    assert_false(pte & PTE_NX);
    /* the same place twice, the same cap twice */
    struct cte h = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_map_frame(&h, &vs, 0x401000, FERRY_MAP_READ), FERRY_E_SLOT_OCCUPIED);
    assert_int_equal(vspace_map_frame(&f, &vs, 0x403000, FERRY_MAP_READ), FERRY_E_ILLEGAL_OP);
    /* a read-only capability cannot be mapped writable */
    h.cap.rights = FERRY_RIGHT_READ;
    assert_int_equal(vspace_map_frame(&h, &vs, 0x403000, FERRY_MAP_WRITE), FERRY_E_RIGHTS);
    assert_int_equal(vspace_map_frame(&h, &vs, 0x403001, FERRY_MAP_READ), FERRY_E_ALIGNMENT);
    assert_int_equal(vspace_map_frame(&h, &vs, FERRY_USER_TOP - 4096, FERRY_MAP_READ), FERRY_E_NO_TABLE);
    assert_int_equal(vspace_map_frame(&h, &vs, FERRY_USER_TOP, FERRY_MAP_READ), FERRY_E_RANGE);
}

static void test_unmap_checks_the_record(void **state)
{
    (void)state;
    struct cte vs, pdpt, pd, pt;
    build(&vs, &pdpt, &pd, &pt);
    struct cte f = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_unmap(&f), FERRY_E_NOT_MAPPED);
    assert_int_equal(vspace_map_frame(&f, &vs, 0x405000, FERRY_MAP_READ), FERRY_OK);
    struct cte copy = f;
    arch_cap_derive(&copy.cap);                           /* a copy starts unmapped */
    assert_int_equal(copy.cap.u.map.vspace, 0);
    assert_int_equal(vspace_unmap(&f), FERRY_OK);
    assert_int_equal(table(pt.cap.paddr)[5], 0);
    /* a stale record (entry now points elsewhere) is forgotten, not followed */
    struct cte g = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_map_frame(&g, &vs, 0x406000, FERRY_MAP_READ), FERRY_OK);
    struct cte fake = g;
    fake.cap.paddr = page();
    assert_int_equal(vspace_unmap(&fake), FERRY_OK);
    assert_int_equal(table(pt.cap.paddr)[6] & PTE_ADDR, g.cap.paddr);
}

static void test_deleted_vspace_releases_asid(void **state)
{
    (void)state;
    struct cte vs, pdpt, pd, pt;
    build(&vs, &pdpt, &pd, &pt);
    struct cte f = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_map_frame(&f, &vs, 0x407000, FERRY_MAP_READ), FERRY_OK);
    word_t asid = f.cap.u.map.vspace;
    assert_true(asid > 0 && asid < ASID_COUNT);
    /* the ASID sits in a non-present top-level entry of the VSpace itself */
    assert_int_equal(table(vs.cap.paddr)[255], asid << 1);
    arch_cap_delete(&vs.cap, true);
    /* the frame's record names a dead ASID: unmapping touches nothing */
    uint64_t before = table(pt.cap.paddr)[7];
    assert_int_equal(vspace_unmap(&f), FERRY_OK);
    assert_int_equal(table(pt.cap.paddr)[7], before);
}

static void test_pcid_flush_logic(void **state)
{
    (void)state;
    ks_pcid_on = true;
    struct cte vs, pdpt, pd, pt;
    build(&vs, &pdpt, &pd, &pt);
    word_t asid = table(vs.cap.paddr)[255] >> 1;
    /* first load of a never-used PCID may keep translations: there are none */
    uint64_t cr3 = vspace_cr3(vs.cap.paddr);
    assert_int_equal(cr3 & 0xfff, asid);
    assert_true(cr3 & BIT(63));
    /* an unmap while another VSpace is loaded (no INVPCID): the next load flushes, once */
    struct cte f = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_map_frame(&f, &vs, 0x408000, FERRY_MAP_READ), FERRY_OK);
    assert_int_equal(vspace_unmap(&f), FERRY_OK);
    assert_false(vspace_cr3(vs.cap.paddr) & BIT(63));
    assert_true(vspace_cr3(vs.cap.paddr) & BIT(63));
    /* a PCID someone else used must be flushed by its next owner */
    vspace_pcid_used(asid);
    assert_false(vspace_cr3(vs.cap.paddr) & BIT(63));
    /* the kernel's own tables, and everything without PCIDs, always flush */
    assert_int_equal(vspace_cr3(ks_kernel_pml4), ks_kernel_pml4);
    ks_pcid_on = false;
    assert_int_equal(vspace_cr3(vs.cap.paddr), vs.cap.paddr);
}

/* The fast path's inline CR3 (vspace_cr3_clean) must give what
 * vspace_cr3 gives whenever it answers, and decline whenever vspace_cr3
 * would have bookkeeping to do. */
static void test_clean_cr3_agrees(void **state)
{
    (void)state;
    ks_pcid_on = true;
    struct cte vs = make(FERRY_OBJ_VSPACE);
    uint64_t fast = 0;
    assert_false(vspace_cr3_clean(vs.cap.paddr, &fast));       /* no ASID yet */
    assert_int_equal(vspace_cr3(vs.cap.paddr), vs.cap.paddr);  /* PCID 0: flushes */
    word_t asid;
    assert_int_equal(asid_assign(&pool, vs.cap.paddr, &asid), FERRY_OK);
    assert_true(vspace_cr3_clean(vs.cap.paddr, &fast));
    assert_true(fast & BIT(63));
    assert_int_equal(fast, vspace_cr3(vs.cap.paddr));
    /* stale translations: declined, and vspace_cr3 flushes once */
    vspace_pcid_used(fast & 0xfff);
    assert_false(vspace_cr3_clean(vs.cap.paddr, &fast));
    assert_false(vspace_cr3(vs.cap.paddr) & BIT(63));
    assert_true(vspace_cr3_clean(vs.cap.paddr, &fast));
    /* the ASID freed with its VSpace: declined */
    paddr_t pml4 = vs.cap.paddr;
    arch_cap_delete(&vs.cap, true);
    assert_false(vspace_cr3_clean(pml4, &fast));
    ks_pcid_on = false;
}

/* A freed ASID goes back to its pool, and its next owner starts with a
 * flush; pools run out; the last block's pool never hands out PCID 4095. */
static void test_pool_reuse_and_limits(void **state)
{
    (void)state;
    ks_pcid_on = true;
    struct cte a = make_vspace();
    word_t asid = vspace_asid(a.cap.paddr);
    assert_int_equal(asid, 1);                            /* block 0: ASID 0 is none */
    assert_int_equal(asid_pml4(asid), a.cap.paddr);
    vspace_cr3(a.cap.paddr);
    arch_cap_delete(&a.cap, true);
    assert_int_equal(asid_pml4(asid), 0);
    assert_int_equal(vspace_asid(a.cap.paddr), 0);
    struct cte b = make_vspace();
    assert_int_equal(vspace_asid(b.cap.paddr), asid);
    assert_false(vspace_cr3(b.cap.paddr) & BIT(63));      /* reuse starts with a flush */
    assert_true(vspace_cr3(b.cap.paddr) & BIT(63));
    word_t got;
    assert_int_equal(asid_assign(&pool, b.cap.paddr, &got), FERRY_E_ILLEGAL_OP);
    struct cap p[FERRY_ASID_POOLS];
    int n = 0;
    while (n < FERRY_ASID_POOLS && asid_pool_create(page(), &p[n]) == FERRY_OK)
        n++;
    assert_int_equal(n, FERRY_ASID_POOLS - 1);
    struct cap *last = &p[n - 1];
    assert_int_equal(last->u.raw[0], 7 * FERRY_ASIDS_PER_POOL);
    /* fill it but for a few entries (pages are few here), then the rest */
    uint64_t *entries = phys_to_virt(last->paddr);
    for (int i = 0; i < FERRY_ASIDS_PER_POOL - 3; i++)
        entries[i] = 0x1000;                              /* taken (by a fake PML4) */
    int given = 0;
    while (asid_assign(last, page(), &got) == FERRY_OK) {
        assert_true(got < ASID_FLOOR_PCID);
        given++;
    }
    assert_int_equal(given, 2);                           /* 4093, 4094; never 4095 */
    memset(entries, 0, (FERRY_ASIDS_PER_POOL - 3) * sizeof *entries);
    for (int i = 0; i < n; i++)
        asid_pool_deleted(&p[i]);
    ks_pcid_on = false;
}

/* Deleting a pool takes its VSpaces' ASIDs and empties their user half. */
static void test_pool_delete_orphans(void **state)
{
    (void)state;
    struct cte vs, pdpt, pd, pt;
    build(&vs, &pdpt, &pd, &pt);
    word_t asid = vspace_asid(vs.cap.paddr);
    asid_pool_deleted(&pool);
    assert_int_equal(vspace_asid(vs.cap.paddr), 0);
    assert_int_equal(table(vs.cap.paddr)[0], 0);                 /* the PDPT is unlinked */
    assert_int_equal(table(vs.cap.paddr)[511], 0xabc000 | PTE_P); /* the kernel half stays */
    assert_true(ks_asid_dirty[asid]);
    struct cte f = make(FERRY_OBJ_FRAME_4K);
    assert_int_equal(vspace_map_frame(&f, &vs, 0x401000, FERRY_MAP_READ), FERRY_E_NO_ASID);
    /* the tables' records are stale: unmapping forgets and clears them */
    assert_int_equal(vspace_unmap(&pdpt), FERRY_OK);
    assert_int_equal(table(pdpt.cap.paddr)[0], 0);
    assert_int_equal(asid_pool_create(page(), &pool), FERRY_OK);  /* for teardown */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_vspace_shares_kernel_half, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_frame_entry_bits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmap_checks_the_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_vspace_releases_asid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pcid_flush_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_reuse_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_delete_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clean_cr3_agrees, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
