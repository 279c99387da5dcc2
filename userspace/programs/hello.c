/* hello.c: prints its name, pid and arguments; "exit=N" makes N its status. */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    int status = 0;
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
