/* true.c: does nothing and exits with status 0 (the spawn benchmark's program). */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    return 0;
}
