/* rtc.c: a periodic-interrupt probe: the CMOS RTC's 1024 Hz interrupt (ISA line 8) delivered to a
 * notification wakes a high-priority thread, which records how long each one took to come. */
#include <ferry/ipc.h>
#include <ferry/rtc.h>

#define RTC_INDEX 0x70
#define RTC_DATA  0x71
#define RTC_LINE  8
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_B_PIE 0x40                   /* periodic interrupt enable */
#define RTC_A_RATE_1024HZ 6

struct rtc_probe rtc_probe;
static unsigned long io, ntfn, handler, thread;

static unsigned long port_out(unsigned long port, unsigned long v)
{
    return ferry_ioport_out(io, port, 1, v);
}

static unsigned long reg_read(unsigned long reg)
{
    unsigned long v;
    port_out(RTC_INDEX, reg);
    if (ferry_ioport_in(io, RTC_DATA, 1, &v))
        return 0;
    return v;
}

static void reg_write(unsigned long reg, unsigned long v)
{
    port_out(RTC_INDEX, reg);
    port_out(RTC_DATA, v);
}

static inline unsigned long rdtsc_now(void)
{
    unsigned lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return (unsigned long)hi << 32 | lo;
}

/* The probe thread: its invocations carry at most three words and no
 * capabilities, so they never touch the IPC buffer it shares with the
 * root task's main thread. */
static void waiter(void)
{
    for (;;) {
        unsigned long bits;
        ntfn_wait(ntfn, &bits);
        unsigned long now = rdtsc_now();
        if (rtc_probe.last && now - rtc_probe.last > rtc_probe.max_gap)
            rtc_probe.max_gap = now - rtc_probe.last;
        rtc_probe.last = now;
        rtc_probe.ticks++;
        reg_read(RTC_REG_C);             /* the RTC interrupts again only after this */
        ferry_irq_ack(handler);
    }
}

void rtc_probe_reset(void)
{
    rtc_probe.ticks = rtc_probe.max_gap = 0;
}

/* The notification, the IRQ handler and the waiting thread (whose stack
 * frame stays mapped). */
static unsigned long rtc_setup(unsigned long stack_va, unsigned prio)
{
    const struct ferry_bootinfo *bi = ulib_bootinfo;
    unsigned long err;
    for (unsigned long s = bi->ioports.start; s < bi->ioports.end && !io; s++) {
        if (ferry_ioport_in(s, RTC_DATA, 1, NULL) == FERRY_OK)
            io = s;
    }
    ntfn = object_alloc(FERRY_OBJ_NOTIFICATION, 0);
    handler = slot_alloc();
    if (!io || !ntfn || !handler)
        return FERRY_E_NO_MEMORY;
    if ((err = ferry_irq_get(FERRY_CAP_IRQ_CONTROL, RTC_LINE, handler)) ||
        (err = ferry_irq_set_notification(handler, ntfn)))
        return err;
    thread = thread_start(waiter, stack_va, prio, false);
    return thread ? FERRY_OK : FERRY_E_NO_MEMORY;
}

/* The first start sets up (rtc_setup); later starts reuse it. */
unsigned long rtc_probe_start(unsigned long stack_va, unsigned prio)
{
    unsigned long err;
    if (!thread) {
        /* Kept by every later probe: outside a test sandbox. */
        ulib_persistent_begin();
        err = rtc_setup(stack_va, prio);
        ulib_persistent_end();
        if (err)
            return err;
    }
    rtc_probe_reset();
    rtc_probe.last = 0;
    if ((err = ferry_irq_ack(handler)) || (err = ferry_tcb_resume(thread)))
        return err;
    reg_write(RTC_REG_A, (reg_read(RTC_REG_A) & 0xf0) | RTC_A_RATE_1024HZ);
    reg_write(RTC_REG_B, reg_read(RTC_REG_B) | RTC_B_PIE);
    reg_read(RTC_REG_C);
    return FERRY_OK;
}

/* The thread first (it selects RTC registers too): it stops wherever it
 * is, a wait restarts when it is resumed. */
void rtc_probe_stop(void)
{
    ferry_tcb_suspend(thread);
    reg_write(RTC_REG_B, reg_read(RTC_REG_B) & ~(unsigned long)RTC_B_PIE);
    reg_read(RTC_REG_C);
}
