/* filetest.c: the libc's file functions, checked by an ordinary C program
 * that builds unchanged for Ferry (in io.elf, its main renamed by the
 * Makefile; files of the file: service) and for Linux (the host's libc, in a
 * temporary directory: make unit-tests).  argv[1] is the directory to
 * work in.  Exit status 0, or the line of the first check that failed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("filetest: line %d: %s\n", __LINE__, #c); return __LINE__; } } while (0)

static char path[200];

static const char *in(const char *dir, const char *name)
{
    snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
    return path;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char buf[256];
    struct stat st;

    /* stdio: write lines, read them back */
    FILE *f = fopen(in(dir, "FT.TXT"), "w");
    CHECK(f != NULL);
    for (int i = 0; i < 20; i++)
        CHECK(fprintf(f, "line %d of the file test\n", i) > 0);
    CHECK(fclose(f) == 0);
    f = fopen(in(dir, "FT.TXT"), "r");
    CHECK(f != NULL);
    int lines = 0;
    while (fgets(buf, sizeof buf, f)) {
        char want[64];
        snprintf(want, sizeof want, "line %d of the file test\n", lines);
        CHECK(strcmp(buf, want) == 0);
        lines++;
    }
    CHECK(lines == 20 && feof(f));
    CHECK(fclose(f) == 0);

    /* descriptors: read, lseek, fstat, stat */
    int fd = open(in(dir, "FT.TXT"), O_RDONLY);
    CHECK(fd >= 3);
    CHECK(read(fd, buf, 4) == 4 && memcmp(buf, "line", 4) == 0);
    CHECK(lseek(fd, 5, SEEK_SET) == 5);
    CHECK(read(fd, buf, 1) == 1 && buf[0] == '0');
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode));
    long size = (long)st.st_size;
    CHECK(size > 400);
    CHECK(lseek(fd, 0, SEEK_CUR) == 6);                 /* fstat kept the position */
    CHECK(lseek(fd, -5, SEEK_END) == size - 5);
    CHECK(read(fd, buf, sizeof buf) == 5 && memcmp(buf, "test\n", 5) == 0);
    CHECK(read(fd, buf, sizeof buf) == 0);               /* the end */
    CHECK(write(fd, "x", 1) == -1);                       /* opened read-only */
    CHECK(close(fd) == 0);
    CHECK(close(fd) == -1 && errno == EBADF);
    CHECK(stat(in(dir, "FT.TXT"), &st) == 0 && st.st_size == size && S_ISREG(st.st_mode));
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(stat(in(dir, "NONE.TXT"), &st) == -1 && errno == ENOENT);
    CHECK(open(in(dir, "NONE.TXT"), O_RDONLY) == -1 && errno == ENOENT);

    /* append, truncate */
    fd = open(in(dir, "FT.TXT"), O_WRONLY | O_APPEND);
    CHECK(fd >= 3 && write(fd, "tail\n", 5) == 5 && close(fd) == 0);
    CHECK(stat(in(dir, "FT.TXT"), &st) == 0 && st.st_size == size + 5);
    fd = open(in(dir, "FT.TXT"), O_RDWR | O_TRUNC);
    CHECK(fd >= 3 && write(fd, "new", 3) == 3 && lseek(fd, 0, SEEK_SET) == 0);
    CHECK(read(fd, buf, sizeof buf) == 3 && memcmp(buf, "new", 3) == 0 && close(fd) == 0);
    CHECK(open(in(dir, "FT.TXT"), O_WRONLY | O_CREAT | O_EXCL, 0644) == -1 && errno == EEXIST);

    /* a directory, a file in it, the listing */
    CHECK(mkdir(in(dir, "FTDIR"), 0755) == 0 || errno == EEXIST);
    char sub[200];
    snprintf(sub, sizeof sub, "%s", in(dir, "FTDIR"));
    f = fopen(in(sub, "FT2.TXT"), "w");
    CHECK(f != NULL && fwrite("12345", 1, 5, f) == 5 && fclose(f) == 0);
    DIR *d = opendir(sub);
    CHECK(d != NULL);
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL)
        found += strcmp(e->d_name, "FT2.TXT") == 0;
    CHECK(found == 1);
    CHECK(closedir(d) == 0);
    d = opendir(dir);
    CHECK(d != NULL);
    found = 0;
    while ((e = readdir(d)) != NULL)
        found += (strcmp(e->d_name, "FTDIR") == 0 && e->d_type == DT_DIR) + (strcmp(e->d_name, "FT.TXT") == 0);
    CHECK(found == 2);
    CHECK(closedir(d) == 0);
    CHECK(opendir(in(dir, "FT.TXT")) == NULL && errno == ENOTDIR);

    /* unlink */
    CHECK(unlink(in(sub, "FT2.TXT")) == 0);
    CHECK(unlink(in(dir, "FT.TXT")) == 0);
    CHECK(stat(in(dir, "FT.TXT"), &st) == -1 && errno == ENOENT);
    CHECK(unlink(in(dir, "FT.TXT")) == -1 && errno == ENOENT);
    printf("filetest: all checks passed\n");
    return 0;
}
