/* fileclient.h: the client side of the file: protocol (ferry/io.h) for
 * programs: whole requests of any size, split into IPC-buffer chunks. */
#ifndef FERRY_USER_FILECLIENT_H
#define FERRY_USER_FILECLIENT_H

#include <stddef.h>

/* ep: the slot holding the looked-up file: endpoint.  Results: >= 0, or a
 * negative FAT_E_* / FILE_E_* error; FILE_E_GONE when the server died
 * (look the name up again, reopen, seek, retry). */
long fc_open(unsigned long ep, const char *path, int flags, unsigned long *size);
long fc_read(unsigned long ep, long h, void *buf, size_t n);
/* Zero-copy reads (FILE_O_GRANT): open gives the window (read-only, in
 * this process), each read fills it; fc_read_grant copies from it into buf
 * (as read(2) would), fc_read_window leaves the data there (at most
 * IO_GRANT_BYTES, at *window). */
long fc_open_grant(unsigned long ep, const char *path, int flags, unsigned long *size,
                   const unsigned char **window);
long fc_read_grant(unsigned long ep, long h, const unsigned char *window, void *buf, size_t n);
long fc_read_window(unsigned long ep, long h, size_t n);
long fc_write(unsigned long ep, long h, const void *buf, size_t n);
long fc_seek(unsigned long ep, long h, long off, int whence);
long fc_close(unsigned long ep, long h);
long fc_stat(unsigned long ep, const char *path, unsigned long *size, unsigned long *attr);
long fc_opendir(unsigned long ep, const char *path);
/* 1 with the entry's name (NUL-ended, at most max bytes), 0 at the end. */
long fc_readdir(unsigned long ep, long h, char *name, size_t max, unsigned long *size, unsigned long *attr);
long fc_mkdir(unsigned long ep, const char *path);
long fc_unlink(unsigned long ep, const char *path);
/* tests: the server dies while serving its n-th next request */
long fc_crash(unsigned long ep, unsigned long n);

#endif
