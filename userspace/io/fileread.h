/* fileread.h: the file_read benchmark's reader, one source for both
 * systems: ordinary POSIX C (open, lseek, read, close) that Ferry runs in
 * io.elf (fcat -bench, -gbench: userspace/io/fcat.c) and Linux in its
 * benchmark runner (bench/linux/file.c).  Only the clock differs, passed
 * in as mark(): Ferry's is a getpid() Call the process server timestamps,
 * Linux's the TSC read around the loop's steps. */
#ifndef FERRY_FILEREAD_H
#define FERRY_FILEREAD_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* Each read(2) asks for at most this many bytes (the buffer's size). */
#define FILEREAD_CHUNK 65536

/* open(2)'s flags: Ferry's libc can take the data through a window the
 * file server grants once (O_FERRY_GRANT); Linux has one way only. */
static inline int fileread_flags(int grant)
{
#ifdef O_FERRY_GRANT
    return O_RDONLY | (grant ? O_FERRY_GRANT : 0);
#else
    (void)grant;
    return O_RDONLY;
#endif
}

/* The timed loop: mark(arg) once, then n times: seek to the start, read
 * size bytes in reads of at most FILEREAD_CHUNK bytes into buf (each over
 * the one before: buf holds FILEREAD_CHUNK bytes), mark(arg).  A sample is
 * the time between two marks.  0, or which step failed. */
static int fileread_loop(int fd, unsigned char *buf, size_t size, size_t n,
                         void (*mark)(void *), void *arg)
{
    mark(arg);
    for (size_t i = 0; i < n; i++) {
        if (lseek(fd, 0, SEEK_SET) != 0)
            return 1;
        for (size_t at = 0; at < size;) {
            size_t k = size - at < FILEREAD_CHUNK ? size - at : FILEREAD_CHUNK;
            if (read(fd, buf, k) != (ssize_t)k)
                return 2;
            at += k;
        }
        mark(arg);
    }
    return 0;
}

/* After the loop, untimed: buf's bytes (the last read's) and then the
 * whole file (read again from its start: size bytes, then the end) match
 * pattern(seed, offset).  0, or which check failed. */
static int fileread_check(int fd, unsigned char *buf, size_t size, size_t file_size,
                          unsigned char (*pattern)(uint32_t seed, uint64_t i), uint32_t seed)
{
    size_t last = size ? (size - 1) / FILEREAD_CHUNK * FILEREAD_CHUNK : 0;
    for (size_t i = last; i < size; i++)
        if (buf[i - last] != pattern(seed, i))
            return 10;
    if (lseek(fd, 0, SEEK_SET) != 0)
        return 11;
    size_t at = 0;
    ssize_t got;
    while ((got = read(fd, buf, FILEREAD_CHUNK)) > 0) {
        for (ssize_t i = 0; i < got; i++)
            if (buf[i] != pattern(seed, at + (size_t)i))
                return 12;
        at += (size_t)got;
    }
    return got < 0 || at != file_size ? 13 : 0;
}

#endif
