/*
 * libFuzzer target: STUN parse (RFC 8489) + MESSAGE-INTEGRITY + FINGERPRINT checks on any input,
 * then a rebuild of what was parsed, which must parse back to the same values.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/stun.h"

static const uint8_t key[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void rebuild(const ovl_stun_msg_t *m)
{
    uint8_t buf[2048];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    ovl_stun_msg_t back;

    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, m->cls, m->method, m->txid);
    if (m->has & OVL_STUN_HAS_XOR_MAPPED_ADDRESS)
        ovl_stun_add_xor_mapped_address(&b, &m->xor_mapped);
    if (m->has & OVL_STUN_HAS_USERNAME)
        ovl_stun_add_username(&b, m->username.s, m->username.len);
    if (m->has & OVL_STUN_HAS_PRIORITY)
        ovl_stun_add_priority(&b, m->priority);
    if (m->has & OVL_STUN_HAS_ICE_CONTROLLING)
        ovl_stun_add_ice_controlling(&b, m->ice_controlling);
    if (m->has & OVL_STUN_HAS_USE_CANDIDATE)
        ovl_stun_add_use_candidate(&b);
    if (m->unknown_count)
        ovl_stun_add_unknown_attributes(&b, m->unknown, m->unknown_count);
    if (ovl_stun_build_finish(&b, key, sizeof(key) - 1) < 0)
        return; /* e.g. a USERNAME too long for buf: nothing may remain written */
    if (ovl_stun_parse(buf, out.len, &back) != 0 || ovl_stun_check_integrity(&back, key, sizeof(key) - 1) != 0 ||
        ovl_stun_check_fingerprint(&back) != 0)
        abort();
    if (back.cls != m->cls || back.method != m->method || memcmp(back.txid, m->txid, sizeof(back.txid)) != 0)
        abort();
    if ((m->has & OVL_STUN_HAS_XOR_MAPPED_ADDRESS) && !ovl_addr_equal(&back.xor_mapped, &m->xor_mapped))
        abort();
    if ((m->has & OVL_STUN_HAS_USERNAME) &&
        (back.username.len != m->username.len || memcmp(back.username.s, m->username.s, m->username.len) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ovl_stun_msg_t m;
    int r = ovl_stun_parse(data, size, &m);
    if (r != 0 && r != OVL_ERR_UNSUPPORTED)
        return 0;
    (void)ovl_stun_check_integrity(&m, key, sizeof(key) - 1);
    (void)ovl_stun_check_fingerprint(&m);
    rebuild(&m);
    return 0;
}
