/* elf_load.c: a program's pages from its ELF image and its argument page
 * (the parser itself is the kernel's, lib/elf.c, shared as the
 * command-line parser is). */
#include <elf.h>
#include <ferry/arch_x86_64.h>
#include <ferry/elf_load.h>
#include <kstring.h>

const char *elf_load_plan(const void *img, size_t len, unsigned long user_top, unsigned long *entry,
                          struct elf_page *pages, size_t max, size_t *npages)
{
    struct elf_segment segs[ELF_MAX_SEGMENTS];
    size_t nsegs;
    vaddr_t e;
    *npages = 0;
    const char *err = elf_parse(img, len, user_top, &e, segs, &nsegs);
    if (err)
        return err;
    bool entry_ok = false;
    for (size_t i = 0; i < nsegs; i++) {
        const struct elf_segment *s = &segs[i];
        if (s->vaddr < PAGE_SIZE)
            return "segment in page 0";
        if (s->exec && e >= s->vaddr && e < s->vaddr + s->memsz)
            entry_ok = true;
        unsigned long rights = FERRY_MAP_READ | (s->write ? FERRY_MAP_WRITE : 0) |
                               (s->exec ? FERRY_MAP_EXEC : 0);
        for (vaddr_t va = ALIGN_DOWN(s->vaddr, PAGE_SIZE); va < s->vaddr + s->memsz; va += PAGE_SIZE) {
            if (*npages == max)
                return "image has too many pages";
            /* The part of this page the file provides (elf_parse checked
             * offset + filesz against len). */
            vaddr_t lo = va > s->vaddr ? va : s->vaddr;
            vaddr_t hi = va + PAGE_SIZE < s->vaddr + s->filesz ? va + PAGE_SIZE : s->vaddr + s->filesz;
            struct elf_page *p = &pages[(*npages)++];
            *p = (struct elf_page){ .va = va, .rights = rights };
            if (lo < hi) {
                p->src_off = s->offset + (lo - s->vaddr);
                p->dst_off = lo - va;
                p->n = hi - lo;
            }
        }
    }
    if (!entry_ok)
        return "entry point outside the executable segments";
    *entry = e;
    return NULL;
}

bool args_pack(void *page, size_t size, unsigned long va, const char *const *argv,
               const char *const *envp, unsigned long *argc, unsigned long *argv_va,
               unsigned long *envp_va)
{
    size_t na = 0, ne = 0;
    while (argv && argv[na])
        na++;
    while (envp && envp[ne])
        ne++;
    size_t ptrs = (na + 1 + ne + 1) * sizeof(unsigned long);
    if (ptrs > size)
        return false;
    unsigned long *vec = page;
    char *str = (char *)page + ptrs;
    size_t used = ptrs;
    for (size_t i = 0; i < na + ne; i++) {
        const char *s = i < na ? argv[i] : envp[i - na];
        size_t n = strlen(s) + 1;
        if (n > size - used)
            return false;
        memcpy(str, s, n);
        vec[i < na ? i : i + 1] = va + used;
        str += n;
        used += n;
    }
    vec[na] = 0;
    vec[na + 1 + ne] = 0;
    *argc = na;
    *argv_va = va;
    *envp_va = va + (na + 1) * sizeof(unsigned long);
    return true;
}
