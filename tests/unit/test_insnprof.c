/* test_insnprof.c: host tests of the instruction-profile plugin (regions opened by a user RDTSC and closed by a user RDTSCP, blocks counted only inside them, kernel reads ignored, its output and install checks) without QEMU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* The plugin is one file of static functions: included whole, with the
 * QEMU entry points it calls stubbed below by a fake translator. */
#include "../../tools/insnprof/insnprof.c"

struct qemu_plugin_insn {
    uint64_t va;
    uint8_t bytes[3];
    size_t len;
    qemu_plugin_vcpu_udata_cb_t cb;     /* what the plugin registered on it */
};
struct qemu_plugin_tb {
    size_t n;
    struct qemu_plugin_insn *insn;
    qemu_plugin_vcpu_udata_cb_t cb;
    void *udata;
};

static qemu_plugin_vcpu_tb_trans_cb_t registered_trans;
static qemu_plugin_udata_cb_t registered_exit;

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb)
{
    (void)id;
    registered_trans = cb;
}
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata)
{
    (void)flags;
    tb->cb = cb;
    tb->udata = userdata;
}
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata)
{
    (void)flags, (void)userdata;
    insn->cb = cb;
}
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw, void *userdata)
{
    (void)insn, (void)cb, (void)flags, (void)rw, (void)userdata;
}
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata)
{
    (void)id, (void)userdata;
    registered_exit = cb;
}
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb) { return tb->n; }
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx)
{
    return &tb->insn[idx];
}
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn) { return insn->bytes; }
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn) { return insn->len; }
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn) { return insn->va; }
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn) { (void)insn; return NULL; }
struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info, uint64_t vaddr)
{
    (void)info, (void)vaddr;
    return NULL;
}
bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr) { (void)haddr; return false; }
uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr) { (void)haddr; return 0; }
void qemu_plugin_outs(const char *string) { (void)string; }

#define NOP { 0x90 }, 1
#define RDTSC { 0x0f, 0x31 }, 2
#define RDTSCP { 0x0f, 0x01, 0xf9 }, 3

/* Runs a translated block as QEMU would: its exec callback at its start,
 * then each instruction's callback in order. */
static void run(struct qemu_plugin_tb *tb)
{
    tb->cb(0, tb->udata);
    for (size_t k = 0; k < tb->n; k++)
        if (tb->insn[k].cb)
            tb->insn[k].cb(0, NULL);
}

static char out_path[64];

static void install(void)
{
    blocks = NULL;
    in_region = 0;
    insns = r_insns = regions = 0;
    strcpy(out_path, "/tmp/ferry-insnprof-test-XXXXXX");
    int fd = mkstemp(out_path);
    assert_true(fd >= 0);
    close(fd);
    char arg[96];
    snprintf(arg, sizeof arg, "out=%s", out_path);
    char *argv[] = { arg };
    qemu_info_t info = { .target_name = "x86_64", .version = { 1, 1 }, .system_emulation = true };
    assert_int_equal(qemu_plugin_install(1, &info, 1, argv), 0);
}

static char *finish(void)
{
    registered_exit(1, NULL);
    static char all[4096];
    FILE *f = fopen(out_path, "r");
    assert_non_null(f);
    size_t n = fread(all, 1, sizeof all - 1, f);
    all[n] = 0;
    fclose(f);
    unlink(out_path);
    return all;
}

static void test_counts_blocks_inside_regions_only(void **state)
{
    (void)state;
    install();
    struct qemu_plugin_insn open_i[] = { { 0x400000, RDTSC, NULL }, { 0x400002, NOP, NULL } };
    struct qemu_plugin_insn body_i[] = { { 0xffffffff80100000, NOP, NULL }, { 0xffffffff80100001, NOP, NULL },
                                         { 0xffffffff80100002, NOP, NULL } };
    struct qemu_plugin_insn kread_i[] = { { 0xffffffff80200000, RDTSC, NULL } };   /* the kernel's own read */
    struct qemu_plugin_insn close_i[] = { { 0x400010, RDTSCP, NULL } };
    struct qemu_plugin_tb open = { 2, open_i, NULL, NULL }, body = { 3, body_i, NULL, NULL },
                          kread = { 1, kread_i, NULL, NULL }, close_tb = { 1, close_i, NULL, NULL };
    registered_trans(1, &open);
    registered_trans(1, &body);
    registered_trans(1, &kread);
    registered_trans(1, &close_tb);
    assert_null(kread_i[0].cb);          /* kernel-half reads neither open nor close */
    run(&body);                          /* before any region: not counted */
    run(&open);                          /* counted from the next block on */
    run(&body);
    run(&kread);
    run(&body);
    run(&close_tb);                      /* its block is counted at its start */
    run(&body);                          /* after the region: not counted */
    char *all = finish();
    /* 3 + 1 + 3 + 1 in the region; the opening block started before it. */
    assert_non_null(strstr(all, "R 1 8\n"));
    assert_non_null(strstr(all, "B 0xffffffff80100000 3 2\n"));
    assert_non_null(strstr(all, "B 0xffffffff80200000 1 1\n"));
    assert_non_null(strstr(all, "B 0x400010 1 1\n"));
    assert_null(strstr(all, "B 0x400000 "));   /* never started inside a region */
    assert_non_null(strstr(all, "E regions=1 insns=8\n"));
}

static void test_close_without_open_and_reopen(void **state)
{
    (void)state;
    install();
    struct qemu_plugin_insn open_i[] = { { 0x400000, RDTSC, NULL } };
    struct qemu_plugin_insn close_i[] = { { 0x400010, NOP, NULL }, { 0x400011, RDTSCP, NULL } };
    struct qemu_plugin_tb open = { 1, open_i, NULL, NULL }, close_tb = { 2, close_i, NULL, NULL };
    registered_trans(1, &open);
    registered_trans(1, &close_tb);
    run(&close_tb);                      /* no region open: nothing */
    run(&open);
    run(&open);                          /* a second begin restarts the region */
    run(&close_tb);
    char *all = finish();
    /* The restart sets the count's start after the second open's block
     * was counted: the region holds the closing block (2) only. */
    assert_non_null(strstr(all, "R 1 2\n"));
    assert_non_null(strstr(all, "E regions=1 insns=3\n"));
}

static void test_install_checks(void **state)
{
    (void)state;
    qemu_info_t info = { .target_name = "x86_64", .version = { 1, 1 }, .system_emulation = true };
    char bad[] = "mark=1", none[] = "";
    char *argv_bad[] = { bad }, *argv_none[] = { none };
    assert_int_equal(qemu_plugin_install(1, &info, 1, argv_bad), -1);
    assert_int_equal(qemu_plugin_install(1, &info, 0, argv_none), -1);   /* no out= */
    char arg[] = "out=/nonexistent-dir/x";
    char *argv_path[] = { arg };
    assert_int_equal(qemu_plugin_install(1, &info, 1, argv_path), -1);
    qemu_info_t newer = { .target_name = "x86_64", .version = { 2, 3 }, .system_emulation = true };
    assert_int_equal(qemu_plugin_install(1, &newer, 0, argv_none), -1);
    qemu_info_t user = { .target_name = "x86_64", .version = { 1, 1 }, .system_emulation = false };
    assert_int_equal(qemu_plugin_install(1, &user, 0, argv_none), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_blocks_inside_regions_only),
        cmocka_unit_test(test_close_without_open_and_reopen),
        cmocka_unit_test(test_install_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
