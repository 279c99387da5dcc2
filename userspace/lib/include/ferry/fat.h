/* fat.h: a FAT12/FAT16/FAT32 file-system library over an abstract block device
 * (userspace/fs/fat.c), shared by the file server and the host tests. */
#ifndef FERRY_USER_FAT_H
#define FERRY_USER_FAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAT_SECTOR 512u

/* The block device: read or write count 512-byte sectors from lba;
 * 0 on success.  A RAM disk is fat_ramdisk_init below. */
struct fat_blockdev {
    void *ctx;
    int (*read)(void *ctx, uint64_t lba, uint32_t count, void *buf);
    int (*write)(void *ctx, uint64_t lba, uint32_t count, const void *buf);
};

enum {
    FAT_OK       = 0,
    FAT_E_IO     = -1,    /* the block device failed */
    FAT_E_FORMAT = -2,    /* not FAT16/FAT32, or a corrupt structure */
    FAT_E_NOENT  = -3,
    FAT_E_EXIST  = -4,
    FAT_E_NOTDIR = -5,
    FAT_E_ISDIR  = -6,
    FAT_E_NOSPC  = -7,
    FAT_E_NAME   = -8,    /* not a valid 8.3 name (names are created 8.3 only) */
    FAT_E_INVAL  = -9,
    FAT_E_BADF   = -10,   /* not open, or not open for this */
    FAT_E_NOTEMPTY = -11,
};

/* fat_open flags */
#define FAT_O_READ   0x01
#define FAT_O_WRITE  0x02
#define FAT_O_CREATE 0x04
#define FAT_O_TRUNC  0x08
#define FAT_O_APPEND 0x10
#define FAT_O_EXCL   0x20

#define FAT_ATTR_RO     0x01
#define FAT_ATTR_HIDDEN 0x02
#define FAT_ATTR_SYSTEM 0x04
#define FAT_ATTR_VOLUME 0x08
#define FAT_ATTR_DIR    0x10
#define FAT_ATTR_ARCHIVE 0x20
#define FAT_ATTR_LFN    0x0f

#define FAT_CACHE_SECTORS 8
#define FAT_NAME_MAX 256

struct fat_cache_line {
    uint64_t lba;
    uint32_t age;
    bool valid;
    uint8_t data[FAT_SECTOR];
};

struct fat_fs {
    struct fat_blockdev dev;
    int type;                   /* 12, 16 or 32 */
    uint32_t sec_per_clus, clus_bytes;
    uint32_t fat_start, fat_sectors, nfats;
    uint32_t root_start, root_sectors;   /* FAT16's fixed root directory */
    uint32_t root_cluster;               /* FAT32's root directory chain */
    uint32_t data_start, nclusters;      /* clusters 2 .. nclusters + 1 */
    uint32_t fsinfo_sector;              /* FAT32; 0: none */
    uint32_t free_count;                 /* 0xffffffff: unknown */
    uint32_t next_free;                  /* allocation hint */
    bool fsinfo_dirty;
    uint32_t clock;
    struct fat_cache_line cache[FAT_CACHE_SECTORS];
    uint8_t bounce[FAT_SECTOR];
};

struct fat_stat {
    uint32_t size;
    uint32_t first_cluster;
    uint8_t attr;
    bool is_dir;
};

/* An open file (or directory, for fat_readdir). */
struct fat_file {
    struct fat_fs *fs;
    uint32_t first;          /* first cluster; 0: none yet (or FAT16's root) */
    uint32_t size;
    uint32_t pos;
    uint32_t cur_clus, cur_idx;   /* the cluster holding cluster index cur_idx */
    uint32_t dirent_lba;     /* where its directory entry is (0: the root) */
    uint16_t dirent_off;
    uint8_t attr;
    int flags;
    bool open;
};

struct fat_dirent {
    char name[FAT_NAME_MAX];      /* the long name if it has one, else 8.3 */
    uint32_t size;
    uint8_t attr;
};

int fat_mount(struct fat_fs *fs, const struct fat_blockdev *dev);
/* Writes what is pending (the FAT32 free-cluster summary). */
int fat_sync(struct fat_fs *fs);

/* Paths are absolute or relative to the root, '/'-separated; names match
 * case-insensitively on the long name or the 8.3 name. */
int fat_open(struct fat_fs *fs, struct fat_file *f, const char *path, int flags);
int fat_close(struct fat_file *f);
/* Bytes read or written (short only at the end of the file), or an error. */
long fat_read(struct fat_file *f, void *buf, size_t n);
long fat_write(struct fat_file *f, const void *buf, size_t n);
/* whence 0/1/2 as SEEK_SET/CUR/END; the new position, or an error.  A
 * write past the end fills the gap with zeros. */
long fat_seek(struct fat_file *f, long off, int whence);
int fat_stat(struct fat_fs *fs, const char *path, struct fat_stat *st);
int fat_fstat(const struct fat_file *f, struct fat_stat *st);
int fat_mkdir(struct fat_fs *fs, const char *path);
int fat_unlink(struct fat_fs *fs, const char *path);

/* Directories: open with fat_opendir, then fat_readdir until it returns 0
 * (1: *ent filled; "." and ".." and the volume label are skipped). */
int fat_opendir(struct fat_fs *fs, struct fat_file *d, const char *path);
int fat_readdir(struct fat_file *d, struct fat_dirent *ent);

/* Where the file's byte at pos lies on the device, for zero-copy readers:
 * the sector and how many bytes from there are contiguous on disk (up to
 * the end of the file), or an error. */
long fat_extent(struct fat_file *f, uint32_t pos, uint64_t *lba);

/* Makes an empty FAT12 (under 4085 clusters) or FAT16 volume of `sectors`
 * sectors on dev (a fresh RAM disk): boot sector, two tables, a 512-entry
 * root directory, clusters of 2 KiB or more, label up to 11 characters
 * (NULL: none); the data sectors are left as they are.  FAT_E_INVAL when
 * no such volume fits (fewer than about 50 sectors, or more than FAT16's
 * 4 GiB at 64 KiB clusters). */
int fat_format(const struct fat_blockdev *dev, uint64_t sectors, const char *label);

/* A RAM disk: sectors in memory. */
struct fat_ramdisk {
    uint8_t *mem;
    uint64_t sectors;
};
void fat_ramdisk_init(struct fat_blockdev *dev, struct fat_ramdisk *rd, void *mem, uint64_t bytes);

#endif
