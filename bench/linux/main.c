/* main.c: the Linux baseline guest's /init: runs the selected benchmarks, prints records on ttyS0, exits QEMU. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <termios.h>
#include <unistd.h>

#include "linux_bench.h"

/* Room for samples=1000000; static because there is no allocator contract
 * in the runner, and 8 MB of bss is nothing in a 256 MiB guest. */
#define SAMPLE_CAP 1000000
static uint64_t samples[SAMPLE_CAP];

static void out_write(const char *s, size_t n)
{
    /* The harness sees only what reaches the serial port, so retry short
     * writes; there is nowhere to report a failed write. */
    (void)lb_write_full(STDOUT_FILENO, s, n);
}

/* Reads a small text file (e.g. /proc/cmdline) without its trailing newline;
 * "" if it cannot be read. */
static const char *read_text(const char *path, char *buf, size_t len)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return buf;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        n = 0;
    buf[n] = '\0';
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return buf;
}

/* PID 1 in the initramfs: nothing is mounted yet. */
static void init_mounts(void)
{
    mkdir("/proc", 0555);
    mkdir("/sys", 0555);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
}

/* Records must reach the host byte for byte: no "\n" -> "\r\n" mapping. */
static void raw_console(void)
{
    struct termios t;
    if (tcgetattr(STDOUT_FILENO, &t) == 0) {
        t.c_oflag &= ~(tcflag_t)OPOST;
        tcsetattr(STDOUT_FILENO, TCSANOW, &t);
    }
}

/* The benchmark words: on the kernel command line, Linux passes unknown
 * key=value words to /init as environment variables; run by hand, they are
 * the program's arguments. */
static void gather_words(int argc, char **argv, char *buf, size_t len)
{
    static const char *const keys[] = { "bench", "samples", "warmup", "sizes", "raw" };
    size_t p = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        const char *v = getenv(keys[k]);
        if (v)
            p += (size_t)snprintf(buf + p, p < len ? len - p : 0, "%s=%s ", keys[k], v);
    }
    for (int i = 1; i < argc; i++)
        p += (size_t)snprintf(buf + p, p < len ? len - p : 0, "%s ", argv[i]);
    if (p >= len)
        buf[len - 1] = '\0';
}

/* The TSC rate: what the CPU states (CPUID), else Linux's own calibration
 * from the kernel log ("tsc: Refined TSC clocksource calibration: X MHz",
 * or the first "tsc: Detected X MHz processor"). */
static uint64_t tsc_hz_from_klog(void)
{
    static char log[1 << 17];
    int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, sizeof(log) - 1);
    if (n <= 0)
        return 0;
    log[n] = '\0';
    static const char *const pats[] = { "Refined TSC clocksource calibration: ", "tsc: Detected " };
    for (size_t k = 0; k < 2; k++) {
        const char *s = strstr(log, pats[k]);
        if (!s)
            continue;
        s += strlen(pats[k]);
        unsigned long mhz, frac;
        int fl = 0;
        if (sscanf(s, "%lu.%3lu%n", &mhz, &frac, &fl) == 2 && fl > 0) {
            /* %3lu read up to three digits; scale short fractions to kHz. */
            const char *dot = strchr(s, '.');
            size_t digits = (size_t)(s + fl - dot - 1);
            while (digits++ < 3)
                frac *= 10;
            return (uint64_t)mhz * 1000000u + (uint64_t)frac * 1000u;
        }
    }
    return 0;
}

static void cpu_brand(char out[49])
{
    uint32_t r[4];
    tsc_cpuid(0x80000000u, 0, r);
    out[0] = '\0';
    if (r[0] < 0x80000004u)
        return;
    for (uint32_t l = 0; l < 3; l++) {
        tsc_cpuid(0x80000002u + l, 0, r);
        memcpy(out + 16 * l, r, 16);
    }
    out[48] = '\0';
    /* Brand strings are padded with leading spaces on some parts. */
    char *s = out;
    while (*s == ' ')
        s++;
    memmove(out, s, strlen(s) + 1);
}

static void meta_cpu(struct bench_json *j, int ncpus)
{
    uint32_t r[4];
    char vendor[13], brand[49];
    tsc_cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = '\0';
    cpu_brand(brand);
    tsc_cpuid(1, 0, r);
    uint32_t fam = (r[0] >> 8) & 0xf, model = (r[0] >> 4) & 0xf;
    if (fam == 0xf)
        fam += (r[0] >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf)
        model |= ((r[0] >> 16) & 0xf) << 4;
    bj_key(j, "cpu");
    bj_obj_begin(j);
    bj_key(j, "vendor");
    bj_str(j, vendor);
    bj_key(j, "brand");
    bj_str(j, brand);
    bj_key(j, "family");
    bj_u64(j, fam);
    bj_key(j, "model");
    bj_u64(j, model);
    bj_key(j, "stepping");
    bj_u64(j, r[0] & 0xf);
    bj_key(j, "hypervisor");
    bj_bool(j, (r[2] >> 31) & 1);
    bj_key(j, "rdtscp");
    bj_bool(j, tsc_has_rdtscp());
    bj_key(j, "invariant_tsc");
    bj_bool(j, tsc_is_invariant());
    bj_key(j, "online");
    bj_u64(j, (uint64_t)ncpus);
    bj_obj_end(j);
}

/* As PID 1 (the guest's /init): leaves QEMU through isa-debug-exit
 * (status 33 success, 35 failure), or powers off if the port is not there.
 * Run by hand on a host it only exits: port 0xf4 belongs to someone else. */
static void leave(bool ok)
{
    tcdrain(STDOUT_FILENO);  /* the last record must be on the wire first */
    if (getpid() != 1)
        exit(ok ? 0 : 1);
    if (ioperm(FERRY_DEBUG_EXIT_PORT, 4, 1) == 0)
        outl(ok ? FERRY_EXIT_SUCCESS : FERRY_EXIT_FAILURE, FERRY_DEBUG_EXIT_PORT);
    sync();
    reboot(RB_POWER_OFF);
    for (;;)
        pause();
}

#define MAX_ENTRIES 32
static struct bench_entry table[MAX_ENTRIES];
static size_t ntable;

struct skipped {
    const char *name, *variant;
};
static struct skipped skipped[MAX_ENTRIES];
static size_t nskipped;

/* The run's table: every family's entries, minus those needing a second
 * CPU when there is none (listed in @meta as skipped, not as errors). */
static const struct bench_family fam[] = {
    { lb_syscall_table, &lb_syscall_count },
    { lb_pingpong_table, &lb_pingpong_count },
    { lb_threads_table, &lb_threads_count },
    { lb_bulk_table, &lb_bulk_count },
    { lb_spawn_table, &lb_spawn_count },
    { lb_touch_table, &lb_touch_count },
    { lb_cow_table, &lb_cow_count },
    { lb_file_table, &lb_file_count },
};
BENCH_CATALOG(fam);

static void build_table(int ncpus)
{
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        for (size_t i = 0; i < *fam[f].n; i++) {
            const struct bench_entry *e = &fam[f].entries[i];
            if (e->arg != NULL && lb_peer_cpu(&(struct bench_ctx){ .entry = e }) >= ncpus)
                skipped[nskipped++] = (struct skipped){ e->name, e->variant };
            else
                table[ntable++] = *e;
        }
    }
}

static bool entry_named(const char *sel, const char *name, const char *variant)
{
    struct bench_args one = { .all = false, .nselect = 1 };
    memcpy(one.select[0], sel, BENCH_NAME_MAX);
    return bench_selected(&one, &(struct bench_entry){ .name = name, .variant = variant });
}

/* A name in bench= that only matches skipped entries (pipe_rt/cpu2 on one
 * CPU) is dropped from the selection: @meta lists it as skipped, and it
 * must not come back as an "unknown benchmark" error. */
static void drop_skipped_names(struct bench_args *a)
{
    size_t keep = 0;
    for (size_t s = 0; s < a->nselect; s++) {
        bool in_table = false, in_skipped = false;
        for (size_t i = 0; i < ntable && !in_table; i++)
            in_table = entry_named(a->select[s], table[i].name, table[i].variant);
        for (size_t i = 0; i < nskipped && !in_skipped; i++)
            in_skipped = entry_named(a->select[s], skipped[i].name, skipped[i].variant);
        if (in_table || !in_skipped)
            memmove(a->select[keep++], a->select[s], BENCH_NAME_MAX);
    }
    a->nselect = keep;
}

int main(int argc, char **argv)
{
    static char words[1024], cmdline[4096], text[256];
    if (argc == 2 && strcmp(argv[1], LB_EXIT0) == 0)
        return 0;                   /* the spawn benchmark's child */
    bool pid1 = getpid() == 1;
    if (pid1)
        init_mounts();
    raw_console();
    /* libccheck=1: the libc test programs Ferry runs (filetest in a fresh
     * directory, pipetest), run here unchanged instead of benchmarks */
    if (getenv("libccheck")) {
        char dir[] = "/libccheck", *fa[] = { "filetest", dir, NULL }, *pa[] = { "pipetest", NULL };
        mkdir(dir, 0755);
        int f = lb_filetest_main(2, fa), p = lb_pipetest_main(1, pa);
        printf("libccheck: filetest %d, pipetest %d\n", f, p);
        fflush(stdout);
        leave(f == 0 && p == 0);
    }
    lb_install_sigchld();
    /* A dead peer must show up as EPIPE and a failed check, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    gather_words(argc, argv, words, sizeof(words));
    lb_fault = getenv("lbfault");
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "lbfault=", 8) == 0)
            lb_fault = argv[i] + 8;

    cpu_set_t set;
    int ncpus = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    build_table(ncpus);
    /* The measuring side always runs on CPU 0; variants place the peer. */
    lb_pin(0);

    struct bench_runner r;
    bench_runner_init(&r, out_write, samples, SAMPLE_CAP, words);
    /* bench_runner_init chose the TSC read method (RDTSCP, or the fallback
     * for this vendor; tsc=lfence|mfence forces one): @meta names it. */
    bench_runner_measure_overhead(&r);

    struct bench_json *j = &r.out;
    struct bench_args asked = r.args;  /* for @meta's skipped list */
    drop_skipped_names(&r.args);
    bench_meta_begin(&r, "linux");
    struct utsname u;
    uname(&u);
    bj_key(j, "kernel");
    bj_obj_begin(j);
    bj_key(j, "release");
    bj_str(j, u.release);
    bj_key(j, "version");
    bj_str(j, u.version);
    bj_key(j, "machine");
    bj_str(j, u.machine);
    bj_obj_end(j);
    bj_key(j, "cmdline");
    bj_str(j, read_text("/proc/cmdline", cmdline, sizeof(cmdline)));
    bj_key(j, "words");
    bj_str(j, words);
    uint64_t hz = tsc_stated_hz();
    const char *hz_src = "cpuid";
    if (hz == 0) {
        hz = tsc_hz_from_klog();
        hz_src = "linux_calibration";
    }
    bj_key(j, "tsc_hz");
    if (hz)
        bj_u64(j, hz);
    else
        bj_null(j);
    bj_key(j, "tsc_hz_source");
    bj_str(j, hz ? hz_src : "none");
    meta_cpu(j, ncpus);
    bj_key(j, "clocksource");
    bj_str(j, read_text("/sys/devices/system/clocksource/clocksource0/current_clocksource", text, sizeof(text)));
    bj_key(j, "meltdown");
    bj_str(j, read_text("/sys/devices/system/cpu/vulnerabilities/meltdown", text, sizeof(text)));
    bj_key(j, "libc");
    bj_str(j, gnu_get_libc_version());
    bj_key(j, "pid1");
    bj_bool(j, pid1);
    bj_key(j, "skipped");
    bj_arr_begin(j);
    for (size_t i = 0; i < nskipped; i++) {
        if (!bench_selected(&asked, &(struct bench_entry){ .name = skipped[i].name, .variant = skipped[i].variant }))
            continue;
        bj_obj_begin(j);
        bj_key(j, "bench");
        bj_str(j, skipped[i].name);
        bj_key(j, "variant");
        bj_str(j, skipped[i].variant);
        bj_key(j, "reason");
        bj_str(j, "needs a second CPU; the guest has one");
        bj_obj_end(j);
    }
    bj_arr_end(j);
    bench_meta_end(&r, table, ntable);

    bench_runner_run(&r, table, ntable);
    bench_done(&r);
    leave(r.errors == 0);
}
