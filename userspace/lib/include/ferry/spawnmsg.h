/* spawnmsg.h: the bytes of a PROC_SPAWN request, packed by the libc's
 * posix_spawn and parsed by the process server:
 * "name\0arg1\0...\0\0env1\0...\0\0" (argv[0] is not sent: the program's
 * name takes its place, as at boot). */
#ifndef FERRY_USER_SPAWNMSG_H
#define FERRY_USER_SPAWNMSG_H

#include <stdbool.h>
#include <stddef.h>

/* Packs into buf (max bytes): its length, or -1 when it does not fit or
 * an argument or variable is empty (an empty string would end its list).
 * argv and envp may be NULL; argv[0] is skipped. */
long spawnmsg_pack(char *buf, size_t max, const char *name, char *const argv[], char *const envp[]);

/* Parses len bytes of buf (which must end with the two NULs that end the
 * environment): *name, argv[] and envp[] point into buf, each list
 * NULL-terminated with at most max entries.  False when malformed or a
 * list is longer. */
bool spawnmsg_parse(const char *buf, size_t len, const char **name, const char **argv,
                    const char **envp, unsigned max);

#endif
