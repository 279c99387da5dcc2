/* serial.c: polled 16550 UART on COM1, the kernel console. */
#include <arch/serial.h>
#include <arch/x86.h>

#define COM1 0x3f8
#define LSR_THRE 0x20      /* transmit holding register empty */
#define LSR_TEMT 0x40      /* holding and shift registers empty: all sent */

void serial_init(void)
{
    outb(COM1 + 1, 0x00);  /* no interrupts: the console is polled */
    outb(COM1 + 3, 0x80);  /* DLAB on to set the divisor */
    outb(COM1 + 0, 0x01);  /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);  /* 8N1 */
    outb(COM1 + 2, 0xC7);  /* FIFO on, cleared */
    outb(COM1 + 4, 0x03);  /* DTR, RTS */
}

void serial_putc(char c)
{
    if (c == '\n')
        serial_putc('\r');
    /* Bounded wait: a missing UART must not hang the kernel. */
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & LSR_THRE); i++)
        ;
    outb(COM1, (uint8_t)c);
}

void serial_write(const char *s, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        serial_putc(s[i]);
}

void serial_drain(void)
{
    for (int i = 0; i < 1000000 && !(inb(COM1 + 5) & LSR_TEMT); i++)
        ;
}
