/* kmain.c: the kernel's boot sequence on x86-64, from the 32-bit entry's call to the
 * end of the boot self-check. */
#include <arch/cpu.h>
#include <arch/machine.h>
#include <arch/paging.h>
#include <arch/serial.h>
#include <arch/smp.h>
#include <arch/trap.h>
#include <bootinfo.h>
#include <cmdline.h>
#include <ferry/bench_format.h>
#include <arch/apic.h>
#include <arch/floor.h>
#include <arch/ioapic.h>
#include <arch/thread.h>
#include <arch/vspace.h>
#include <core/kernel.h>
#include <root_task.h>
#include <memmap.h>
#include <mm/physmap.h>
#include <core/sched.h>
#include <panic.h>
#include <printk.h>
#include <selftest.h>

#ifndef FERRY_VERSION
#define FERRY_VERSION "unknown"
#endif
#ifndef FERRY_BUILD_FLAGS
#define FERRY_BUILD_FLAGS ""
#endif

extern char __boot_start[], __kernel_end[];

struct boot_info ks_boot_info;
struct memmap ks_free_mem;

static void print_firmware_map(const struct memmap *m)
{
    kprintf("memory map (%zu ranges%s):\n", m->n, m->overflow ? ", list full: some dropped" : "");
    for (size_t i = 0; i < m->n; i++)
        kprintf("  [0x%012lx - 0x%012lx) %8lu KiB  %s\n", m->r[i].start, m->r[i].end,
                (m->r[i].end - m->r[i].start) >> 10, mem_type_name(m->r[i].type));
}

/* Free memory = available RAM minus the first MiB (BIOS, real-mode
 * structures), the kernel image, the loader's info structure and modules. */
static void account_memory(struct boot_info *bi)
{
    memmap_free_from_firmware(&bi->firmware_map, &ks_free_mem);
    memmap_remove(&ks_free_mem, 0, 0x100000);
    paddr_t kstart = (paddr_t)__boot_start;
    paddr_t kend = ALIGN_UP((paddr_t)__kernel_end - KERNEL_VIRT_BASE, PAGE_SIZE);
    memmap_remove(&ks_free_mem, kstart, kend);
    memmap_remove(&ks_free_mem, ALIGN_DOWN(bi->info_start, PAGE_SIZE), ALIGN_UP(bi->info_end, PAGE_SIZE));
    for (size_t i = 0; i < bi->nmodules; i++) {
        const struct boot_module *m = &bi->modules[i];
        kprintf("module %zu: [%#lx - %#lx) %s\n", i, m->start, m->end, m->name);
        memmap_remove(&ks_free_mem, ALIGN_DOWN(m->start, PAGE_SIZE), ALIGN_UP(m->end, PAGE_SIZE));
    }
    if (bi->modules_dropped)
        kprintf("boot modules: %zu left out (at most %d are kept)\n", bi->modules_dropped, BOOT_MODULES_MAX);
    kprintf("kernel image: [%#lx - %#lx) %lu KiB\n", kstart, kend, (kend - kstart) >> 10);
}

static void print_free_memory(const char *when)
{
    uint64_t bytes = memmap_bytes(&ks_free_mem);
    kprintf("free memory %s: %lu frames (%lu KiB) in %zu ranges\n", when,
            bytes / PAGE_SIZE, bytes >> 10, ks_free_mem.n);
}

void kmain(uint32_t magic, uint32_t info_pa)
{
    percpu_early_init();                 /* GS: CPU 0's per-CPU block */
    serial_init();
    arch_init();
    kprintf("\nFerry microkernel %s (x86-64)%s%s\n", FERRY_VERSION,
            FERRY_BUILD_FLAGS[0] ? " build: " : "", FERRY_BUILD_FLAGS);

    struct boot_info *bi = &ks_boot_info;
    const char *err = bootinfo_parse(magic, info_pa, bi);
    if (err)
        panic("boot information: %s", err);
    kprintf("boot: multiboot%d from \"%s\"\n", bi->multiboot_version,
            bi->loader[0] ? bi->loader : "unnamed loader");
    kprintf("command line: \"%s\"\n", bi->cmdline);

    cpu_detect();
    cpu_tsc_init(bi->cmdline);
    cpu_print();

    print_firmware_map(&bi->firmware_map);
    account_memory(bi);
    print_free_memory("at boot");
    if (ks_free_mem.n == 0)
        panic("no free memory");

    /* The direct map covers every byte of RAM the firmware reported. */
    paddr_t ram_top = 0;
    for (size_t i = 0; i < bi->firmware_map.n; i++)
        if (bi->firmware_map.r[i].type == MEM_AVAILABLE && bi->firmware_map.r[i].end > ram_top)
            ram_top = bi->firmware_map.r[i].end;
    paging_init(&ks_free_mem, ram_top);
    print_free_memory("after kernel page tables");

    char test[32];
    if (cmdline_get(bi->cmdline, "selftest", test, sizeof test))
        selftest_run(test);

    if (bi->nmodules == 0) {
        /* Nothing to run: the boot itself was the test. */
        kprintf("boot self-check passed (no root task module)\n");
        machine_exit(FERRY_EXIT_SUCCESS);
    }

    bool pcid = true;
    if (cmdline_get_bool(bi->cmdline, "pcid", &pcid) < 0)
        panic("command line: pcid= takes on or off");
    entry_init();
    vspace_init(pcid);
    uint64_t tick_us = 1000;
    if (cmdline_get_u64(bi->cmdline, "tick_us", &tick_us) < 0 || tick_us < 100 || tick_us > 1000000)
        panic("command line: tick_us= takes 100 to 1000000 (microseconds)");
    apic_init((unsigned)tick_us);
    uint64_t idle_poll_us = 0;
    if (cmdline_get_u64(bi->cmdline, "idle_poll_us", &idle_poll_us) < 0 || idle_poll_us > 100000)
        panic("command line: idle_poll_us= takes 0 to 100000 (microseconds)");
    arch_idle_poll_init(idle_poll_us);
    if (cmdline_get_bool(bi->cmdline, "handoff", &ks_handoff_on) < 0)   /* docs/smp.md, "The hand-off" */
        panic("command line: handoff= takes on or off");
    cpu_print_platform();
    /* The boot CPU holds the big kernel lock from here to its first exit
     * to user space; the other CPUs wait for it in their idle loops. */
    bkl_lock();
    smp_init(bi->cmdline, ks_physmap_top, bi);
    floor_init(&ks_free_mem);
    ioapic_init();
    root_task_create(bi, &ks_free_mem);
    kprintf("boot self-check passed, starting the root task\n");
    kernel_exit();
}
