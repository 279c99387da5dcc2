/* elf.c: reading the loadable segments of an ELF64 x86-64 executable. */
#include <elf.h>
#include <kstring.h>

#define PT_LOAD 1
#define PF_X 1
#define PF_W 2
#define ET_EXEC 2
#define EM_X86_64 62

const char *elf_parse(const void *img, size_t len, vaddr_t user_top, vaddr_t *entry,
                      struct elf_segment *segs, size_t *nsegs)
{
    const struct elf64_ehdr *eh = img;
    *nsegs = 0;
    if (len < sizeof *eh || memcmp(eh->ident, "\177ELF", 4) != 0)
        return "not an ELF file";
    if (eh->ident[4] != 2 || eh->ident[5] != 1)
        return "not a 64-bit little-endian ELF file";
    if (eh->type != ET_EXEC || eh->machine != EM_X86_64)
        return "not an x86-64 executable";
    if (eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > len ||
        (uint64_t)eh->phnum * sizeof(struct elf64_phdr) > len - eh->phoff)
        return "program headers outside the file";
    for (size_t i = 0; i < eh->phnum; i++) {
        const struct elf64_phdr *ph = (const void *)((const char *)img + eh->phoff + i * sizeof *ph);
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        if (*nsegs == ELF_MAX_SEGMENTS)
            return "too many loadable segments";
        if (ph->filesz > ph->memsz || ph->offset > len || ph->filesz > len - ph->offset)
            return "segment data outside the file";
        if (ph->vaddr >= user_top || ph->memsz > user_top - ph->vaddr)
            return "segment outside user space";
        vaddr_t s = ALIGN_DOWN(ph->vaddr, PAGE_SIZE), e = ALIGN_UP(ph->vaddr + ph->memsz, PAGE_SIZE);
        for (size_t k = 0; k < *nsegs; k++) {
            vaddr_t ks = ALIGN_DOWN(segs[k].vaddr, PAGE_SIZE);
            vaddr_t ke = ALIGN_UP(segs[k].vaddr + segs[k].memsz, PAGE_SIZE);
            if (s < ke && ks < e)
                return "segments share a page";
        }
        segs[(*nsegs)++] = (struct elf_segment){
            .vaddr = ph->vaddr, .memsz = ph->memsz, .filesz = ph->filesz, .offset = ph->offset,
            .write = ph->flags & PF_W, .exec = ph->flags & PF_X,
        };
    }
    if (*nsegs == 0)
        return "no loadable segment";
    if (eh->entry >= user_top)
        return "entry point outside user space";
    *entry = eh->entry;
    return NULL;
}
