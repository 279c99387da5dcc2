/* elf_load.h: planning a program's address space from its ELF image and
 * its argument page; pure functions (host-tested), the process server
 * does the mapping. */
#ifndef FERRY_USER_ELF_LOAD_H
#define FERRY_USER_ELF_LOAD_H

#include <stdbool.h>
#include <stddef.h>

/* One page of the image: where it goes, with which FERRY_MAP_* rights, and
 * the n file bytes at src_off that land at dst_off in it (the rest is zero:
 * bss and the ends of segments). */
struct elf_page {
    unsigned long va, rights;
    size_t src_off, dst_off, n;
};

/* Checks the image (len bytes) and lists its pages in pages[0..*npages),
 * at most max.  Returns NULL or what is wrong: anything elf_parse refuses
 * (lib/elf.c: not ELF64/x86-64/executable, headers or data outside
 * the file, overlapping or wrapping segments, segments at or above
 * user_top), a segment in page 0, an entry point outside the executable
 * segments, more than max pages. */
const char *elf_load_plan(const void *img, size_t len, unsigned long user_top, unsigned long *entry,
                          struct elf_page *pages, size_t max, size_t *npages);

/* Lays out argv and envp (NULL-terminated arrays) on a page of size bytes
 * that the program will see at va: the pointer arrays, then the strings.
 * Returns false when they do not fit; else *argc, *argv_va, *envp_va. */
bool args_pack(void *page, size_t size, unsigned long va, const char *const *argv,
               const char *const *envp, unsigned long *argc, unsigned long *argv_va,
               unsigned long *envp_va);

#endif
