/* fat.c: FAT12/FAT16/FAT32 over a block device: mount, format, lookup (long
 * and 8.3 names), read, write with cluster allocation, create, mkdir,
 * unlink, directory listing (the on-disk format: Microsoft's FAT
 * specification). */
#include <ferry/fat.h>
#include <kstring.h>

#define EOC12 0xff8u
#define EOC16 0xfff8u
#define EOC32 0x0ffffff8u
#define DIRENT 32u
#define DELETED 0xe5

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

/* ---- the sector cache: FAT and directory sectors, write-through ---- */

static uint8_t *cache_get(struct fat_fs *fs, uint64_t lba)
{
    struct fat_cache_line *victim = &fs->cache[0];
    for (unsigned i = 0; i < FAT_CACHE_SECTORS; i++) {
        struct fat_cache_line *c = &fs->cache[i];
        if (c->valid && c->lba == lba) {
            c->age = ++fs->clock;
            return c->data;
        }
        if (!c->valid || (victim->valid && c->age < victim->age))
            victim = c;
    }
    victim->valid = false;
    if (fs->dev.read(fs->dev.ctx, lba, 1, victim->data))
        return NULL;
    victim->lba = lba;
    victim->valid = true;
    victim->age = ++fs->clock;
    return victim->data;
}

/* data is a line's buffer from cache_get, changed in place. */
static int cache_write(struct fat_fs *fs, uint64_t lba, const uint8_t *data)
{
    return fs->dev.write(fs->dev.ctx, lba, 1, data) ? FAT_E_IO : FAT_OK;
}

/* Data sectors bypass the cache, so a stale copy must not survive there. */
static void cache_forget(struct fat_fs *fs, uint64_t lba, uint32_t count)
{
    for (unsigned i = 0; i < FAT_CACHE_SECTORS; i++)
        if (fs->cache[i].valid && fs->cache[i].lba >= lba && fs->cache[i].lba < lba + count)
            fs->cache[i].valid = false;
}

/* ---- the allocation table ---- */

static bool clus_valid(const struct fat_fs *fs, uint32_t c)
{
    return c >= 2 && c < fs->nclusters + 2;
}

static bool clus_eoc(const struct fat_fs *fs, uint32_t v)
{
    return v >= (fs->type == 12 ? EOC12 : fs->type == 16 ? EOC16 : EOC32);
}

static uint64_t clus_lba(const struct fat_fs *fs, uint32_t c)
{
    return fs->data_start + (uint64_t)(c - 2) * fs->sec_per_clus;
}

/* FAT12's entries are 12 bits, two in three bytes, and one may straddle two
 * sectors: byte k of the table (the first copy when i is 0). */
static uint8_t *fat12_byte(struct fat_fs *fs, uint32_t i, uint32_t k, uint64_t *lba)
{
    *lba = fs->fat_start + i * fs->fat_sectors + k / FAT_SECTOR;
    uint8_t *s = cache_get(fs, *lba);
    return s ? s + k % FAT_SECTOR : NULL;
}

/* The entry of cluster c, or 0xffffffff on an I/O error. */
static uint32_t fat_get(struct fat_fs *fs, uint32_t c)
{
    if (fs->type == 12) {
        uint64_t lba;
        uint32_t k = c + c / 2;
        const uint8_t *lo = fat12_byte(fs, 0, k, &lba);
        if (!lo)
            return 0xffffffffu;
        uint32_t v = *lo;            /* read before the next sector may take its line */
        const uint8_t *hi = fat12_byte(fs, 0, k + 1, &lba);
        if (!hi)
            return 0xffffffffu;
        v |= (uint32_t)*hi << 8;
        return c & 1 ? v >> 4 : v & 0xfffu;
    }
    uint32_t off = c * (fs->type == 16 ? 2 : 4);
    const uint8_t *s = cache_get(fs, fs->fat_start + off / FAT_SECTOR);
    if (!s)
        return 0xffffffffu;
    return fs->type == 16 ? le16(s + off % FAT_SECTOR) : le32(s + off % FAT_SECTOR) & 0x0fffffffu;
}

/* Cluster c's 12-bit entry in copy i: its two bytes, each written back
 * (they may lie in two sectors). */
static int fat12_set(struct fat_fs *fs, uint32_t i, uint32_t c, uint32_t v)
{
    uint32_t k = c + c / 2;
    uint64_t lba;
    uint8_t *b = fat12_byte(fs, i, k, &lba);
    if (!b)
        return FAT_E_IO;
    *b = c & 1 ? (uint8_t)((*b & 0x0f) | (v << 4 & 0xf0)) : (uint8_t)v;
    if (cache_write(fs, lba, b - (k % FAT_SECTOR)))
        return FAT_E_IO;
    if (!(b = fat12_byte(fs, i, k + 1, &lba)))
        return FAT_E_IO;
    *b = c & 1 ? (uint8_t)(v >> 4) : (uint8_t)((*b & 0xf0) | (v >> 8 & 0x0f));
    return cache_write(fs, lba, b - ((k + 1) % FAT_SECTOR)) ? FAT_E_IO : FAT_OK;
}

/* Sets cluster c's entry in every copy of the table. */
static int fat_set(struct fat_fs *fs, uint32_t c, uint32_t v)
{
    uint32_t off = c * (fs->type == 16 ? 2 : 4);
    for (uint32_t i = 0; i < fs->nfats; i++) {
        if (fs->type == 12) {
            int err = fat12_set(fs, i, c, v);
            if (err)
                return err;
            continue;
        }
        uint64_t lba = fs->fat_start + i * fs->fat_sectors + off / FAT_SECTOR;
        uint8_t *s = cache_get(fs, lba);
        if (!s)
            return FAT_E_IO;
        if (fs->type == 16)
            put16(s + off % FAT_SECTOR, v);
        else   /* the top four bits are reserved: kept */
            put32(s + off % FAT_SECTOR, (le32(s + off % FAT_SECTOR) & 0xf0000000u) | (v & 0x0fffffffu));
        if (cache_write(fs, lba, s))
            return FAT_E_IO;
    }
    return FAT_OK;
}

/* The cluster after c in its chain: 0 at the end, -error on a broken chain. */
static long fat_next(struct fat_fs *fs, uint32_t c)
{
    uint32_t v = fat_get(fs, c);
    if (v == 0xffffffffu)
        return FAT_E_IO;
    if (clus_eoc(fs, v))
        return 0;
    return clus_valid(fs, v) ? (long)v : FAT_E_FORMAT;
}

/* A free cluster, marked as a chain's end and zeroed if asked; 0 when full. */
static long fat_alloc(struct fat_fs *fs, bool zero)
{
    for (uint32_t i = 0; i < fs->nclusters; i++) {
        uint32_t c = 2 + (fs->next_free - 2 + i) % fs->nclusters;
        uint32_t v = fat_get(fs, c);
        if (v == 0xffffffffu)
            return FAT_E_IO;
        if (v != 0)
            continue;
        int err = fat_set(fs, c, fs->type == 12 ? 0xfffu : fs->type == 16 ? 0xffffu : 0x0fffffffu);
        if (err)
            return err;
        fs->next_free = c + 1 < fs->nclusters + 2 ? c + 1 : 2;
        if (fs->free_count != 0xffffffffu)
            fs->free_count--;
        fs->fsinfo_dirty = true;
        if (zero) {
            memset(fs->bounce, 0, FAT_SECTOR);
            for (uint32_t s = 0; s < fs->sec_per_clus; s++)
                if (fs->dev.write(fs->dev.ctx, clus_lba(fs, c) + s, 1, fs->bounce))
                    return FAT_E_IO;
            cache_forget(fs, clus_lba(fs, c), fs->sec_per_clus);
        }
        return c;
    }
    return FAT_E_NOSPC;
}

static int fat_free_chain(struct fat_fs *fs, uint32_t c)
{
    for (uint32_t n = 0; clus_valid(fs, c) && n <= fs->nclusters; n++) {
        long next = fat_next(fs, c);
        if (next < 0)
            return (int)next;
        int err = fat_set(fs, c, 0);
        if (err)
            return err;
        if (fs->free_count != 0xffffffffu)
            fs->free_count++;
        fs->fsinfo_dirty = true;
        c = (uint32_t)next;
    }
    return FAT_OK;
}

/* ---- mounting ---- */

int fat_mount(struct fat_fs *fs, const struct fat_blockdev *dev)
{
    memset(fs, 0, sizeof *fs);
    fs->dev = *dev;
    const uint8_t *b = cache_get(fs, 0);
    if (!b)
        return FAT_E_IO;
    if (b[510] != 0x55 || b[511] != 0xaa || le16(b + 11) != FAT_SECTOR)
        return FAT_E_FORMAT;
    uint32_t spc = b[13], reserved = le16(b + 14), nfats = b[16], root_ents = le16(b + 17);
    uint32_t total = le16(b + 19) ? le16(b + 19) : le32(b + 32);
    uint32_t fatsz = le16(b + 22) ? le16(b + 22) : le32(b + 36);
    if (spc == 0 || (spc & (spc - 1)) || nfats == 0 || fatsz == 0 || reserved == 0)
        return FAT_E_FORMAT;
    uint32_t root_secs = (root_ents * DIRENT + FAT_SECTOR - 1) / FAT_SECTOR;
    uint32_t meta = reserved + nfats * fatsz + root_secs;
    if (total <= meta)
        return FAT_E_FORMAT;
    uint32_t nclus = (total - meta) / spc;
    fs->type = nclus < 4085 ? 12 : nclus < 65525 ? 16 : 32;   /* the count decides, as the specification says */
    if (fs->type != 32 && root_ents == 0)
        return FAT_E_FORMAT;
    fs->sec_per_clus = spc;
    fs->clus_bytes = spc * FAT_SECTOR;
    fs->fat_start = reserved;
    fs->fat_sectors = fatsz;
    fs->nfats = nfats;
    fs->root_start = reserved + nfats * fatsz;
    fs->root_sectors = root_secs;
    fs->data_start = meta;
    fs->nclusters = nclus;
    fs->free_count = 0xffffffffu;
    fs->next_free = 2;
    /* the table must cover every cluster */
    if ((uint64_t)fatsz * FAT_SECTOR * 2 < (uint64_t)(nclus + 2) * (fs->type == 12 ? 3 : fs->type == 16 ? 4 : 8))
        return FAT_E_FORMAT;
    if (fs->type == 32) {
        fs->root_cluster = le32(b + 44);
        if (!clus_valid(fs, fs->root_cluster) || root_ents != 0)
            return FAT_E_FORMAT;
        uint32_t info = le16(b + 48);
        if (info && info < reserved) {
            const uint8_t *s = cache_get(fs, info);
            if (!s)
                return FAT_E_IO;
            if (le32(s) == 0x41615252u && le32(s + 484) == 0x61417272u) {
                fs->fsinfo_sector = info;
                fs->free_count = le32(s + 488);
                if (fs->free_count > nclus)
                    fs->free_count = 0xffffffffu;
                if (clus_valid(fs, le32(s + 492)))
                    fs->next_free = le32(s + 492);
            }
        }
    }
    return FAT_OK;
}

int fat_sync(struct fat_fs *fs)
{
    if (!fs->fsinfo_dirty || !fs->fsinfo_sector)
        return FAT_OK;
    uint8_t *s = cache_get(fs, fs->fsinfo_sector);
    if (!s)
        return FAT_E_IO;
    put32(s + 488, fs->free_count);
    put32(s + 492, fs->next_free);
    fs->fsinfo_dirty = false;
    return cache_write(fs, fs->fsinfo_sector, s);
}

/* ---- files: cluster walking ---- */

/* The cluster holding the file's cluster index idx (from the last one
 * found, when that is not past it); 0 if the chain is shorter. */
static long file_cluster(struct fat_file *f, uint32_t idx)
{
    uint32_t c = f->first, i = 0;
    if (f->cur_clus && f->cur_idx <= idx) {
        c = f->cur_clus;
        i = f->cur_idx;
    }
    if (!c)
        return 0;
    while (i < idx) {
        long next = fat_next(f->fs, c);
        if (next <= 0)
            return next;
        c = (uint32_t)next;
        i++;
    }
    f->cur_clus = c;
    f->cur_idx = idx;
    return c;
}

/* How many clusters from c on (at most max) follow each other on disk. */
static uint32_t run_length(struct fat_fs *fs, uint32_t c, uint32_t max)
{
    uint32_t n = 1;
    while (n < max) {
        long next = fat_next(fs, c);
        if (next != (long)c + 1)
            break;
        c++;
        n++;
    }
    return n;
}

/* A directory's sector holding entry index; FAT16's root (first == 0 on a
 * FAT16 volume) is a fixed region.  0 past the end. */
static uint64_t dir_sector(struct fat_file *d, uint32_t index, uint32_t *off)
{
    struct fat_fs *fs = d->fs;
    uint32_t byte = index * DIRENT;
    *off = byte % FAT_SECTOR;
    if (d->first == 0 && fs->type != 32)
        return byte / FAT_SECTOR < fs->root_sectors ? fs->root_start + byte / FAT_SECTOR : 0;
    long c = file_cluster(d, byte / fs->clus_bytes);
    if (c <= 0)
        return 0;
    return clus_lba(fs, (uint32_t)c) + (byte % fs->clus_bytes) / FAT_SECTOR;
}

/* ---- names ---- */

static char upper(char c) { return c >= 'a' && c <= 'z' ? (char)(c - 32) : c; }
static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static bool name_eq(const char *a, size_t alen, const char *b)
{
    size_t i = 0;
    for (; i < alen && b[i]; i++)
        if (upper(a[i]) != upper(b[i]))
            return false;
    return i == alen && b[i] == 0;
}

/* The 8.3 name as displayed, honouring the lowercase flags Windows and
 * mtools set (NTRes bits 3 and 4). */
static void short_name(const uint8_t *e, char *out)
{
    size_t n = 0;
    for (int i = 0; i < 8 && e[i] != ' '; i++) {
        char c = (char)(i == 0 && e[0] == 0x05 ? 0xe5 : e[i]);
        out[n++] = (e[12] & 0x08) ? lower(c) : c;
    }
    if (e[8] != ' ') {
        out[n++] = '.';
        for (int i = 8; i < 11 && e[i] != ' '; i++)
            out[n++] = (e[12] & 0x10) ? lower((char)e[i]) : (char)e[i];
    }
    out[n] = 0;
}

static uint8_t lfn_checksum(const uint8_t *name11)
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + name11[i]);
    return sum;
}

/* Makes the 11-byte 8.3 form of name[0..len); NTRes case flags in *ntres.
 * Mixed-case parts are stored upper-case. */
static int make_short(const char *name, size_t len, uint8_t out[11], uint8_t *ntres)
{
    static const char bad[] = "\"*+,/:;<=>?[\\]|";
    memset(out, ' ', 11);
    *ntres = 0;
    if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return FAT_E_NAME;
    size_t dot = len;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '.') {
            if (dot != len)
                return FAT_E_NAME;
            dot = i;
        }
    if (dot == 0 || dot > 8 || (dot < len && (len - dot - 1 == 0 || len - dot - 1 > 3)))
        return FAT_E_NAME;
    bool lo[2] = { true, true }, up[2] = { true, true };
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (i == dot)
            continue;
        if ((unsigned char)c <= ' ' || (unsigned char)c >= 0x7f)
            return FAT_E_NAME;
        for (const char *b = bad; *b; b++)
            if (c == *b)
                return FAT_E_NAME;
        int part = i > dot;
        if (c >= 'a' && c <= 'z')
            up[part] = false;
        if (c >= 'A' && c <= 'Z')
            lo[part] = false;
        out[part ? 8 + (i - dot - 1) : i] = (uint8_t)upper(c);
    }
    if (lo[0] && !up[0])
        *ntres |= 0x08;
    if (lo[1] && !up[1])
        *ntres |= 0x10;
    return FAT_OK;
}

/* ---- directories ---- */

struct dir_iter {
    struct fat_file dir;
    uint32_t index;
    char lfn[FAT_NAME_MAX];
    uint8_t lfn_sum;
    int lfn_next;          /* the sequence number expected next; 0: none */
    uint32_t lfn_first;    /* the index of the long name's first entry */
};

static void dir_begin(struct dir_iter *it, struct fat_fs *fs, uint32_t first)
{
    memset(&it->dir, 0, sizeof it->dir);
    it->dir.fs = fs;
    it->dir.first = first;
    it->index = 0;
    it->lfn[0] = 0;
    it->lfn_sum = 0;
    it->lfn_next = 0;
}

/* The next live entry: 1 with its location and name, 0 at the end. */
static int dir_next(struct dir_iter *it, uint8_t ent[DIRENT], uint64_t *lba, uint32_t *off,
                    char *name, uint32_t *first_index)
{
    for (;; it->index++) {
        uint64_t s = dir_sector(&it->dir, it->index, off);
        if (!s)
            return 0;
        const uint8_t *sec = cache_get(it->dir.fs, s);
        if (!sec)
            return FAT_E_IO;
        const uint8_t *e = sec + *off;
        if (e[0] == 0)
            return 0;
        if (e[0] == DELETED) {
            it->lfn_next = 0;
            continue;
        }
        if (e[11] == FAT_ATTR_LFN) {
            int seq = e[0] & 0x1f;
            if (e[0] & 0x40) {
                memset(it->lfn, 0, sizeof it->lfn);
                it->lfn_sum = e[13];
                it->lfn_first = it->index;
            } else if (seq != it->lfn_next || e[13] != it->lfn_sum) {
                it->lfn_next = 0;
                continue;
            }
            static const uint8_t at[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
            for (int k = 0; k < 13; k++) {
                unsigned pos = (unsigned)(seq - 1) * 13 + (unsigned)k;
                uint16_t ch = le16(e + at[k]);
                if (pos < FAT_NAME_MAX - 1 && ch != 0 && ch != 0xffff)
                    it->lfn[pos] = ch < 0x80 ? (char)ch : '?';
            }
            it->lfn_next = seq - 1;
            continue;
        }
        memcpy(ent, e, DIRENT);
        *lba = s;
        bool long_ok = it->lfn_next == 0 && it->lfn[0] && it->lfn_sum == lfn_checksum(e);
        if (long_ok) {
            memcpy(name, it->lfn, FAT_NAME_MAX);
            *first_index = it->lfn_first;
        } else {
            short_name(e, name);
            *first_index = it->index;
        }
        it->lfn[0] = 0;
        it->lfn_next = 0;
        it->index++;
        return 1;
    }
}

struct found {
    uint8_t ent[DIRENT];
    uint64_t lba;          /* the short entry's place */
    uint32_t off;
    uint32_t first_index, index;   /* the long name's first entry, the short entry */
    uint32_t dir_first;    /* the directory it is in */
};

static uint32_t ent_cluster(const struct fat_fs *fs, const uint8_t *e)
{
    return (fs->type == 32 ? (uint32_t)le16(e + 20) << 16 : 0) | le16(e + 26);
}

/* Looks name[0..len) up in the directory starting at cluster dir. */
static int dir_find(struct fat_fs *fs, uint32_t dir, const char *name, size_t len, struct found *out)
{
    struct dir_iter it;
    char got[FAT_NAME_MAX], sn[13];
    dir_begin(&it, fs, dir);
    for (;;) {
        int r = dir_next(&it, out->ent, &out->lba, &out->off, got, &out->first_index);
        if (r <= 0)
            return r ? r : FAT_E_NOENT;
        if (out->ent[11] & FAT_ATTR_VOLUME)
            continue;
        short_name(out->ent, sn);
        if (name_eq(name, len, got) || name_eq(name, len, sn)) {
            out->index = it.index - 1;
            out->dir_first = dir;
            return FAT_OK;
        }
    }
}

static uint32_t root_of(const struct fat_fs *fs)
{
    return fs->type == 32 ? fs->root_cluster : 0;
}

/* Walks path: on FAT_OK *out is the last component's entry; on
 * FAT_E_NOENT for the last component *parent is its directory and *last
 * its name, for a create. */
static int path_walk(struct fat_fs *fs, const char *path, struct found *out, uint32_t *parent,
                     const char **last, size_t *last_len)
{
    uint32_t dir = root_of(fs);
    const char *p = path;
    while (*p == '/')
        p++;
    if (!*p)
        return FAT_E_INVAL;     /* the root itself: callers handle it */
    for (;;) {
        const char *end = p;
        while (*end && *end != '/')
            end++;
        size_t len = (size_t)(end - p);
        const char *rest = end;
        while (*rest == '/')
            rest++;
        int err = dir_find(fs, dir, p, len, out);
        if (err == FAT_E_NOENT && !*rest) {
            *parent = dir;
            *last = p;
            *last_len = len;
        }
        if (err || !*rest)
            return err;
        if (!(out->ent[11] & FAT_ATTR_DIR))
            return FAT_E_NOTDIR;
        dir = ent_cluster(fs, out->ent);   /* ".." to the root reads 0 */
        if (dir == 0)
            dir = root_of(fs);
        p = rest;
    }
}

/* A free run of one entry in the directory (extended by a cluster when
 * full, except FAT16's fixed root). */
static int dir_slot(struct fat_fs *fs, uint32_t dir, uint64_t *lba, uint32_t *off)
{
    struct fat_file d = { .fs = fs, .first = dir };
    for (uint32_t index = 0;; index++) {
        uint64_t s = dir_sector(&d, index, off);
        if (!s)
            break;
        const uint8_t *sec = cache_get(fs, s);
        if (!sec)
            return FAT_E_IO;
        if (sec[*off] == 0 || sec[*off] == DELETED) {
            *lba = s;
            return FAT_OK;
        }
    }
    if (dir == 0 && fs->type != 32)
        return FAT_E_NOSPC;
    /* d.cur_clus is the directory's last cluster now */
    long c = fat_alloc(fs, true);
    if (c < 0)
        return (int)c;
    int err = fat_set(fs, d.cur_clus, (uint32_t)c);
    if (err)
        return err;
    *lba = clus_lba(fs, (uint32_t)c);
    *off = 0;
    return FAT_OK;
}

/* Writes a fresh short entry (and nothing else) into the directory. */
static int dir_add(struct fat_fs *fs, uint32_t dir, const char *name, size_t len, uint8_t attr,
                   uint32_t first, uint64_t *lba, uint32_t *off)
{
    uint8_t sn[11], ntres;
    int err = make_short(name, len, sn, &ntres);
    if (err)
        return err;
    err = dir_slot(fs, dir, lba, off);
    if (err)
        return err;
    uint8_t *sec = cache_get(fs, *lba);
    if (!sec)
        return FAT_E_IO;
    uint8_t *e = sec + *off;
    memset(e, 0, DIRENT);
    memcpy(e, sn, 11);
    if (e[0] == DELETED)
        e[0] = 0x05;
    e[11] = attr;
    e[12] = ntres;
    /* a fixed time stamp (no clock here): 2026-01-01 00:00 */
    put16(e + 16, (46u << 9) | (1u << 5) | 1u);
    put16(e + 18, (46u << 9) | (1u << 5) | 1u);
    put16(e + 24, (46u << 9) | (1u << 5) | 1u);
    put16(e + 20, first >> 16);
    put16(e + 26, first & 0xffff);
    return cache_write(fs, *lba, sec);
}

/* ---- the public calls ---- */

static void file_from(struct fat_file *f, struct fat_fs *fs, const struct found *fd, int flags)
{
    memset(f, 0, sizeof *f);
    f->fs = fs;
    f->first = ent_cluster(fs, fd->ent);
    f->size = le32(fd->ent + 28);
    f->attr = fd->ent[11];
    f->dirent_lba = (uint32_t)fd->lba;
    f->dirent_off = (uint16_t)fd->off;
    f->flags = flags;
    f->open = true;
}

/* Stores the file's size and first cluster in its directory entry. */
static int file_update_entry(struct fat_file *f)
{
    uint8_t *sec = cache_get(f->fs, f->dirent_lba);
    if (!sec)
        return FAT_E_IO;
    uint8_t *e = sec + f->dirent_off;
    put32(e + 28, f->size);
    put16(e + 20, f->fs->type == 32 ? f->first >> 16 : 0);
    put16(e + 26, f->first & 0xffff);
    e[11] |= FAT_ATTR_ARCHIVE;
    return cache_write(f->fs, f->dirent_lba, sec);
}

int fat_open(struct fat_fs *fs, struct fat_file *f, const char *path, int flags)
{
    struct found fd;
    uint32_t parent = 0;
    const char *last = NULL;
    size_t last_len = 0;
    memset(f, 0, sizeof *f);
    if (!(flags & (FAT_O_READ | FAT_O_WRITE)))
        return FAT_E_INVAL;
    int err = path_walk(fs, path, &fd, &parent, &last, &last_len);
    if (err == FAT_E_NOENT && last && (flags & FAT_O_CREATE)) {
        uint64_t lba;
        uint32_t off;
        err = dir_add(fs, parent, last, last_len, FAT_ATTR_ARCHIVE, 0, &lba, &off);
        if (err)
            return err;
        const uint8_t *sec = cache_get(fs, lba);
        if (!sec)
            return FAT_E_IO;
        memcpy(fd.ent, sec + off, DIRENT);
        fd.lba = lba;
        fd.off = off;
        file_from(f, fs, &fd, flags);
        return fat_sync(fs);
    }
    if (err == FAT_E_INVAL)
        return FAT_E_ISDIR;      /* the root */
    if (err)
        return err;
    if ((flags & FAT_O_CREATE) && (flags & FAT_O_EXCL))
        return FAT_E_EXIST;
    if (fd.ent[11] & FAT_ATTR_DIR)
        return FAT_E_ISDIR;
    if ((flags & FAT_O_WRITE) && (fd.ent[11] & FAT_ATTR_RO))
        return FAT_E_INVAL;
    file_from(f, fs, &fd, flags);
    if ((flags & FAT_O_TRUNC) && (flags & FAT_O_WRITE) && (f->size || f->first)) {
        err = fat_free_chain(fs, f->first);
        f->first = 0;
        f->size = 0;
        if (!err)
            err = file_update_entry(f);
        if (!err)
            err = fat_sync(fs);
        if (err) {
            f->open = false;
            return err;
        }
    }
    return FAT_OK;
}

int fat_close(struct fat_file *f)
{
    if (!f->open)
        return FAT_E_BADF;
    f->open = false;
    return fat_sync(f->fs);
}

long fat_read(struct fat_file *f, void *buf, size_t n)
{
    struct fat_fs *fs = f->fs;
    if (!f->open || !(f->flags & FAT_O_READ) || (f->attr & FAT_ATTR_DIR))
        return FAT_E_BADF;
    if (f->pos >= f->size)
        return 0;
    if (n > f->size - f->pos)
        n = f->size - f->pos;
    uint8_t *out = buf;
    size_t done = 0;
    while (done < n) {
        long c = file_cluster(f, f->pos / fs->clus_bytes);
        if (c <= 0)
            return c ? c : FAT_E_FORMAT;      /* chain shorter than the size */
        uint32_t in_clus = f->pos % fs->clus_bytes;
        uint64_t lba = clus_lba(fs, (uint32_t)c) + in_clus / FAT_SECTOR;
        uint32_t in_sec = in_clus % FAT_SECTOR;
        size_t left = n - done;
        if (in_sec == 0 && left >= FAT_SECTOR) {
            /* whole sectors straight into the caller's buffer, over as
             * many contiguous clusters as the request covers */
            uint32_t want = (uint32_t)((in_clus + left) / fs->clus_bytes + 1);
            uint32_t run = run_length(fs, (uint32_t)c, want);
            uint64_t bytes = (uint64_t)run * fs->clus_bytes - in_clus;
            if (bytes > left)
                bytes = left;
            uint32_t secs = (uint32_t)(bytes / FAT_SECTOR);
            if (fs->dev.read(fs->dev.ctx, lba, secs, out + done))
                return FAT_E_IO;
            done += (size_t)secs * FAT_SECTOR;
            f->pos += secs * FAT_SECTOR;
        } else {
            if (fs->dev.read(fs->dev.ctx, lba, 1, fs->bounce))
                return FAT_E_IO;
            size_t k = FAT_SECTOR - in_sec < left ? FAT_SECTOR - in_sec : left;
            memcpy(out + done, fs->bounce + in_sec, k);
            done += k;
            f->pos += (uint32_t)k;
        }
    }
    return (long)done;
}

long fat_extent(struct fat_file *f, uint32_t pos, uint64_t *lba)
{
    struct fat_fs *fs = f->fs;
    if (!f->open)
        return FAT_E_BADF;
    if (pos >= f->size)
        return 0;
    long c = file_cluster(f, pos / fs->clus_bytes);
    if (c <= 0)
        return c ? c : FAT_E_FORMAT;
    uint32_t in_clus = pos % fs->clus_bytes;
    uint32_t want = (f->size - pos + in_clus + fs->clus_bytes - 1) / fs->clus_bytes;
    uint64_t bytes = (uint64_t)run_length(fs, (uint32_t)c, want) * fs->clus_bytes - in_clus;
    *lba = clus_lba(fs, (uint32_t)c) + in_clus / FAT_SECTOR;
    return (long)(bytes < f->size - pos ? bytes : f->size - pos);
}

/* Makes the chain hold at least `bytes`. */
static int file_grow(struct fat_file *f, uint64_t bytes)
{
    struct fat_fs *fs = f->fs;
    if (bytes > 0xffffffffu)
        return FAT_E_NOSPC;
    uint32_t need = (uint32_t)((bytes + fs->clus_bytes - 1) / fs->clus_bytes);
    if (need == 0)
        return FAT_OK;
    if (!f->first) {
        long c = fat_alloc(fs, false);
        if (c < 0)
            return (int)c;
        f->first = (uint32_t)c;
        f->cur_clus = 0;
    }
    long last = file_cluster(f, 0);
    uint32_t have = 1;
    /* follow to the end of the chain from the furthest known cluster */
    if (f->cur_clus) {
        last = f->cur_clus;
        have = f->cur_idx + 1;
    }
    for (;;) {
        long next = fat_next(fs, (uint32_t)last);
        if (next < 0)
            return (int)next;
        if (next == 0)
            break;
        last = next;
        have++;
    }
    f->cur_clus = (uint32_t)last;
    f->cur_idx = have - 1;
    for (; have < need; have++) {
        long c = fat_alloc(fs, false);
        if (c < 0)
            return (int)c;
        int err = fat_set(fs, (uint32_t)last, (uint32_t)c);
        if (err)
            return err;
        last = c;
    }
    return FAT_OK;
}

static long write_bytes(struct fat_file *f, const uint8_t *in, size_t n)
{
    struct fat_fs *fs = f->fs;
    int err = file_grow(f, (uint64_t)f->pos + n);
    if (err)
        return err;
    size_t done = 0;
    while (done < n) {
        long c = file_cluster(f, f->pos / fs->clus_bytes);
        if (c <= 0)
            return c ? c : FAT_E_FORMAT;
        uint32_t in_clus = f->pos % fs->clus_bytes;
        uint64_t lba = clus_lba(fs, (uint32_t)c) + in_clus / FAT_SECTOR;
        uint32_t in_sec = in_clus % FAT_SECTOR;
        size_t left = n - done;
        if (in_sec == 0 && left >= FAT_SECTOR) {
            uint32_t want = (uint32_t)((in_clus + left) / fs->clus_bytes + 1);
            uint32_t run = run_length(fs, (uint32_t)c, want);
            uint64_t bytes = (uint64_t)run * fs->clus_bytes - in_clus;
            if (bytes > left)
                bytes = left;
            uint32_t secs = (uint32_t)(bytes / FAT_SECTOR);
            if (fs->dev.write(fs->dev.ctx, lba, secs, in + done))
                return FAT_E_IO;
            cache_forget(fs, lba, secs);
            done += (size_t)secs * FAT_SECTOR;
            f->pos += secs * FAT_SECTOR;
        } else {
            size_t k = FAT_SECTOR - in_sec < left ? FAT_SECTOR - in_sec : left;
            /* a sector wholly past the old end needs no read */
            if (f->pos - in_sec >= f->size)
                memset(fs->bounce, 0, FAT_SECTOR);
            else if (fs->dev.read(fs->dev.ctx, lba, 1, fs->bounce))
                return FAT_E_IO;
            if (in)
                memcpy(fs->bounce + in_sec, in + done, k);
            else
                memset(fs->bounce + in_sec, 0, k);
            if (fs->dev.write(fs->dev.ctx, lba, 1, fs->bounce))
                return FAT_E_IO;
            cache_forget(fs, lba, 1);
            done += k;
            f->pos += (uint32_t)k;
        }
        if (f->pos > f->size)
            f->size = f->pos;
    }
    return (long)done;
}

long fat_write(struct fat_file *f, const void *buf, size_t n)
{
    if (!f->open || !(f->flags & FAT_O_WRITE))
        return FAT_E_BADF;
    if (n == 0)
        return 0;
    if (f->flags & FAT_O_APPEND)
        f->pos = f->size;
    if ((uint64_t)f->pos + n > 0xffffffffu)
        return FAT_E_NOSPC;
    uint32_t old_size = f->size, old_first = f->first;
    long r = 0;
    /* a gap after a seek past the end reads as zeros: written out */
    while (f->pos > f->size && r >= 0) {
        uint32_t want = f->pos, from = f->size;
        f->pos = from;
        uint8_t zero[FAT_SECTOR];
        memset(zero, 0, sizeof zero);
        size_t k = want - from < FAT_SECTOR ? want - from : FAT_SECTOR;
        r = write_bytes(f, zero, k);
        if (r >= 0 && f->pos < want)
            f->pos = want;
    }
    if (r >= 0)
        r = write_bytes(f, buf, n);
    if (f->size != old_size || f->first != old_first) {
        int err = file_update_entry(f);
        if (!err)
            err = fat_sync(f->fs);
        if (err && r >= 0)
            r = err;
    }
    return r;
}

long fat_seek(struct fat_file *f, long off, int whence)
{
    if (!f->open)
        return FAT_E_BADF;
    long base = whence == 0 ? 0 : whence == 1 ? (long)f->pos : whence == 2 ? (long)f->size : -1;
    if (base < 0 || base + off < 0 || base + off > 0xffffffffL)
        return FAT_E_INVAL;
    f->pos = (uint32_t)(base + off);
    return (long)f->pos;
}

static void stat_from(const struct fat_fs *fs, const uint8_t *e, struct fat_stat *st)
{
    st->size = le32(e + 28);
    st->first_cluster = ent_cluster(fs, e);
    st->attr = e[11];
    st->is_dir = (e[11] & FAT_ATTR_DIR) != 0;
}

int fat_stat(struct fat_fs *fs, const char *path, struct fat_stat *st)
{
    struct found fd;
    uint32_t parent;
    const char *last;
    size_t len;
    int err = path_walk(fs, path, &fd, &parent, &last, &len);
    if (err == FAT_E_INVAL) {     /* the root */
        memset(st, 0, sizeof *st);
        st->attr = FAT_ATTR_DIR;
        st->is_dir = true;
        st->first_cluster = root_of(fs);
        return FAT_OK;
    }
    if (err)
        return err;
    stat_from(fs, fd.ent, st);
    return FAT_OK;
}

int fat_fstat(const struct fat_file *f, struct fat_stat *st)
{
    if (!f->open)
        return FAT_E_BADF;
    st->size = f->size;
    st->first_cluster = f->first;
    st->attr = f->attr;
    st->is_dir = (f->attr & FAT_ATTR_DIR) != 0;
    return FAT_OK;
}

int fat_mkdir(struct fat_fs *fs, const char *path)
{
    struct found fd;
    uint32_t parent = 0;
    const char *last = NULL;
    size_t len = 0;
    int err = path_walk(fs, path, &fd, &parent, &last, &len);
    if (err == FAT_OK || err == FAT_E_INVAL)
        return FAT_E_EXIST;
    if (err != FAT_E_NOENT || !last)
        return err;
    uint8_t sn[11], ntres;
    if ((err = make_short(last, len, sn, &ntres)))
        return err;
    long c = fat_alloc(fs, true);
    if (c < 0)
        return (int)c;
    uint64_t lba;
    uint32_t off;
    if ((err = dir_add(fs, parent, last, len, FAT_ATTR_DIR, (uint32_t)c, &lba, &off)))
        return err;
    /* "." and "..": the parent is 0 when it is the root */
    const uint8_t *self = cache_get(fs, lba);
    uint8_t tmpl[DIRENT];
    if (!self)
        return FAT_E_IO;
    memcpy(tmpl, self + off, DIRENT);
    uint8_t *sec = cache_get(fs, clus_lba(fs, (uint32_t)c));
    if (!sec)
        return FAT_E_IO;
    uint32_t up = parent == root_of(fs) ? 0 : parent;
    for (int i = 0; i < 2; i++) {
        uint8_t *e = sec + i * DIRENT;
        memcpy(e, tmpl, DIRENT);
        memset(e, ' ', 11);
        e[0] = '.';
        if (i)
            e[1] = '.';
        e[12] = 0;
        uint32_t cl = i ? up : (uint32_t)c;
        put16(e + 20, fs->type == 32 ? cl >> 16 : 0);
        put16(e + 26, cl & 0xffff);
    }
    if ((err = cache_write(fs, clus_lba(fs, (uint32_t)c), sec)))
        return err;
    return fat_sync(fs);
}

int fat_unlink(struct fat_fs *fs, const char *path)
{
    struct found fd;
    uint32_t parent;
    const char *last;
    size_t len;
    int err = path_walk(fs, path, &fd, &parent, &last, &len);
    if (err == FAT_E_INVAL)
        return FAT_E_ISDIR;
    if (err)
        return err;
    uint32_t first = ent_cluster(fs, fd.ent);
    if (fd.ent[11] & FAT_ATTR_DIR) {
        struct fat_file d;
        struct fat_dirent de;
        memset(&d, 0, sizeof d);
        d.fs = fs;
        d.first = first;
        d.attr = FAT_ATTR_DIR;
        d.open = true;
        if ((err = fat_readdir(&d, &de)) != 0)
            return err < 0 ? err : FAT_E_NOTEMPTY;
    }
    /* the short entry and any long-name entries before it */
    struct fat_file d = { .fs = fs, .first = fd.dir_first };
    for (uint32_t i = fd.first_index; i <= fd.index; i++) {
        uint32_t off;
        uint64_t s = dir_sector(&d, i, &off);
        uint8_t *sec = s ? cache_get(fs, s) : NULL;
        if (!sec)
            return FAT_E_IO;
        sec[off] = DELETED;
        if ((err = cache_write(fs, s, sec)))
            return err;
    }
    if ((err = fat_free_chain(fs, first)))
        return err;
    return fat_sync(fs);
}

int fat_opendir(struct fat_fs *fs, struct fat_file *d, const char *path)
{
    struct fat_stat st;
    int err = fat_stat(fs, path, &st);
    if (err)
        return err;
    if (!st.is_dir)
        return FAT_E_NOTDIR;
    memset(d, 0, sizeof *d);
    d->fs = fs;
    d->first = st.first_cluster ? st.first_cluster : root_of(fs);
    d->attr = FAT_ATTR_DIR;
    d->open = true;
    return FAT_OK;
}

int fat_readdir(struct fat_file *d, struct fat_dirent *ent)
{
    if (!d->open || !(d->attr & FAT_ATTR_DIR))
        return FAT_E_BADF;
    struct dir_iter it;
    it.dir = *d;
    it.index = d->pos;
    it.lfn_next = 0;
    it.lfn[0] = 0;
    for (;;) {
        uint8_t e[DIRENT];
        uint64_t lba;
        uint32_t off, first_index;
        int r = dir_next(&it, e, &lba, &off, ent->name, &first_index);
        d->pos = it.index;
        d->cur_clus = it.dir.cur_clus;
        d->cur_idx = it.dir.cur_idx;
        if (r <= 0)
            return r;
        if ((e[11] & FAT_ATTR_VOLUME) || (e[0] == '.' && (e[1] == ' ' || e[1] == '.')))
            continue;
        ent->size = le32(e + 28);
        ent->attr = e[11];
        return 1;
    }
}

/* ---- formatting ---- */

/* The geometry of a FAT12 or FAT16 volume of `total` sectors: 1 reserved
 * sector, 2 tables, a 512-entry root directory, the fewest sectors a
 * cluster from 4 (2 KiB, as the disk image's: fewer table look-ups and
 * device requests a file than 512-byte clusters) that keep the count
 * under FAT16's limit; the type is what the
 * count makes it (below 4085 clusters FAT12), and each table holds every
 * cluster's entry.  False when no such volume fits. */
static bool format_geometry(uint32_t total, uint32_t *spc, uint32_t *fatsz, uint32_t *nclus, int *type)
{
    const uint32_t root_secs = 512 * DIRENT / FAT_SECTOR, meta0 = 1 + root_secs;
    for (*spc = 4; *spc <= 128; *spc *= 2) {
        for (*type = 12; *type <= 16; *type += 4) {
            if (total <= meta0 + 2)
                return false;
            /* the table's size for as many clusters as could fit, then the
             * clusters left beside two tables of that size */
            uint32_t guess = (total - meta0) / *spc;
            *fatsz = (uint32_t)(((uint64_t)(guess + 2) * (uint32_t)*type / 8 + FAT_SECTOR - 1) / FAT_SECTOR);
            if (total <= meta0 + 2 * *fatsz + *spc)
                continue;
            *nclus = (total - meta0 - 2 * *fatsz) / *spc;
            if (*type == 12 ? *nclus < 4085 : *nclus >= 4085 && *nclus < 65525)
                return true;
        }
    }
    return false;
}

int fat_format(const struct fat_blockdev *dev, uint64_t sectors, const char *label)
{
    uint32_t spc, fatsz, nclus;
    int type;
    if (sectors > 0xffffffffu || !format_geometry((uint32_t)sectors, &spc, &fatsz, &nclus, &type))
        return FAT_E_INVAL;
    uint8_t b[FAT_SECTOR];
    memset(b, 0, sizeof b);
    memcpy(b, "\xeb\x3c\x90" "FERRY   ", 11);       /* a jump, the OEM name */
    put16(b + 11, FAT_SECTOR);
    b[13] = (uint8_t)spc;
    put16(b + 14, 1);                               /* reserved sectors: the boot sector */
    b[16] = 2;                                      /* tables */
    put16(b + 17, 512);                             /* root directory entries */
    if (sectors < 65536)
        put16(b + 19, (uint32_t)sectors);
    else
        put32(b + 32, (uint32_t)sectors);
    b[21] = 0xf8;                                   /* media: a fixed disk */
    put16(b + 22, fatsz);
    put16(b + 24, 63);                              /* sectors a track, heads: unused here */
    put16(b + 26, 16);
    b[36] = 0x80;                                   /* drive number */
    b[38] = 0x29;                                   /* the extended boot signature: id, label, type follow */
    put32(b + 39, 0x46455252u ^ (uint32_t)sectors);  /* volume id */
    uint8_t name[11];
    memcpy(name, label && label[0] ? "           " : "NO NAME    ", 11);
    for (size_t i = 0; i < 11 && label && label[i]; i++)
        name[i] = (uint8_t)upper(label[i]);
    memcpy(b + 43, name, 11);
    memcpy(b + 54, type == 12 ? "FAT12   " : "FAT16   ", 8);
    b[510] = 0x55;
    b[511] = 0xaa;
    if (dev->write(dev->ctx, 0, 1, b))
        return FAT_E_IO;
    /* both tables and the root directory zeroed; each table's first two
     * entries: the media byte and an end of chain; the label also as the
     * root directory's first entry (fsck.fat wants the two to agree) */
    for (uint32_t s = 1; s < 1 + 2 * fatsz + 512 * DIRENT / FAT_SECTOR; s++) {
        memset(b, 0, sizeof b);
        if (s == 1 + 2 * fatsz && label && label[0]) {
            memcpy(b, name, 11);
            b[11] = FAT_ATTR_VOLUME;
        }
        if (s == 1 || s == 1 + fatsz) {
            b[0] = 0xf8;
            b[1] = b[2] = 0xff;
            if (type == 16)
                b[3] = 0xff;
        }
        if (dev->write(dev->ctx, s, 1, b))
            return FAT_E_IO;
    }
    return FAT_OK;
}

/* ---- the RAM disk ---- */

static int ram_read(void *ctx, uint64_t lba, uint32_t count, void *buf)
{
    struct fat_ramdisk *rd = ctx;
    if (lba + count > rd->sectors)
        return -1;
    memcpy(buf, rd->mem + lba * FAT_SECTOR, (size_t)count * FAT_SECTOR);
    return 0;
}

static int ram_write(void *ctx, uint64_t lba, uint32_t count, const void *buf)
{
    struct fat_ramdisk *rd = ctx;
    if (lba + count > rd->sectors)
        return -1;
    memcpy(rd->mem + lba * FAT_SECTOR, buf, (size_t)count * FAT_SECTOR);
    return 0;
}

void fat_ramdisk_init(struct fat_blockdev *dev, struct fat_ramdisk *rd, void *mem, uint64_t bytes)
{
    rd->mem = mem;
    rd->sectors = bytes / FAT_SECTOR;
    dev->ctx = rd;
    dev->read = ram_read;
    dev->write = ram_write;
}
