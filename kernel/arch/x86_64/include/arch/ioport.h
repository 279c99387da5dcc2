/* ioport.h: I/O port capabilities. */
#ifndef FERRY_ARCH_IOPORT_H
#define FERRY_ARCH_IOPORT_H

#include <object/cap.h>

struct invocation;
struct tcb;

/* Fill cap as a capability to ports [first, last]. */
void ioport_cap(struct cap *cap, word_t first, word_t last);
/* caller: the invoking thread, whose IPC buffer the string forms use. */
word_t ioport_decode(struct tcb *caller, struct cte *slot, struct invocation *inv, struct cte **extra,
                     unsigned nextra);

#endif
