/* kbench.c: the hardware-floor benchmarks that need no user space: the cost
 * of rdtsc and of CR3 switch pairs, measured in ring 0 at boot. */
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/serial.h>
#include <arch/x86.h>
#include <bench_runner.h>
#include <kbench.h>
#include <kstring.h>
#include <mm/physmap.h>

#define KBENCH_MAX_SAMPLES 100000

static void console_write(const char *s, size_t n)
{
    serial_write(s, n);
}

static const char *floor_rdtsc(struct bench_ctx *c)
{
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        uint32_t lo, hi;
        asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
        uint64_t t1 = tsc_end();
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    return NULL;
}

/* A second top-level table that shares the kernel half, so the kernel keeps
 * running whichever one CR3 holds. */
static paddr_t floor_pml4;

static const char *floor_cr3(struct bench_ctx *c)
{
    bool noflush = *(const bool *)c->entry->arg;
    uint64_t home = read_cr3(), away = floor_pml4;
    if (noflush) {
        /* PCID 1 for home, 2 for away; bit 63 keeps each PCID's entries. */
        home |= 1 | BIT(63);
        away |= 2 | BIT(63);
    }
    for (size_t i = 0; i < c->warmup + c->n; i++) {
        uint64_t t0 = tsc_begin();
        write_cr3(away);
        write_cr3(home);
        uint64_t t1 = tsc_end();
        if (i >= c->warmup)
            c->samples[i - c->warmup] = t1 - t0;
    }
    if (noflush)
        write_cr3(read_cr3() & PTE_ADDR);   /* back to PCID 0 */
    return NULL;
}

static const bool flush = false, noflush = true;

static const struct bench_entry kbench_table[] = {
    { .name = "floor_rdtsc", .fn = floor_rdtsc,
      .description = "one rdtsc instruction in ring 0" },
    { .name = "floor_cr3", .variant = "flush", .fn = floor_cr3, .arg = &flush,
      .description = "two CR3 writes (away and back) that flush the TLB" },
    { .name = "floor_cr3", .variant = "pcid", .fn = floor_cr3, .arg = &noflush,
      .description = "two CR3 writes with PCIDs and the no-flush bit" },
};

unsigned kbench_run(const char *cmdline, struct memmap *free)
{
    static struct bench_runner r;
    paddr_t buf = memmap_take_range(free, KBENCH_MAX_SAMPLES * sizeof(uint64_t), PAGE_SIZE);
    floor_pml4 = memmap_take_range(free, PAGE_SIZE, PAGE_SIZE);
    if (!buf || !floor_pml4) {
        bench_runner_init(&r, console_write, NULL, 0, cmdline);
        bench_emit_error(&r, "kbench", "", -1, "no memory for samples");
        bench_done(&r);
        return r.errors;
    }
    uint64_t *pml4 = phys_to_virt(floor_pml4);
    memset(pml4, 0, PAGE_SIZE / 2);
    memcpy(pml4 + 256, (uint64_t *)phys_to_virt(ks_kernel_pml4) + 256, PAGE_SIZE / 2);

    /* The PCID variant exists only where the CPU has PCID: writing CR3 with
     * the no-flush bit set on a CPU without it is not defined (TCG hangs). */
    size_t n = ARRAY_SIZE(kbench_table);
    if (!ks_cpu.pcid)
        n--;
    else
        write_cr4(read_cr4() | CR4_PCIDE);

    bench_runner_init(&r, console_write, phys_to_virt(buf), KBENCH_MAX_SAMPLES, cmdline);
    bench_runner_measure_overhead(&r);
    bench_meta_begin(&r, "ferry");
    struct bench_json *j = &r.out;
    bj_key(j, "kernel");
    bj_str(j, FERRY_VERSION);
    bj_key(j, "build");
    bj_str(j, FERRY_BUILD_FLAGS);
    bj_key(j, "tsc_hz");
    bj_u64(j, ks_cpu.tsc_hz);
    bj_key(j, "cpu");
    bj_obj_begin(j);
    bj_key(j, "vendor");
    bj_str(j, ks_cpu.vendor);
    bj_key(j, "brand");
    bj_str(j, ks_cpu.brand);
    bj_key(j, "hypervisor");
    bj_str(j, ks_cpu.hypervisor);
    bj_key(j, "pcid");
    bj_bool(j, ks_cpu.pcid);
    bj_key(j, "invpcid");
    bj_bool(j, ks_cpu.invpcid);
    bj_key(j, "smep");
    bj_bool(j, ks_cpu.smep);
    bj_key(j, "smap");
    bj_bool(j, ks_cpu.smap);
    bj_key(j, "invariant_tsc");
    bj_bool(j, ks_cpu.invariant_tsc);
    bj_key(j, "tsc_deadline");
    bj_bool(j, ks_cpu.tsc_deadline);
    bj_obj_end(j);
    bj_key(j, "cmdline");
    bj_str(j, cmdline);
    bench_meta_end(&r, kbench_table, n);
    bench_runner_run(&r, kbench_table, n);
    bench_done(&r);
    return r.errors;
}
