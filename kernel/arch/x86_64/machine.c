/* machine.c: leave the emulator: QEMU's isa-debug-exit, else Bochs's shutdown port, else a triple-fault reset. */
#include <arch/machine.h>
#include <arch/serial.h>
#include <arch/x86.h>
#include <ferry/bench_format.h>
#include <printk.h>

void machine_exit(uint8_t code)
{
    irq_disable();
    outb(FERRY_DEBUG_EXIT_PORT, code);
    /* Still here: no debug-exit device (Bochs, or real hardware).  Say on
     * the console which status QEMU would have given, then write "Shutdown"
     * to Bochs's shutdown port (ignored where nothing decodes it). */
    kprintf("%s%d\n", FERRY_EXIT_LINE, (code << 1) | 1);
    serial_drain();
    for (const char *s = "Shutdown"; *s; s++)
        outb(FERRY_BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
    /* Still here: an empty IDT turns the next exception into a triple
     * fault, which resets (QEMU -no-reboot quits). */
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = { 0, 0 };
    asm volatile("lidt %0; int3" : : "m"(idtr));
    for (;;)
        cpu_halt();
}
