/* test_tlbmodel.c: host tests of the TLB-model plugin's logic (instruction classification, LRU sets, the two policies, regions, install checks) without QEMU. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* The plugin is one file of static functions: included whole, with the
 * few QEMU entry points it calls stubbed below. */
#include "../../tools/tlbmodel/tlbmodel.c"

static qemu_plugin_vcpu_tb_trans_cb_t registered_trans;
static bool stub_io;
static uint64_t stub_phys;

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb)
{
    (void)id;
    registered_trans = cb;
}
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata)
{
    (void)tb, (void)cb, (void)flags, (void)userdata;
}
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata)
{
    (void)insn, (void)cb, (void)flags, (void)userdata;
}
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw, void *userdata)
{
    (void)insn, (void)cb, (void)flags, (void)rw, (void)userdata;
}
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata)
{
    (void)id, (void)cb, (void)userdata;
}
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb) { (void)tb; return 0; }
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx)
{
    (void)tb, (void)idx;
    return NULL;
}
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn) { (void)insn; return NULL; }
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn) { (void)insn; return 0; }
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn) { (void)insn; return 0; }
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn) { (void)insn; return NULL; }
struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info, uint64_t vaddr)
{
    (void)info, (void)vaddr;
    return (struct qemu_plugin_hwaddr *)&stub_phys;
}
bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr) { (void)haddr; return stub_io; }
uint64_t qemu_plugin_hwaddr_phys_addr(const struct qemu_plugin_hwaddr *haddr) { (void)haddr; return stub_phys; }
void qemu_plugin_outs(const char *string) { (void)string; }

#define USER_CODE 0x400000UL
#define KERNEL_VA 0xffffffff80100000UL

static const qemu_info_t good_info = {
    .target_name = "x86_64", .version = { .min = 0, .cur = 1 }, .system_emulation = true,
    .system = { .smp_vcpus = 1, .max_vcpus = 1 },
};

/* Fresh plugin state with the given arguments. */
static int install(int argc, char **argv)
{
    for (int p = 0; p < NPOLICIES; p++)
        for (int l = 0; l < NLEVELS; l++) {
            free(h[p].t[l].e);
            h[p].t[l].e = NULL;
            h[p].miss[l] = 0;
        }
    insns = cr3_writes = regions = marks = 0;
    in_region = false;
    global_kernel = true;
    mark_addr = 0;
    if (out)
        fclose(out);
    out = NULL;
    return qemu_plugin_install(1, &good_info, argc, argv);
}

static void test_classify(void **state)
{
    (void)state;
    const uint8_t rdtsc[] = { 0x0f, 0x31 }, rdtscp[] = { 0x0f, 0x01, 0xf9 };
    const uint8_t cr3_rax[] = { 0x0f, 0x22, 0xd8 }, cr3_r8[] = { 0x41, 0x0f, 0x22, 0xd8 };
    const uint8_t cr3_rdi[] = { 0x0f, 0x22, 0xdf };
    const uint8_t cr11[] = { 0x44, 0x0f, 0x22, 0xd8 };     /* REX.R: CR11, not CR3 */
    const uint8_t cr0[] = { 0x0f, 0x22, 0xc0 }, from_cr3[] = { 0x0f, 0x20, 0xd8 };
    const uint8_t mem_form[] = { 0x0f, 0x22, 0x18 };       /* ModRM.mod != 3: not a valid MOV CR */
    const uint8_t lgdt[] = { 0x0f, 0x01, 0x10 }, nop[] = { 0x90 };
    assert_int_equal(classify(rdtsc, sizeof rdtsc), I_RDTSC);
    assert_int_equal(classify(rdtscp, sizeof rdtscp), I_RDTSCP);
    assert_int_equal(classify(cr3_rax, sizeof cr3_rax), I_MOV_CR3);
    assert_int_equal(classify(cr3_r8, sizeof cr3_r8), I_MOV_CR3);
    assert_int_equal(classify(cr3_rdi, sizeof cr3_rdi), I_MOV_CR3);
    assert_int_equal(classify(cr11, sizeof cr11), I_OTHER);
    assert_int_equal(classify(cr0, sizeof cr0), I_OTHER);
    assert_int_equal(classify(from_cr3, sizeof from_cr3), I_OTHER);
    assert_int_equal(classify(mem_form, sizeof mem_form), I_OTHER);
    assert_int_equal(classify(lgdt, sizeof lgdt), I_OTHER);
    assert_int_equal(classify(nop, sizeof nop), I_OTHER);
    assert_int_equal(classify(rdtscp, 2), I_OTHER);        /* truncated */
}

static void test_lru_set(void **state)
{
    (void)state;
    struct tlb t;
    assert_true(tlb_init(&t, 4, 2));                        /* 2 sets of 2 ways */
    /* vpages 0, 2, 4 share set 0 */
    assert_false(tlb_access(&t, 0, 10, false));
    assert_false(tlb_access(&t, 2, 12, false));
    assert_true(tlb_access(&t, 0, 10, false));              /* 0 is now the most recent */
    assert_false(tlb_access(&t, 4, 14, false));             /* evicts 2, the least recent */
    assert_true(tlb_access(&t, 0, 10, false));
    assert_false(tlb_access(&t, 2, 12, false));
    /* the same vpage with another frame is another translation */
    assert_false(tlb_access(&t, 0, 99, false));
    /* set 1 is untouched by all that */
    assert_false(tlb_access(&t, 1, 11, false));
    assert_true(tlb_access(&t, 1, 11, false));
    tlb_flush_nonglobal(&t);
    assert_false(tlb_access(&t, 1, 11, false));
    assert_false(tlb_init(&t, 6, 4));                       /* entries must be a multiple of ways */
    free(t.e);
}

static void test_policies(void **state)
{
    (void)state;
    assert_int_equal(install(0, NULL), 0);
    /* one user page and one kernel page, touched, then a CR3 write */
    access_page(L1D, USER_CODE, 1);
    access_page(L1D, KERNEL_VA, 2);
    for (int p = 0; p < NPOLICIES; p++) {
        assert_int_equal(h[p].miss[L1D], 2);
        assert_int_equal(h[p].miss[L2], 2);
    }
    on_cr3_write(0, NULL);
    access_page(L1D, USER_CODE, 1);
    access_page(L1D, KERNEL_VA, 2);
    /* flush lost the user entry (L1 and L2: a walk), kept the global kernel one */
    assert_int_equal(h[FLUSH].miss[L1D], 3);
    assert_int_equal(h[FLUSH].miss[L2], 3);
    /* tagged lost nothing */
    assert_int_equal(h[TAGGED].miss[L1D], 2);
    assert_int_equal(h[TAGGED].miss[L2], 2);
    /* another space maps the same page to another frame: a miss for both */
    access_page(L1D, USER_CODE, 7);
    assert_int_equal(h[TAGGED].miss[L1D], 3);
    /* an L1 miss that hits L2: not a walk */
    assert_int_equal(install(0, NULL), 0);
    for (uint64_t i = 0; i < 64 + 1; i++)
        access_page(L1D, USER_CODE + (i << 16), 100 + i);   /* all in L1D set 0 (4 ways): evicted */
    uint64_t walks = h[TAGGED].miss[L2];
    access_page(L1D, USER_CODE, 100);
    assert_int_equal(h[TAGGED].miss[L2], walks);
    assert_int_equal(h[TAGGED].miss[L1D], 66);
    /* global=off: the kernel half is flushed too */
    char *args[] = { "global=off" };
    assert_int_equal(install(1, args), 0);
    access_page(L1D, KERNEL_VA, 2);
    on_cr3_write(0, NULL);
    access_page(L1D, KERNEL_VA, 2);
    assert_int_equal(h[FLUSH].miss[L2], 2);
    assert_int_equal(h[TAGGED].miss[L2], 1);
}

static void test_regions_and_marks(void **state)
{
    (void)state;
    char path[] = "/tmp/ferry-tlbmodel-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char arg[64 + sizeof path];
    snprintf(arg, sizeof arg, "out=%s", path);
    char *args[] = { arg, "mark=0x420000" };
    assert_int_equal(install(2, args), 0);
    assert_int_equal(mark_addr, 0x420000);
    on_rdtscp(0, NULL);                      /* an end without a start: nothing */
    on_mark(0, NULL);
    on_rdtsc(0, NULL);
    insns += 10;
    on_cr3_write(0, NULL);
    access_page(L1I, USER_CODE, 1);
    stub_io = false;
    stub_phys = 0x5000;
    on_mem(0, 0, 0x7000, NULL);              /* a data access: page 7 -> frame 5 */
    on_rdtscp(0, NULL);
    on_plugin_exit(0, NULL);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256], all[1024] = "";
    while (fgets(line, sizeof line, f))
        strncat(all, line, sizeof all - strlen(all) - 1);
    fclose(f);
    unlink(path);
    assert_non_null(strstr(all, "# tlbmodel 1 l1i=128:8 l1d=64:4 l2=1536:12 global=on mark=0x420000\n"));
    assert_non_null(strstr(all, "\nM 1\nR 10 1 1 2 1 1 2 1\nE insns=10 regions=1 marks=1 cr3_writes=1 "
                                "flush=1,1,2 tagged=1,1,2\n"));
}

static void test_install_refuses(void **state)
{
    (void)state;
    qemu_info_t old = good_info;
    old.version.min = 2;
    old.version.cur = 3;
    assert_int_equal(qemu_plugin_install(1, &old, 0, NULL), -1);
    qemu_info_t user = good_info;
    user.system_emulation = false;
    assert_int_equal(qemu_plugin_install(1, &user, 0, NULL), -1);
    qemu_info_t arm = good_info;
    arm.target_name = "aarch64";
    assert_int_equal(qemu_plugin_install(1, &arm, 0, NULL), -1);
    qemu_info_t smp = good_info;
    smp.system.smp_vcpus = 2;
    assert_int_equal(qemu_plugin_install(1, &smp, 0, NULL), -1);
    char *bad[][1] = { { "l1d=65:4" }, { "l2=0:1" }, { "mark=zz" }, { "global=maybe" }, { "what=1" },
                       { "out=/nonexistent/dir/x" } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(install(1, bad[i]), -1);
    char *geo[] = { "l1d=32:4", "l2=2048:16" };
    assert_int_equal(install(2, geo), 0);
    assert_int_equal(h[FLUSH].t[L1D].sets, 8);
    assert_int_equal(h[TAGGED].t[L2].ways, 16);
}

int main(void)
{
    (void)registered_trans;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_lru_set),
        cmocka_unit_test(test_policies),
        cmocka_unit_test(test_regions_and_marks),
        cmocka_unit_test(test_install_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
