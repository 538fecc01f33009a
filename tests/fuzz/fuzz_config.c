/* libFuzzer target: the configuration file parser (signaling/config.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_config_t cfg;
    char err[512];
    ovl_config_defaults(&cfg);
    err[0] = '\0';
    if (ovl_config_parse(&cfg, (const char *)data, size, "fuzz", err, sizeof(err)) != 0) {
        if (err[0] == '\0' || memchr(err, '\n', strlen(err)))
            abort(); /* errors are one non-empty line */
    } else {
        ovl_config_validate(&cfg, err, sizeof(err));
    }
    return 0;
}
