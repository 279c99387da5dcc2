/* npipetest.c: named pipes of the pipe: service between two processes that
 * share no memory, as the boot.conf programs the test spawns separately:
 * "npipetest write NAME BYTES" writes BYTES patterned bytes in 1000-byte
 * pieces (more than the service holds: it waits for room) and closes;
 * "npipetest read NAME BYTES" reads until the end and checks every byte
 * and the count; "npipetest epipe NAME" opens the read end, closes it,
 * then finds a write refused with EPIPE.  Status 0, or the failed check. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "io_progs.h"

static unsigned char pat(unsigned long i) { return (unsigned char)(i * 13 + (i >> 9)); }

int npipetest_main(int argc, char **argv)
{
    if (argc < 3)
        return 1;
    char path[40] = "pipe:";
    strncat(path, argv[2], sizeof path - 6);
    long bytes = argc > 3 ? atol(argv[3]) : 0;
    if (strcmp(argv[1], "write") == 0) {
        int fd = open(path, O_WRONLY);
        if (fd < 0)
            return 2;
        unsigned char chunk[1000];
        for (long at = 0; at < bytes; at += 1000) {
            long k = bytes - at < 1000 ? bytes - at : 1000;
            for (long i = 0; i < k; i++)
                chunk[i] = pat((unsigned long)(at + i));
            if (write(fd, chunk, (size_t)k) != k)
                return 3;
        }
        return close(fd) == 0 ? 0 : 4;
    }
    if (strcmp(argv[1], "read") == 0) {
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return 5;
        unsigned char buf[777];
        long got = 0, n;
        while ((n = read(fd, buf, sizeof buf)) > 0) {
            for (long i = 0; i < n; i++)
                if (buf[i] != pat((unsigned long)(got + i)))
                    return 6;
            got += n;
        }
        if (n != 0 || got != bytes || read(fd, buf, 1) != 0)
            return 7;
        return close(fd) == 0 ? 0 : 8;
    }
    if (strcmp(argv[1], "epipe") == 0) {
        int r = open(path, O_RDONLY), w = open(path, O_WRONLY);
        if (r < 0 || w < 0 || write(w, "x", 1) != 1 || close(r) != 0)
            return 9;
        errno = 0;
        if (write(w, "y", 1) != -1 || errno != EPIPE)
            return 10;
        return close(w) == 0 ? 0 : 11;
    }
    return 12;
}
