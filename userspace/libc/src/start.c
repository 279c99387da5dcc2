/* start.c: from crt0 to main and back out through exit. */
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv, char **envp);

char **environ;

void __libc_start(int argc, char **argv, char **envp) __attribute__((noreturn));
void __libc_start(int argc, char **argv, char **envp)
{
    environ = envp;
    exit(main(argc, argv, envp));
}
