/* printk.c: kprintf on the serial console. */
#include <arch/serial.h>
#include <fmt.h>
#include <printk.h>

static void console_put(char c, void *arg)
{
    (void)arg;
    serial_putc(c);
}

int kvprintf(const char *fmt, va_list ap)
{
    return fmt_vformat(console_put, NULL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvprintf(fmt, ap);
    va_end(ap);
    return n;
}
