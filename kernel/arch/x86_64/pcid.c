/* pcid.c: x86-64 TLB tagging: PCIDs (the ASIDs of object/asid.c), which
 * CR3 value loads a VSpace, and flushing a translation that went away. */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/vspace.h>
#include <arch/x86.h>
#include <printk.h>

bool ks_pcid_on;
bool ks_asid_dirty[ASID_COUNT];            /* its PCID may hold stale entries */

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

void vspace_pcid_used(word_t pcid)
{
    if (pcid && pcid < ASID_COUNT)
        ks_asid_dirty[pcid] = true;
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
    ks_asid_dirty[asid] = true;
}

/* A translation of (asid, va) is gone: make sure no TLB still holds it. */
void vspace_flush(word_t asid, paddr_t pml4, vaddr_t va, bool whole_space)
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
