/* cowbench.c: "cowbench N ITERS": the work of the cow_fork and cow_fault
 * benchmarks (bench/ferry/spawn.c times it from the pager's side): N pages
 * of anonymous memory written, then ITERS times: fork, the child writes
 * one word in each page (N copy-on-write faults) and exits, the parent
 * waits.  Status 0, or the step that failed. */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1, iters = argc > 2 ? atol(argv[2]) : 1;
    volatile unsigned char *p = mmap(NULL, (size_t)n * 4096, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 1;
    for (long i = 0; i < n; i++)
        p[i * 4096] = 1;
    for (long k = 0; k < iters; k++) {
        pid_t pid = fork();
        if (pid < 0)
            return 2;
        if (pid == 0) {
            for (long i = 0; i < n; i++)
                p[i * 4096 + 1] = 2;
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return 3;
    }
    return p[0] == 1 && p[1] == 0 ? 0 : 4;
}
