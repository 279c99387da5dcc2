/* devcaps.h: where a program finds the device capabilities its manifest's
 * ioport= and irq= words granted (slots of its CNode, ferry/proc.h). */
#ifndef FERRY_USER_DEVCAPS_H
#define FERRY_USER_DEVCAPS_H

/* ioport=: the i-th range of the manifest, an I/O port capability for
 * exactly those ports (In, Out; Issue of sub-ranges). */
#define PROC_DEV_IOPORT(i)   (48 + (i))     /* i < BOOTCONF_IOPORTS_MAX (4) */
/* irq=: the i-th line's IRQ handler (Ack, Clear) and the notification it
 * signals, badged with bit `line` (Wait on it, then Ack the handler). */
#define PROC_DEV_IRQ(i)      (52 + (i))     /* i < BOOTCONF_IRQS_MAX (2) */
#define PROC_DEV_IRQ_NTFN(i) (54 + (i))

#endif
