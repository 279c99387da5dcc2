/* panic.c: report a fatal kernel error and leave the machine with the failure code. */
#include <arch/machine.h>
#include <ferry/bench_format.h>
#include <panic.h>
#include <printk.h>

void panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    kprintf(FERRY_CONSOLE_PANIC);
    kvprintf(fmt, ap);
    kprintf("\n");
    va_end(ap);

    /* The kernel keeps frame pointers, so the call chain can be walked. */
    kprintf("  call chain:");
    uint64_t *fp = __builtin_frame_address(0);
    for (int i = 0; i < 16 && fp && ((uint64_t)fp >> 63); i++) {
        kprintf(" %#lx", fp[1]);
        fp = (uint64_t *)fp[0];
    }
    kprintf("\n");
    machine_exit(FERRY_EXIT_FAILURE);
}
