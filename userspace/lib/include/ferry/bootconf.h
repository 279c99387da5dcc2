/* bootconf.h: the boot configuration (userspace/boot.conf): the programs
 * the system knows, their modules, default arguments and manifests. */
#ifndef FERRY_USER_BOOTCONF_H
#define FERRY_USER_BOOTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <ferry/proc.h>

/*
 * One program a line, '#' starts a comment:
 *
 *   NAME  MODULE  [lookup=N:,N:...]  [register=N:,...]  [ioport=P[-Q],...]  [irq=L,...]
 *                 [start]  [restart]  [mmap_large]  [-- ARGUMENTS...]
 *
 * NAME is what spawn takes; MODULE the boot module holding its ELF image
 * (matched by file name); lookup= lists the names it may ask the name
 * service for and register= those it may serve (its manifest: nothing else
 * is granted); start spawns it when the system starts; restart puts it
 * under the supervisor (restarted, with its default arguments, whenever it
 * faults or is killed); the words after -- are its default arguments.
 * ioport= grants I/O port ranges (hex with 0x, or decimal; P-Q inclusive)
 * and irq= ISA interrupt lines, each delivered to a notification of its
 * own (the device slots: ferry/devcaps.h).  mmap_large lets it ask for
 * the one large region of 2 MiB pages (PROC_MMAP_LARGE: the file server's
 * large RAM disk); without it the process server refuses that request.
 */
#define BOOTCONF_PROGRAMS_MAX 32
#define BOOTCONF_NAMES_MAX    8
#define BOOTCONF_WORD_MAX     64
#define BOOTCONF_ARGS_MAX     256
#define BOOTCONF_IOPORTS_MAX  4
#define BOOTCONF_IRQS_MAX     2

struct bootconf_program {
    char name[BOOTCONF_WORD_MAX];
    char module[BOOTCONF_WORD_MAX];
    char lookup[BOOTCONF_NAMES_MAX][PROC_NAME_MAX];
    unsigned nlookup;
    char reg[BOOTCONF_NAMES_MAX][PROC_NAME_MAX];
    unsigned nreg;
    struct { unsigned short first, last; } ioport[BOOTCONF_IOPORTS_MAX];
    unsigned nioport;
    unsigned char irq[BOOTCONF_IRQS_MAX];
    unsigned nirq;
    bool start;
    bool restart;                   /* the supervisor restarts it when it dies */
    bool mmap_large;                /* it may take the large region (PROC_MMAP_LARGE) */
    char args[BOOTCONF_ARGS_MAX];   /* space-separated */
};

struct bootconf {
    struct bootconf_program prog[BOOTCONF_PROGRAMS_MAX];
    unsigned n;
};

/* Parses len bytes of text (NUL bytes end it early).  Returns NULL, or
 * what is wrong with *line (1-based) and out is unusable. */
const char *bootconf_parse(const char *text, size_t len, struct bootconf *out, unsigned *line);

const struct bootconf_program *bootconf_find(const struct bootconf *c, const char *name);

/* Is name (len bytes, not NUL-terminated) in the list? */
bool bootconf_listed(const char (*list)[PROC_NAME_MAX], unsigned n, const char *name, size_t len);

/* The name a module goes by (boot.conf's module column): the file name of
 * the loader's string s, its first word after the last '/', cut to
 * max - 1 bytes. */
void bootconf_module_name(const char *s, char *out, size_t max);

/* A Redox-style scheme name: 1..30 bytes of [a-z0-9_-] then ':'. */
bool proc_name_valid(const char *name, size_t len);

#endif
