/* serial.h: the COM1 console. */
#ifndef FERRY_ARCH_SERIAL_H
#define FERRY_ARCH_SERIAL_H

void serial_init(void);
void serial_putc(char c);
void serial_write(const char *s, unsigned long n);

#endif
