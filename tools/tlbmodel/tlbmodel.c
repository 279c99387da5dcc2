/* tlbmodel.c: a QEMU 7.2 TCG plugin that models L1 i/d TLBs and an L2 TLB under two address-space switch policies (flush on CR3 write, tagged) and reports misses per timed region. */

/*
 * Why: neither emulator charges for TLB refills, so instruction counts
 * cannot show what PCID is worth.  This plugin watches every instruction
 * fetch and data access of the guest and runs them through two copies of
 * one TLB hierarchy side by side, in one pass:
 *
 *   flush   every CR3 write empties the non-global entries (what a CPU
 *           without PCID, or with PCID off, does);
 *   tagged  entries survive address-space switches (what PCID gives).
 *
 * What the 7.2 API allows, and the assumptions that follow (also in
 * docs/harness.md, "TLB model"):
 *
 *  - Registers cannot be read, so a CR3 write is found in the instruction
 *    bytes at translation time (0F 22 /3 with ModRM.mod = 3, optional REX
 *    without REX.R); its value (PCID, no-flush bit) is unknown.  The flush
 *    policy therefore flushes on every such write; the tagged one never
 *    does.  INVLPG/INVPCID are not modelled.
 *  - Address spaces cannot be named, so "tagged" keys each entry by its
 *    translation: virtual page and the physical page the plugin sees for the
 *    access (data: qemu_plugin_get_hwaddr; fetch: the host address of the
 *    instruction bytes, one host page per guest page of RAM).  An entry hits
 *    only while the cached vpage->ppage pair is the one the access uses, so
 *    two spaces mapping one virtual page to different frames hold two
 *    entries (as two PCIDs would), and two spaces mapping it to the same
 *    frame share one (a real PCID TLB would hold two: the model errs low for
 *    shared user mappings).
 *  - Global pages: entries for the kernel half (bit 47 set, canonical high
 *    addresses) are global (Ferry maps its kernel half with PTE.G where the
 *    CPU has PGE), so the flush policy keeps them; `global=off` flushes them
 *    too (a kernel without global pages, e.g. a strict KPTI build).
 *  - Every translation is taken as a 4 KiB page (the plugin cannot see the
 *    page size): large pages count as many entries in both policies alike.
 *  - Page-walk memory traffic is not modelled: a miss is a count.
 *  - Instruction fetches are looked up once per guest page a translation
 *    block touches, each time the block runs (later instructions of the same
 *    page would hit in L1 anyway: nothing evicts the L1I between them).
 *  - L1 misses that hit in L2 fill L1; L2 misses (page walks) fill both.
 *    LRU replacement in every set; sets are indexed by the low vpage bits.
 *
 * Timed regions: the benchmark's timed region is bracketed by TSC reads
 * (bench/lib/tsc.h: `lfence; rdtsc` ... `rdtscp; lfence` where the CPU has
 * RDTSCP, which the harness's `-cpu max` has).  A user-mode RDTSC opens a
 * region and a user-mode RDTSCP closes it; reads in the kernel half (the
 * kernel's own floors, its timer) are ignored.  The runner calls
 * bench_region_mark() once at the start of each benchmark configuration
 * (bench/lib/bench_runner.c); the harness passes that function's address
 * (`mark=0x...`, from the root task's symbol table), and each execution of
 * it writes an `M` line, so the harness can give segment k to the k-th
 * @result or @error record.  Nothing in the guest changes for the model:
 * the marker is an empty function every build has.
 *
 * Output (`out=FILE`): a `#` header naming the geometry, `R` lines per
 * region (instructions, then L1I, L1D and L2 misses under flush, the same
 * under tagged, then CR3 writes inside the region), `M` lines at each mark
 * and one `E` line of totals at exit.  The harness parses it
 * (ferryhost/tlbmodel.py).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_host_check.h"
#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define PAGE_SHIFT 12
#define KERNEL_HALF 0xffff800000000000ULL
/* The physical key of an access the plugin cannot place in RAM (I/O). */
#define IO_KEY (1ULL << 63)

struct tlb_entry {
    uint64_t vpage, ppage, used;
    bool valid, global;
};

struct tlb {
    unsigned entries, ways, sets;
    struct tlb_entry *e;
};

enum { L1I, L1D, L2, NLEVELS };
enum { FLUSH, TAGGED, NPOLICIES };
static const char *const policy_name[NPOLICIES] = { "flush", "tagged" };

struct hierarchy {
    struct tlb t[NLEVELS];
    uint64_t miss[NLEVELS];     /* misses so far at each level (L2 = page walks) */
};

static struct hierarchy h[NPOLICIES];
static uint64_t lru_clock;
static uint64_t insns, cr3_writes;
static bool global_kernel = true;
static uint64_t mark_addr;
static FILE *out;

/* The open region's starting counters; in_region false outside one. */
static bool in_region;
static uint64_t r_insns, r_miss[NPOLICIES][NLEVELS], r_cr3;
static uint64_t regions, marks;

static bool tlb_init(struct tlb *t, unsigned entries, unsigned ways)
{
    if (ways == 0 || entries == 0 || entries % ways)
        return false;
    t->entries = entries;
    t->ways = ways;
    t->sets = entries / ways;
    t->e = calloc(entries, sizeof *t->e);
    return t->e != NULL;
}

/* Looks (vpage, ppage) up; on a miss, fills the set's least recently used way. */
static bool tlb_access(struct tlb *t, uint64_t vpage, uint64_t ppage, bool global)
{
    struct tlb_entry *set = &t->e[(vpage % t->sets) * t->ways], *victim = &set[0];
    lru_clock++;
    for (unsigned w = 0; w < t->ways; w++) {
        struct tlb_entry *e = &set[w];
        if (e->valid && e->vpage == vpage && e->ppage == ppage) {
            e->used = lru_clock;
            return true;
        }
        if (!e->valid)
            victim = e;
        else if (victim->valid && e->used < victim->used)
            victim = e;
    }
    *victim = (struct tlb_entry){ .vpage = vpage, .ppage = ppage, .used = lru_clock, .valid = true,
                                  .global = global };
    return false;
}

static void tlb_flush_nonglobal(struct tlb *t)
{
    for (unsigned i = 0; i < t->entries; i++)
        if (!t->e[i].global)
            t->e[i].valid = false;
}

static void access_page(int l1, uint64_t vaddr, uint64_t ppage)
{
    uint64_t vpage = vaddr >> PAGE_SHIFT;
    bool global = global_kernel && vaddr >= KERNEL_HALF;
    for (int p = 0; p < NPOLICIES; p++) {
        struct hierarchy *x = &h[p];
        if (tlb_access(&x->t[l1], vpage, ppage, global))
            continue;
        x->miss[l1]++;
        if (!tlb_access(&x->t[L2], vpage, ppage, global))
            x->miss[L2]++;
    }
}

/* ---- what the instructions do ------------------------------------------ */

/* One translation block's instruction pages: looked up each time it runs. */
struct tb_pages {
    uint64_t vaddr[2], ppage[2];
    unsigned npages, ninsns;
};

static void on_tb_exec(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    const struct tb_pages *tp = udata;
    insns += tp->ninsns;
    for (unsigned i = 0; i < tp->npages; i++)
        access_page(L1I, tp->vaddr[i], tp->ppage[i]);
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)udata;
    struct qemu_plugin_hwaddr *hw = qemu_plugin_get_hwaddr(info, vaddr);
    uint64_t ppage;
    if (hw && !qemu_plugin_hwaddr_is_io(hw))
        ppage = qemu_plugin_hwaddr_phys_addr(hw) >> PAGE_SHIFT;
    else
        ppage = IO_KEY | (vaddr >> PAGE_SHIFT);
    access_page(L1D, vaddr, ppage);
}

static void on_cr3_write(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    cr3_writes++;
    for (int l = 0; l < NLEVELS; l++)
        tlb_flush_nonglobal(&h[FLUSH].t[l]);
}

static void region_begin(void)
{
    in_region = true;
    r_insns = insns;
    r_cr3 = cr3_writes;
    for (int p = 0; p < NPOLICIES; p++)
        for (int l = 0; l < NLEVELS; l++)
            r_miss[p][l] = h[p].miss[l];
}

static void on_rdtsc(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    region_begin();   /* a second begin without an end restarts the region */
}

static void on_rdtscp(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    if (!in_region)
        return;
    in_region = false;
    regions++;
    if (!out)
        return;
    /* The rdtscp's own block was counted at its start: the region's count
     * includes the instructions of that block up to its end. */
    fprintf(out, "R %" PRIu64, insns - r_insns);
    for (int p = 0; p < NPOLICIES; p++)
        for (int l = 0; l < NLEVELS; l++)
            fprintf(out, " %" PRIu64, h[p].miss[l] - r_miss[p][l]);
    fprintf(out, " %" PRIu64 "\n", cr3_writes - r_cr3);
}

static void on_mark(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    in_region = false;
    marks++;
    if (out)
        fprintf(out, "M %" PRIu64 "\n", marks);
}

enum insn_kind { I_OTHER, I_RDTSC, I_RDTSCP, I_MOV_CR3 };

/* Classifies an instruction by its bytes (legacy prefixes other than REX
 * do not occur on these in practice and are not accepted). */
static enum insn_kind classify(const uint8_t *b, size_t n)
{
    size_t i = 0;
    bool rex_r = false;
    if (n > 0 && (b[0] & 0xf0) == 0x40) {
        rex_r = b[0] & 0x04;
        i = 1;
    }
    if (n < i + 2 || b[i] != 0x0f)
        return I_OTHER;
    if (b[i + 1] == 0x31 && i == 0)
        return I_RDTSC;
    if (b[i + 1] == 0x01 && n >= i + 3 && b[i + 2] == 0xf9 && i == 0)
        return I_RDTSCP;
    if (b[i + 1] == 0x22 && n >= i + 3 && !rex_r) {
        uint8_t modrm = b[i + 2];
        if ((modrm >> 6) == 3 && ((modrm >> 3) & 7) == 3)
            return I_MOV_CR3;
    }
    return I_OTHER;
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct tb_pages *tp = calloc(1, sizeof *tp);
    if (!tp) {
        fputs("tlbmodel: out of memory\n", stderr);
        abort();
    }
    tp->ninsns = (unsigned)n;
    for (size_t k = 0; k < n; k++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
        uint64_t va = qemu_plugin_insn_vaddr(insn);
        uint64_t vpage = va >> PAGE_SHIFT;
        if (tp->npages == 0 || (tp->vaddr[tp->npages - 1] >> PAGE_SHIFT) != vpage) {
            if (tp->npages < 2) {
                void *ha = qemu_plugin_insn_haddr(insn);
                tp->vaddr[tp->npages] = va;
                tp->ppage[tp->npages] = ha ? (uint64_t)(uintptr_t)ha >> PAGE_SHIFT : IO_KEY | vpage;
                tp->npages++;
            }
        }
        qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
        bool user = va < KERNEL_HALF;
        switch (classify(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn))) {
        case I_RDTSC:
            if (user)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_rdtsc, QEMU_PLUGIN_CB_NO_REGS, NULL);
            break;
        case I_RDTSCP:
            if (user)
                qemu_plugin_register_vcpu_insn_exec_cb(insn, on_rdtscp, QEMU_PLUGIN_CB_NO_REGS, NULL);
            break;
        case I_MOV_CR3:
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_cr3_write, QEMU_PLUGIN_CB_NO_REGS, NULL);
            break;
        default:
            break;
        }
        if (mark_addr && va == mark_addr)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, tp);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    char line[512];
    int len = snprintf(line, sizeof line, "E insns=%" PRIu64 " regions=%" PRIu64 " marks=%" PRIu64
                       " cr3_writes=%" PRIu64, insns, regions, marks, cr3_writes);
    for (int p = 0; p < NPOLICIES && len > 0 && (size_t)len < sizeof line; p++)
        len += snprintf(line + len, sizeof line - len, " %s=%" PRIu64 ",%" PRIu64 ",%" PRIu64,
                        policy_name[p], h[p].miss[L1I], h[p].miss[L1D], h[p].miss[L2]);
    if (out) {
        fprintf(out, "%s\n", line);
        fclose(out);
        out = NULL;
    }
    qemu_plugin_outs("tlbmodel: ");
    qemu_plugin_outs(line + 2);
    qemu_plugin_outs("\n");
}

/* "ENTRIES:WAYS" */
static bool parse_geometry(const char *v, unsigned *entries, unsigned *ways)
{
    char *end;
    unsigned long e = strtoul(v, &end, 10);
    if (*end != ':')
        return false;
    unsigned long w = strtoul(end + 1, &end, 10);
    if (*end || e == 0 || w == 0 || e > 1u << 20 || e % w)
        return false;
    *entries = (unsigned)e;
    *ways = (unsigned)w;
    return true;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    if (plugin_host_check("tlbmodel", info))
        return -1;
    if (info->system.smp_vcpus != 1) {
        fprintf(stderr, "tlbmodel: models one vCPU (got %d)\n", info->system.smp_vcpus);
        return -1;
    }
    /* Skylake-class defaults: 128-entry 8-way L1I, 64-entry 4-way L1D, 1536-entry 12-way L2. */
    unsigned geo[NLEVELS][2] = { { 128, 8 }, { 64, 4 }, { 1536, 12 } };
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "out=", 4) == 0) {
            path = a + 4;
        } else if (strncmp(a, "mark=", 5) == 0) {
            char *end;
            mark_addr = strtoull(a + 5, &end, 0);
            if (*end || !mark_addr) {
                fprintf(stderr, "tlbmodel: bad mark address: %s\n", a);
                return -1;
            }
        } else if (strcmp(a, "global=on") == 0 || strcmp(a, "global=off") == 0) {
            global_kernel = strcmp(a, "global=on") == 0;
        } else if (strncmp(a, "l1i=", 4) == 0 || strncmp(a, "l1d=", 4) == 0 || strncmp(a, "l2=", 3) == 0) {
            int l = a[1] == '2' ? L2 : a[2] == 'i' ? L1I : L1D;
            if (!parse_geometry(strchr(a, '=') + 1, &geo[l][0], &geo[l][1])) {
                fprintf(stderr, "tlbmodel: bad geometry %s (ENTRIES:WAYS, ENTRIES a multiple of WAYS)\n", a);
                return -1;
            }
        } else {
            fprintf(stderr, "tlbmodel: unknown argument %s (out=, mark=, global=on|off, l1i=, l1d=, l2=)\n", a);
            return -1;
        }
    }
    for (int p = 0; p < NPOLICIES; p++)
        for (int l = 0; l < NLEVELS; l++)
            if (!tlb_init(&h[p].t[l], geo[l][0], geo[l][1])) {
                fprintf(stderr, "tlbmodel: out of memory\n");
                return -1;
            }
    if (path) {
        out = fopen(path, "w");
        if (!out) {
            fprintf(stderr, "tlbmodel: cannot write %s: %s\n", path, strerror(errno));
            return -1;
        }
        fprintf(out, "# tlbmodel 1 l1i=%u:%u l1d=%u:%u l2=%u:%u global=%s mark=0x%" PRIx64 "\n",
                geo[L1I][0], geo[L1I][1], geo[L1D][0], geo[L1D][1], geo[L2][0], geo[L2][1],
                global_kernel ? "on" : "off", mark_addr);
        fprintf(out, "# R insns flush_l1i flush_l1d flush_l2 tagged_l1i tagged_l1d tagged_l2 cr3_writes\n");
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
