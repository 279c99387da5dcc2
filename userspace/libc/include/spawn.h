/* spawn.h: posix_spawn of Ferry's libc: path names a program of the boot
 * configuration (its last path component, so "/bin/true" is "true"); no
 * file actions or attributes are supported (pass NULL). */
#ifndef _SPAWN_H
#define _SPAWN_H

#include <sys/types.h>

typedef struct { int unused; } posix_spawn_file_actions_t;
typedef struct { int unused; } posix_spawnattr_t;

int posix_spawn(pid_t *restrict pid, const char *restrict path,
                const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                char *const argv[restrict], char *const envp[restrict]);
int posix_spawnp(pid_t *restrict pid, const char *restrict file,
                 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                 char *const argv[restrict], char *const envp[restrict]);

#endif
