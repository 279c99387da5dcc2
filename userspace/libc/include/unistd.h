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

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

ssize_t write(int fd, const void *buf, size_t n);
/* Files (src/file.c): descriptors from 3 on are open files of the file:
 * service, which the program's manifest must let it look up. */
ssize_t read(int fd, void *buf, size_t n);
int close(int fd);
off_t lseek(int fd, off_t off, int whence);
int unlink(const char *path);
/* Pipes (src/pipe.c): a ring in memory fork shares; blocking by yield. */
int pipe(int fd[2]);
int dup(int fd);
int dup2(int old, int new);
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
