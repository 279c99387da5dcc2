/* plugin_host_check.h: the check both of Ferry's QEMU plugins (insnprof, tlbmodel) make when QEMU installs
 * them: this QEMU's plugin API range includes the version they were built for, and it is qemu-system-x86_64
 * (system emulation), the only guest they decode. Kept apart from qemu_plugin_api.h, which holds QEMU's own
 * declarations only. */
#ifndef FERRY_PLUGIN_HOST_CHECK_H
#define FERRY_PLUGIN_HOST_CHECK_H

#include <stdio.h>
#include <string.h>

#include "qemu_plugin_api.h"

/* 0 when the plugin `name` can run under this QEMU, else -1 with the reason on stderr. */
static inline int plugin_host_check(const char *name, const qemu_info_t *info)
{
    /* QEMU checked our version against its range; check its range too. */
    if (info->version.min > QEMU_PLUGIN_VERSION || info->version.cur < QEMU_PLUGIN_VERSION) {
        fprintf(stderr, "%s: built for QEMU plugin API %d, this QEMU offers %d..%d\n", name,
                QEMU_PLUGIN_VERSION, info->version.min, info->version.cur);
        return -1;
    }
    if (!info->system_emulation || strcmp(info->target_name, "x86_64") != 0) {
        fprintf(stderr, "%s: needs qemu-system-x86_64 (got %s%s)\n", name, info->target_name,
                info->system_emulation ? "" : ", user mode");
        return -1;
    }
    return 0;
}

#endif
