/* irq.h: device interrupts delivered to user space as notifications. */
#ifndef FERRY_ARCH_IRQ_H
#define FERRY_ARCH_IRQ_H

#include <object/cap.h>

#define VEC_IRQ_BASE 0x20        /* ISA line n arrives on vector 0x20 + n (line 0 is unused) */

struct invocation;

/* An interrupt on vector vec: signal the line's notification, mask the line. */
void irq_deliver(unsigned vec);
/* Is any line bound to a notification (so a blocked thread may yet wake)? */
bool irq_any_bound(void);

word_t irq_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra);
/* The last capability of a line's handler went: unbind and mask it. */
void irq_handler_deleted(const struct cap *cap);

#endif
