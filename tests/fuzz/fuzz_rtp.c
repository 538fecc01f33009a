/*
 * libFuzzer target: RTP parsing (RFC 3550 §5.1) and RFC 8285 extension walking must accept any
 * input; what parses must stay inside the buffer, survive in-place rewrites and rebuild to the
 * same header and elements.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/rtp.h"

#define CHECK(c)                                                                                                       \
    do {                                                                                                               \
        if (!(c))                                                                                                      \
            __builtin_trap();                                                                                          \
    } while (0)

#define MAX_ELEMS 64

/* Walks every element; returns how many (up to MAX_ELEMS) or -1 if the walk ended in an error. */
static int walk(const ovl_rtp_t *rtp, ovl_rtp_ext_put_t *out)
{
    ovl_rtp_ext_iter_t it;
    ovl_rtp_ext_elem_t e;
    int n = 0, ret;
    volatile uint8_t sink = 0;
    ovl_rtp_ext_iter_init(&it, rtp);
    while ((ret = ovl_rtp_ext_next(&it, &e)) == 0) {
        CHECK(e.off >= rtp->ext_off && e.off + e.len <= rtp->ext_off + rtp->ext_len);
        CHECK(e.data == rtp->data + e.off);
        for (size_t k = 0; k < e.len; k++)
            sink ^= e.data[k];
        if (n < MAX_ELEMS)
            out[n] = (ovl_rtp_ext_put_t){e.id, e.len, e.data};
        n++;
    }
    (void)sink;
    CHECK(ret == OVL_ERR_NOTFOUND || ret == OVL_ERR_PARSE);
    return ret == OVL_ERR_PARSE ? -1 : n;
}

static void rewrite_copy(const uint8_t *data, size_t size, const ovl_rtp_t *orig, const ovl_rtp_ext_put_t *elems, int n)
{
    uint8_t *copy = malloc(size);
    ovl_rtp_t rtp, again;
    CHECK(copy != NULL);
    memcpy(copy, data, size);
    CHECK(ovl_rtp_parse(&rtp, copy, size) == 0);
    CHECK(ovl_rtp_set_ssrc(&rtp, copy, ~orig->ssrc) == 0);
    CHECK(ovl_rtp_set_seq(&rtp, copy, (uint16_t)(orig->seq + 1)) == 0);
    CHECK(ovl_rtp_set_timestamp(&rtp, copy, orig->timestamp + 3000) == 0);
    CHECK(ovl_rtp_set_marker(&rtp, copy, !orig->marker) == 0);
    CHECK(ovl_rtp_set_payload_type(&rtp, copy, (uint8_t)((orig->payload_type + 1) & 0x7f)) == 0);
    for (int i = 0; i < n && i < MAX_ELEMS; i++) {
        ovl_rtp_ext_elem_t e;
        uint8_t val[255];
        int ret = ovl_rtp_ext_find(&rtp, elems[i].id, &e);
        CHECK(ret == 0);
        memset(val, 0x5a, e.len);
        CHECK(ovl_rtp_ext_write(&rtp, copy, e.id, val, e.len) == 0);
        CHECK(ovl_rtp_ext_set_id(&rtp, copy, e.id, e.id) == 0);
    }
    CHECK(ovl_rtp_parse(&again, copy, size) == 0);
    CHECK(again.ssrc == ~orig->ssrc && again.seq == (uint16_t)(orig->seq + 1));
    CHECK(again.marker == !orig->marker && again.payload_off == orig->payload_off);
    CHECK(again.payload_len == orig->payload_len && again.ext_len == orig->ext_len);
    CHECK(memcmp(ovl_rtp_payload(&again), ovl_rtp_payload(orig), orig->payload_len) == 0);
    free(copy);
}

/* Rebuilds the header with the same fields and elements, appends the payload, parses it back. */
static void rebuild(const ovl_rtp_t *orig, const ovl_rtp_ext_put_t *elems, int n)
{
    static uint8_t buf[70000];
    uint32_t csrcs[OVL_RTP_MAX_CSRC];
    ovl_wbuf_t b;
    ovl_rtp_t rtp;
    ovl_rtp_ext_put_t again[MAX_ELEMS];
    if (orig->len + 64 > sizeof(buf))
        return; /* the rebuilt packet is never longer than the original */
    for (size_t i = 0; i < orig->csrc_count; i++)
        csrcs[i] = ovl_rtp_csrc(orig, i);
    const ovl_rtp_hdr_t h = {orig->marker, orig->payload_type, orig->seq, orig->timestamp, orig->ssrc,
                             csrcs,        orig->csrc_count};
    ovl_wbuf_init(&b, buf, sizeof(buf));
    CHECK(ovl_rtp_build(&b, &h, elems, (size_t)n) == 0);
    CHECK(ovl_put_bytes(&b, ovl_rtp_payload(orig), orig->payload_len) == 0);
    CHECK(ovl_rtp_parse(&rtp, buf, b.len) == 0);
    CHECK(rtp.seq == orig->seq && rtp.timestamp == orig->timestamp && rtp.ssrc == orig->ssrc);
    CHECK(rtp.payload_type == orig->payload_type && rtp.marker == orig->marker);
    CHECK(rtp.csrc_count == orig->csrc_count && rtp.payload_len == orig->payload_len);
    CHECK(walk(&rtp, again) == n);
    for (int i = 0; i < n; i++) {
        CHECK(again[i].id == elems[i].id && again[i].len == elems[i].len);
        CHECK(memcmp(again[i].data, elems[i].data, elems[i].len) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_rtp_t rtp;
    ovl_rtp_ext_put_t elems[MAX_ELEMS];
    ovl_rtp_ext_elem_t e;
    if (ovl_rtp_parse(&rtp, data, size) != 0)
        return 0;
    CHECK(rtp.payload_off + rtp.payload_len + rtp.padding_len == size);
    CHECK(rtp.ext_off + rtp.ext_len <= rtp.payload_off);
    for (size_t i = 0; i <= rtp.csrc_count; i++)
        (void)ovl_rtp_csrc(&rtp, i);
    int n = walk(&rtp, elems);
    for (unsigned id = 0; id < 256; id += 17)
        (void)ovl_rtp_ext_find(&rtp, (uint8_t)id, &e);
    if (n >= 0 && n <= MAX_ELEMS) {
        rewrite_copy(data, size, &rtp, elems, n);
        if (rtp.ext_form != OVL_RTP_EXT_OTHER)
            rebuild(&rtp, elems, n);
    }
    return 0;
}
