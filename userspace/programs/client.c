/* client.c: looks up each NAME=EXPECT argument (EXPECT: ok, denied or
 * missing) and checks the answer; a name it got is called once (an echo
 * service must answer w0 + 1).  Status: 0, or the number of the first
 * argument whose answer was wrong. */
#include <ferry/prog.h>

static unsigned long expected(const char *e)
{
    if (strcmp(e, "ok") == 0)
        return PROC_OK;
    if (strcmp(e, "denied") == 0)
        return PROC_E_DENIED;
    if (strcmp(e, "missing") == 0)
        return PROC_E_NOT_FOUND;
    return PROC_E_BAD_REQUEST;
}

int main(int argc, char **argv, char **envp)
{
    (void)envp;
    unsigned long slot = PROC_CAP_FIRST_FREE;
    for (int i = 1; i < argc; i++) {
        char name[PROC_NAME_MAX];
        const char *eq = argv[i];
        while (*eq && *eq != '=')
            eq++;
        size_t n = (size_t)(eq - argv[i]);
        if (!*eq || n >= sizeof name)
            return i;
        memcpy(name, argv[i], n);
        name[n] = '\0';
        unsigned long err = proc_lookup(name, slot);
        printf("client: lookup %s: %lu\n", name, err);
        if (err != expected(eq + 1))
            return i;
        if (err == PROC_OK) {
            struct sys_msg m = { .info = FERRY_MSGINFO(0, 1, 0), .w = { 41 } };
            if (sys_raw(FERRY_SYS_CALL, slot, &m) || m.w[0] != 42)
                return i;
            slot++;
        }
    }
    return 0;
}
