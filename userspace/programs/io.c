/* io.c: the block driver, the file server and their clients in one ELF,
 * and the serial driver, run as whichever boot.conf names it (argv[0]: ata,
 * fatfs, fcat, demo, filetest, pipetest, serial, sertest, pipesrv or
 * npipetest): one boot module for ten programs, the boot modules being few. */
#include <ferry/prog.h>
#include "../io/io_progs.h"

int main(int argc, char **argv, char **envp)
{
    const char *name = argc > 0 ? argv[0] : "";
    if (strcmp(name, "ata") == 0)
        return ata_main(argc, argv, envp);
    if (strcmp(name, "fatfs") == 0)
        return fatfs_main(argc, argv, envp);
    if (strcmp(name, "fcat") == 0)
        return fcat_main(argc, argv, envp);
    if (strcmp(name, "demo") == 0)
        return demo_main(argc, argv);
    if (strcmp(name, "filetest") == 0)
        return filetest_main(argc, argv);
    if (strcmp(name, "serial") == 0)
        return serial_main(argc, argv, envp);
    if (strcmp(name, "pipesrv") == 0)
        return pipesrv_main(argc, argv, envp);
    if (strcmp(name, "npipetest") == 0)
        return npipetest_main(argc, argv);
    if (strcmp(name, "sertest") == 0)
        return sertest_main(argc, argv);
    if (strcmp(name, "pipetest") == 0)
        return pipetest_main(argc, argv);
    printf("io: no program named %s here\n", name);
    return 127;
}
