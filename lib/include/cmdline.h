/* cmdline.h: the kernel command line, a list of space-separated key=value words.
 *
 * A word without '=' is a flag whose value is the empty string.  The first
 * occurrence of a key wins.  Values cannot contain spaces. */
#ifndef FERRY_CMDLINE_H
#define FERRY_CMDLINE_H

#include <types.h>

/* Copies the value of key into val (NUL-terminated, truncated to vlen-1)
 * and returns true when key is present. */
bool cmdline_get(const char *cmdline, const char *key, char *val, size_t vlen);

/* Parses key as an unsigned decimal or 0x-hex number.  Returns 1 when found
 * and valid, 0 when absent, -1 when present but malformed or out of range. */
int cmdline_get_u64(const char *cmdline, const char *key, uint64_t *out);

/* on/off switches: "key=on|1|yes|true" -> true, "off|0|no|false" -> false,
 * bare "key" -> true.  Returns 1 found, 0 absent (out unchanged), -1 malformed. */
int cmdline_get_bool(const char *cmdline, const char *key, bool *out);

/* Parses an unsigned number written in decimal or 0x-hex; false on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);

#endif
