/* idt.c: the interrupt descriptor table, one shared by every CPU. */
#include <arch/apic.h>
#include <arch/gdt.h>
#include <arch/kpti.h>
#include <arch/trap.h>

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type_attr;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

KPTI_ENTRY_DATA static struct idt_gate ks_idt[256] __attribute__((aligned(16)));
extern const uint64_t trap_vectors[32], irq_vectors[16], spurious_vector, ipi_vector;
extern char int80_entry[];

static void idt_set(int vec, uint64_t handler, int ist, int dpl)
{
    ks_idt[vec] = (struct idt_gate){
        .off_lo = handler & 0xffff,
        .sel = SEL_KCODE,
        .ist = (uint8_t)ist,
        .type_attr = (uint8_t)(0x8e | (dpl << 5)),   /* present, interrupt gate */
        .off_mid = (handler >> 16) & 0xffff,
        .off_hi = (uint32_t)(handler >> 32),
    };
}

void idt_init(void)
{
    for (int v = 0; v < 32; v++) {
        int ist = v == VEC_DF ? IST_DF : (v == VEC_NMI || v == VEC_MC) ? IST_NMI : v == VEC_DB ? IST_DB : 0;
        idt_set(v, trap_vectors[v], ist, 0);
    }
    for (int v = 0; v < 16; v++)
        idt_set(32 + v, irq_vectors[v], 0, 0);
    idt_set(VEC_IPI, ipi_vector, 0, 0);
    idt_set(255, spurious_vector, 0, 0);
    /* The only gate ring 3 may use: the int 0x80 system call entry. */
    idt_set(0x80, (uint64_t)int80_entry, 0, 3);
    idt_load();
}

void idt_load(void)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {
        sizeof(ks_idt) - 1, (uint64_t)ks_idt
    };
    asm volatile("lidt %0" : : "m"(idtr));
}
