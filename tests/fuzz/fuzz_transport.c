/*
 * libFuzzer target: arbitrary datagrams into a CONNECTED relay transport (server role), from the
 * trusted peer address and from strangers, built once (a real ICE + DTLS handshake with a client
 * transport, through the in-memory network of tests/unit/test_transport_world.h) and rebuilt only
 * when an input leaves it unusable (e.g. a re-signed nomination moved it to a stranger that then lost
 * consent). The input is a list of records
 *
 *     op (1 byte) | length (2 bytes, big-endian) | bytes (length)
 *
 * op bits 0-2: 0 raw datagram from the peer's validated address; 1 raw datagram from a stranger or
 * from the peer's address on another local path (bit 3); 2 RTP built from the bytes and protected by
 * the peer (so the relay's unprotect succeeds), then, with bit 3, one byte flipped; 3 the same with
 * RTCP; 4 a STUN message re-signed with the relay's password (a fuzzer cannot forge HMAC-SHA1), from
 * the peer (bit 3 clear) or a stranger; 5 advance the clock by bytes[0] % 8 s and run every timer;
 * 6 a datagram forced into the DTLS range; 7 media from the relay to the peer (exercises the client's
 * unprotect). After each record the network is drained and the invariants below are checked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/crc32.h"
#include "relay/proto/stun.h"
#include "tests/unit/test_transport_world.h"

static tw_world_t world;
static tw_peer_t server, client;
static bool ready;
static uint16_t seq_out, seq_back; /* protect never repeats an index */
static ovl_addr_t strangers[2];

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void build(void)
{
    if (ready) {
        tw_dispose(&world);
        ready = false;
    }
    check(tw_init(&world) == 0);
    check(tw_connect(&world, &server, &client, NULL, NULL) == 0);
    check(ovl_addr_parse(&strangers[0], "192.0.2.66", 50000) == 0);
    check(ovl_addr_parse(&strangers[1], "2001:db8::66", 50000) == 0);
    ready = true;
}

/* Recomputes MESSAGE-INTEGRITY (RFC 8489 §14.5) and FINGERPRINT (§14.7) in place when present. */
static void resign(uint8_t *pkt, size_t len)
{
    ovl_stun_msg_t m;
    int r = ovl_stun_parse(pkt, len, &m);
    if (r < 0 && r != OVL_ERR_UNSUPPORTED)
        return;
    if (m.has & OVL_STUN_HAS_INTEGRITY) {
        uint8_t head[OVL_STUN_HEADER_LEN];
        memcpy(head, pkt, sizeof(head));
        ovl_store_u16(head + 2, (uint16_t)(m.integrity_off + 24 - OVL_STUN_HEADER_LEN));
        ovl_stun_hmac_sha1((const uint8_t *)TW_SERVER_PWD, strlen(TW_SERVER_PWD), head, sizeof(head),
                           pkt + OVL_STUN_HEADER_LEN, m.integrity_off - OVL_STUN_HEADER_LEN, pkt + m.integrity_off + 4);
    }
    if (m.has & OVL_STUN_HAS_FINGERPRINT)
        ovl_store_u32(pkt + m.fingerprint_off + 4, ovl_crc32(0, pkt, m.fingerprint_off) ^ OVL_STUN_FINGERPRINT_XOR);
}

/* An RTP (or RTCP) packet from the fuzzer's bytes with a header the sender accepts. */
static size_t make_media(uint8_t *buf, const uint8_t *data, size_t len, bool rtcp, uint16_t seq)
{
    size_t n = len < 12 ? 12 : len;
    if (n > 1200)
        n = 1200;
    memset(buf, 0, 12);
    memcpy(buf, data, len < n ? len : n);
    buf[0] = (uint8_t)(0x80 | (buf[0] & 0x3f)); /* V=2, P and X and CC from the input */
    if (rtcp) {
        buf[1] = (uint8_t)(200 + buf[1] % 5);
        ovl_store_u16(buf + 2, (uint16_t)((n / 4) - 1));
        n = n & ~(size_t)3;
    } else {
        buf[1] = (uint8_t)(buf[1] & 0x80) | (uint8_t)(96 + buf[1] % 32); /* M bit, PT 96..127 */
        ovl_store_u16(buf + 2, seq);
    }
    ovl_store_u32(buf + (rtcp ? 4 : 8), 0x1000u + (buf[rtcp ? 7 : 11] & 3)); /* four SSRCs at most */
    return n;
}

static void media(tw_peer_t *from, uint8_t op, const uint8_t *data, size_t len, bool rtcp)
{
    static uint8_t buf[TW_BUF_CAP];
    uint16_t *seq = from == &client ? &seq_out : &seq_back;
    size_t n = make_media(buf, data, len, rtcp, (*seq)++);
    int r = rtcp ? ovl_transport_send_rtcp(from->t, buf, &n, sizeof(buf))
                 : ovl_transport_send_rtp(from->t, buf, &n, sizeof(buf));
    if (r == 0 && (op & 8) && len > 0 && world.q_len > 0) { /* corrupt the queued datagram */
        tw_dgram_t *d = &world.q[(world.q_head + world.q_len - 1) % TW_QUEUE];
        d->data[data[0] % d->len] ^= (uint8_t)(1u << (data[len - 1] & 7));
    }
}

static void datagram(const ovl_addr_t *from, uint64_t path, const uint8_t *data, size_t len, int force)
{
    static uint8_t buf[TW_BUF_CAP];
    if (len > TW_DGRAM_MAX)
        len = TW_DGRAM_MAX;
    memcpy(buf, data, len);
    if (force == 1 && len > 0) /* RFC 7983: DTLS is 20..63 */
        buf[0] = (uint8_t)(20 + buf[0] % 44);
    if (force == 2)
        resign(buf, len);
    ovl_transport_on_datagram(server.t, path, from, buf, len, world.now);
}

static void run_record(uint8_t op, const uint8_t *data, size_t len)
{
    const ovl_addr_t *peer = &world.nodes[1].addr[0];
    const ovl_addr_t *stranger = &strangers[op >> 7];
    switch (op & 7) {
    case 0:
        datagram(peer, TW_SERVER_PATH, data, len, 0);
        break;
    case 1:
        if (op & 8)
            datagram(peer, TW_SERVER_PATH + 1, data, len, 0);
        else
            datagram(stranger, TW_SERVER_PATH, data, len, 0);
        break;
    case 2:
    case 3:
        media(&client, op, data, len, (op & 7) == 3);
        break;
    case 4:
        datagram(op & 8 ? stranger : peer, TW_SERVER_PATH, data, len, 2);
        break;
    case 5:
        tw_run(&world, OVL_SEC(len > 0 ? data[0] % 8 : 1));
        break;
    case 6:
        datagram(peer, TW_SERVER_PATH, data, len, 1);
        break;
    default:
        media(&server, op, data, len, op & 8);
        break;
    }
    tw_pump(&world);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready || ovl_transport_state(server.t) != OVL_TRANSPORT_CONNECTED ||
        ovl_transport_state(client.t) != OVL_TRANSPORT_CONNECTED)
        build();
    const uint8_t *p = data, *end = data + size;
    for (int records = 0; records < 64 && end - p >= 3; records++) {
        uint8_t op = p[0];
        size_t len = (size_t)p[1] << 8 | p[2];
        p += 3;
        if (len > (size_t)(end - p))
            len = (size_t)(end - p);
        ovl_transport_stats_t before, after;
        ovl_transport_stats(server.t, &before);
        run_record(op, p, len);
        p += len;
        ovl_transport_stats(server.t, &after);
        /* Invariants: nothing is lost from the counters; media is only sent on a trusted pair; a
         * connected transport has a selected pair it trusts. */
        check(after.rx_datagrams >= before.rx_datagrams);
        uint64_t accounted = after.rx_stun + after.rx_dtls + after.rx_rtp + after.rx_rtcp;
        for (int i = 0; i < OVL_TRANSPORT_DROP_NO_PATH; i++)
            accounted += after.drops[i];
        check(accounted == after.rx_datagrams);
        ovl_ice_path_t sel;
        if (ovl_transport_state(server.t) == OVL_TRANSPORT_CONNECTED) {
            check(ovl_transport_selected_path(server.t, &sel) == 0);
            check(ovl_transport_is_trusted(server.t, &sel.addr, sel.path_id));
        }
    }
    return 0;
}
