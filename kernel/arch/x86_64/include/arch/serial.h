/* serial.h: the COM1 console. */
#ifndef FERRY_ARCH_SERIAL_H
#define FERRY_ARCH_SERIAL_H

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, unsigned long n);
/* Waits (bounded) until the last character has left the UART: before the
 * machine stops, so an emulator that ends at once has written it all. */
void serial_drain(void);

#endif
