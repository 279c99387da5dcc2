/* fileclient.c: Calls on the file: service (ferry/io.h), through the
 * calling thread's IPC buffer: the libc's open/read/... and programs that
 * use the protocol directly (zero-copy reads) share it. */
#include <string.h>
#include <ferry/fileclient.h>
#include <ferry/io.h>
#include "libc.h"

/* One Call: label, words w0..w3 (n of them), `data` bytes in the data
 * words; the reply's word 0 (negative: an error) and m. */
static long call(unsigned long ep, unsigned long label, unsigned long n, unsigned long w0, unsigned long w1,
                 unsigned long w2, const void *data, size_t bytes, struct sys_msg *m)
{
    m->info = FERRY_MSGINFO(label, bytes ? IO_DATA_WORD + (bytes + 7) / 8 : n, 0);
    m->w[0] = w0;
    m->w[1] = w1;
    m->w[2] = w2;
    m->w[3] = 0;
    if (bytes)
        memcpy(&__ipc()->mr[IO_DATA_WORD], data, bytes);
    if (sys_raw(FERRY_SYS_CALL, ep, m))
        return FILE_E_GONE;
    return (long)m->w[0];
}

static long path_call(unsigned long ep, unsigned long label, unsigned long w0, const char *path,
                      struct sys_msg *m)
{
    size_t len = strlen(path);
    if (len == 0 || len >= 256)
        return FILE_E_BADREQ;
    return call(ep, label, 2, w0, len, 0, path, len, m);
}

long fc_open(unsigned long ep, const char *path, int flags, unsigned long *size)
{
    struct sys_msg m;
    long r = path_call(ep, FILE_OPEN, (unsigned long)flags, path, &m);
    if (r < 0)
        return r;
    if (size)
        *size = m.w[2];
    return (long)m.w[1];
}

long fc_read(unsigned long ep, long h, void *buf, size_t n)
{
    unsigned char *out = buf;
    size_t done = 0;
    while (done < n) {
        struct sys_msg m;
        size_t k = n - done < IO_DATA_BYTES ? n - done : IO_DATA_BYTES;
        long r = call(ep, FILE_READ, 2, (unsigned long)h, k, 0, NULL, 0, &m);
        if (r < 0)
            return r;
        if (m.w[1] > k)
            return FILE_E_BADREQ;
        memcpy(out + done, &__ipc()->mr[IO_DATA_WORD], m.w[1]);
        done += m.w[1];
        if (m.w[1] < k)
            break;                  /* the end of the file */
    }
    return (long)done;
}

long fc_open_grant(unsigned long ep, const char *path, int flags, unsigned long *size,
                   const unsigned char **window)
{
    struct sys_msg m;
    long r = path_call(ep, FILE_OPEN, (unsigned long)flags | FILE_O_GRANT, path, &m);
    if (r < 0)
        return r;
    if (size)
        *size = m.w[2];
    *window = (const unsigned char *)m.w[3];
    return (long)m.w[1];
}

long fc_read_window(unsigned long ep, long h, size_t n)
{
    struct sys_msg m;
    if (n > IO_GRANT_BYTES)
        return FILE_E_BADREQ;
    long r = call(ep, FILE_READ, 2, (unsigned long)h, n, 0, NULL, 0, &m);
    return r < 0 ? r : m.w[1] > n ? FILE_E_BADREQ : (long)m.w[1];
}

long fc_read_grant(unsigned long ep, long h, const unsigned char *window, void *buf, size_t n)
{
    unsigned char *out = buf;
    size_t done = 0;
    while (done < n) {
        size_t k = n - done < IO_GRANT_BYTES ? n - done : IO_GRANT_BYTES;
        long got = fc_read_window(ep, h, k);
        if (got < 0)
            return got;
        memcpy(out + done, window, (size_t)got);
        done += (size_t)got;
        if ((size_t)got < k)
            break;
    }
    return (long)done;
}

long fc_write(unsigned long ep, long h, const void *buf, size_t n)
{
    const unsigned char *in = buf;
    size_t done = 0;
    while (done < n) {
        struct sys_msg m;
        size_t k = n - done < IO_DATA_BYTES ? n - done : IO_DATA_BYTES;
        long r = call(ep, FILE_WRITE, 2, (unsigned long)h, k, 0, in + done, k, &m);
        if (r < 0)
            return r;
        done += m.w[1];
        if (m.w[1] < k)
            break;
    }
    return (long)done;
}

long fc_seek(unsigned long ep, long h, long off, int whence)
{
    struct sys_msg m;
    long r = call(ep, FILE_SEEK, 3, (unsigned long)h, (unsigned long)off, (unsigned long)whence, NULL, 0, &m);
    return r < 0 ? r : (long)m.w[1];
}

long fc_close(unsigned long ep, long h)
{
    struct sys_msg m;
    return call(ep, FILE_CLOSE, 1, (unsigned long)h, 0, 0, NULL, 0, &m);
}

long fc_stat(unsigned long ep, const char *path, unsigned long *size, unsigned long *attr)
{
    struct sys_msg m;
    long r = path_call(ep, FILE_STAT, 0, path, &m);
    if (r >= 0) {
        if (size)
            *size = m.w[1];
        if (attr)
            *attr = m.w[2];
    }
    return r;
}

long fc_opendir(unsigned long ep, const char *path)
{
    struct sys_msg m;
    long r = path_call(ep, FILE_OPENDIR, 0, path, &m);
    return r < 0 ? r : (long)m.w[1];
}

long fc_readdir(unsigned long ep, long h, char *name, size_t max, unsigned long *size, unsigned long *attr)
{
    struct sys_msg m;
    long r = call(ep, FILE_READDIR, 1, (unsigned long)h, 0, 0, NULL, 0, &m);
    if (r < 0)
        return r;
    const char *s = (const char *)&__ipc()->mr[IO_DATA_WORD];
    size_t n = 0;
    while (n + 1 < max && n < IO_DATA_BYTES - 1 && s[n]) {
        name[n] = s[n];
        n++;
    }
    if (max)
        name[n] = 0;
    if (size)
        *size = m.w[2];
    if (attr)
        *attr = m.w[3];
    return (long)m.w[1];
}

long fc_mkdir(unsigned long ep, const char *path)
{
    struct sys_msg m;
    return path_call(ep, FILE_MKDIR, 0, path, &m);
}

long fc_unlink(unsigned long ep, const char *path)
{
    struct sys_msg m;
    return path_call(ep, FILE_UNLINK, 0, path, &m);
}

long fc_crash(unsigned long ep, unsigned long n)
{
    struct sys_msg m;
    return call(ep, FILE_CRASH, 1, n, 0, 0, NULL, 0, &m);
}
