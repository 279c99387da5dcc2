/* io_progs.h: the programs of userspace/programs/io.c, one ELF (one boot
 * module) for the three, chosen by argv[0] (the boot.conf name). */
#ifndef FERRY_IO_PROGS_H
#define FERRY_IO_PROGS_H

int ata_main(int argc, char **argv, char **envp);     /* blk:, the ATA driver */
int fatfs_main(int argc, char **argv, char **envp);   /* file:, the FAT file server */
int serial_main(int argc, char **argv, char **envp);   /* serial:, the COM1 driver */
int sertest_main(int argc, char **argv);               /* sertest.c: prints and reads through serial: */
int pipesrv_main(int argc, char **argv, char **envp);  /* pipe:, named pipes */
int npipetest_main(int argc, char **argv);             /* npipetest.c: named pipes, checked */
int fcat_main(int argc, char **argv, char **envp);    /* the demo and test client */
int demo_main(int argc, char **argv);                  /* demo.c: make run's file, printed */
int filetest_main(int argc, char **argv);              /* filetest.c's main: the libc's file functions */
int pipetest_main(int argc, char **argv);              /* pipetest.c's main: pipes */

#endif
