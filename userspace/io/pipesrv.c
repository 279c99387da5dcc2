/* pipesrv.c: the pipe: service: named pipes between processes that share no
 * memory (the libc's pipe() is a ring in a page a fork shares, which only a
 * parent and its children have).  A pipe is made by its first open and
 * goes when no one holds it and it is empty; each open is a handle owned by
 * the client's pid (its endpoint badge).  The bytes are copied in and out
 * of a ring here; the server never waits, so a client with nothing to read
 * or no room yields and asks again (ferry/io.h).  A handle whose process
 * ended without closing it (killed, faulted) is closed here once the
 * process server says so (PROC_ALIVE), asked while a client waits. */
#include <ferry/io.h>
#include <ferry/prog.h>
#include "io_progs.h"

#define PIPES   8
#define HANDLES 32

struct npipe {
    char name[32];                      /* "" when free */
    unsigned long head, tail;           /* bytes written and read, ever */
    unsigned readers, writers;          /* handles open on each end */
    bool had_reader, had_writer;
    unsigned waits;                     /* empty reads and full writes answered: see reap */
    unsigned char ring[PIPE_RING];
};
/* From proc_mmap at start: io.elf's other programs do not carry 32 KiB of
 * rings in their bss (every page of an image is made at spawn and mapped
 * again by each fork). */
static struct npipe *pipes;
static struct {
    unsigned long pid;                  /* 0: free */
    struct npipe *p;
    int end;
} handles[HANDLES];

static struct npipe *pipe_named(const char *name, unsigned long len)
{
    struct npipe *free_one = NULL;
    for (unsigned i = 0; i < PIPES; i++) {
        if (pipes[i].name[0] && strlen(pipes[i].name) == len && memcmp(pipes[i].name, name, len) == 0)
            return &pipes[i];
        if (!pipes[i].name[0] && !free_one)
            free_one = &pipes[i];
    }
    if (free_one) {
        *free_one = (struct npipe){ 0 };
        memcpy(free_one->name, name, len);
    }
    return free_one;
}

static void pipe_release(struct npipe *p)
{
    if (!p->readers && !p->writers && p->head == p->tail)
        p->name[0] = 0;
}

static long do_open(unsigned long pid, unsigned long end, const char *name, unsigned long len)
{
    if (end > PIPE_END_WRITE || len == 0 || len > 31)
        return PIPE_E_BAD;
    for (unsigned h = 0; h < HANDLES; h++) {
        if (handles[h].pid)
            continue;
        struct npipe *p = pipe_named(name, len);
        if (!p)
            return PIPE_E_FULL;
        handles[h].pid = pid, handles[h].p = p, handles[h].end = (int)end;
        if (end == PIPE_END_READ)
            p->readers++, p->had_reader = true;
        else
            p->writers++, p->had_writer = true;
        return (long)h;
    }
    return PIPE_E_FULL;
}

static void handle_close(unsigned long h)
{
    struct npipe *p = handles[h].p;
    if (handles[h].end == PIPE_END_READ)
        p->readers--;
    else
        p->writers--;
    handles[h].pid = 0;
    if (p->readers == 0 && p->had_reader)
        p->tail = p->head;              /* nobody will read what is left */
    pipe_release(p);
}

/* A client waits on p (nothing to read, no room): every REAP_EVERY-th
 * such answer the handles of p whose processes ended are closed, so a
 * reader of a killed writer sees the end and a writer of a killed reader
 * EPIPE, instead of asking for ever. */
#define REAP_EVERY 16
static void reap(struct npipe *p)
{
    if (++p->waits % REAP_EVERY)
        return;
    unsigned long pids[PROC_ALIVE_MAX], hs[PROC_ALIVE_MAX];
    unsigned n = 0;
    for (unsigned long h = 0; h <= HANDLES; h++) {
        if (n == PROC_ALIVE_MAX || (h == HANDLES && n)) {
            unsigned long alive = proc_alive(pids);
            for (unsigned i = 0; i < n; i++)
                if (!(alive & 1UL << i) && handles[hs[i]].pid == pids[i])
                    handle_close(hs[i]);
            n = 0;
        }
        if (h < HANDLES && handles[h].pid && handles[h].p == p) {
            hs[n] = h;
            pids[n++] = handles[h].pid;
            for (unsigned i = n; i < PROC_ALIVE_MAX; i++)
                pids[i] = 0;
        }
    }
}

/* Copies n bytes between the ring (from position at) and buf. */
static void ring_copy(struct npipe *p, unsigned long at, unsigned char *buf, unsigned long n, bool in)
{
    for (unsigned long i = 0; i < n; i++) {
        unsigned char *r = &p->ring[(at + i) % PIPE_RING];
        if (in)
            *r = buf[i];
        else
            buf[i] = *r;
    }
}

int pipesrv_main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    pipes = proc_mmap(PIPES * sizeof *pipes);
    if (!pipes)
        return 1;
    unsigned long err = proc_register("pipe:");
    if (err) {
        printf("pipesrv: register failed (%lu)\n", err);
        return 1;
    }
    unsigned char *data = (unsigned char *)&PROC_IPC->mr[IO_DATA_WORD];
    struct sys_msg m = { 0 };
    sys_raw(FERRY_SYS_RECV, PROC_CAP_SERVICE, &m);
    for (;;) {
        long r = PIPE_E_BAD;
        unsigned long len = 1, w1 = 0, w2 = 0, words = FERRY_MSGINFO_LEN(m.info);
        unsigned long h = m.w[0];
        bool mine = h < HANDLES && handles[h].pid == m.badge;
        struct npipe *p = mine ? handles[h].p : NULL;
        switch (FERRY_MSGINFO_LABEL(m.info)) {
        case PIPE_OPEN:
            if (m.w[1] <= IO_DATA_BYTES && words >= IO_DATA_WORD + (m.w[1] + 7) / 8)
                r = do_open(m.badge, m.w[0], (const char *)data, m.w[1]);
            if (r >= 0)
                w1 = (unsigned long)r, r = 0, len = 2;
            break;
        case PIPE_READ:
            if (!p || handles[h].end != PIPE_END_READ || m.w[1] > IO_DATA_BYTES)
                break;
            w1 = p->head - p->tail < m.w[1] ? p->head - p->tail : m.w[1];
            ring_copy(p, p->tail, data, w1, false);
            p->tail += w1;
            if (w1 == 0 && p->writers)
                reap(p);
            w2 = w1 == 0 && p->had_writer && p->writers == 0;
            r = 0;
            len = w1 ? IO_DATA_WORD + (w1 + 7) / 8 : 3;
            break;
        case PIPE_WRITE: {
            if (!p || handles[h].end != PIPE_END_WRITE || m.w[1] > IO_DATA_BYTES ||
                words < IO_DATA_WORD + (m.w[1] + 7) / 8)
                break;
            unsigned long room = PIPE_RING - (p->head - p->tail);
            if (room < m.w[1] && p->readers)
                reap(p);
            if (p->had_reader && p->readers == 0) {
                r = PIPE_E_NOREADER;
                break;
            }
            room = PIPE_RING - (p->head - p->tail);
            w1 = m.w[1] <= room ? m.w[1] : m.w[1] <= PIPE_ATOMIC ? 0 : room;
            ring_copy(p, p->head, data, w1, true);
            p->head += w1;
            r = 0, len = 2;
            break;
        }
        case PIPE_CLOSE:
            if (!p)
                break;
            handle_close(h);
            r = 0;
            break;
        }
        m.info = FERRY_MSGINFO(0, len, 0);
        m.w[0] = (unsigned long)r;
        m.w[1] = w1;
        m.w[2] = w2;
        sys_raw(FERRY_SYS_REPLY_RECV, PROC_CAP_SERVICE, &m);
    }
}
