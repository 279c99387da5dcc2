/* spin.c: says it runs, then loops yielding until it is killed. */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    printf("spin: running\n");
    for (;;)
        sys_yield();
}
