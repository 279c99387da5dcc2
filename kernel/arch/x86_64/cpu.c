/* cpu.c: CPUID feature detection and the TSC frequency where CPUID states it. */
#include <arch/cpu.h>
#include <arch/x86.h>
#include <kstring.h>
#include <printk.h>
#include <tsc.h>

struct cpu_features ks_cpu;

static void copy_regs_str(char *dst, const uint32_t *regs, int n)
{
    memcpy(dst, regs, (size_t)n * 4);
    dst[n * 4] = '\0';
}

/* CPUID 0x15 (TSC/crystal ratio), then 0x16 (base MHz), then the hypervisor
 * timing leaf 0x40000010 (KVM, VMware).  Anything else: unknown, never guessed. */
static void detect_tsc_hz(struct cpu_features *c)
{
    uint32_t r[4];
    if (c->max_leaf >= 0x15) {
        cpuid(0x15, 0, r);
        if (r[0] && r[1] && r[2]) {
            c->tsc_hz = (uint64_t)r[2] * r[1] / r[0];
            c->tsc_hz_source = "cpuid 0x15";
            return;
        }
    }
    if (c->max_leaf >= 0x16) {
        cpuid(0x16, 0, r);
        if (r[0] & 0xffff) {
            c->tsc_hz = (uint64_t)(r[0] & 0xffff) * 1000000;
            c->tsc_hz_source = "cpuid 0x16";
            return;
        }
    }
    if (c->hypervisor[0] && c->max_hv_leaf >= 0x40000010) {
        cpuid(0x40000010, 0, r);
        if (r[0]) {
            c->tsc_hz = (uint64_t)r[0] * 1000;
            c->tsc_hz_source = "cpuid 0x40000010";
            return;
        }
    }
    c->tsc_hz = 0;
    c->tsc_hz_source = "not stated by CPUID";
}

void cpu_detect(void)
{
    struct cpu_features *c = &ks_cpu;
    uint32_t r[4];

    cpuid(0, 0, r);
    c->max_leaf = r[0];
    uint32_t v[3] = { r[1], r[3], r[2] };
    copy_regs_str(c->vendor, v, 3);

    cpuid(1, 0, r);
    c->pcid = r[2] & BIT(17);
    c->x2apic = r[2] & BIT(21);
    c->tsc_deadline = r[2] & BIT(24);
    bool hv = r[2] & BIT(31);
    c->fxsr = r[3] & BIT(24);
    c->apic = r[3] & BIT(9);
    c->pge = r[3] & BIT(13);

    if (c->max_leaf >= 7) {
        cpuid(7, 0, r);
        c->fsgsbase = r[1] & BIT(0);
        c->smep = r[1] & BIT(7);
        c->invpcid = r[1] & BIT(10);
        c->smap = r[1] & BIT(20);
    }

    cpuid(0x80000000, 0, r);
    c->max_ext_leaf = r[0];
    if (c->max_ext_leaf >= 0x80000001) {
        cpuid(0x80000001, 0, r);
        c->syscall = r[3] & BIT(11);
        c->nx = r[3] & BIT(20);
        c->page1gb = r[3] & BIT(26);
        c->rdtscp = r[3] & BIT(27);
    }
    if (c->max_ext_leaf >= 0x80000004) {
        uint32_t b[12];
        for (int i = 0; i < 3; i++)
            cpuid(0x80000002 + i, 0, &b[i * 4]);
        copy_regs_str(c->brand, b, 12);
    }
    if (c->max_ext_leaf >= 0x80000007) {
        cpuid(0x80000007, 0, r);
        c->invariant_tsc = r[3] & BIT(8);
    }
    if (hv) {
        cpuid(0x40000000, 0, r);
        c->max_hv_leaf = r[0];
        uint32_t h[3] = { r[1], r[2], r[3] };
        copy_regs_str(c->hypervisor, h, 3);
    }
    detect_tsc_hz(c);
}

/* The TSC read sequence of the kernel's own timed regions (floor.c): the
 * same choice as the root task's runner makes (lib/tsc.c), from CPUID
 * and the command line's tsc= word, so that the kernel never executes
 * RDTSCP on a CPU that does not offer it. */
static const char *tsc_note;

void cpu_tsc_init(const char *cmdline)
{
    tsc_note = tsc_init(cmdline);
}

void cpu_print(void)
{
    const struct cpu_features *c = &ks_cpu;
    const char *brand = c->brand;
    while (*brand == ' ')
        brand++;
    kprintf("cpu: %s \"%s\"%s%s\n", c->vendor, brand,
            c->hypervisor[0] ? " under hypervisor " : "", c->hypervisor);
    static const struct { const char *name; size_t off; } feats[] = {
#define F(x) { #x, offsetof(struct cpu_features, x) }
        F(pcid), F(invpcid), F(smep), F(smap), F(fsgsbase), F(x2apic),
        F(tsc_deadline), F(invariant_tsc), F(rdtscp), F(nx), F(page1gb), F(pge),
#undef F
    };
    kprintf("cpu features:");
    for (size_t i = 0; i < ARRAY_SIZE(feats); i++)
        kprintf(" %s%s", *(const bool *)((const char *)c + feats[i].off) ? "+" : "-", feats[i].name);
    kprintf("\n");
    if (c->tsc_hz)
        kprintf("tsc: %lu Hz (%s)\n", c->tsc_hz, c->tsc_hz_source);
    else
        kprintf("tsc: frequency unknown (%s)\n", c->tsc_hz_source);
    kprintf("tsc: timed regions read by %s (%s)%s%s\n", tsc_method_name(tsc_method),
            tsc_method_seq(tsc_method), tsc_note ? "; " : "", tsc_note ? tsc_note : "");
}

void cpu_print_platform(void)
{
    const struct cpu_features *c = &ks_cpu;
    /* A stated frequency (CPUID 0x15/0x16, hypervisor leaf) is exact; the
     * PIT calibration is 10 ms long and only as good as the emulated or
     * real PIT.  Only an invariant TSC ticks at one rate in every P-/C-state. */
    kprintf("platform: TSC %s, ", c->invariant_tsc ? "invariant" : "not invariant");
    if (c->tsc_hz)
        kprintf("%lu Hz stated by %s, ", c->tsc_hz, c->tsc_hz_source);
    else
        kprintf("frequency not stated by CPUID, ");
    kprintf("calibrated %lu Hz by the PIT; x2APIC %s; TSC-deadline %s\n", c->tsc_hz_calibrated,
            c->x2apic ? "offered, in use" : "not offered (xAPIC)",
            c->tsc_deadline ? "in use" : "not offered (periodic APIC timer)");
}
