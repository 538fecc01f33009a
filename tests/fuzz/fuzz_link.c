/*
 * libFuzzer target: meeting links read back (signaling/link.c). Whatever parses has a host without brackets,
 * a port, a 22-character meeting id and a non-empty base64url token, all NUL-terminated within their fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "signaling/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = malloc(size + 1);
    ovl_link_t l;
    const char *why;
    if (!url)
        return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    if (ovl_link_parse(url, &l, &why) == 0) {
        if (!l.host[0] || strchr(l.host, '[') || l.port == 0 || strlen(l.meeting) != OVL_MEETING_ID_LEN ||
            !l.token[0] || strlen(l.token) > OVL_TOKEN_MAX_LEN)
            abort();
    } else if (!why || l.host[0]) {
        abort();
    }
    free(url);
    return 0;
}
