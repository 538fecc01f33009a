/*
 * libFuzzer target: the ICE-TCP hand-off helper (ovl_tcp_first_frame_ufrag, RFC 4571 + RFC 8489)
 * on any peeked bytes, then the relay-ufrag rule on whatever ufrag it found. Invariants: every
 * prefix of an input that succeeds asks for more (OVL_ERR_AGAIN) or fails, never succeeds
 * differently; the ufrag lies inside the frame it reports.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "relay/io/tcp_conn.h"
#include "relay/io/ufrag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_stun_text_t u;
    size_t flen = 0;
    int r = ovl_tcp_first_frame_ufrag(data, size, &u, &flen);
    if (r == 0) {
        const uint8_t *s = (const uint8_t *)u.s;
        if (flen < 22 || flen > size || flen > OVL_TCP_FIRST_FRAME_MAX || s < data + 2 || s + u.len > data + flen)
            abort();
        unsigned w;
        if (ovl_media_ufrag_worker(u.s, u.len, &w) == 0 && w >= OVL_MEDIA_UFRAG_MAX_WORKERS)
            abort();
        /* one byte short of the frame: never a success */
        ovl_stun_text_t u2;
        if (ovl_tcp_first_frame_ufrag(data, flen - 1, &u2, NULL) == 0)
            abort();
    } else if (r != OVL_ERR_AGAIN && r != OVL_ERR_PARSE) {
        abort();
    } else if (u.s != NULL || u.len != 0 || flen != 0) {
        abort();
    }
    return 0;
}
