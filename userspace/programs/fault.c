/* fault.c: writes through a null pointer: the process server ends it. */
#include <ferry/prog.h>

int main(int argc, char **argv, char **envp)
{
    (void)argc, (void)argv, (void)envp;
    printf("fault: about to write to address 0\n");
    *(volatile int *)0 = 1;
    return 0;
}
