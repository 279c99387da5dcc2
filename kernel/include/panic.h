/* panic.h: fatal kernel errors and assertions. */
#ifndef FERRY_PANIC_H
#define FERRY_PANIC_H

#include <types.h>

/* Print the reason on the serial console and leave QEMU with the failure code. */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define assert(cond) \
    do { if (unlikely(!(cond))) panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__); } while (0)

#endif
