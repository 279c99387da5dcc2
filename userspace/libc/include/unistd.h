/* unistd.h: processes and console output of Ferry's libc (file
 * descriptors beyond the console come from the file server). */
#ifndef _UNISTD_H
#define _UNISTD_H

#include <stddef.h>
#include <sys/types.h>

#define STDIN_FILENO  0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2

extern char **environ;

ssize_t write(int fd, const void *buf, size_t n);
void _exit(int status) __attribute__((noreturn));
pid_t fork(void);
pid_t getpid(void);
pid_t getppid(void);
int execve(const char *path, char *const argv[], char *const envp[]);
int execv(const char *path, char *const argv[]);
long sysconf(int name);
int getpagesize(void);

#define _SC_PAGESIZE 30
#define _SC_PAGE_SIZE _SC_PAGESIZE

#endif
