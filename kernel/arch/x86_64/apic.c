/* apic.c: the local APIC (x2APIC mode when offered, else xAPIC MMIO) and its
 * timer (TSC-deadline or calibrated periodic) that drives preemption; the
 * legacy 8259 PICs are masked. */
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/paging.h>
#include <arch/x86.h>
#include <panic.h>
#include <printk.h>

#define MSR_APIC_BASE     0x1b
#define MSR_TSC_DEADLINE  0x6e0
#define APIC_BASE_ENABLE  BIT(11)
#define APIC_BASE_X2APIC  BIT(10)
/* In x2APIC mode register R (xAPIC offset) is MSR 0x800 + R / 16 (Intel
 * SDM vol. 3A, 10.12.1.2). */
#define X2APIC_MSR(reg)   (0x800u + ((reg) >> 4))

#define APIC_ID       0x020
#define APIC_EOI      0x0b0
#define APIC_SVR      0x0f0
#define APIC_ICR_LO   0x300
#define APIC_ICR_HI   0x310
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0

#define LVT_PERIODIC     (1u << 17)
#define LVT_TSC_DEADLINE (2u << 17)
#define PIT_HZ 1193182u

static volatile uint32_t *apic_regs;
static bool x2apic_mode;
static bool deadline_mode;
static uint64_t tick_tsc;
static uint32_t tick_init;       /* periodic mode: the APIC timer's initial count */

static uint32_t apic_read(uint32_t reg)
{
    return x2apic_mode ? (uint32_t)rdmsr(X2APIC_MSR(reg)) : apic_regs[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
    if (x2apic_mode)
        wrmsr(X2APIC_MSR(reg), v);
    else
        apic_regs[reg / 4] = v;
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

static uint64_t rdtsc_now(void)
{
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Counts TSC ticks and APIC timer ticks (divide by 16) over 10 ms of the
 * PIT's channel 2, which runs at a known 1.193182 MHz. */
static void calibrate(uint64_t *tsc_per_10ms, uint32_t *apic_per_10ms)
{
    uint16_t count = PIT_HZ / 100;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);   /* gate on, speaker off */
    outb(0x43, 0xb0);                         /* channel 2, lo/hi, mode 0 */
    outb(0x42, count & 0xff);
    outb(0x42, count >> 8);
    uint8_t g = inb(0x61);
    outb(0x61, g & ~0x01);                    /* restart the count */
    outb(0x61, g | 0x01);
    apic_write(APIC_TIMER_DIV, 0x3);          /* divide by 16 */
    apic_write(APIC_TIMER_INIT, 0xffffffff);
    uint64_t t0 = rdtsc_now();
    for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
        if (spins > 100000000)
            panic("apic: the PIT never counted down; cannot calibrate the timer");
    *tsc_per_10ms = rdtsc_now() - t0;
    *apic_per_10ms = 0xffffffff - apic_read(APIC_TIMER_CUR);
    apic_write(APIC_TIMER_INIT, 0);
}

void apic_timer_rearm(void)
{
    if (deadline_mode)
        wrmsr(MSR_TSC_DEADLINE, rdtsc_now() + tick_tsc);
}

/* This CPU's local APIC on, in the mode the boot CPU chose (every CPU
 * in one mode: x2APIC and xAPIC IDs and ICR formats differ). */
static void apic_enable(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    /* x2APIC where the CPU offers it: registers are MSRs (no MMIO page, no
     * uncached accesses, EOI is one WRMSR).  xAPIC to x2APIC is the
     * permitted direction: enable, then set EXTD (SDM 10.12.5). */
    wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    if (x2apic_mode)
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
    else if (!apic_regs)
        apic_regs = paging_map_mmio(base & 0xfffff000);   /* the same address on every CPU */
    apic_write(APIC_SVR, 0x100 | 0xff);       /* enabled, spurious vector 0xff */
}

uint32_t apic_id(void)
{
    return x2apic_mode ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

bool apic_x2apic_mode(void)
{
    return x2apic_mode;
}

/* ICR: destination by APIC ID (physical mode).  xAPIC: high half first
 * (the write to the low half sends), then wait for the send to leave. */
static void apic_icr(uint32_t dest, uint32_t low)
{
    if (x2apic_mode) {
        asm volatile("mfence" ::: "memory");  /* x2APIC WRMSR does not order earlier stores */
        wrmsr(X2APIC_MSR(APIC_ICR_LO), ((uint64_t)dest << 32) | low);
        return;
    }
    apic_write(APIC_ICR_HI, dest << 24);
    apic_write(APIC_ICR_LO, low);
    while (apic_read(APIC_ICR_LO) & BIT(12))  /* delivery status: send pending */
        asm volatile("pause");
}

void apic_send_ipi(uint32_t dest, uint8_t vector)
{
    apic_icr(dest, vector);                   /* fixed delivery, edge, assert */
}

void apic_send_init(uint32_t dest)
{
    apic_icr(dest, 0x4500);                   /* INIT, level assert */
}

void apic_send_sipi(uint32_t dest, uint8_t page)
{
    apic_icr(dest, 0x4600 | page);            /* start-up at page * 4096 */
}

/* The periodic tick or the first deadline, as apic_init calibrated it. */
static void timer_start(void)
{
    if (deadline_mode) {
        apic_write(APIC_LVT_TIMER, LVT_TSC_DEADLINE | 0x20);
        /* The LVT write before the deadline MSR (SDM 10.5.4.1: MFENCE in
         * xAPIC mode; x2APIC WRMSRs are not serialising, LFENCE orders them). */
        asm volatile("mfence; lfence" ::: "memory");
        apic_timer_rearm();
    } else {
        apic_write(APIC_TIMER_DIV, 0x3);
        apic_write(APIC_LVT_TIMER, LVT_PERIODIC | 0x20);
        apic_write(APIC_TIMER_INIT, tick_init);
    }
}

/* An idle CPU halts without a tick (it has nothing to preempt; an IPI or
 * a device interrupt wakes it): no wake-ups, and no contention for the
 * big kernel lock, 1000 times a second per idle CPU. */
void apic_timer_stop(void)
{
    if (deadline_mode)
        wrmsr(MSR_TSC_DEADLINE, 0);
    else
        apic_write(APIC_TIMER_INIT, 0);
}

void apic_timer_resume(void)
{
    if (deadline_mode)
        apic_timer_rearm();
    else
        apic_write(APIC_TIMER_INIT, tick_init);
}

void apic_init_ap(void)
{
    apic_enable();
    timer_start();
}

void apic_init(unsigned tick_us)
{
    outb(0x21, 0xff);                         /* mask both 8259s */
    outb(0xa1, 0xff);
    /* The PIT's channel 0 stopped: the firmware leaves it counting at
     * 18.2 Hz, and though nothing takes its interrupt, under QEMU's
     * icount (sleep=off) its deadlines are where an idle guest's virtual
     * time jumps to (55 ms a time, while a device's completion is on its
     * way): a driver sleeping on its IRQ would be charged those.  Mode 0
     * with a count of 1 ends at once and does not restart. */
    outb(0x43, 0x30);                         /* channel 0, lo/hi, mode 0 */
    outb(0x40, 1);
    outb(0x40, 0);
    if (!ks_cpu.apic)
        panic("apic: this CPU has no local APIC");
    x2apic_mode = ks_cpu.x2apic;
    apic_enable();

    uint64_t tsc10;
    uint32_t apic10;
    calibrate(&tsc10, &apic10);
    deadline_mode = ks_cpu.tsc_deadline;
    tick_tsc = tsc10 * tick_us / 10000;
    tick_init = (uint32_t)((uint64_t)apic10 * tick_us / 10000);
    if (tick_init == 0)
        tick_init = 1;
    timer_start();
    ks_cpu.tsc_hz_calibrated = tsc10 * 100;
    kprintf("apic: %s mode, id %u\n", x2apic_mode ? "x2APIC (MSR)" : "xAPIC (MMIO)", apic_id());
    kprintf("timer: %u us tick, %s; TSC %lu ticks per 10 ms by the PIT\n", tick_us,
            deadline_mode ? "TSC-deadline mode" : "APIC periodic mode", tsc10);
}
