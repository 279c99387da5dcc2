/* elf.h: reading the loadable segments of an ELF64 x86-64 executable. */
#ifndef FERRY_ELF_H
#define FERRY_ELF_H

#include <types.h>

#define ELF_MAX_SEGMENTS 8

/* The file and program headers as they are on disk (elf_parse reads them;
 * the host tests build images with them). */
struct elf64_ehdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};

struct elf64_phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf_segment {
    vaddr_t vaddr;
    uint64_t memsz, filesz, offset;
    bool write, exec;
};

/* Checks the image (len bytes) and lists its PT_LOAD segments.  Returns
 * NULL or what is wrong: not ELF64/x86-64/executable, a header or segment
 * outside the file, a segment that wraps or reaches user_top, overlapping
 * segments, too many segments. */
const char *elf_parse(const void *img, size_t len, vaddr_t user_top, vaddr_t *entry,
                      struct elf_segment *segs, size_t *nsegs);

#endif
