/* args.c: reports what it was given so the caller can check it: its
 * status encodes argc, the argument bytes and the FERRY_TEST variable
 * (negative: argv not NULL-terminated, or stale bytes on the page). */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    unsigned long sum = 0;
    for (int i = 1; i < argc; i++)          /* argv[0] is the program's name */
        for (const char *p = argv[i]; *p; p++)
            sum = sum * 31 + (unsigned char)*p;
    if (argv[argc] != NULL)
        return -1;                          /* argv must end with NULL */
    /* After the last string the argument page holds nothing (no earlier
     * program's arguments). */
    const char *end = argc ? argv[argc - 1] : (const char *)PROC_ARGS;
    for (char **e = envp; e && *e; e++)
        end = *e;
    end += strlen(end) + 1;
    for (const char *q = end; q < (const char *)(PROC_ARGS + 4096); q++)
        if (*q)
            return -2;
    const char *v = proc_getenv(envp, "FERRY_TEST");
    unsigned long env = 0;
    for (; v && *v; v++)
        env = env * 31 + (unsigned char)*v;
    printf("args: argc %d, %s, FERRY_TEST=%s\n", argc, argv[0], proc_getenv(envp, "FERRY_TEST") ?: "(unset)");
    return (int)((argc + (sum % 1000) * 100 + (env % 1000) * 100000) & 0x7fffffff);
}
