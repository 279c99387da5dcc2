/* multiboot.c: parsing the Multiboot 1 and Multiboot 2 information structures. */
#include <bootinfo.h>
#include <kstring.h>
#include <mm/physmap.h>

#define MB1_INFO_MEM      BIT(0)
#define MB1_INFO_CMDLINE  BIT(2)
#define MB1_INFO_MODS     BIT(3)
#define MB1_INFO_MMAP     BIT(6)
#define MB1_INFO_LOADER   BIT(9)

struct mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
    uint32_t drives_length, drives_addr, config_table, boot_loader_name;
} __attribute__((packed));

struct mb1_module {
    uint32_t mod_start, mod_end, string, reserved;
} __attribute__((packed));

struct mb1_mmap_entry {
    uint32_t size;              /* of the rest of the entry */
    uint64_t addr, len;
    uint32_t type;
} __attribute__((packed));

enum { MB2_TAG_END = 0, MB2_TAG_CMDLINE = 1, MB2_TAG_LOADER = 2, MB2_TAG_MODULE = 3,
       MB2_TAG_MMAP = 6 };

struct mb2_tag {
    uint32_t type, size;
} __attribute__((packed));

struct mb2_mmap_entry {
    uint64_t addr, len;
    uint32_t type, reserved;
} __attribute__((packed));

/* Copies a NUL-terminated string of at most max bytes (bounded by limit
 * when non-zero) into dst of size n. */
static void copy_str(char *dst, size_t n, const char *src, size_t limit)
{
    size_t i = 0;
    while (i + 1 < n && (limit == 0 || i < limit) && src[i]) {
        dst[i] = src[i];
        i++;
    }
    dst[i] = '\0';
}

static uint32_t mmap_type(uint32_t t)
{
    return t >= MEM_AVAILABLE && t <= MEM_BAD ? t : MEM_RESERVED;
}

/* A module's string, which the root task reads as "path [arguments]" and
 * names the module by the path's file name.  One that does not fit loses
 * the directory of its first word, which nothing uses (a prebuilt
 * kernel's modules sit in long content-addressed paths: a cut there lost
 * the file name, and with it a service); only what is still too long is
 * cut at the end. */
static void copy_module_name(char *dst, size_t n, const char *src, size_t limit)
{
    size_t len = 0, word_dir = 0;
    bool first_word = true;
    while ((limit == 0 || len < limit) && src[len]) {
        if (src[len] == ' ')
            first_word = false;
        else if (src[len] == '/' && first_word)
            word_dir = len + 1;              /* just past the first word's last '/' */
        len++;
    }
    if (len >= n && word_dir) {
        src += word_dir;
        if (limit)
            limit -= word_dir;
    }
    copy_str(dst, n, src, limit);
}

static void add_module(struct boot_info *bi, paddr_t start, paddr_t end, const char *name, size_t limit)
{
    if (bi->nmodules == BOOT_MODULES_MAX) {
        bi->modules_dropped++;
        return;
    }
    struct boot_module *m = &bi->modules[bi->nmodules++];
    m->start = start;
    m->end = end;
    copy_module_name(m->name, sizeof m->name, name ? name : "", limit);
}

static const char *parse_mb1(paddr_t pa, struct boot_info *bi)
{
    const struct mb1_info *mi = phys_to_virt(pa);
    bi->info_start = pa;
    bi->info_end = pa + sizeof *mi;
    if (mi->flags & MB1_INFO_CMDLINE)
        copy_str(bi->cmdline, sizeof bi->cmdline, phys_to_virt(mi->cmdline), 0);
    if (mi->flags & MB1_INFO_LOADER)
        copy_str(bi->loader, sizeof bi->loader, phys_to_virt(mi->boot_loader_name), 0);
    if (mi->flags & MB1_INFO_MODS) {
        const struct mb1_module *mods = phys_to_virt(mi->mods_addr);
        if (mi->mods_count > BOOT_MODULES_MAX)
            bi->modules_dropped = mi->mods_count - BOOT_MODULES_MAX;
        for (uint32_t i = 0; i < mi->mods_count && i < BOOT_MODULES_MAX; i++) {
            if (mods[i].mod_end < mods[i].mod_start)
                return "multiboot1: module ends before it starts";
            add_module(bi, mods[i].mod_start, mods[i].mod_end,
                       mods[i].string ? phys_to_virt(mods[i].string) : NULL, 0);
        }
    }
    if (!(mi->flags & MB1_INFO_MMAP)) {
        if (!(mi->flags & MB1_INFO_MEM))
            return "multiboot1: the loader gave no memory map";
        /* Only the basic counts: low memory and memory above 1 MiB. */
        memmap_add(&bi->firmware_map, 0, (paddr_t)mi->mem_lower * 1024, MEM_AVAILABLE);
        memmap_add(&bi->firmware_map, 0x100000, 0x100000 + (paddr_t)mi->mem_upper * 1024,
                   MEM_AVAILABLE);
        return NULL;
    }
    paddr_t p = mi->mmap_addr, end = (paddr_t)mi->mmap_addr + mi->mmap_length;
    while (p < end) {
        if (end - p < sizeof(struct mb1_mmap_entry))
            return "multiboot1: truncated memory map entry";
        const struct mb1_mmap_entry *e = phys_to_virt(p);
        if (e->size < sizeof *e - 4)
            return "multiboot1: memory map entry too small";
        if (e->addr + e->len < e->addr)
            return "multiboot1: memory map range wraps around";
        memmap_add(&bi->firmware_map, e->addr, e->addr + e->len, mmap_type(e->type));
        p += (paddr_t)e->size + 4;
    }
    return NULL;
}

static const char *parse_mb2(paddr_t pa, struct boot_info *bi)
{
    const uint32_t *hdr = phys_to_virt(pa);
    uint32_t total = hdr[0];
    if (total < 16)
        return "multiboot2: information structure too small";
    bi->info_start = pa;
    bi->info_end = pa + total;
    bool saw_end = false, saw_mmap = false;
    for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
        const struct mb2_tag *t = phys_to_virt(pa + off);
        if (t->size < sizeof *t || t->size > total - off)
            return "multiboot2: tag size out of bounds";
        const char *body = (const char *)(t + 1);
        size_t blen = t->size - sizeof *t;
        switch (t->type) {
        case MB2_TAG_END:
            saw_end = true;
            break;
        case MB2_TAG_CMDLINE:
            copy_str(bi->cmdline, sizeof bi->cmdline, body, blen);
            break;
        case MB2_TAG_LOADER:
            copy_str(bi->loader, sizeof bi->loader, body, blen);
            break;
        case MB2_TAG_MODULE: {
            if (blen < 8)
                return "multiboot2: module tag too small";
            const uint32_t *m = (const uint32_t *)body;
            if (m[1] < m[0])
                return "multiboot2: module ends before it starts";
            add_module(bi, m[0], m[1], body + 8, blen - 8);
            break;
        }
        case MB2_TAG_MMAP: {
            if (blen < 8)
                return "multiboot2: memory map tag too small";
            uint32_t esize = ((const uint32_t *)body)[0];
            if (esize < sizeof(struct mb2_mmap_entry) || esize % 8)
                return "multiboot2: bad memory map entry size";
            for (size_t e = 8; e + esize <= blen; e += esize) {
                const struct mb2_mmap_entry *me = (const void *)(body + e);
                if (me->addr + me->len < me->addr)
                    return "multiboot2: memory map range wraps around";
                memmap_add(&bi->firmware_map, me->addr, me->addr + me->len, mmap_type(me->type));
            }
            saw_mmap = true;
            break;
        }
        default:
            break;
        }
        if (saw_end)
            break;
        off += ALIGN_UP(t->size, 8);
    }
    if (!saw_end)
        return "multiboot2: no end tag";
    if (!saw_mmap)
        return "multiboot2: the loader gave no memory map";
    return NULL;
}

const char *bootinfo_parse(uint32_t magic, paddr_t info_pa, struct boot_info *out)
{
    memset(out, 0, sizeof *out);
    if (magic == MB1_BOOT_MAGIC) {
        out->multiboot_version = 1;
        return parse_mb1(info_pa, out);
    }
    if (magic == MB2_BOOT_MAGIC) {
        out->multiboot_version = 2;
        return parse_mb2(info_pa, out);
    }
    return "not started by a Multiboot loader (bad magic)";
}
