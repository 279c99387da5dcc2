/* demo.c: the boot demo (make run): an ordinary C program that opens a file
 * of the disk image with the libc (the file: server, which reads it through
 * the blk: driver), prints it on its stdout (the serial: driver) and exits.
 * The root task runs it once the driver and the file server are up
 * (userspace/init/demo.c); argv[1] is the file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "io_progs.h"

int demo_main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/HELLO.TXT";
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("demo: open %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("demo: %s from the disk image (file: on blk:):\n", path);
    fflush(stdout);
    char buf[512];
    long n, total = 0;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        /* The file's bytes as they are, through the same descriptor 1 */
        if (write(1, buf, (size_t)n) != n) {
            close(fd);
            return 1;
        }
        total += n;
    }
    int err = n < 0 ? errno : 0;
    if (close(fd) != 0 || err) {
        printf("demo: read %s: %s\n", path, strerror(err ? err : errno));
        return 1;
    }
    printf("demo: %ld bytes, done\n", total);
    return 0;
}
