/* ioapic.c: the I/O APIC driver: finding it, and masking or routing one
 * ISA line to its vector (object/irq.c hands the lines to user space). */
#include <arch/ioapic.h>
#include <arch/irq.h>
#include <arch/paging.h>
#include <ferry/arch_x86_64.h>
#include <printk.h>

/* QEMU's and most PCs' I/O APIC; checked through its version register. */
#define IOAPIC_PHYS   0xfec00000UL
#define IOAPIC_VER    0x01
#define IOAPIC_REDTBL 0x10
#define RED_MASKED    BIT(16)

static volatile uint32_t *ioapic;
static unsigned ioapic_pins;

bool ioapic_present(void)
{
    return ioapic != NULL;
}

static uint32_t ioapic_read(uint32_t reg)
{
    ioapic[0] = reg;
    return ioapic[4];
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    ioapic[0] = reg;
    ioapic[4] = v;
}

/* ISA lines are edge triggered, active high, sent to the boot CPU (APIC 0). */
void ioapic_mask(unsigned line, bool masked)
{
    ioapic_write(IOAPIC_REDTBL + 2 * line + 1, 0);
    ioapic_write(IOAPIC_REDTBL + 2 * line, (VEC_IRQ_BASE + line) | (masked ? RED_MASKED : 0));
}

bool ioapic_init(void)
{
    ioapic = paging_map_mmio(IOAPIC_PHYS);
    uint32_t ver = ioapic_read(IOAPIC_VER);
    ioapic_pins = ((ver >> 16) & 0xff) + 1;
    if ((ver & 0xff) < 0x10 || ioapic_pins < FERRY_IRQ_LINES || ioapic_pins > 240) {
        kprintf("irq: no I/O APIC at %#lx (version %#x): device interrupts off\n", IOAPIC_PHYS, ver);
        ioapic = NULL;
        return false;
    }
    for (unsigned pin = 0; pin < ioapic_pins; pin++)
        ioapic_write(IOAPIC_REDTBL + 2 * pin, RED_MASKED);
    kprintf("irq: I/O APIC version %#x with %u pins; ISA lines 1-15 on vectors %#x-%#x\n",
            ver & 0xff, ioapic_pins, VEC_IRQ_BASE + 1, VEC_IRQ_BASE + 15);
    return true;
}
