/* spawnmsg.c: packing and parsing a PROC_SPAWN request (format:
 * ferry/spawnmsg.h), shared by the libc and the process server. */
#include <ferry/spawnmsg.h>
#include <kstring.h>

long spawnmsg_pack(char *buf, size_t max, const char *name, char *const argv[], char *const envp[])
{
    size_t n = strlen(name) + 1;
    if (n > max)
        return -1;
    memcpy(buf, name, n);
    for (int pass = 0; pass < 2; pass++) {
        char *const *v = pass == 0 ? (argv && argv[0] ? argv + 1 : NULL) : envp;
        for (; v && *v; v++) {
            size_t k = strlen(*v) + 1;
            if (k == 1 || n + k + 1 > max)
                return -1;
            memcpy(buf + n, *v, k);
            n += k;
        }
        if (n + 1 > max)
            return -1;
        buf[n++] = '\0';
    }
    return (long)n;
}

bool spawnmsg_parse(const char *buf, size_t len, const char **name, const char **argv,
                    const char **envp, unsigned max)
{
    /* The last two bytes end the environment (empty) or its last string
     * and the list: either way every strlen below stops inside buf. */
    if (len < 3 || buf[len - 1] || buf[len - 2])
        return false;
    const char *s = buf, *end = buf + len;
    *name = s;
    s += strlen(s) + 1;
    for (int pass = 0; pass < 2; pass++) {
        const char **v = pass == 0 ? argv : envp;
        unsigned n = 0;
        while (s < end && *s) {
            if (n == max)
                return false;
            v[n++] = s;
            s += strlen(s) + 1;
        }
        v[n] = NULL;
        if (s >= end)
            return false;              /* no NUL left to end this list */
        s++;
    }
    return s == end;
}
