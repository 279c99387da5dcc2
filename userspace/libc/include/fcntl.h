/* fcntl.h: open(2) of Ferry's libc (files of the file: service). */
#ifndef _FCNTL_H
#define _FCNTL_H

#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR   02
#define O_ACCMODE 03
#define O_CREAT  0100
#define O_EXCL   0200
#define O_TRUNC  01000
#define O_APPEND 02000
/* Ferry's own: the file's data read through a window the file server
 * grants once at open, instead of copied in messages (docs/io.md); a
 * program that builds for Linux too uses it under #ifdef O_FERRY_GRANT. */
#define O_FERRY_GRANT 040000000

int open(const char *path, int flags, ...);

#endif
