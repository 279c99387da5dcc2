/* file.c: open, read, write, close, lseek, stat, fstat, unlink and mkdir
 * on the file: service (ferry/io.h through fileclient.c).  Descriptors
 * from 3 on name open files; file: is looked up once, into LIBC_FILE_SLOT
 * (the program's manifest must list it), and again if the server died. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ferry/fat.h>
#include <ferry/fileclient.h>
#include <ferry/io.h>
#include <ferry/prog.h>
#include "libc.h"

#define LIBC_FILE_SLOT 47      /* below the device slots (ferry/devcaps.h) */

struct __fd __fds[FDS_MAX];
static bool have_file;
#define fds __fds

/* The file: endpoint in LIBC_FILE_SLOT; false (errno set) when it cannot be had. */
static bool file_ep(void)
{
    if (have_file)
        return true;
    unsigned long err = proc_lookup("file:", LIBC_FILE_SLOT);
    if (err == PROC_OK)
        return have_file = true;
    errno = err == PROC_E_DENIED ? EACCES : ENOENT;
    return false;
}

/* errno for a file: error; returns -1. */
static long fail(long r)
{
    switch (r) {
    case FAT_E_NOENT:    errno = ENOENT; break;
    case FAT_E_EXIST:    errno = EEXIST; break;
    case FAT_E_NOTDIR:   errno = ENOTDIR; break;
    case FAT_E_ISDIR:    errno = EISDIR; break;
    case FAT_E_NOSPC:    errno = ENOSPC; break;
    case FAT_E_NAME:     errno = ENAMETOOLONG; break;
    case FAT_E_BADF:     errno = EBADF; break;
    case FAT_E_NOTEMPTY: errno = ENOTEMPTY; break;
    case FILE_E_NFILE:   errno = ENFILE; break;
    case FILE_E_GONE:    errno = EIO; have_file = false; break;   /* the server restarted: its handles are gone */
    case FAT_E_INVAL:    errno = EINVAL; break;
    default:             errno = EIO; break;
    }
    return -1;
}

static long handle_of(int fd)
{
    if (fd < 0 || fd >= FDS_MAX || !fds[fd].used || fds[fd].pipe || fds[fd].named) {
        errno = EBADF;
        return -1;
    }
    return fds[fd].handle;
}

int open(const char *path, int flags, ...)
{
    if (strncmp(path, "pipe:", 5) == 0)
        return __npipe_open(path + 5, flags);
    if (!file_ep())
        return -1;
    int acc = flags & O_ACCMODE;
    int f = (acc == O_RDONLY ? FAT_O_READ : acc == O_WRONLY ? FAT_O_WRITE : FAT_O_READ | FAT_O_WRITE) |
            (flags & O_CREAT ? FAT_O_CREATE : 0) | (flags & O_TRUNC ? FAT_O_TRUNC : 0) |
            (flags & O_APPEND ? FAT_O_APPEND : 0) | (flags & O_EXCL ? FAT_O_EXCL : 0);
    int fd = __fd_free();
    if (fd < 0)
        return -1;
    const unsigned char *window = NULL;
    long h = flags & O_FERRY_GRANT ? fc_open_grant(LIBC_FILE_SLOT, path, f, NULL, &window)
                                   : fc_open(LIBC_FILE_SLOT, path, f, NULL);
    if (h < 0)
        return (int)fail(h);
    fds[fd].window = window;
    fds[fd].handle = h;
    fds[fd].used = true;
    return fd;
}

ssize_t read(int fd, void *buf, size_t n)
{
    if (fd == STDIN_FILENO && !fds[fd].used)           /* the console's input (src/write.c) */
        return __console_read(buf, n);
    if (fd >= 0 && fd < FDS_MAX && fds[fd].used && fds[fd].pipe)
        return __pipe_read(fd, buf, n);
    if (fd >= 0 && fd < FDS_MAX && fds[fd].used && fds[fd].named)
        return __npipe_read(fd, buf, n);
    long h = handle_of(fd);
    if (h < 0)
        return -1;
    long r = fds[fd].window ? fc_read_grant(LIBC_FILE_SLOT, h, fds[fd].window, buf, n)
                            : fc_read(LIBC_FILE_SLOT, h, buf, n);
    return r < 0 ? fail(r) : r;
}

long __file_write(int fd, const void *buf, size_t n)
{
    if (fd >= 0 && fd < FDS_MAX && fds[fd].used && fds[fd].pipe)
        return __pipe_write(fd, buf, n);
    if (fd >= 0 && fd < FDS_MAX && fds[fd].used && fds[fd].named)
        return __npipe_write(fd, buf, n);
    long h = handle_of(fd);
    if (h < 0)
        return -1;
    long r = fc_write(LIBC_FILE_SLOT, h, buf, n);
    return r < 0 ? fail(r) : r;
}

off_t lseek(int fd, off_t off, int whence)
{
    long h = handle_of(fd);
    if (h < 0)
        return -1;
    long r = fc_seek(LIBC_FILE_SLOT, h, off, whence);
    return r < 0 ? fail(r) : r;
}

int close(int fd)
{
    if (fd >= 0 && fd < FDS_MAX && fds[fd].used && fds[fd].pipe)
        return __pipe_close(fd);
    if (fd >= 0 && fd < FDS_MAX && fds[fd].used && fds[fd].named)
        return __npipe_close(fd);
    long h = handle_of(fd);
    if (h < 0)
        return -1;
    fds[fd].used = false;
    fds[fd].window = NULL;
    long r = fc_close(LIBC_FILE_SLOT, h);
    return r < 0 ? (int)fail(r) : 0;
}

int __fd_free(void)
{
    for (int fd = 3; fd < FDS_MAX; fd++)
        if (!fds[fd].used)
            return fd;
    errno = EMFILE;
    return -1;
}

static void stat_fill(struct stat *st, unsigned long size, unsigned long attr)
{
    st->st_size = (off_t)size;
    st->st_mode = attr & FAT_ATTR_DIR ? S_IFDIR | 0755 : S_IFREG | (attr & FAT_ATTR_RO ? 0444 : 0644);
}

int stat(const char *path, struct stat *st)
{
    unsigned long size, attr;
    if (!file_ep())
        return -1;
    long r = fc_stat(LIBC_FILE_SLOT, path, &size, &attr);
    if (r < 0)
        return (int)fail(r);
    stat_fill(st, size, attr);
    return 0;
}

int fstat(int fd, struct stat *st)
{
    /* the size is where a seek to the end lands; the position is kept */
    long h = handle_of(fd);
    if (h < 0)
        return -1;
    long pos = fc_seek(LIBC_FILE_SLOT, h, 0, SEEK_CUR), end = pos < 0 ? pos : fc_seek(LIBC_FILE_SLOT, h, 0, SEEK_END);
    if (end < 0 || fc_seek(LIBC_FILE_SLOT, h, pos, SEEK_SET) < 0)
        return (int)fail(end < 0 ? end : FAT_E_INVAL);
    stat_fill(st, (unsigned long)end, 0);
    return 0;
}

int unlink(const char *path)
{
    if (!file_ep())
        return -1;
    long r = fc_unlink(LIBC_FILE_SLOT, path);
    return r < 0 ? (int)fail(r) : 0;
}

int mkdir(const char *path, mode_t mode)
{
    (void)mode;
    if (!file_ep())
        return -1;
    long r = fc_mkdir(LIBC_FILE_SLOT, path);
    return r < 0 ? (int)fail(r) : 0;
}

/* Directories (dirent.h): a handle of the file server's. */
struct __dir {
    long handle;
    struct dirent ent;
};

DIR *opendir(const char *path)
{
    if (!file_ep())
        return NULL;
    long h = fc_opendir(LIBC_FILE_SLOT, path);
    if (h < 0) {
        fail(h);
        return NULL;
    }
    DIR *d = malloc(sizeof *d);
    if (!d) {
        fc_close(LIBC_FILE_SLOT, h);
        errno = ENOMEM;
        return NULL;
    }
    d->handle = h;
    return d;
}

struct dirent *readdir(DIR *d)
{
    unsigned long size, attr;
    long r = fc_readdir(LIBC_FILE_SLOT, d->handle, d->ent.d_name, sizeof d->ent.d_name, &size, &attr);
    if (r <= 0) {
        if (r < 0)
            fail(r);
        return NULL;
    }
    d->ent.d_type = attr & FAT_ATTR_DIR ? DT_DIR : DT_REG;
    return &d->ent;
}

int closedir(DIR *d)
{
    long r = fc_close(LIBC_FILE_SLOT, d->handle);
    free(d);
    return r < 0 ? (int)fail(r) : 0;
}
