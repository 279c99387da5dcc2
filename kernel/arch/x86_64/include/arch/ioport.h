/* ioport.h: I/O port capabilities. */
#ifndef FERRY_ARCH_IOPORT_H
#define FERRY_ARCH_IOPORT_H

#include <object/cap.h>

struct invocation;

/* Fill cap as a capability to ports [first, last]. */
void ioport_cap(struct cap *cap, word_t first, word_t last);
word_t ioport_decode(struct cte *slot, struct invocation *inv, struct cte **extra, unsigned nextra);

#endif
