/* hello.c: prints its name, pid and arguments; "exit=N" makes N its
 * status; "exec=NAME" (its first argument) replaces it in place by
 * program NAME with the arguments after it (status 100 + errno if that
 * was refused). */
#include <errno.h>
#include <unistd.h>
#include <ferry/prog.h>

#define PROC_ARGS_MAX_WORDS 32

int main(int argc, char **argv, char **envp)
{
    int status = 0;
    if (argc > 1 && strncmp(argv[1], "exec=", 5) == 0) {
        char *nargv[PROC_ARGS_MAX_WORDS + 1];   /* argv is on a read-only page */
        int n = 0;
        nargv[n++] = argv[1] + 5;       /* the new program's argv[0] */
        for (int i = 2; i < argc && n < PROC_ARGS_MAX_WORDS; i++)
            nargv[n++] = argv[i];
        nargv[n] = NULL;
        execve(nargv[0], nargv, envp);
        return 100 + errno;
    }
    printf("hello from pid %lu:", proc_getpid());
    for (int i = 0; i < argc; i++) {
        printf(" %s", argv[i]);
        if (strncmp(argv[i], "exit=", 5) == 0)
            for (const char *p = argv[i] + 5; *p >= '0' && *p <= '9'; p++)
                status = status * 10 + (*p - '0');
    }
    printf("\n");
    return status;
}
