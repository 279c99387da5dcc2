/* pcid.c: x86-64 TLB tagging: PCIDs (the ASIDs of object/asid.c), which
 * CR3 value loads a VSpace, and flushing a translation that went away. */
#include <arch/cpu.h>
#include <arch/kpti.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/vspace.h>
#include <arch/x86.h>
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
    /* KPTI=1 flushes the user table's PCID with INVPCID (kpti_set_cr3,
     * flush_local): without it, PCIDs stay off. */
    ks_pcid_on = pcid_wanted && ks_cpu.pcid && (!FERRY_KPTI || ks_cpu.invpcid);
    /* With PCIDs, asid_dirty[0] stays set: ASID 0 is "none", which the
     * assembly fast path's PCID copy (fastpath_asm.S, CR3_PCID) then
     * sends to C with the same test as a stale PCID.  Nothing clears it
     * (vspace_cr3 clears only a real ASID's mark); the invariant walk
     * checks it. */
    for (unsigned c = 0; c < FERRY_MAX_CPUS; c++) {
        ks_percpu_of[c].pcid_on = ks_pcid_on;   /* in switch_work (fastpath_asm.S) */
        ks_percpu_of[c].asid_dirty[0] = ks_pcid_on;
    }
    if (ks_pcid_on)
        write_cr4(read_cr4() | CR4_PCIDE);   /* CR3[11:0] is 0 here, as PCIDE requires */
    kprintf("pcid: %s\n", ks_pcid_on ? (ks_cpu.invpcid ? "on (ASID = PCID, INVPCID for precise flushes)"
                                                       : "on (ASID = PCID, flush on reuse)")
                                     : ks_cpu.pcid ? "off (pcid=off): every switch flushes"
                                                   : "off (CPU has no PCID): every switch flushes");
}

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

#if FERRY_KPTI
/* The CR3 values the stubs load for pml4 (arch/kpti.h): its kernel table
 * (cr3, as vspace_cr3 gave it) on every entry, its user table on every
 * exit.  With PCIDs: the kernel table's PCID is the ASID, the user
 * table's the ASID with bit 11 set, both loaded with the no-flush bit; a
 * load of cr3 that flushes (a stale PCID) flushes the user one too. */
static void kpti_set_cr3(paddr_t pml4, uint64_t cr3)
{
    word_t asid = pml4 == ks_kernel_pml4 ? 0 : vspace_asid(pml4);
    uint64_t user = kpti_user_pml4(asid);
    if (ks_pcid_on && asid) {
        user |= asid | KPTI_USER_PCID_BIT | BIT(63);
        if (!(cr3 & BIT(63)))
            invpcid(INVPCID_CONTEXT, asid | KPTI_USER_PCID_BIT, 0);
        cr3 |= BIT(63);
    }
    ks_percpu.kpti_kernel_cr3 = cr3;
    ks_percpu.kpti_user_cr3 = user;
}
#endif

void vspace_activate(paddr_t pml4)
{
    if (!pml4)
        pml4 = ks_kernel_pml4;
    ks_percpu.cur_vspace = pml4;
#if FERRY_KPTI
    uint64_t cr3 = vspace_cr3(pml4);
    kpti_set_cr3(pml4, cr3);
    write_cr3(cr3);
#else
    write_cr3(vspace_cr3(pml4));
#endif
}

void vspace_asid_released(word_t asid)
{
    dirty_everywhere(asid);
}

/* On each CPU that has pml4 loaded: load it again (a dirty PCID, or none:
 * the load flushes). */
static void reload_fn(word_t pml4)
{
    if (ks_percpu.cur_vspace == pml4)
        vspace_activate(pml4);
}

void vspace_reload_everywhere(paddr_t pml4, word_t asid)
{
    dirty_everywhere(asid);
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

void vspace_drop_everywhere(paddr_t pml4)
{
    drop_fn(pml4);
    if (ks_ncpus > 1)
        smp_call_others(cpus_caching(pml4), drop_fn, pml4);
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

/* A translation of (asid, va) is gone: make sure no TLB still holds it. */
void vspace_flush(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space)
{
    flush_local(asid, pml4, va, whole_space);
    if (ks_ncpus > 1) {
        struct shootdown s = { asid, pml4, va, whole_space };
        uint64_t mask = cpus_caching(pml4);
        if (mask)
            smp_call_others(mask, shootdown_fn, (word_t)&s);
    }
}

/* The flush on this CPU's TLB. */
static void flush_local(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space)
{
    if (pml4 == ks_percpu.cur_vspace) {
        if (!whole_space) {
            invlpg(va);                  /* the current PCID only: it is this one */
#if FERRY_KPTI
            if (ks_pcid_on)              /* and the user table's PCID */
                invpcid(INVPCID_ADDRESS, asid | KPTI_USER_PCID_BIT, va);
#endif
            return;
        }
        if (ks_pcid_on)
            ks_asid_dirty[asid] = true;
        vspace_activate(pml4);           /* a reload without the no-flush bit */
        return;
    }
    if (!ks_pcid_on)
        return;                          /* the next CR3 load flushes anyway */
    if (ks_cpu.invpcid) {
        invpcid(whole_space ? INVPCID_CONTEXT : INVPCID_ADDRESS, asid, va);
#if FERRY_KPTI
        invpcid(whole_space ? INVPCID_CONTEXT : INVPCID_ADDRESS, asid | KPTI_USER_PCID_BIT, va);
#endif
    } else
        ks_asid_dirty[asid] = true;
}
