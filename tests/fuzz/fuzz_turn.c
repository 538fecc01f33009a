/*
 * libFuzzer target: the TURN server core (RFC 8656 over a stream) on arbitrary client bytes.
 *
 * Each input first goes whole into a fresh session (framing and parsing of any stream). Then it is
 * read as a script against a session that already holds an authenticated allocation with a
 * permission and a channel (made here, since a fuzzer cannot forge MESSAGE-INTEGRITY): each control
 * byte's low 2 bits choose an action and its high 6 bits a length:
 *   0: feed the next `len` bytes to the allocated session     1: the next bytes come from a peer
 *   2: advance the clock by len * 20 s and run on_timeout     3: feed them to an unauthenticated session
 * A session whose stream is refused is closed and replaced, as the caller would.
 *
 * Invariants (abort on violation): everything sent to a client is one well-formed STUN message or
 * one padded ChannelData; everything relayed goes to one of the relay's own addresses and comes
 * from an allocated relayed address (an allocation can reach nothing else).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/cursor.h"
#include "relay/proto/turn.h"

#define REALM  "fuzz.example"
#define SECRET "fuzz-secret"
#define T0     OVL_SEC(100)

typedef struct fz {
    ovl_turn_server_t *srv;
    ovl_addr_t peer, relay;
    char nonce[64];
    size_t nonce_len;
} fz_t;

static void to_client(void *user, ovl_turn_session_t *s, void *ctx, const uint8_t *data, size_t len)
{
    fz_t *f = user;
    (void)s;
    (void)ctx;
    size_t flen;
    if (ovl_turn_frame_len(data, len, &flen) != 0 || flen != len)
        abort();
    if ((data[0] & 0xc0) == 0x40)
        return;
    ovl_stun_msg_t m;
    int r = ovl_stun_parse(data, len, &m);
    if (r != 0 && r != OVL_ERR_UNSUPPORTED)
        abort();
    if ((m.has & OVL_STUN_HAS_NONCE) && m.nonce.len < sizeof(f->nonce)) {
        memcpy(f->nonce, m.nonce.s, m.nonce.len);
        f->nonce_len = m.nonce.len;
    }
}

static void to_peer(void *user, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data, size_t len)
{
    fz_t *f = user;
    (void)data;
    (void)len;
    if (!ovl_addr_equal(peer, &f->peer) || relayed->family != f->relay.family ||
        memcmp(relayed->ip, f->relay.ip, sizeof(relayed->ip)) != 0)
        abort(); /* an allocation reached something other than the relay */
}

/* An authenticated request from the harness (the fuzzer cannot compute MESSAGE-INTEGRITY). */
static void request(fz_t *f, ovl_turn_session_t *s, uint16_t method, uint16_t channel, uint8_t seq, ovl_time_t now)
{
    uint8_t buf[512], key[16], txid[12] = {0xf0, seq};
    char user[] = "9999999999:fuzzer", pwd[OVL_TURN_REST_PASSWORD_LEN + 1];
    ovl_wbuf_t w;
    ovl_stun_builder_t b;
    ovl_turn_rest_password((const uint8_t *)SECRET, strlen(SECRET), user, strlen(user), pwd, sizeof(pwd));
    ovl_stun_long_term_key(user, strlen(user), REALM, strlen(REALM), pwd, strlen(pwd), key);
    ovl_wbuf_init(&w, buf, sizeof(buf));
    ovl_stun_build_start(&b, &w, OVL_STUN_REQUEST, method, txid);
    if (method == OVL_TURN_ALLOCATE) {
        uint8_t udp[4] = {OVL_TURN_PROTO_UDP, 0, 0, 0};
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_REQUESTED_TRANSPORT, udp, 4);
    }
    if (channel != 0) {
        uint8_t ch[4] = {(uint8_t)(channel >> 8), (uint8_t)channel, 0, 0};
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_CHANNEL_NUMBER, ch, 4);
    }
    if (method == OVL_TURN_CREATE_PERMISSION || method == OVL_TURN_CHANNEL_BIND) {
        uint8_t v[8] = {0, 1};
        ovl_store_u16(v + 2, f->peer.port ^ 0x2112);
        for (int i = 0; i < 4; i++)
            v[4 + i] = f->peer.ip[i] ^ (uint8_t)(OVL_STUN_MAGIC_COOKIE >> (24 - 8 * i));
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_XOR_PEER_ADDRESS, v, 8);
    }
    ovl_stun_add_username(&b, user, strlen(user));
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_REALM, REALM, strlen(REALM));
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_NONCE, f->nonce, f->nonce_len);
    if (ovl_stun_build_finish(&b, f->nonce_len ? key : NULL, f->nonce_len ? 16 : 0) == 0)
        ovl_turn_session_feed(s, buf, w.len, now);
}

static ovl_turn_session_t *allocated_session(fz_t *f, ovl_time_t now, ovl_addr_t *relayed)
{
    ovl_turn_session_t *s;
    if (ovl_turn_session_open(f->srv, &f->peer, NULL, now, &s) < 0)
        return NULL;
    f->nonce_len = 0;
    request(f, s, OVL_TURN_ALLOCATE, 0, 1, now); /* 401: learns the nonce */
    request(f, s, OVL_TURN_ALLOCATE, 0, 2, now);
    request(f, s, OVL_TURN_CREATE_PERMISSION, 0, 3, now);
    request(f, s, OVL_TURN_CHANNEL_BIND, 0x4000, 4, now);
    *relayed = ovl_turn_session_relayed(s);
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = {0};
    ovl_addr_parse(&f.peer, "10.0.0.2", 10000);
    ovl_addr_parse(&f.relay, "10.0.0.1", 0);
    ovl_turn_config_t cfg = {.realm = REALM,
                             .secret = (const uint8_t *)SECRET,
                             .secret_len = strlen(SECRET),
                             .relay_ip = f.relay,
                             .port_min = 40000,
                             .port_max = 40003,
                             .peers = &f.peer,
                             .n_peers = 1,
                             .unix_time = 1700000000,
                             .max_allocations_per_user = 2};
    ovl_turn_callbacks_t cb = {.to_client = to_client, .to_peer = to_peer, .user = &f};
    if (ovl_turn_server_new(&f.srv, &cfg, &cb, T0) < 0)
        abort();

    ovl_addr_t relayed;
    ovl_turn_session_t *whole, *alloc = allocated_session(&f, T0, &relayed), *anon;
    if (alloc == NULL || !ovl_turn_session_allocated(alloc))
        abort();
    if (ovl_turn_session_open(f.srv, &f.peer, NULL, T0, &whole) < 0 ||
        ovl_turn_session_open(f.srv, &f.peer, NULL, T0, &anon) < 0)
        abort();
    ovl_turn_session_feed(whole, data, size, T0);
    ovl_turn_session_close(whole);

    ovl_time_t now = T0;
    for (size_t i = 0; i < size;) {
        uint8_t ctl = data[i++];
        size_t len = ctl >> 2;
        if (len > size - i)
            len = size - i;
        const uint8_t *chunk = data + i;
        switch (ctl & 3) {
        case 0:
            if (ovl_turn_session_feed(alloc, chunk, len, now) < 0) {
                ovl_turn_session_close(alloc);
                if ((alloc = allocated_session(&f, now, &relayed)) == NULL)
                    abort();
            }
            i += len;
            break;
        case 1:
            ovl_turn_server_from_peer(f.srv, &relayed, &f.peer, chunk, len, now);
            i += len;
            break;
        case 2:
            now += OVL_SEC(20) * len;
            ovl_turn_server_on_timeout(f.srv, now);
            break;
        default:
            if (ovl_turn_session_feed(anon, chunk, len, now) < 0) {
                ovl_turn_session_close(anon);
                if (ovl_turn_session_open(f.srv, &f.peer, NULL, now, &anon) < 0)
                    abort();
            }
            i += len;
        }
    }
    ovl_turn_stats_t st;
    ovl_turn_server_stats(f.srv, &st);
    if (st.sessions != 2 || st.allocations > 4)
        abort();
    ovl_turn_server_free(f.srv);
    return 0;
}
