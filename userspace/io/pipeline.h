/* pipeline.h: "cat FILE | wc" between two processes, one ordinary POSIX C
 * function shared by Ferry's pipetest (its "wc" mode, the pipeline row) and
 * the Linux guest's pipeline row (bench/linux/file.c), so both systems run
 * the same program: pipe, fork; the child opens the file, reads it 4 KiB
 * at a time and writes each piece to the pipe; the parent counts bytes,
 * words and lines of what arrives until the end, then reaps the child. */
#ifndef FERRY_PIPELINE_H
#define FERRY_PIPELINE_H

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

struct pipeline_wc {
    unsigned long bytes, words, lines;
};

/* One run; 0, or which step failed. */
static inline int pipeline_run(const char *path, struct pipeline_wc *wc)
{
    static char buf[4096];
    int p[2];
    if (pipe(p))
        return 1;
    pid_t c = fork();
    if (c < 0)
        return 2;
    if (c == 0) {                                     /* cat */
        close(p[0]);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            _exit(1);
        long k;
        while ((k = read(fd, buf, sizeof buf)) > 0)
            if (write(p[1], buf, (size_t)k) != k)
                _exit(2);
        close(fd);
        _exit(k == 0 ? 0 : 3);
    }
    close(p[1]);                                      /* wc */
    *wc = (struct pipeline_wc){ 0 };
    int in_word = 0;
    long k;
    while ((k = read(p[0], buf, sizeof buf)) > 0) {
        wc->bytes += (unsigned long)k;
        for (long i = 0; i < k; i++) {
            char ch = buf[i];
            int space = ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
            wc->lines += ch == '\n';
            wc->words += !space && !in_word;
            in_word = !space;
        }
    }
    close(p[0]);
    int status;
    if (k < 0 || waitpid(c, &status, 0) != c)
        return 3;
    return status == 0 ? 0 : 4;
}

#endif
