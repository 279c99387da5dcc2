/* insnprof.c: a QEMU 7.2 TCG plugin that counts the guest instructions executed inside benchmarks' timed regions, per translation block, so scripts/insn-profile.sh can say which functions a path's instructions are spent in. */

/*
 * Why: a benchmark's figure under tcg-icount is a path length; to shorten
 * it one needs to know where it goes.  Single-stepping with gdb gives one
 * trip; this counts every trip of a run, on every vCPU.
 *
 * Timed regions are found as the TLB model finds them (tools/tlbmodel):
 * a user-mode RDTSC opens one, a user-mode RDTSCP closes it, reads in the
 * kernel half are ignored.  The flag is global, not per vCPU: while a
 * region is open, every vCPU's instructions count, so a cross-core round
 * trip includes the other CPU's half (and, under multi-threaded TCG, what
 * else that CPU ran meanwhile; under icount's round robin only the
 * interleaving differs).  A translation block is counted whole when it
 * starts inside a region, so the blocks that contain the RDTSC and the
 * RDTSCP are off by their length.  The runner's calibration of an empty
 * region makes short regions too; the script tells them apart by size.
 *
 * Output (`out=FILE`): a line `B vaddr ninsns execs` per translated block
 * that ran inside a region (a block translated again, for another address
 * space or after an invalidation, has a line of its own), `R n insns` per
 * closed region (each region's count), and `E regions=N insns=N` at exit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_host_check.h"
#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

#define KERNEL_HALF 0xffff800000000000ULL

struct block {
    uint64_t vaddr;
    uint64_t ninsns;
    uint64_t execs;          /* times it started inside a region */
    struct block *next;
};

static struct block *blocks;         /* every translation, newest first */
static volatile int in_region;
static uint64_t insns, r_insns, regions;
static FILE *out;

/* Under multi-threaded TCG the callbacks run on several host threads:
 * counters are updated atomically (relaxed: only the totals matter). */
static void on_tb_exec(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    if (!__atomic_load_n(&in_region, __ATOMIC_RELAXED))
        return;
    struct block *b = udata;
    __atomic_fetch_add(&b->execs, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&insns, b->ninsns, __ATOMIC_RELAXED);
}

static void on_rdtsc(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    r_insns = __atomic_load_n(&insns, __ATOMIC_RELAXED);
    __atomic_store_n(&in_region, 1, __ATOMIC_RELAXED);   /* a second begin restarts the region */
}

static void on_rdtscp(unsigned int vcpu, void *udata)
{
    (void)vcpu;
    (void)udata;
    if (!__atomic_exchange_n(&in_region, 0, __ATOMIC_RELAXED))
        return;
    regions++;
    if (out)
        fprintf(out, "R %" PRIu64 " %" PRIu64 "\n", regions, __atomic_load_n(&insns, __ATOMIC_RELAXED) - r_insns);
}

/* RDTSC is 0F 31, RDTSCP 0F 01 F9 (no prefixes on these in practice). */
static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (n == 0)
        return;
    struct block *b = calloc(1, sizeof *b);
    if (!b) {
        fputs("insnprof: out of memory\n", stderr);
        abort();
    }
    b->vaddr = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
    b->ninsns = n;
    /* Translation is serialised by QEMU (one translator at a time). */
    b->next = blocks;
    blocks = b;
    for (size_t k = 0; k < n; k++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, k);
        if (qemu_plugin_insn_vaddr(insn) >= KERNEL_HALF)
            continue;
        const uint8_t *c = qemu_plugin_insn_data(insn);
        size_t len = qemu_plugin_insn_size(insn);
        if (len == 2 && c[0] == 0x0f && c[1] == 0x31)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_rdtsc, QEMU_PLUGIN_CB_NO_REGS, NULL);
        else if (len == 3 && c[0] == 0x0f && c[1] == 0x01 && c[2] == 0xf9)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_rdtscp, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
    qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    if (out) {
        for (const struct block *b = blocks; b; b = b->next)
            if (b->execs)
                fprintf(out, "B %#" PRIx64 " %" PRIu64 " %" PRIu64 "\n", b->vaddr, b->ninsns, b->execs);
        fprintf(out, "E regions=%" PRIu64 " insns=%" PRIu64 "\n", regions, insns);
        fclose(out);
        out = NULL;
    }
    char line[128];
    snprintf(line, sizeof line, "insnprof: %" PRIu64 " regions, %" PRIu64 " instructions in them\n", regions,
             insns);
    qemu_plugin_outs(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv)
{
    if (plugin_host_check("insnprof", info))
        return -1;
    const char *path = NULL;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "out=", 4) == 0) {
            path = argv[i] + 4;
        } else {
            fprintf(stderr, "insnprof: unknown option %s (out=FILE)\n", argv[i]);
            return -1;
        }
    }
    if (!path) {
        fputs("insnprof: give out=FILE\n", stderr);
        return -1;
    }
    if (!(out = fopen(path, "w"))) {
        perror(path);
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
    return 0;
}
