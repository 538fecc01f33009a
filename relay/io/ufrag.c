/* Relay ufrags that name their media worker (see ufrag.h). */
#include "relay/io/ufrag.h"

static const char alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Value of one alphabet character, or -1. */
static int digit(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int ovl_media_ufrag_make(char *out, size_t cap, unsigned worker, const uint8_t rand[OVL_MEDIA_UFRAG_RAND_LEN])
{
    if (out == NULL || rand == NULL || cap < OVL_MEDIA_UFRAG_LEN + 1 || worker >= OVL_MEDIA_UFRAG_MAX_WORKERS)
        return OVL_ERR_ARG;
    out[0] = alphabet[worker >> 6];
    out[1] = alphabet[worker & 63];
    for (size_t i = 0; i < OVL_MEDIA_UFRAG_RAND_LEN; i++)
        out[OVL_MEDIA_UFRAG_WORKER_LEN + i] = alphabet[rand[i] & 63];
    out[OVL_MEDIA_UFRAG_LEN] = '\0';
    return 0;
}

int ovl_media_ufrag_worker(const char *ufrag, size_t len, unsigned *worker)
{
    *worker = 0;
    if (ufrag == NULL || len != OVL_MEDIA_UFRAG_LEN)
        return OVL_ERR_PARSE;
    for (size_t i = 0; i < len; i++)
        if (digit(ufrag[i]) < 0)
            return OVL_ERR_PARSE;
    *worker = (unsigned)(digit(ufrag[0]) << 6 | digit(ufrag[1]));
    return 0;
}
