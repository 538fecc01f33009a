/* The hand-off helper of tcp_conn.h: the relay ufrag the first ICE-TCP frame is addressed to. */
#include "relay/io/tcp_conn.h"

#include "relay/proto/cursor.h"
#include "relay/proto/ice.h"

/*
 * RFC 4571 §2 framing of the first packet (RFC 6544 §3: ICE-TCP connectivity checks are framed
 * this way), holding an RFC 8489 §5 STUN message:
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |            LENGTH             |0 0|     STUN Message Type     |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Message Length        |      Magic Cookie ...         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  ... Transaction ID (96 bits), attributes                     |
 *
 * A Binding request whose USERNAME is "<relay ufrag>:<peer ufrag>" (RFC 8445 §7.2.2).
 */
int ovl_tcp_first_frame_ufrag(const uint8_t *buf, size_t len, ovl_stun_text_t *ufrag, size_t *frame_len)
{
    const uint8_t *p = buf, *end = buf + len, *msg;
    uint16_t flen;
    ovl_stun_msg_t m;

    ufrag->s = NULL;
    ufrag->len = 0;
    if (frame_len != NULL)
        *frame_len = 0;
    if (buf == NULL || ovl_get_u16(&p, end, &flen) < 0)
        return buf == NULL ? OVL_ERR_PARSE : OVL_ERR_AGAIN;
    if (flen < OVL_STUN_HEADER_LEN || 2u + flen > OVL_TCP_FIRST_FRAME_MAX || (p < end && (p[0] & 0xc0) != 0))
        return OVL_ERR_PARSE; /* too short or long for a check, or not STUN: fail early, before it is whole */
    if (ovl_get_block(&p, end, flen, &msg) < 0)
        return OVL_ERR_AGAIN;
    int r = ovl_stun_parse(msg, flen, &m);
    if ((r < 0 && r != OVL_ERR_UNSUPPORTED) || m.cls != OVL_STUN_REQUEST || m.method != OVL_STUN_BINDING ||
        ovl_stun_check_fingerprint(&m) < 0 || ovl_ice_username_local_ufrag(&m, ufrag) < 0) {
        ufrag->s = NULL;
        ufrag->len = 0;
        return OVL_ERR_PARSE;
    }
    if (frame_len != NULL)
        *frame_len = 2u + flen;
    return 0;
}
