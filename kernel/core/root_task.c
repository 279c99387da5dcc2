/* root_task.c: building the root task at boot: CNode, VSpace, TCB, IPC
 * buffer, stack, boot-info page and untyped capabilities.  After this the
 * kernel allocates nothing on user space's behalf. */
#include <arch/percpu.h>
#include <arch/asid.h>
#include <arch/cpu.h>
#include <arch/floor.h>
#include <arch/ioport.h>
#include <arch/vspace.h>
#include <core/sched.h>
#include <elf.h>
#include <ferry/arch_x86_64.h>
#include <ferry/bootinfo.h>
#include <ferry/errors.h>
#include <kstring.h>
#include <object/cnode.h>
#include <object/objtype.h>
#include <object/tcb.h>
#include <object/untyped.h>
#include <panic.h>
#include <printk.h>
#include <root_task.h>

#ifndef FERRY_DIRECT_SWITCH
#define FERRY_DIRECT_SWITCH 1
#endif

#define ROOT_CNODE_RADIX 14            /* 16384 slots: second address spaces copy the image caps */
#define ROOT_PRIO 255
#define MAX_TABLES 32

static struct cte *root_slots;         /* the root CNode's slots */
static word_t next_slot = FERRY_CAP_FIRST_FREE_FIXED;

/* Regions that already have a table, per level (so each is made once). */
static struct { word_t type; vaddr_t base; } tables[MAX_TABLES];
static size_t ntables;

static struct cte *slot(word_t i) { return &root_slots[i]; }

static word_t take_slot(void)
{
    if (next_slot >= (1UL << ROOT_CNODE_RADIX))
        panic("root task: its CNode is full");
    return next_slot++;
}

static void retype(word_t type, word_t size_bits, word_t dest)
{
    word_t err = untyped_retype(slot(FERRY_CAP_BOOT_UNTYPED), type, size_bits, slot(dest), 1);
    if (err)
        panic("root task: retype of type %lu failed with error %lu", type, err);
}

static void ensure_table(word_t type, unsigned shift, vaddr_t va)
{
    vaddr_t base = ALIGN_DOWN(va, 1ULL << shift);
    for (size_t i = 0; i < ntables; i++)
        if (tables[i].type == type && tables[i].base == base)
            return;
    if (ntables == MAX_TABLES)
        panic("root task: too many page tables");
    word_t s = take_slot();
    retype(type, 0, s);
    word_t err = vspace_map_table(slot(s), slot(FERRY_CAP_INIT_VSPACE), base);
    if (err)
        panic("root task: mapping a page table at %#lx failed with error %lu", base, err);
    tables[ntables].type = type;
    tables[ntables++].base = base;
}

static void ensure_tables(vaddr_t va)
{
    ensure_table(FERRY_OBJ_PDPT, 39, va);
    ensure_table(FERRY_OBJ_PD, 30, va);
    ensure_table(FERRY_OBJ_PT, 21, va);
}

/* A fresh zeroed frame mapped at va (its tables exist); returns its slot. */
static word_t map_new_frame(vaddr_t va, word_t rights, word_t dest)
{
    retype(FERRY_OBJ_FRAME_4K, 0, dest);
    word_t err = vspace_map_frame(slot(dest), slot(FERRY_CAP_INIT_VSPACE), va, rights);
    if (err)
        panic("root task: mapping a frame at %#lx failed with error %lu", va, err);
    return dest;
}

static void *frame_ptr(word_t s) { return cap_object(&slot(s)->cap); }

static unsigned log2_up(uint64_t n)
{
    unsigned b = 0;
    while ((1ULL << b) < n)
        b++;
    return b;
}

static void load_image(const struct boot_module *m, const struct elf_segment *segs, size_t n,
                       struct ferry_bootinfo *bi)
{
    const uint8_t *img = phys_to_virt(m->start);
    bi->image_frames.start = next_slot;
    for (size_t i = 0; i < n; i++) {
        const struct elf_segment *sg = &segs[i];
        word_t rights = FERRY_MAP_READ | (sg->write ? FERRY_MAP_WRITE : 0) | (sg->exec ? FERRY_MAP_EXEC : 0);
        for (vaddr_t va = ALIGN_DOWN(sg->vaddr, PAGE_SIZE); va < sg->vaddr + sg->memsz; va += PAGE_SIZE) {
            uint8_t *page = frame_ptr(map_new_frame(va, rights, take_slot()));
            /* The part of this page the file provides; the rest stays zero. */
            vaddr_t lo = va > sg->vaddr ? va : sg->vaddr;
            vaddr_t hi = va + PAGE_SIZE < sg->vaddr + sg->filesz ? va + PAGE_SIZE : sg->vaddr + sg->filesz;
            if (lo < hi)
                memcpy(page + (lo - va), img + sg->offset + (lo - sg->vaddr), hi - lo);
        }
    }
    bi->image_frames.end = next_slot;
}

/* The ASID control capability, and the first ASID pool (made from the
 * boot untyped as MakePool would make it) with the root task's VSpace
 * assigned from it: before anything is mapped. */
static void give_asids(void)
{
    struct cap ctl = { .type = FERRY_OBJ_ASID_CONTROL, .rights = FERRY_RIGHTS_ALL };
    cte_insert(slot(FERRY_CAP_ASID_CONTROL), &ctl, NULL);
    struct cte *ut = slot(FERRY_CAP_BOOT_UNTYPED);
    word_t off, asid;
    struct cap pool;
    if (untyped_fit(&ut->cap, FERRY_ASID_POOL_BITS, 1, &off) ||
        asid_pool_create(ut->cap.paddr + off, &pool))
        panic("root task: no memory for its ASID pool");
    ut->cap.u.untyped.watermark = off + BIT(FERRY_ASID_POOL_BITS);
    cte_insert(slot(FERRY_CAP_INIT_ASID_POOL), &pool, ut);
    if (asid_assign(&pool, slot(FERRY_CAP_INIT_VSPACE)->cap.paddr, &asid))
        panic("root task: no ASID for its VSpace");
}

/* The IRQ control capability, the debug capability, and every I/O port
 * but those the kernel keeps: the 8259 PICs (unmasking one would raise
 * interrupts on exception vectors) and QEMU's debug-exit device
 * (0xf4-0xf7: it answers on all four).  COM1 (0x3f8-0x3ff) is a range of
 * its own, for the user-space serial driver: the kernel's console shares
 * it on defined terms (docs/serial.md: the kernel only polls LSR and
 * writes THR, whole buffers in one kernel entry; the driver owns the
 * receive side, IER, MCR and IRQ 4). */
static void give_devices(struct ferry_bootinfo *bi)
{
    static const word_t ranges[][2] = {
        { 0x0000, 0x001f }, { 0x0022, 0x009f }, { 0x00a2, 0x00f3 }, { 0x00f8, 0x03f7 },
        { 0x03f8, 0x03ff }, { 0x0400, 0xffff },
    };
    struct cap irqc = { .type = FERRY_OBJ_IRQ_CONTROL, .rights = FERRY_RIGHTS_ALL };
    cte_insert(slot(FERRY_CAP_IRQ_CONTROL), &irqc, NULL);
    struct cap debug = { .type = FERRY_OBJ_DEBUG, .rights = FERRY_RIGHTS_ALL };
    cte_insert(slot(FERRY_CAP_DEBUG), &debug, NULL);
    bi->ioports.start = next_slot;
    for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
        struct cap c;
        ioport_cap(&c, ranges[i][0], ranges[i][1]);
        cte_insert(slot(take_slot()), &c, NULL);
    }
    bi->ioports.end = next_slot;
}

/* Is [start, end) inside RAM the firmware reported available? */
static bool in_ram(const struct memmap *fw, paddr_t start, paddr_t end)
{
    for (size_t i = 0; i < fw->n; i++)
        if (fw->r[i].type == MEM_AVAILABLE && fw->r[i].start <= start && end <= fw->r[i].end)
            return true;
    return false;
}

/* Every module after the root task: read-only frame capabilities over its
 * pages and its description on the modules page.  The kernel interprets
 * nothing; a module it cannot describe is left out with a message. */
static void give_modules(const struct boot_info *boot, struct ferry_bootinfo_modules *mi)
{
    extern char __boot_start[], __kernel_end[];
    paddr_t kstart = (paddr_t)__boot_start, kend = (paddr_t)__kernel_end - KERNEL_VIRT_BASE;
    word_t frames = 0;
    for (size_t i = 1; i < boot->nmodules; i++) {
        const struct boot_module *m = &boot->modules[i];
        paddr_t lo = ALIGN_DOWN(m->start, PAGE_SIZE), hi = ALIGN_UP(m->end, PAGE_SIZE);
        word_t pages = (hi - lo) / PAGE_SIZE;
        const char *why = NULL;
        if (mi->count == FERRY_BOOTINFO_MODULES_MAX)
            why = "too many modules";
        else if (m->end > lo && !in_ram(&boot->firmware_map, lo, hi))
            why = "not in RAM";
        else if (lo < kend && kstart < hi)
            why = "overlaps the kernel image";
        else if (pages > FERRY_BOOTINFO_MODULE_FRAMES_MAX - frames)
            why = "modules too large for the frame capabilities the root task gets";
        else if (next_slot + pages + 1024 > (1UL << ROOT_CNODE_RADIX))   /* room left for untyped */
            why = "the root CNode has no room for its frames";
        if (why) {
            kprintf("module %zu \"%s\": left out: %s\n", i, m->name, why);
            continue;
        }
        struct ferry_module_desc *d = &mi->m[mi->count++];
        d->paddr = m->start;
        d->size = m->end - m->start;
        memcpy(d->name, m->name, sizeof d->name);
        d->name[sizeof d->name - 1] = '\0';
        d->frames.start = next_slot;
        for (paddr_t pa = lo; pa < hi; pa += PAGE_SIZE) {
            /* A root of its own in the CDT, like the other boot objects;
             * no WRITE right, so it can be mapped read-only only. */
            struct cap f = object_create(FERRY_OBJ_FRAME_4K, pa, 0, false);
            f.rights = FERRY_RIGHT_READ;
            cte_insert(slot(take_slot()), &f, NULL);
        }
        d->frames.end = next_slot;
        frames += pages;
    }
    if (mi->count)
        kprintf("root task: %lu boot modules, %lu read-only frames\n", mi->count, frames);
}

/* All remaining free memory becomes untyped capabilities. */
static void give_untyped(struct memmap *free, struct ferry_bootinfo *bi)
{
    struct untyped_block blocks[64];
    size_t count = 0;
    uint64_t bytes = 0, lost = 0;
    bi->untyped.start = next_slot;
    for (size_t r = 0; r < free->n; r++) {
        size_t nb = untyped_split_region(free->r[r].start, free->r[r].end, blocks, ARRAY_SIZE(blocks));
        for (size_t i = 0; i < nb && i < ARRAY_SIZE(blocks); i++) {
            if (count == FERRY_BOOTINFO_UNTYPED_MAX) {
                lost += 1ULL << blocks[i].size_bits;
                continue;
            }
            word_t s = take_slot();
            if (untyped_boot_create(slot(s), blocks[i].base, blocks[i].size_bits, false))
                panic("root task: untyped at %#lx could not be made", blocks[i].base);
            bi->untyped_list[count++] = (struct ferry_untyped_desc){
                .paddr = blocks[i].base, .size_bits = (unsigned char)blocks[i].size_bits };
            bytes += 1ULL << blocks[i].size_bits;
        }
    }
    bi->untyped.end = next_slot;
    free->n = 0;
    kprintf("root task: %zu untyped capabilities, %lu KiB%s\n", count, bytes >> 10,
            lost ? " (list full: some memory left out)" : "");
}

void root_task_create(const struct boot_info *boot, struct memmap *free)
{
    const struct boot_module *m = &boot->modules[0];
    struct elf_segment segs[ELF_MAX_SEGMENTS];
    size_t nsegs;
    vaddr_t entry;
    const char *err = elf_parse(phys_to_virt(m->start), m->end - m->start, FERRY_USER_TOP,
                                &entry, segs, &nsegs);
    if (err)
        panic("root task \"%s\": %s", m->name, err);

    /* The root CNode comes straight from free memory, its capability
     * placed in its own slot; everything else is retyped from one boot
     * untyped, sized for what the image needs. */
    uint64_t cnode_bytes = 1ULL << (ROOT_CNODE_RADIX + FERRY_CTE_BITS);
    paddr_t cnode_pa = memmap_take_range(free, cnode_bytes, cnode_bytes);
    if (!cnode_pa)
        panic("root task: no memory for its CNode");
    memset(phys_to_virt(cnode_pa), 0, cnode_bytes);
    root_slots = phys_to_virt(cnode_pa);
    struct cap cnode = {
        .type = FERRY_OBJ_CNODE, .rights = FERRY_RIGHTS_ALL, .size_bits = ROOT_CNODE_RADIX,
        .guard_bits = 64 - ROOT_CNODE_RADIX, .paddr = cnode_pa,
    };
    cap_cnode_set_fp(&cnode);
    cte_insert(slot(FERRY_CAP_INIT_CNODE), &cnode, NULL);

    uint64_t pages = 9 + FERRY_ROOT_STACK_PAGES + MAX_TABLES;   /* 9: VSpace, TCB, ASID pool, slack */
    for (size_t i = 0; i < nsegs; i++)
        pages += (ALIGN_UP(segs[i].vaddr + segs[i].memsz, PAGE_SIZE) - ALIGN_DOWN(segs[i].vaddr, PAGE_SIZE)) / PAGE_SIZE;
    unsigned ut_bits = log2_up(pages * PAGE_SIZE);
    paddr_t ut_pa = memmap_take_range(free, 1ULL << ut_bits, 1ULL << ut_bits);
    if (!ut_pa || untyped_boot_create(slot(FERRY_CAP_BOOT_UNTYPED), ut_pa, ut_bits, false))
        panic("root task: no memory for its objects (%lu KiB)", (1UL << ut_bits) >> 10);

    retype(FERRY_OBJ_VSPACE, 0, FERRY_CAP_INIT_VSPACE);
    retype(FERRY_OBJ_TCB, 0, FERRY_CAP_INIT_TCB);
    give_asids();

    /* Every page table first, so their slots form one range. */
    word_t paging_start = next_slot;
    ensure_tables(FERRY_ROOT_BOOTINFO);
    ensure_tables(FERRY_ROOT_MODULES);
    ensure_tables(FERRY_ROOT_IPC_BUFFER);
    for (unsigned i = 1; i <= FERRY_ROOT_STACK_PAGES; i++)
        ensure_tables(FERRY_ROOT_STACK_TOP - i * PAGE_SIZE);
    for (size_t i = 0; i < nsegs; i++)
        for (vaddr_t va = ALIGN_DOWN(segs[i].vaddr, PAGE_SIZE); va < segs[i].vaddr + segs[i].memsz; va += PAGE_SIZE)
            ensure_tables(va);
    word_t paging_end = next_slot;

    struct ferry_bootinfo *bi = frame_ptr(map_new_frame(FERRY_ROOT_BOOTINFO, FERRY_MAP_READ,
                                                        FERRY_CAP_BOOTINFO_FRAME));
    map_new_frame(FERRY_ROOT_IPC_BUFFER, FERRY_MAP_READ | FERRY_MAP_WRITE, FERRY_CAP_IPC_BUFFER);
    word_t modules_frame = take_slot();
    struct ferry_bootinfo_modules *mi = frame_ptr(map_new_frame(FERRY_ROOT_MODULES, FERRY_MAP_READ,
                                                                modules_frame));
    bi->paging.start = paging_start;
    bi->paging.end = paging_end;
    load_image(m, segs, nsegs, bi);
    bi->stack_frames.start = next_slot;
    for (unsigned i = 1; i <= FERRY_ROOT_STACK_PAGES; i++)
        map_new_frame(FERRY_ROOT_STACK_TOP - i * PAGE_SIZE, FERRY_MAP_READ | FERRY_MAP_WRITE, take_slot());
    bi->stack_frames.end = next_slot;

    give_devices(bi);
    give_modules(boot, mi);
    give_untyped(free, bi);

    struct tcb *t = cap_tcb(&slot(FERRY_CAP_INIT_TCB)->cap);
    word_t e = tcb_configure(t, slot(FERRY_CAP_INIT_CNODE), slot(FERRY_CAP_INIT_VSPACE),
                             slot(FERRY_CAP_IPC_BUFFER), FERRY_ROOT_IPC_BUFFER, 0);
    if (e)
        panic("root task: configuring its TCB failed with error %lu", e);
    /* The stack as after a call (ABI alignment); the boot info is the argument. */
    ctx_set_start(&t->ctx, entry, FERRY_ROOT_STACK_TOP - 8, FERRY_ROOT_BOOTINFO);
    t->prio = t->mcp = ROOT_PRIO;

    bi->magic = FERRY_BOOTINFO_MAGIC;
    bi->cnode_radix = ROOT_CNODE_RADIX;
    bi->empty.start = next_slot;
    bi->empty.end = 1UL << ROOT_CNODE_RADIX;
    bi->ipc_buffer = FERRY_ROOT_IPC_BUFFER;
    bi->stack_top = FERRY_ROOT_STACK_TOP;
    bi->tsc_hz = ks_cpu.tsc_hz;
    bi->pcid_on = ks_pcid_on;
    bi->ncpus = ks_ncpus;
    bi->cpu_pcid = ks_cpu.pcid;
    bi->fastpath = FERRY_FASTPATH;
    bi->lazy_fpu = FERRY_LAZY_FPU;
    bi->benchmark = FERRY_BENCHMARK;
    bi->direct_switch = FERRY_DIRECT_SWITCH;
    bi->kpti = FERRY_KPTI;
    bi->boot_untyped_bits = ut_bits;
    bi->modules = FERRY_ROOT_MODULES;
    bi->modules_frame = modules_frame;
    memcpy(bi->cmdline, boot->cmdline, sizeof bi->cmdline);
    memcpy(bi->kernel_version, FERRY_VERSION, sizeof FERRY_VERSION < sizeof bi->kernel_version
                                              ? sizeof FERRY_VERSION : sizeof bi->kernel_version - 1);
    tcb_resume(t);
    kprintf("root task \"%s\": entry %#lx, %zu segments, %lu slots used of %lu\n",
            m->name, entry, nsegs, next_slot, 1UL << ROOT_CNODE_RADIX);
}
