/*
 * libFuzzer target: arbitrary datagrams and timer jumps against an ICE lite agent (the relay) that is
 * also talking to a real controlling client. The input is a list of records
 *
 *     op (1 byte) | length (2 bytes, big-endian) | datagram (length bytes)
 *
 * op bits 0-1: source address (one of four), bit 2: path (UDP socket or TCP connection), bit 3:
 * re-sign the datagram (a fuzzer cannot forge HMAC-SHA1, so the harness recomputes
 * MESSAGE-INTEGRITY and FINGERPRINT with the right key to reach the code behind them), bits 4-5:
 * 0 = to the lite agent, 1 = to the client (transaction id patched to an outstanding one),
 * 2 = ICE restart of the lite agent, 3 = timers only; bits 6-7: advance the clock by 0, 1, 5 or 31 s.
 * After every record the invariants below must hold.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/crc32.h"
#include "relay/proto/ice.h"

static const char *const ufrags[2] = {"rLy1", "rLy2"};
static const char *const pwds[2] = {"relay-password-0123456789", "relay-password-second-gen"};

struct harness {
    ovl_ice_lite_t lite;
    ovl_ice_client_t client;
    uint64_t seed;
    ovl_addr_t addrs[4], relay_addr;
    unsigned gen; /* lite credentials in use: ufrags/pwds[gen & 1] */
    ovl_time_t now;
};

static void fuzz_random(void *user, uint8_t *buf, size_t len)
{
    uint64_t *s = user;
    for (size_t i = 0; i < len; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        buf[i] = (uint8_t)(*s >> 56);
    }
}

/* Recomputes MESSAGE-INTEGRITY and FINGERPRINT in place when the message has them. */
static void resign(uint8_t *pkt, size_t len, const char *pwd)
{
    ovl_stun_msg_t m;
    int r = ovl_stun_parse(pkt, len, &m);
    if (r < 0 && r != OVL_ERR_UNSUPPORTED)
        return;
    if (m.has & OVL_STUN_HAS_INTEGRITY) {
        uint8_t head[OVL_STUN_HEADER_LEN];
        memcpy(head, pkt, sizeof(head));
        ovl_store_u16(head + 2, (uint16_t)(m.integrity_off + 24 - OVL_STUN_HEADER_LEN));
        ovl_stun_hmac_sha1((const uint8_t *)pwd, strlen(pwd), head, sizeof(head), pkt + OVL_STUN_HEADER_LEN,
                           m.integrity_off - OVL_STUN_HEADER_LEN, pkt + m.integrity_off + 4);
    }
    if (m.has & OVL_STUN_HAS_FINGERPRINT)
        ovl_store_u32(pkt + m.fingerprint_off + 4, ovl_crc32(0, pkt, m.fingerprint_off) ^ OVL_STUN_FINGERPRINT_XOR);
}

static void check_invariants(const struct harness *h)
{
    ovl_ice_path_t sel;
    ovl_ice_state_t st = ovl_ice_lite_state(&h->lite);
    if (ovl_ice_lite_selected(&h->lite, &sel) == 0) {
        if (st != OVL_ICE_CONNECTED || !ovl_ice_lite_is_trusted(&h->lite, &sel.addr, sel.path_id))
            abort();
    } else if (st == OVL_ICE_CONNECTED) {
        abort();
    }
    if (st == OVL_ICE_FAILED) {
        for (size_t i = 0; i < 4; i++)
            if (ovl_ice_lite_is_trusted(&h->lite, &h->addrs[i], 7) ||
                ovl_ice_lite_is_trusted(&h->lite, &h->addrs[i], 8))
                abort();
        if (ovl_ice_lite_next_timeout(&h->lite) != OVL_TIME_NEVER)
            abort();
    }
}

/* Lets the client send what is due; its checks reach the lite agent from addrs[0] on path 7. */
static void run_client(struct harness *h)
{
    for (int guard = 0; guard < 16; guard++) {
        uint8_t pkt[600], ans[600];
        ovl_wbuf_t out, aw;
        ovl_ice_path_t to;
        ovl_ice_event_t ev;
        ovl_wbuf_init(&out, pkt, sizeof(pkt));
        if (ovl_ice_client_poll(&h->client, h->now, &out, &to, &ev) != 0)
            return;
        if (out.len == 0)
            continue;
        ovl_wbuf_init(&aw, ans, sizeof(ans));
        ovl_ice_lite_on_stun(&h->lite, pkt, out.len, &h->addrs[0], 7, h->now, &aw, &ev);
        if (aw.len > 0)
            ovl_ice_client_on_stun(&h->client, ans, aw.len, &h->relay_addr, 1, h->now, &ev);
    }
}

static void apply(struct harness *h, uint8_t op, uint8_t *pkt, size_t len)
{
    static const ovl_time_t steps[4] = {0, OVL_SEC(1), OVL_SEC(5), OVL_SEC(31)};
    const ovl_addr_t *from = &h->addrs[op & 3];
    uint64_t path = (op & 4) ? 8 : 7;
    uint8_t ans[600];
    ovl_wbuf_t out;
    ovl_ice_event_t ev;

    h->now += steps[op >> 6];
    switch ((op >> 4) & 3) {
    case 0:
        if (op & 8)
            resign(pkt, len, pwds[h->gen & 1]);
        ovl_wbuf_init(&out, ans, sizeof(ans));
        ovl_ice_lite_on_stun(&h->lite, pkt, len, from, path, h->now, &out, &ev);
        if (out.len > 0) { /* whatever the agent answers must be well-formed STUN */
            ovl_stun_msg_t m;
            if (ovl_stun_parse(ans, out.len, &m) != 0 || ovl_stun_check_fingerprint(&m) != 0)
                abort();
        }
        break;
    case 1:
        if (len >= OVL_STUN_HEADER_LEN) {
            const uint8_t *txid = h->client.n_checks ? h->client.checks[0].txid : NULL;
            if (h->client.consent_used && (op & 1))
                txid = h->client.consent_txids[0];
            if (txid)
                memcpy(pkt + 8, txid, OVL_STUN_TXID_LEN);
        }
        if (op & 8)
            resign(pkt, len, pwds[0]);
        ovl_ice_client_on_stun(&h->client, pkt, len, (op & 2) ? from : &h->relay_addr, (op & 4) ? 2 : 1, h->now, &ev);
        break;
    case 2:
        h->gen++;
        ovl_ice_lite_restart(&h->lite, ufrags[h->gen & 1], pwds[h->gen & 1], (op & 8) ? "pEer" : NULL, h->now);
        break;
    default:
        break;
    }
    ovl_ice_lite_on_timeout(&h->lite, h->now, &ev);
    run_client(h);
    check_invariants(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct harness h; /* large; reinitialised on every input */
    ovl_ice_client_config_t cc;

    memset(&h, 0, sizeof(h));
    h.seed = 1;
    h.now = OVL_SEC(1000);
    ovl_addr_parse(&h.relay_addr, "198.51.100.1", 10000);
    ovl_addr_parse(&h.addrs[0], "192.0.2.10", 50000);
    ovl_addr_parse(&h.addrs[1], "192.0.2.10", 50001);
    ovl_addr_parse(&h.addrs[2], "2001:db8::10", 50000);
    ovl_addr_parse(&h.addrs[3], "203.0.113.7", 9);
    if (ovl_ice_lite_init(&h.lite, NULL, ufrags[0], pwds[0], h.now) != 0)
        abort();
    ovl_ice_lite_set_remote(&h.lite, "pEer");
    ovl_ice_client_config_default(&cc);
    cc.random = fuzz_random;
    cc.random_user = &h.seed;
    if (ovl_ice_client_init(&h.client, &cc, "pEer", ufrags[0], pwds[0], h.now) != 0 ||
        ovl_ice_client_add_remote(&h.client, &h.relay_addr, 1) != 0)
        abort();

    const uint8_t *p = data, *end = data + size;
    while (ovl_left(p, end) >= 3) {
        uint8_t op = p[0];
        size_t len = ovl_load_u16(p + 1);
        p += 3;
        if (len > ovl_left(p, end))
            len = ovl_left(p, end);
        uint8_t *pkt = malloc(len ? len : 1); /* exactly len bytes, so ASan sees any over-read */
        if (pkt == NULL)
            abort();
        memcpy(pkt, p, len);
        p += len;
        apply(&h, op, pkt, len);
        free(pkt);
    }
    ovl_ice_lite_dispose(&h.lite);
    ovl_ice_client_dispose(&h.client);
    return 0;
}
