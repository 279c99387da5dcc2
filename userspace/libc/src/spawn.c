/* spawn.c: posix_spawn and execve.  posix_spawn asks the process server
 * to start a program of the boot configuration (PROC_SPAWN; the program is
 * path's last component) with argv and envp; execve is that followed by
 * exit with the new program's status, a stand-in until the server can
 * replace an address space in place. */
#include <errno.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <ferry/spawnmsg.h>
#include "libc.h"

int posix_spawn(pid_t *restrict pid, const char *restrict path,
                const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                char *const argv[restrict], char *const envp[restrict])
{
    if (fa || attr)
        return ENOSYS;
    const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char buf[PROC_MAX_PRINT];
    long n = spawnmsg_pack(buf, sizeof buf, name, argv, envp);
    if (n < 0)
        return E2BIG;
    struct sys_msg m = { 0 };
    unsigned long err = __proc_call_bytes(PROC_SPAWN, buf, (size_t)n, &m);
    if (err) {
        __set_errno_proc(err);
        return errno == EACCES || errno == ENOMEM ? errno : ENOENT;
    }
    if (pid)
        *pid = (pid_t)m.w[1];
    return 0;
}

int posix_spawnp(pid_t *restrict pid, const char *restrict file,
                 const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *restrict attr,
                 char *const argv[restrict], char *const envp[restrict])
{
    return posix_spawn(pid, file, fa, attr, argv, envp);
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    pid_t pid;
    int err = posix_spawn(&pid, path, NULL, NULL, argv, envp);
    if (err) {
        errno = err;
        return -1;
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0)
        _exit(127);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}
