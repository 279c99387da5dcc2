/* serial.c: the serial: service: a user-space driver for COM1's 16550 UART
 * through the I/O-port and IRQ capabilities its manifest grants.  Writes
 * poll THRE and fill the FIFO; receiving is interrupt-driven: a thread
 * waits on IRQ 4's notification and moves the received bytes into a ring
 * that SERIAL_READ empties; two threads serve requests, so one may sleep
 * until input comes (SERIAL_READ_WAIT) while the other serves the rest.
 * The kernel's console shares the UART
 * (docs/io.md, "The serial driver"): it only polls LSR and writes THR, so
 * this driver owns IER, MCR, the FIFO control and the receive side. */
#include <pthread.h>
#include <ferry/arch_x86_64.h>
#include <ferry/devcaps.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "io_progs.h"

#define PORTS     PROC_DEV_IOPORT(0)     /* 0x3f8-0x3ff */
#define IRQ       PROC_DEV_IRQ(0)        /* line 4 */
#define IRQ_NTFN  PROC_DEV_IRQ_NTFN(0)
#define COM1      0x3f8
#define UART_RBR  (COM1 + 0)     /* read: received byte; write: THR */
#define UART_IER  (COM1 + 1)
#define UART_IIR  (COM1 + 2)     /* read: interrupt identification; write: FCR */
#define UART_MCR  (COM1 + 4)
#define UART_LSR  (COM1 + 5)
#define IER_RDA   0x01           /* interrupt when received data is available */
#define FCR_ON    0x03           /* FIFOs on, receive FIFO cleared, trigger at 1 byte
                                  * (the transmit FIFO is left alone: the kernel's bytes may be in it) */
#define MCR_ON    0x0b           /* DTR, RTS and OUT2, which gates the UART's interrupt line on a PC */
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define FIFO_SIZE 16             /* a 16550's transmit FIFO: this many bytes after THRE */
#define RING      4096           /* received bytes not yet read (a power of two) */
#define INPUT     PROC_NTFN_SLOT0        /* signalled by the IRQ thread when bytes came */

static unsigned long io_in(unsigned long port)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_IOPORT_IN, FERRY_IOPORT_IN_NARGS, 0),
                         .w = { [FERRY_IOPORT_ARG_PORT] = port, [FERRY_IOPORT_ARG_WIDTH] = 1 } };
    return sys_raw(FERRY_SYS_CALL, PORTS, &m) ? ~0UL : m.w[FERRY_IOPORT_IN_RES_VALUE];
}

static void io_out(unsigned long port, unsigned long v)
{
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_IOPORT_OUT, FERRY_IOPORT_OUT_NARGS, 0),
                         .w = { [FERRY_IOPORT_ARG_PORT] = port, [FERRY_IOPORT_ARG_WIDTH] = 1,
                                [FERRY_IOPORT_ARG_VALUE] = v } };
    sys_raw(FERRY_SYS_CALL, PORTS, &m);
}

/* The receive ring: the IRQ thread only advances head; the two request
 * threads advance tail, each by a compare-and-swap after it copied the
 * bytes (one producer, two consumers: no lock). */
static unsigned char *ring;             /* RING bytes from proc_mmap: not in io.elf's bss */
static unsigned long head, tail;
static unsigned long written, received, interrupts, lost, reads, slept;
/* 1 while a request thread sleeps for input (or is about to): the IRQ
 * thread then signals INPUT after it moved bytes into the ring.  Only one
 * at a time, so the other request thread is always free for writes. */
static int sleeper;
static bool have_input_ntfn;

/* The calling thread's IPC buffer (each thread has one: its FS base holds
 * the buffer's address, as the libc's __ipc). */
static struct ferry_ipc_buffer *ipc_self(void)
{
    struct ferry_ipc_buffer *b;
    __asm__("mov %%fs:%c1, %0" : "=r"(b) : "i"(offsetof(struct ferry_ipc_buffer, user_data)));
    return b;
}

/* Moves every byte the UART holds into the ring; then wakes a sleeping
 * reader.  The head is stored before sleeper is read, and a reader counts
 * itself before it looks at head (both sequentially consistent), so either
 * it sees the bytes or it is signalled: no wake-up is lost. */
static void drain(void)
{
    bool moved = false;
    for (int i = 0; i < 64; i++) {
        unsigned long lsr = io_in(UART_LSR);
        if (lsr == ~0UL || !(lsr & LSR_DR))
            break;
        unsigned char c = (unsigned char)io_in(UART_RBR);
        unsigned long h = __atomic_load_n(&head, __ATOMIC_RELAXED);
        if (h - __atomic_load_n(&tail, __ATOMIC_ACQUIRE) >= RING) {
            __atomic_fetch_add(&lost, 1, __ATOMIC_RELAXED);    /* full: the newest byte goes */
            continue;
        }
        ring[h % RING] = c;
        __atomic_store_n(&head, h + 1, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&received, 1, __ATOMIC_RELAXED);
        moved = true;
    }
    if (moved && __atomic_load_n(&sleeper, __ATOMIC_SEQ_CST)) {     /* taken only with a notification */
        struct sys_msg m = { 0 };
        sys_raw(FERRY_SYS_SEND, INPUT, &m);
    }
}

/* The IRQ thread: wait for line 4, drain, Ack (the kernel masks the line
 * from the interrupt until then).  A byte that arrives between the drain
 * and the Ack raises the line while it is masked; the drain after the Ack
 * takes it, so it is never left behind. */
static void *irq_thread(void *arg)
{
    (void)arg;
    for (;;) {
        struct sys_msg m = { 0 };
        if (sys_raw(FERRY_SYS_RECV, IRQ_NTFN, &m))
            return NULL;
        __atomic_fetch_add(&interrupts, 1, __ATOMIC_RELAXED);
        io_in(UART_IIR);                         /* read: acknowledges the UART's interrupt */
        drain();
        m = (struct sys_msg){ .info = FERRY_MSGINFO(FERRY_IRQ_ACK, 0, 0) };
        sys_raw(FERRY_SYS_CALL, IRQ, &m);
        drain();
    }
}

/* Writes n bytes: after THRE (the FIFO empty) up to FIFO_SIZE at once.
 * One writer at a time (two threads serve requests): a request's bytes
 * are not interleaved with another's. */
static int write_lock;
static void uart_write(const char *s, unsigned long n)
{
    while (__atomic_exchange_n(&write_lock, 1, __ATOMIC_ACQUIRE))
        sys_yield();
    unsigned room = 0;
    for (unsigned long i = 0; i < n; i++) {
        bool cr = s[i] == '\n';
        for (int k = cr ? 2 : 1; k > 0; k--) {
            /* Long enough for a loaded host to drain QEMU's side (the kernel's
             * console, arch/x86_64/serial.c, says why 100,000 was not). */
            for (long spin = 0; room == 0 && spin < 10000000; spin++)
                if (io_in(UART_LSR) & LSR_THRE)
                    room = FIFO_SIZE;
            if (room)
                room--;                          /* a missing UART must not hang the driver */
            io_out(UART_RBR, k == 2 ? '\r' : (unsigned char)s[i]);
        }
    }
    __atomic_store_n(&write_lock, 0, __ATOMIC_RELEASE);
    __atomic_fetch_add(&written, n, __ATOMIC_RELAXED);
}

/* Up to max received bytes into dst: copied, then taken by moving tail
 * from where the copy began (another reader that took them first makes
 * that fail: copied again from the new tail). */
static unsigned long uart_read(char *dst, unsigned long max)
{
    for (;;) {
        unsigned long t = __atomic_load_n(&tail, __ATOMIC_SEQ_CST), n = 0;
        unsigned long h = __atomic_load_n(&head, __ATOMIC_SEQ_CST);
        while (n < max && t + n != h) {
            dst[n] = (char)ring[(t + n) % RING];
            n++;
        }
        if (n == 0 || __atomic_compare_exchange_n(&tail, &t, t + n, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return n;
    }
}

/* A SERIAL_READ_WAIT with nothing received: sleeps on INPUT until the IRQ
 * thread moved bytes in, then reads them.  0 at once when another reader
 * sleeps already (this thread is then the one left for other requests)
 * or there is no notification to sleep on. */
static unsigned long uart_read_wait(char *dst, unsigned long max, bool *busy)
{
    unsigned long n = uart_read(dst, max);
    *busy = false;
    if (n || max == 0)
        return n;
    int free_ = 0;
    if (!have_input_ntfn || !__atomic_compare_exchange_n(&sleeper, &free_, 1, false, __ATOMIC_SEQ_CST,
                                                         __ATOMIC_SEQ_CST)) {
        *busy = true;
        return 0;
    }
    __atomic_fetch_add(&slept, 1, __ATOMIC_RELAXED);
    while ((n = uart_read(dst, max)) == 0) {
        struct sys_msg m = { 0 };
        if (sys_raw(FERRY_SYS_RECV, INPUT, &m))
            break;                                /* cannot sleep: answer 0, the client asks again */
    }
    __atomic_store_n(&sleeper, 0, __ATOMIC_SEQ_CST);
    return n;
}

static long crash_in = -1;

/* A request thread: Recv on the service endpoint, serve, ReplyRecv; each
 * with its own IPC buffer and its own caller to answer. */
static void *serve(void *arg)
{
    (void)arg;
    struct ferry_ipc_buffer *ipc = ipc_self();
    char *data = (char *)&ipc->mr[IO_DATA_WORD];
    struct sys_msg m = { 0 };
    sys_raw(FERRY_SYS_RECV, PROC_CAP_SERVICE, &m);
    for (;;) {
        io_crash_tick(&crash_in);
        long r = SERIAL_E_BAD;
        unsigned long len = 1, w[3] = { 0 };
        switch (FERRY_MSGINFO_LABEL(m.info)) {
        case SERIAL_WRITE:
            if (m.w[0] <= IO_DATA_BYTES &&
                FERRY_MSGINFO_LEN(m.info) >= IO_DATA_WORD + (m.w[0] + 7) / 8) {
                uart_write(data, m.w[0]);
                r = 0, w[0] = m.w[0], len = 2;
            }
            break;
        case SERIAL_READ:
            if (m.w[0] <= IO_DATA_BYTES) {
                bool wait = FERRY_MSGINFO_LEN(m.info) >= 2 && (m.w[1] & SERIAL_READ_WAIT), busy = false;
                __atomic_fetch_add(&reads, 1, __ATOMIC_RELAXED);
                w[0] = wait ? uart_read_wait(data, m.w[0], &busy) : uart_read(data, m.w[0]);
                w[1] = busy;
                r = 0;
                len = IO_DATA_WORD + (w[0] + 7) / 8;
            }
            break;
        case SERIAL_INFO:
            r = 0, len = 8;
            w[0] = __atomic_load_n(&written, __ATOMIC_RELAXED);
            w[1] = __atomic_load_n(&received, __ATOMIC_RELAXED);
            w[2] = __atomic_load_n(&interrupts, __ATOMIC_RELAXED);
            ipc->mr[4] = __atomic_load_n(&lost, __ATOMIC_RELAXED);   /* past the register words */
            ipc->mr[5] = __atomic_load_n(&slept, __ATOMIC_RELAXED);
            ipc->mr[6] = __atomic_load_n(&reads, __ATOMIC_RELAXED);
            ipc->mr[7] = (unsigned long)__atomic_load_n(&sleeper, __ATOMIC_RELAXED);
            break;
        case SERIAL_CRASH:
            io_crash_arm(&crash_in, m.w[0]);
            r = 0;
            break;
        }
        m.info = FERRY_MSGINFO(0, len, 0);
        m.w[0] = (unsigned long)r;
        for (int i = 0; i < 3; i++)
            m.w[1 + i] = w[i];
        sys_raw(FERRY_SYS_REPLY_RECV, PROC_CAP_SERVICE, &m);
    }
    return NULL;
}

int serial_main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    ring = proc_mmap(RING);
    if (!ring)
        return 1;
    if (io_in(UART_LSR) == ~0UL) {
        printf("serial: no capability for COM1's ports\n");
        return 1;
    }
    io_out(UART_IER, 0);
    io_out(UART_IIR, FCR_ON);
    io_out(UART_MCR, MCR_ON);
    drain();                                     /* what arrived before we were here */
    pthread_t t;
    if (pthread_create(&t, NULL, irq_thread, NULL) != 0) {
        printf("serial: no IRQ thread\n");
        return 1;
    }
    io_out(UART_IER, IER_RDA);
    struct sys_msg m = { .info = FERRY_MSGINFO(FERRY_IRQ_ACK, 0, 0) };
    sys_raw(FERRY_SYS_CALL, IRQ, &m);            /* the line is masked until the first Ack */
    have_input_ntfn = proc_notification(INPUT) == PROC_OK;   /* without: waiting reads answer 0 */
    if (pthread_create(&t, NULL, serve, NULL) != 0) {
        printf("serial: no second request thread\n");
        return 1;
    }
    unsigned long err = proc_register("serial:");
    if (err) {
        printf("serial: register failed (%lu)\n", err);
        return 1;
    }
    serve(NULL);
    return 0;
}
