/* printk.h: formatted kernel output on the serial console. */
#ifndef FERRY_PRINTK_H
#define FERRY_PRINTK_H

#include <stdarg.h>
#include <types.h>

int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kvprintf(const char *fmt, va_list ap);

#endif
