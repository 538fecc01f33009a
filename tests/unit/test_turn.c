/*
 * The sans-IO TURN server core (relay/proto/turn.h) driven as a TCP/TLS client would drive it:
 * RFC 8656 Allocate with the RFC 8489 §9.2 long-term credential flow (401, then integrity) under
 * TURN REST credentials, stale nonces (438), Refresh, CreatePermission, ChannelBind, Send/Data
 * indications and ChannelData with §12.5 padding, expiry on a fake clock, quotas, stream framing
 * at every byte, and the rule of this relay: peers other than its own addresses are Forbidden.
 * Messages are built here with our STUN builder plus this file's own XOR-address encoder, and
 * responses are checked with the STUN parser and an independently computed key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "relay/proto/cursor.h"
#include "relay/proto/turn.h"
#include "signaling/hub.h"

#define T0        OVL_SEC(1000) /* monotonic time at the start */
#define UNIX0     1700000000    /* wall time at T0 */
#define MAX_OUT   64
#define REALM     "overleg.test"
#define SECRET    "s3cret"
#define RELAY_IP  "198.51.100.1"
#define PEER_A_IP "192.0.2.10" /* allowed on port 10000 only */
#define PEER_B_IP "192.0.2.11" /* allowed on any port */

typedef struct out_msg {
    uint8_t buf[4200];
    size_t len;
    ovl_turn_session_t *s;
} out_msg_t;

typedef struct world {
    ovl_turn_server_t *srv;
    out_msg_t out[MAX_OUT];
    size_t n_out;
    ovl_addr_t peer_to[MAX_OUT], relayed_from[MAX_OUT];
    uint8_t peer_data[MAX_OUT][64];
    size_t peer_len[MAX_OUT], n_peer;
    int created, deleted;
    ovl_addr_t last_relayed;
    ovl_addr_t a, a_other_port, b, b_any, stranger, relay, client;
    uint8_t txid_seq;
} world_t;

static void to_client(void *user, ovl_turn_session_t *s, void *ctx, const uint8_t *data, size_t len)
{
    world_t *w = user;
    (void)ctx;
    assert_true(w->n_out < MAX_OUT && len <= sizeof(w->out[0].buf));
    memcpy(w->out[w->n_out].buf, data, len);
    w->out[w->n_out].len = len;
    w->out[w->n_out].s = s;
    w->n_out++;
}

static void to_peer(void *user, const ovl_addr_t *relayed, const ovl_addr_t *peer, const uint8_t *data, size_t len)
{
    world_t *w = user;
    assert_true(w->n_peer < MAX_OUT && len <= sizeof(w->peer_data[0]));
    w->peer_to[w->n_peer] = *peer;
    w->relayed_from[w->n_peer] = *relayed;
    memcpy(w->peer_data[w->n_peer], data, len);
    w->peer_len[w->n_peer] = len;
    w->n_peer++;
}

static void on_allocation(void *user, ovl_turn_session_t *s, void *ctx, const ovl_turn_alloc_event_t *ev)
{
    world_t *w = user;
    (void)s;
    (void)ctx;
    if (ev->type == OVL_TURN_ALLOC_CREATED)
        w->created++;
    else
        w->deleted++;
    w->last_relayed = ev->relayed;
}

static ovl_addr_t addr(const char *ip, uint16_t port)
{
    ovl_addr_t a;
    assert_int_equal(ovl_addr_parse(&a, ip, port), 0);
    return a;
}

static void world_open(world_t *w, ovl_turn_config_t *cfg_in)
{
    memset(w, 0, sizeof(*w));
    w->a = addr(PEER_A_IP, 10000);
    w->a_other_port = addr(PEER_A_IP, 10001);
    w->b = addr(PEER_B_IP, 5000);
    w->b_any = addr(PEER_B_IP, 0);
    w->stranger = addr("203.0.113.5", 3478);
    w->relay = addr(RELAY_IP, 0);
    w->client = addr("192.0.2.200", 54321);
    ovl_addr_t peers[2] = {w->a, w->b_any};
    ovl_turn_config_t cfg = {0};
    if (cfg_in != NULL)
        cfg = *cfg_in;
    cfg.realm = REALM;
    cfg.secret = (const uint8_t *)SECRET;
    cfg.secret_len = strlen(SECRET);
    memset(cfg.nonce_key, 0x5a, sizeof(cfg.nonce_key));
    cfg.relay_ip = w->relay;
    if (cfg.port_min == 0)
        cfg.port_min = 50000, cfg.port_max = 50009;
    cfg.peers = peers;
    cfg.n_peers = 2;
    cfg.unix_time = UNIX0;
    cfg.software = "overleg-test";
    ovl_turn_callbacks_t cb = {.to_client = to_client, .to_peer = to_peer, .on_allocation = on_allocation, .user = w};
    assert_int_equal(ovl_turn_server_new(&w->srv, &cfg, &cb, T0), 0);
}

static void world_close(world_t *w)
{
    ovl_turn_server_free(w->srv);
}

/* ---- a client --------------------------------------------------------------------------------- */

typedef struct client {
    world_t *w;
    ovl_turn_session_t *s;
    char username[128];
    char password[64];
    char nonce[128];
    uint8_t key[16];
    uint8_t txid[12];
} client_t;

/* MD5(username ":" realm ":" password) through OpenSSL's EVP, independently of the server. */
static void long_term_key(const char *user, const char *realm, const char *pwd, uint8_t key[16])
{
    char text[512];
    unsigned int len = 0;
    int n = snprintf(text, sizeof(text), "%s:%s:%s", user, realm, pwd);
    assert_true(EVP_Digest(text, (size_t)n, key, &len, EVP_md5(), NULL) == 1 && len == 16);
}

/* base64(HMAC-SHA1(secret, username)) through EVP_Q_mac, independently of ovl_turn_rest_password. */
static void rest_password(const char *secret, const char *user, char out[64])
{
    uint8_t mac[20];
    size_t len = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA1", NULL, secret, strlen(secret), (const uint8_t *)user,
                              strlen(user), mac, sizeof(mac), &len));
    assert_int_equal(len, 20);
    EVP_EncodeBlock((unsigned char *)out, mac, 20);
}

static void client_open(client_t *c, world_t *w, int64_t expiry, const char *participant)
{
    memset(c, 0, sizeof(*c));
    c->w = w;
    assert_int_equal(ovl_turn_session_open(w->srv, &w->client, c, T0, &c->s), 0);
    snprintf(c->username, sizeof(c->username), "%lld:%s", (long long)expiry, participant);
    rest_password(SECRET, c->username, c->password);
    long_term_key(c->username, REALM, c->password, c->key);
}

/* RFC 8489 §14.2 encoding, written out here rather than borrowed from the server. */
static void put_xor(ovl_stun_builder_t *b, uint16_t type, const ovl_addr_t *a)
{
    uint8_t v[20];
    size_t n = a->family == OVL_ADDR_IPV4 ? 4 : 16;
    v[0] = 0;
    v[1] = n == 4 ? 1 : 2;
    ovl_store_u16(v + 2, a->port ^ 0x2112);
    for (size_t i = 0; i < n; i++)
        v[4 + i] = a->ip[i] ^ (i < 4 ? (uint8_t)(0x2112a442u >> (24 - 8 * i)) : b->txid[i - 4]);
    assert_int_equal(ovl_stun_add_attr(b, type, v, 4 + n), 0);
}

static void get_xor(const uint8_t *v, size_t len, const uint8_t txid[12], ovl_addr_t *out)
{
    assert_true(len == 8 || len == 20);
    uint8_t ip[16];
    for (size_t i = 0; i < len - 4; i++)
        ip[i] = v[4 + i] ^ (i < 4 ? (uint8_t)(0x2112a442u >> (24 - 8 * i)) : txid[i - 4]);
    uint16_t port = ovl_load_u16(v + 2) ^ 0x2112;
    if (len == 8)
        ovl_addr_set_ipv4(out, ip, port);
    else
        ovl_addr_set_ipv6(out, ip, port);
}

/* Finds attribute `type` in a message; returns its value or NULL. */
static const uint8_t *find_attr(const uint8_t *msg, size_t len, uint16_t type, size_t *vlen)
{
    size_t off = 20;
    while (off + 4 <= len) {
        uint16_t t = ovl_load_u16(msg + off), l = ovl_load_u16(msg + off + 2);
        if (t == type) {
            *vlen = l;
            return msg + off + 4;
        }
        off += 4 + ((l + 3u) & ~3u);
    }
    return NULL;
}

typedef struct req {
    uint16_t method;
    ovl_stun_class_t cls;
    bool auth;         /* USERNAME, REALM, NONCE, MESSAGE-INTEGRITY */
    bool no_transport; /* Allocate without REQUESTED-TRANSPORT */
    uint8_t transport; /* 0: UDP */
    int64_t lifetime;  /* -1: none */
    uint16_t channel;  /* 0: none */
    const ovl_addr_t *peers[10];
    size_t n_peers;
    const uint8_t *data;
    size_t data_len;
    uint8_t family;      /* REQUESTED-ADDRESS-FAMILY, 0: none */
    uint16_t extra_attr; /* another attribute with a 4-byte value, 0: none */
    bool same_txid;      /* reuse the previous transaction id (a retransmission) */
    bool raw;            /* no second attempt after 438 */
} req_t;

static size_t build(client_t *c, const req_t *r, uint8_t *buf, size_t cap)
{
    ovl_wbuf_t w;
    ovl_stun_builder_t b;
    ovl_wbuf_init(&w, buf, cap);
    if (!r->same_txid) {
        memset(c->txid, 0, sizeof(c->txid));
        c->txid[0] = 0xc0;
        c->txid[11] = ++c->w->txid_seq;
    }
    ovl_stun_class_t cls = r->cls != 0 ? r->cls : OVL_STUN_REQUEST;
    assert_int_equal(ovl_stun_build_start(&b, &w, cls, r->method, c->txid), 0);
    uint8_t v4[4] = {0};
    if (r->method == OVL_TURN_ALLOCATE && !r->no_transport) {
        v4[0] = r->transport != 0 ? r->transport : OVL_TURN_PROTO_UDP;
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_REQUESTED_TRANSPORT, v4, 4);
    }
    if (r->lifetime >= 0 && r->method != 0) {
        ovl_store_u32(v4, (uint32_t)r->lifetime);
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_LIFETIME, v4, 4);
    }
    if (r->channel != 0) {
        memset(v4, 0, 4);
        ovl_store_u16(v4, r->channel);
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_CHANNEL_NUMBER, v4, 4);
    }
    for (size_t i = 0; i < r->n_peers; i++)
        put_xor(&b, OVL_TURN_ATTR_XOR_PEER_ADDRESS, r->peers[i]);
    if (r->data != NULL)
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_DATA, r->data, r->data_len);
    if (r->family != 0) {
        uint8_t f[4] = {r->family, 0, 0, 0};
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_REQUESTED_ADDRESS_FAMILY, f, 4);
    }
    if (r->extra_attr != 0) {
        uint8_t z[8] = {0};
        ovl_stun_add_attr(&b, r->extra_attr, z, r->extra_attr == OVL_TURN_ATTR_RESERVATION_TOKEN ? 8 : 4);
    }
    if (r->auth) {
        ovl_stun_add_username(&b, c->username, strlen(c->username));
        ovl_stun_add_attr(&b, OVL_STUN_ATTR_REALM, REALM, strlen(REALM));
        ovl_stun_add_attr(&b, OVL_STUN_ATTR_NONCE, c->nonce, strlen(c->nonce));
        assert_int_equal(ovl_stun_build_finish(&b, c->key, 16), 0);
    } else {
        assert_int_equal(ovl_stun_build_finish(&b, NULL, 0), 0);
    }
    return w.len;
}

/* The response to the last request: parsed, FINGERPRINT checked, and MESSAGE-INTEGRITY checked
 * under the client's key when the request was authenticated (RFC 8489 §9.2.4: except on 401 and
 * 438, which carry none; an unauthenticated request gets no MESSAGE-INTEGRITY at all). Returns the
 * error code, or 0 for a success response. */
static int last_response(client_t *c, ovl_stun_msg_t *m, bool authenticated)
{
    world_t *w = c->w;
    assert_true(w->n_out > 0);
    out_msg_t *o = &w->out[w->n_out - 1];
    assert_ptr_equal(o->s, c->s);
    int r = ovl_stun_parse(o->buf, o->len, m);
    assert_true(r == 0 || r == OVL_ERR_UNSUPPORTED);
    assert_memory_equal(m->txid, c->txid, 12);
    assert_int_equal(ovl_stun_check_fingerprint(m), 0);
    assert_true(m->cls == OVL_STUN_SUCCESS || m->cls == OVL_STUN_ERROR);
    int code = m->cls == OVL_STUN_SUCCESS ? 0 : m->error_code;
    if (authenticated && code != 401 && code != 438)
        assert_int_equal(ovl_stun_check_integrity(m, c->key, 16), 0);
    else
        assert_false(m->has & OVL_STUN_HAS_INTEGRITY);
    if ((m->has & OVL_STUN_HAS_NONCE) && m->nonce.len < sizeof(c->nonce)) {
        memcpy(c->nonce, m->nonce.s, m->nonce.len);
        c->nonce[m->nonce.len] = '\0';
    }
    return code;
}

/* Sends one request; returns the response code (0: success). Like a client (RFC 8489 §9.2.5), an
 * authenticated request answered 438 is sent again once with the new nonce, unless r->raw. */
static int send_req(client_t *c, const req_t *r, ovl_time_t now, ovl_stun_msg_t *m)
{
    uint8_t buf[2048];
    ovl_stun_msg_t local;
    ovl_stun_msg_t *mm = m != NULL ? m : &local;
    for (int attempt = 0;; attempt++) {
        size_t n = build(c, r, buf, sizeof(buf)), before = c->w->n_out;
        assert_int_equal(ovl_turn_session_feed(c->s, buf, n, now), 0);
        assert_int_equal(c->w->n_out, before + 1);
        int code = last_response(c, mm, r->auth);
        if (code != 438 || !r->auth || r->raw || attempt > 0)
            return code;
    }
}

/* A fresh client with an allocation: 401 first (RFC 8489 §9.2.3), then an authenticated Allocate. */
static void allocate(client_t *c, world_t *w, const char *participant, ovl_time_t now)
{
    client_open(c, w, UNIX0 + 3600, participant);
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    ovl_stun_msg_t m;
    assert_int_equal(send_req(c, &r, now, &m), 401);
    r.auth = true;
    assert_int_equal(send_req(c, &r, now, &m), 0);
}

static int create_permission(client_t *c, const ovl_addr_t *peer, ovl_time_t now)
{
    req_t r = {.method = OVL_TURN_CREATE_PERMISSION, .auth = true, .lifetime = -1, .peers = {peer}, .n_peers = 1};
    return send_req(c, &r, now, NULL);
}

static int channel_bind(client_t *c, uint16_t number, const ovl_addr_t *peer, ovl_time_t now)
{
    req_t r = {.method = OVL_TURN_CHANNEL_BIND,
               .auth = true,
               .lifetime = -1,
               .channel = number,
               .peers = {peer},
               .n_peers = peer != NULL};
    return send_req(c, &r, now, NULL);
}

/* ---- tests ------------------------------------------------------------------------------------ */

/* RFC 8656 §7.2/§7.3 with RFC 8489 §9.2: Allocate -> 401 (REALM, NONCE, unsigned) -> Allocate with
 * integrity -> success with XOR-RELAYED-ADDRESS, LIFETIME and XOR-MAPPED-ADDRESS, signed. */
static void test_turn_allocate_flow(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    client_open(&c, &w, UNIX0 + 3600, "alice");
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    assert_true(m.has & OVL_STUN_HAS_REALM);
    assert_int_equal(m.realm.len, strlen(REALM));
    assert_memory_equal(m.realm.s, REALM, m.realm.len);
    assert_int_equal(m.nonce.len, OVL_TURN_NONCE_LEN);
    assert_int_equal(m.method, OVL_TURN_ALLOCATE);

    r.auth = true;
    assert_int_equal(send_req(&c, &r, T0, &m), 0);
    const out_msg_t *o = &w.out[w.n_out - 1];
    size_t vlen;
    const uint8_t *v = find_attr(o->buf, o->len, OVL_TURN_ATTR_XOR_RELAYED_ADDRESS, &vlen);
    assert_non_null(v);
    ovl_addr_t relayed;
    get_xor(v, vlen, c.txid, &relayed);
    assert_int_equal(relayed.family, OVL_ADDR_IPV4);
    assert_memory_equal(relayed.ip, w.relay.ip, 4);
    assert_true(relayed.port >= 50000 && relayed.port <= 50009);
    v = find_attr(o->buf, o->len, OVL_TURN_ATTR_LIFETIME, &vlen);
    assert_non_null(v);
    assert_int_equal(vlen, 4);
    assert_int_equal(ovl_load_u32(v), 600); /* RFC 8656 §7.2: the default */
    assert_true(m.has & OVL_STUN_HAS_XOR_MAPPED_ADDRESS);
    assert_true(ovl_addr_equal(&m.xor_mapped, &w.client));
    assert_int_equal(w.created, 1);
    assert_true(ovl_addr_equal(&w.last_relayed, &relayed));
    assert_true(ovl_turn_session_allocated(c.s));
    ovl_addr_t rel = ovl_turn_session_relayed(c.s);
    assert_true(ovl_addr_equal(&rel, &relayed));

    /* Chromium retransmits its Allocate even over TCP: the same transaction gets the same answer */
    r.same_txid = true;
    assert_int_equal(send_req(&c, &r, T0 + OVL_MS(500), &m), 0);
    v = find_attr(w.out[w.n_out - 1].buf, w.out[w.n_out - 1].len, OVL_TURN_ATTR_XOR_RELAYED_ADDRESS, &vlen);
    get_xor(v, vlen, c.txid, &rel);
    assert_true(ovl_addr_equal(&rel, &relayed));
    assert_int_equal(w.created, 1);
    /* a new Allocate on the same 5-tuple: 437 */
    r.same_txid = false;
    assert_int_equal(send_req(&c, &r, T0, &m), 437);
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.allocations, 1);
    assert_int_equal(st.allocations_total, 1); /* the retransmitted Allocate made none */
    assert_int_equal(st.err_401, 1);
    assert_int_equal(st.err_437, 1);
    ovl_turn_session_close(c.s);
    assert_int_equal(w.deleted, 1);
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.allocations, 0);
    assert_int_equal(st.allocations_total, 1);
    world_close(&w);
}

/* RFC 8489 §9.2.4: wrong password, a username that is not "<expiry>:<name>", an expired username
 * (TURN REST), a missing REALM: nothing is allocated. */
static void test_turn_bad_credentials(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    client_open(&c, &w, UNIX0 + 3600, "alice");
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    r.auth = true;

    uint8_t good[16];
    memcpy(good, c.key, 16);
    long_term_key(c.username, REALM, "not-the-password", c.key);
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    assert_true(m.has & OVL_STUN_HAS_NONCE); /* a 401 carries REALM and NONCE again */
    memcpy(c.key, good, 16);

    const char *bad_names[] = {"alice", ":alice", "1700003600:", "17x0:alice", "12345678901234567890:alice"};
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        snprintf(c.username, sizeof(c.username), "%s", bad_names[i]);
        rest_password(SECRET, c.username, c.password);
        long_term_key(c.username, REALM, c.password, c.key);
        assert_int_equal(send_req(&c, &r, T0, &m), 401);
    }
    /* expired: the expiry is in the past of the server's wall clock (UNIX0 at T0) */
    snprintf(c.username, sizeof(c.username), "%d:alice", UNIX0 - 1);
    rest_password(SECRET, c.username, c.password);
    long_term_key(c.username, REALM, c.password, c.key);
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    /* valid at T0 but not 2 s later */
    snprintf(c.username, sizeof(c.username), "%d:alice", UNIX0 + 1);
    rest_password(SECRET, c.username, c.password);
    long_term_key(c.username, REALM, c.password, c.key);
    assert_int_equal(send_req(&c, &r, T0 + OVL_SEC(2), &m), 401);
    /* the wall clock can be re-synchronised */
    ovl_turn_server_set_unix_time(w.srv, UNIX0 - 100, T0 + OVL_SEC(2));
    assert_int_equal(send_req(&c, &r, T0 + OVL_SEC(2), &m), 0);
    ovl_turn_session_close(c.s);

    /* integrity present but no REALM: 400 */
    client_open(&c, &w, UNIX0 + 3600, "bob");
    uint8_t buf[512];
    ovl_wbuf_t wb;
    ovl_stun_builder_t b;
    ovl_wbuf_init(&wb, buf, sizeof(buf));
    ovl_stun_build_start(&b, &wb, OVL_STUN_REQUEST, OVL_TURN_ALLOCATE, c.txid);
    ovl_stun_add_username(&b, c.username, strlen(c.username));
    assert_int_equal(ovl_stun_build_finish(&b, c.key, 16), 0);
    assert_int_equal(ovl_turn_session_feed(c.s, buf, wb.len, T0), 0);
    assert_int_equal(last_response(&c, &m, false), 400); /* unauthenticated: no MESSAGE-INTEGRITY */
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.allocations, 0);
    assert_int_equal(w.created, 1);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* RFC 8489 §9.2.4: an expired nonce is answered 438 with a fresh one, which then works; a nonce
 * of another session or a tampered one is stale too. */
static void test_turn_stale_nonce(void **state)
{
    (void)state;
    world_t w;
    client_t c, d;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    client_open(&c, &w, UNIX0 + 7200, "alice");
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    char first[128];
    strcpy(first, c.nonce);
    r.auth = true;
    r.raw = true;
    assert_int_equal(send_req(&c, &r, T0 + OVL_SEC(601), &m), 438); /* nonce_lifetime is 600 s */
    assert_true(m.has & OVL_STUN_HAS_REALM);
    assert_string_not_equal(c.nonce, first);
    assert_int_equal(send_req(&c, &r, T0 + OVL_SEC(601), &m), 0);

    client_open(&d, &w, UNIX0 + 7200, "bob");
    strcpy(d.nonce, c.nonce); /* another session's nonce */
    req_t rd = {.method = OVL_TURN_ALLOCATE, .lifetime = -1, .auth = true, .raw = true};
    assert_int_equal(send_req(&d, &rd, T0 + OVL_SEC(601), &m), 438);
    d.nonce[20] = d.nonce[20] == 'a' ? 'b' : 'a'; /* tampered MAC */
    assert_int_equal(send_req(&d, &rd, T0 + OVL_SEC(601), &m), 438);
    d.nonce[0] = 'z'; /* not hex */
    assert_int_equal(send_req(&d, &rd, T0 + OVL_SEC(601), &m), 438);
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.err_438, 4);
    ovl_turn_session_close(c.s);
    ovl_turn_session_close(d.s);
    world_close(&w);
}

/* RFC 8656 §10.2, with this relay's rule: only the relay's own addresses (403 otherwise), all or
 * none; 443 for the other family; 437 without allocation; 400 without a peer; 508 when full. */
static void test_turn_create_permission(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    client_open(&c, &w, UNIX0 + 3600, "alice");
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    assert_int_equal(create_permission(&c, &w.a, T0), 437); /* authenticated, but nothing allocated */
    r.auth = true;
    assert_int_equal(send_req(&c, &r, T0, &m), 0);

    assert_int_equal(create_permission(&c, &w.a, T0), 0);
    assert_int_equal(create_permission(&c, &w.a_other_port, T0), 0); /* permissions are per IP (§9) */
    assert_int_equal(create_permission(&c, &w.stranger, T0), 403);
    ovl_addr_t v6 = addr("2001:db8::1", 10000);
    assert_int_equal(create_permission(&c, &v6, T0), 443);
    req_t mixed = {
        .method = OVL_TURN_CREATE_PERMISSION, .auth = true, .lifetime = -1, .peers = {&w.b, &w.stranger}, .n_peers = 2};
    assert_int_equal(send_req(&c, &mixed, T0, &m), 403);
    /* nothing of the refused request was installed: data from B is dropped */
    ovl_addr_t rel = ovl_turn_session_relayed(c.s);
    uint8_t data[4] = {1, 2, 3, 4};
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.b, data, 4, T0), OVL_ERR_STATE);
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.a, data, 4, T0), 0);

    req_t none = {.method = OVL_TURN_CREATE_PERMISSION, .auth = true, .lifetime = -1};
    assert_int_equal(send_req(&c, &none, T0, &m), 400);
    const ovl_addr_t *nine[9] = {&w.a, &w.b, &w.a, &w.b, &w.a, &w.b, &w.a, &w.b, &w.a};
    req_t many = {.method = OVL_TURN_CREATE_PERMISSION, .auth = true, .lifetime = -1, .n_peers = 9};
    memcpy(many.peers, nine, sizeof(nine));
    assert_int_equal(send_req(&c, &many, T0, &m), 508);
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.err_403, 2);
    assert_int_equal(st.err_437, 1);
    assert_int_equal(st.err_400, 1);
    assert_int_equal(st.err_508, 1);
    assert_int_equal(st.err_4xx_other, 1); /* 443 */
    assert_int_equal(st.permissions, 2);   /* granted requests only */
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* RFC 8656 §11.2: the number range, rebinding conflicts (400), forbidden peers (403), refresh, and
 * the 5-minute guard after a binding expires (§12). */
static void test_turn_channel_bind(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    world_open(&w, NULL);
    allocate(&c, &w, "alice", T0);
    assert_int_equal(channel_bind(&c, 0x3fff, &w.a, T0), 400);
    assert_int_equal(channel_bind(&c, 0x5000, &w.a, T0), 400);
    assert_int_equal(channel_bind(&c, 0x4000, NULL, T0), 400);
    assert_int_equal(channel_bind(&c, 0x4000, &w.stranger, T0), 403);
    assert_int_equal(channel_bind(&c, 0x4000, &w.a_other_port, T0), 403); /* A is allowed on 10000 only */
    assert_int_equal(channel_bind(&c, 0x4000, &w.a, T0), 0);
    assert_int_equal(channel_bind(&c, 0x4000, &w.a, T0 + OVL_SEC(100)), 0); /* refresh */
    assert_int_equal(channel_bind(&c, 0x4000, &w.b, T0), 400);              /* number taken by A */
    assert_int_equal(channel_bind(&c, 0x4001, &w.a, T0), 400);              /* A has 0x4000 */
    assert_int_equal(channel_bind(&c, 0x4fff, &w.b, T0), 0);
    /* keep the allocation alive, let the binding expire (600 s after its refresh at +100 s) */
    req_t refresh = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = 3600};
    assert_int_equal(send_req(&c, &refresh, T0 + OVL_SEC(500), NULL), 0);
    ovl_time_t expired = T0 + OVL_SEC(100) + OVL_SEC(600) + OVL_SEC(1);
    assert_int_equal(channel_bind(&c, 0x4000, &w.b, expired), 400);                /* within the 5-minute guard */
    assert_int_equal(channel_bind(&c, 0x4000, &w.a, expired), 0);                  /* the same peer may rebind */
    assert_int_equal(channel_bind(&c, 0x4001, &w.b, expired + OVL_SEC(100)), 400); /* B: 0x4fff's guard (to +900 s) */
    ovl_time_t later = expired + OVL_SEC(600) + OVL_SEC(300) + OVL_SEC(1);
    assert_int_equal(send_req(&c, &refresh, later - OVL_SEC(10), NULL), 0);
    assert_int_equal(channel_bind(&c, 0x4000, &w.b, later), 0); /* guard over: free for another peer */
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.channel_binds, 5); /* granted binds and refreshes */
    assert_int_equal(st.err_403, 2);
    assert_int_equal(st.err_400, 7);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* RFC 8656 §11.3/§11.4: Send indication out to a permitted peer; Data indication back. */
static void test_turn_send_and_data_indications(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    world_open(&w, NULL);
    allocate(&c, &w, "alice", T0);
    ovl_addr_t rel = ovl_turn_session_relayed(c.s);
    static const uint8_t payload[] = "hello relay";
    req_t send = {.method = OVL_TURN_SEND,
                  .cls = OVL_STUN_INDICATION,
                  .lifetime = -1,
                  .peers = {&w.a},
                  .n_peers = 1,
                  .data = payload,
                  .data_len = 11};
    uint8_t buf[512];
    size_t n = build(&c, &send, buf, sizeof(buf)), out_before = w.n_out;
    assert_int_equal(ovl_turn_session_feed(c.s, buf, n, T0), 0);
    assert_int_equal(w.n_peer, 0); /* no permission yet: dropped silently */
    assert_int_equal(w.n_out, out_before);
    assert_int_equal(create_permission(&c, &w.a, T0), 0);
    assert_int_equal(ovl_turn_session_feed(c.s, buf, n, T0), 0);
    assert_int_equal(w.n_peer, 1);
    assert_true(ovl_addr_equal(&w.peer_to[0], &w.a));
    assert_true(ovl_addr_equal(&w.relayed_from[0], &rel));
    assert_int_equal(w.peer_len[0], 11);
    assert_memory_equal(w.peer_data[0], payload, 11);
    /* the same IP on a port that is not the relay's: not sent even with the permission */
    send.peers[0] = &w.a_other_port;
    n = build(&c, &send, buf, sizeof(buf));
    assert_int_equal(ovl_turn_session_feed(c.s, buf, n, T0), 0);
    assert_int_equal(w.n_peer, 1);

    /* back: a Data indication with XOR-PEER-ADDRESS and DATA */
    static const uint8_t answer[] = {0xde, 0xad, 0xbe, 0xef, 0x01};
    out_before = w.n_out;
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.a, answer, sizeof(answer), T0), 0);
    assert_int_equal(w.n_out, out_before + 1);
    const out_msg_t *o = &w.out[w.n_out - 1];
    ovl_stun_msg_t m;
    int r = ovl_stun_parse(o->buf, o->len, &m);
    assert_true(r == 0 || r == OVL_ERR_UNSUPPORTED);
    assert_int_equal(m.cls, OVL_STUN_INDICATION);
    assert_int_equal(m.method, OVL_TURN_DATA);
    size_t vlen;
    const uint8_t *v = find_attr(o->buf, o->len, OVL_TURN_ATTR_XOR_PEER_ADDRESS, &vlen);
    ovl_addr_t from;
    get_xor(v, vlen, m.txid, &from);
    assert_true(ovl_addr_equal(&from, &w.a));
    v = find_attr(o->buf, o->len, OVL_TURN_ATTR_DATA, &vlen);
    assert_int_equal(vlen, sizeof(answer));
    assert_memory_equal(v, answer, sizeof(answer));
    /* from a peer without permission, or to a relayed address nobody has */
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.b, answer, 5, T0), OVL_ERR_STATE);
    ovl_addr_t nobody = rel;
    nobody.port = rel.port == 50009 ? 50008 : rel.port + 1;
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &nobody, &w.a, answer, 5, T0), OVL_ERR_NOTFOUND);
    ovl_addr_t outside = rel;
    outside.port = 40000;
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &outside, &w.a, answer, 5, T0), OVL_ERR_NOTFOUND);
    /* permissions last 300 s (§9) */
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.a, answer, 5, T0 + OVL_SEC(300)), OVL_ERR_STATE);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* RFC 8656 §12.4-§12.6: ChannelData both ways, padded to 4 bytes over the stream (§12.5). */
static void test_turn_channel_data(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    world_open(&w, NULL);
    allocate(&c, &w, "alice", T0);
    ovl_addr_t rel = ovl_turn_session_relayed(c.s);
    assert_int_equal(channel_bind(&c, 0x4001, &w.b, T0), 0);
    /* two ChannelData back to back: 5 bytes (+3 padding), then 8 bytes (no padding), then one for
     * a channel that is not bound (dropped), in one read */
    uint8_t stream[64] = {0x40, 0x01, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e',  0,    0,    0,    0x40, 0x01, 0x00, 0x08,
                          '1',  '2',  '3',  '4',  '5', '6', '7', '8', 0x40, 0x02, 0x00, 0x01, 'x',  0,    0,    0};
    assert_int_equal(ovl_turn_session_feed(c.s, stream, 32, T0), 0);
    assert_int_equal(w.n_peer, 2);
    assert_true(ovl_addr_equal(&w.peer_to[0], &w.b));
    assert_int_equal(w.peer_len[0], 5);
    assert_memory_equal(w.peer_data[0], "abcde", 5);
    assert_int_equal(w.peer_len[1], 8);
    assert_memory_equal(w.peer_data[1], "12345678", 8);
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.channel_data_in, 3);
    assert_int_equal(st.to_peer_packets, 2);

    /* back: ChannelData when a channel is bound to that exact peer address */
    static const uint8_t seven[7] = {1, 2, 3, 4, 5, 6, 7};
    size_t before = w.n_out;
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.b, seven, 7, T0), 0);
    assert_int_equal(w.n_out, before + 1);
    const out_msg_t *o = &w.out[w.n_out - 1];
    assert_int_equal(o->len, 12); /* 4 + 7, padded to 12 */
    assert_int_equal(ovl_load_u16(o->buf), 0x4001);
    assert_int_equal(ovl_load_u16(o->buf + 2), 7);
    assert_memory_equal(o->buf + 4, seven, 7);
    assert_int_equal(o->buf[11], 0);
    /* B on another port has the permission (same IP) but no channel: Data indication */
    ovl_addr_t b2 = w.b;
    b2.port = 6000;
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &b2, seven, 7, T0), 0);
    assert_int_equal(w.out[w.n_out - 1].buf[0], 0x00);
    assert_int_equal(ovl_load_u16(w.out[w.n_out - 1].buf), 0x0017); /* Data indication */
    /* an expired channel (600 s) is not used; its permission (300 s) went first */
    req_t refresh = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = 3600};
    assert_int_equal(send_req(&c, &refresh, T0 + OVL_SEC(400), NULL), 0);
    assert_int_equal(create_permission(&c, &w.b, T0 + OVL_SEC(400)), 0);
    assert_int_equal(ovl_turn_server_from_peer(w.srv, &rel, &w.b, seven, 7, T0 + OVL_SEC(601)), 0);
    assert_int_equal(ovl_load_u16(w.out[w.n_out - 1].buf), 0x0017);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* RFC 8656 §8: Refresh sets the lifetime within [default, max]; 0 deletes; a fake clock expires
 * an allocation that nobody refreshes. */
static void test_turn_refresh_and_expiry(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    assert_int_equal(ovl_turn_server_next_timeout(w.srv), OVL_TIME_NEVER);
    allocate(&c, &w, "alice", T0);
    static const struct {
        int64_t ask;
        uint32_t get;
    } cases[] = {{1200, 1200}, {99999, 3600}, {10, 600}, {-1, 600}};
    for (size_t i = 0; i < 4; i++) {
        req_t r = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = cases[i].ask};
        assert_int_equal(send_req(&c, &r, T0, &m), 0);
        size_t vlen;
        const uint8_t *v = find_attr(w.out[w.n_out - 1].buf, w.out[w.n_out - 1].len, OVL_TURN_ATTR_LIFETIME, &vlen);
        assert_non_null(v);
        assert_int_equal(ovl_load_u32(v), cases[i].get);
    }
    req_t wrong_family = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = 600, .family = 0x02};
    assert_int_equal(send_req(&c, &wrong_family, T0, &m), 443);
    req_t del = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = 0};
    assert_int_equal(send_req(&c, &del, T0, &m), 0);
    assert_int_equal(w.deleted, 1);
    assert_false(ovl_turn_session_allocated(c.s));
    assert_int_equal(send_req(&c, &del, T0, &m), 437);
    ovl_turn_session_close(c.s);
    assert_int_equal(w.deleted, 1);

    /* expiry by the clock: 600 s, swept by on_timeout */
    allocate(&c, &w, "alice", T0);
    ovl_time_t next = ovl_turn_server_next_timeout(w.srv);
    assert_true(next > T0 && next <= T0 + OVL_SEC(1));
    ovl_turn_server_on_timeout(w.srv, T0 + OVL_SEC(599));
    assert_true(ovl_turn_session_allocated(c.s));
    ovl_turn_server_on_timeout(w.srv, T0 + OVL_SEC(600));
    assert_false(ovl_turn_session_allocated(c.s));
    assert_int_equal(w.deleted, 2);
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.expired, 1);
    assert_int_equal(ovl_turn_server_next_timeout(w.srv), OVL_TIME_NEVER);
    /* expired but not yet swept: a request finds it gone, and a new Allocate works */
    ovl_turn_session_close(c.s);
    allocate(&c, &w, "alice", T0);
    req_t again = {.method = OVL_TURN_ALLOCATE, .auth = true, .lifetime = -1, .raw = true};
    assert_int_equal(send_req(&c, &again, T0 + OVL_SEC(700), &m), 438); /* the nonce expired too */
    assert_int_equal(send_req(&c, &again, T0 + OVL_SEC(700), &m), 0);
    assert_int_equal(w.deleted, 3);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* Quotas: per participant (486), in total (508), sessions (refused at open), the port range (508). */
static void test_turn_quotas(void **state)
{
    (void)state;
    world_t w;
    client_t c[5];
    ovl_stun_msg_t m;
    ovl_turn_config_t cfg = {.max_allocations_per_user = 2, .max_allocations = 3, .max_sessions = 5};
    world_open(&w, &cfg);
    allocate(&c[0], &w, "alice", T0);
    allocate(&c[1], &w, "alice", T0);
    client_open(&c[2], &w, UNIX0 + 7200, "alice"); /* another expiry, the same participant */
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c[2], &r, T0, &m), 401);
    r.auth = true;
    assert_int_equal(send_req(&c[2], &r, T0, &m), 486);
    ovl_turn_session_close(c[2].s);
    allocate(&c[2], &w, "bob", T0);
    client_open(&c[3], &w, UNIX0 + 3600, "carol");
    r.auth = false;
    assert_int_equal(send_req(&c[3], &r, T0, &m), 401);
    r.auth = true;
    assert_int_equal(send_req(&c[3], &r, T0, &m), 508); /* 3 in total */
    client_open(&c[4], &w, UNIX0 + 3600, "dave");
    ovl_turn_session_t *sixth;
    assert_int_equal(ovl_turn_session_open(w.srv, &w.client, NULL, T0, &sixth), OVL_ERR_LIMIT);
    assert_null(sixth);
    ovl_turn_stats_t st;
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.err_486, 1);
    assert_int_equal(st.err_508, 1);
    assert_int_equal(st.sessions, 5);
    /* a closed session frees its allocation and its place */
    ovl_turn_session_close(c[0].s);
    assert_int_equal(send_req(&c[3], &r, T0, &m), 0);
    for (int i = 1; i < 5; i++)
        ovl_turn_session_close(c[i].s);
    world_close(&w);

    /* two ports only */
    cfg = (ovl_turn_config_t){.port_min = 40000, .port_max = 40001};
    world_open(&w, &cfg);
    allocate(&c[0], &w, "a", T0);
    allocate(&c[1], &w, "b", T0);
    client_open(&c[2], &w, UNIX0 + 3600, "c");
    r.auth = false;
    assert_int_equal(send_req(&c[2], &r, T0, &m), 401);
    r.auth = true;
    assert_int_equal(send_req(&c[2], &r, T0, &m), 508);
    ovl_addr_t r0 = ovl_turn_session_relayed(c[0].s), r1 = ovl_turn_session_relayed(c[1].s);
    assert_true(r0.port != r1.port);
    ovl_turn_session_close(c[0].s);
    assert_int_equal(send_req(&c[2], &r, T0, &m), 0);
    ovl_addr_t r2 = ovl_turn_session_relayed(c[2].s);
    assert_int_equal(r2.port, r0.port); /* the freed port is reused */
    ovl_turn_session_close(c[1].s);
    ovl_turn_session_close(c[2].s);
    world_close(&w);
}

/* RFC 8656 §7.2 refusals and the odd requests: 442, 400, 440, 508 (reservations), 420, 441, an
 * unknown method, a Binding request answered like a STUN server. */
static void test_turn_refusals(void **state)
{
    (void)state;
    world_t w;
    client_t c, other;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    client_open(&c, &w, UNIX0 + 3600, "alice");
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    r.auth = true;
    r.transport = 6; /* TCP (RFC 6062) */
    assert_int_equal(send_req(&c, &r, T0, &m), 442);
    r.transport = 0;
    r.no_transport = true;
    assert_int_equal(send_req(&c, &r, T0, &m), 400);
    r.no_transport = false;
    r.family = 0x02; /* IPv6 */
    assert_int_equal(send_req(&c, &r, T0, &m), 440);
    r.family = 0;
    r.extra_attr = OVL_TURN_ATTR_RESERVATION_TOKEN;
    assert_int_equal(send_req(&c, &r, T0, &m), 508);
    r.extra_attr = 0x7001; /* unknown, comprehension-required */
    assert_int_equal(send_req(&c, &r, T0, &m), 420);
    assert_true(m.has & OVL_STUN_HAS_UNKNOWN_ATTRIBUTES);
    size_t vlen;
    const uint8_t *v =
        find_attr(w.out[w.n_out - 1].buf, w.out[w.n_out - 1].len, OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES, &vlen);
    assert_int_equal(vlen, 2);
    assert_int_equal(ovl_load_u16(v), 0x7001);
    r.extra_attr = 0xc057; /* comprehension-optional (Chromium's GOOG-NETWORK-INFO): ignored */
    r.family = 0x01;
    assert_int_equal(send_req(&c, &r, T0, &m), 0);

    /* the allocation keeps its username: another valid one on this session is 441 */
    client_open(&other, &w, UNIX0 + 3600, "mallory");
    memcpy(other.nonce, c.nonce, sizeof(c.nonce));
    other.s = c.s;
    req_t refresh = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = 600};
    assert_int_equal(send_req(&other, &refresh, T0, &m), 441);

    /* an unknown method: 400; a Binding request: XOR-MAPPED-ADDRESS without authentication */
    req_t unknown = {.method = 0x00f, .lifetime = -1};
    assert_int_equal(send_req(&c, &unknown, T0, &m), 400);
    req_t binding = {.method = OVL_STUN_BINDING, .lifetime = -1};
    assert_int_equal(send_req(&c, &binding, T0, &m), 0);
    assert_true(ovl_addr_equal(&m.xor_mapped, &w.client));
    /* a malformed TURN attribute in an authenticated request: 400 */
    uint8_t buf[512];
    ovl_wbuf_t wb;
    ovl_stun_builder_t b;
    ovl_wbuf_init(&wb, buf, sizeof(buf));
    c.txid[11]++;
    ovl_stun_build_start(&b, &wb, OVL_STUN_REQUEST, OVL_TURN_REFRESH, c.txid);
    uint8_t three[3] = {0, 0, 1};
    ovl_stun_add_attr(&b, OVL_TURN_ATTR_LIFETIME, three, 3);
    ovl_stun_add_username(&b, c.username, strlen(c.username));
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_REALM, REALM, strlen(REALM));
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_NONCE, c.nonce, strlen(c.nonce));
    assert_int_equal(ovl_stun_build_finish(&b, c.key, 16), 0);
    assert_int_equal(ovl_turn_session_feed(c.s, buf, wb.len, T0), 0);
    assert_int_equal(last_response(&c, &m, true), 400);
    ovl_turn_stats_t st; /* each refusal counted under its own code */
    ovl_turn_server_stats(w.srv, &st);
    assert_int_equal(st.err_401, 1);
    assert_int_equal(st.err_442, 1);
    assert_int_equal(st.err_400, 3);
    assert_int_equal(st.err_4xx_other, 1); /* 440 */
    assert_int_equal(st.err_508, 1);
    assert_int_equal(st.err_420, 1);
    assert_int_equal(st.err_441, 1);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* The stream (RFC 8656 §12.5): a run of messages fed cut at every byte gives the same results as
 * fed whole; a first byte with the top bits 10/11 or an oversize message ends the session. */
static void test_turn_stream_framing(void **state)
{
    (void)state;
    static const uint8_t hello[] = "stream";
    uint8_t stream[2048];
    size_t total = 0;
    world_t w;
    client_t c;
    world_open(&w, NULL);
    allocate(&c, &w, "alice", T0);
    assert_int_equal(channel_bind(&c, 0x4000, &w.a, T0), 0);
    req_t send = {.method = OVL_TURN_SEND,
                  .cls = OVL_STUN_INDICATION,
                  .lifetime = -1,
                  .peers = {&w.a},
                  .n_peers = 1,
                  .data = hello,
                  .data_len = 6};
    total += build(&c, &send, stream + total, sizeof(stream) - total);
    uint8_t cd[] = {0x40, 0x00, 0x00, 0x03, 'x', 'y', 'z', 0};
    memcpy(stream + total, cd, sizeof(cd));
    total += sizeof(cd);
    req_t refresh = {.method = OVL_TURN_REFRESH, .auth = true, .lifetime = 900};
    total += build(&c, &refresh, stream + total, sizeof(stream) - total);
    size_t out0 = w.n_out;

    for (size_t k = 0; k <= total; k++) {
        w.n_peer = 0;
        w.n_out = out0;
        assert_int_equal(ovl_turn_session_feed(c.s, stream, k, T0), 0);
        assert_int_equal(ovl_turn_session_feed(c.s, stream + k, total - k, T0), 0);
        assert_int_equal(w.n_peer, 2);
        assert_memory_equal(w.peer_data[0], "stream", 6);
        assert_memory_equal(w.peer_data[1], "xyz", 3);
        assert_int_equal(w.n_out, out0 + 1); /* the Refresh answer */
    }
    /* byte by byte */
    w.n_peer = 0;
    w.n_out = out0;
    for (size_t i = 0; i < total; i++)
        assert_int_equal(ovl_turn_session_feed(c.s, stream + i, 1, T0), 0);
    assert_int_equal(w.n_peer, 2);
    assert_int_equal(w.n_out, out0 + 1);

    static const uint8_t tls[] = {0x80, 0x00, 0x00, 0x00};
    assert_int_equal(ovl_turn_session_feed(c.s, tls, 4, T0), OVL_ERR_PARSE);
    ovl_turn_session_close(c.s);
    client_open(&c, &w, UNIX0 + 3600, "bob");
    static const uint8_t big[] = {0x40, 0x00, 0x10, 0x00}; /* 4096 + 4 > max_message 4096 */
    assert_int_equal(ovl_turn_session_feed(c.s, big, 4, T0), OVL_ERR_LIMIT);
    ovl_turn_session_close(c.s);
    client_open(&c, &w, UNIX0 + 3600, "carol");
    static const uint8_t odd[] = {0x00, 0x03, 0x00, 0x05}; /* a STUN length not a multiple of 4 */
    assert_int_equal(ovl_turn_session_feed(c.s, odd, 2, T0), 0);
    assert_int_equal(ovl_turn_session_feed(c.s, odd + 2, 2, T0), OVL_ERR_PARSE);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

/* RFC 8656 §12, RFC 8489 §5: the framing helper. */
static void test_turn_frame_len(void **state)
{
    (void)state;
    static const struct {
        uint8_t b[4];
        size_t len;
        int ret;
        size_t frame;
    } cases[] = {
        {{0x00, 0x03, 0x00, 0x08}, 4, 0, 28},            /* STUN: 20 + 8 */
        {{0x00, 0x01, 0x00, 0x00}, 4, 0, 20},            /* STUN without attributes */
        {{0x40, 0x00, 0x00, 0x05}, 4, 0, 12},            /* ChannelData 4 + 5, padded */
        {{0x4f, 0xff, 0x00, 0x04}, 4, 0, 8},             /* already aligned */
        {{0x7f, 0xff, 0x00, 0x00}, 4, 0, 4},             /* reserved numbers still frame */
        {{0x40, 0x00, 0xff, 0xff}, 4, 0, 65540},         /* 4 + 65535, padded */
        {{0x00, 0x03, 0x00, 0x06}, 4, OVL_ERR_PARSE, 0}, /* STUN length not a multiple of 4 */
        {{0x80, 0x00, 0x00, 0x00}, 4, OVL_ERR_PARSE, 0}, /* RTP / not TURN */
        {{0xc0, 0x00, 0x00, 0x00}, 4, OVL_ERR_PARSE, 0},
        {{0x00, 0x03, 0x00, 0x08}, 3, OVL_ERR_AGAIN, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t f = 99;
        assert_int_equal(ovl_turn_frame_len(cases[i].b, cases[i].len, &f), cases[i].ret);
        assert_int_equal(f, cases[i].frame);
    }
}

/* TURN REST (coturn use-auth-secret): the password of a known username, computed with Python's
 * hmac/base64 (base64(HMAC-SHA1("s3cret", "1700003600:alice"))). */
static void test_turn_rest_password(void **state)
{
    (void)state;
    char pwd[OVL_TURN_REST_PASSWORD_LEN + 1];
    const char *u = "1700003600:alice";
    assert_int_equal(ovl_turn_rest_password((const uint8_t *)SECRET, 6, u, strlen(u), pwd, sizeof(pwd)), 0);
    assert_string_equal(pwd, "YAFdW/YDZewZsR1QSgUk2IrfbRI=");
    uint8_t key[16];
    long_term_key(u, REALM, pwd, key);
    static const uint8_t want[16] = {0xc1, 0xc1, 0x3e, 0x02, 0xe2, 0x14, 0xa5, 0x3d,
                                     0xc5, 0x1a, 0x8f, 0xa7, 0x56, 0x3a, 0xca, 0xca};
    assert_memory_equal(key, want, 16);
    assert_int_equal(ovl_turn_rest_password((const uint8_t *)SECRET, 6, u, strlen(u), pwd, 28), OVL_ERR_ARG);
}

/* The credentials signaling hands out in `welcome` (ovl_hub_turn_json) open an allocation. */
static void test_turn_signaling_credentials(void **state)
{
    (void)state;
    world_t w;
    client_t c;
    ovl_stun_msg_t m;
    world_open(&w, NULL);
    json_t *arr = ovl_hub_turn_json("turns:meet.example.org:443?transport=tcp", SECRET, "p-42", UNIX0);
    assert_int_equal(json_array_size(arr), 1);
    const char *user = json_string_value(json_object_get(json_array_get(arr, 0), "username"));
    const char *cred = json_string_value(json_object_get(json_array_get(arr, 0), "credential"));
    assert_non_null(user);
    assert_non_null(cred);
    client_open(&c, &w, 0, "x");
    snprintf(c.username, sizeof(c.username), "%s", user);
    long_term_key(user, REALM, cred, c.key);
    json_decref(arr);
    req_t r = {.method = OVL_TURN_ALLOCATE, .lifetime = -1};
    assert_int_equal(send_req(&c, &r, T0, &m), 401);
    r.auth = true;
    assert_int_equal(send_req(&c, &r, T0, &m), 0);
    ovl_turn_session_close(c.s);
    world_close(&w);
}

static void test_turn_config_errors(void **state)
{
    (void)state;
    ovl_turn_server_t *srv = (ovl_turn_server_t *)1;
    ovl_addr_t relay = addr(RELAY_IP, 0), peer6 = addr("2001:db8::2", 0), peer = addr(PEER_A_IP, 0);
    ovl_turn_callbacks_t cb = {.to_client = to_client, .to_peer = to_peer};
    ovl_turn_config_t ok = {.realm = REALM,
                            .secret = (const uint8_t *)SECRET,
                            .secret_len = 6,
                            .relay_ip = relay,
                            .port_min = 1000,
                            .port_max = 1001,
                            .peers = &peer,
                            .n_peers = 1};
    ovl_turn_config_t bad[7];
    for (size_t i = 0; i < 7; i++)
        bad[i] = ok;
    bad[0].realm = NULL;
    bad[1].secret_len = 0;
    bad[2].port_min = 0;
    bad[3].port_max = 999;
    bad[4].peers = &peer6; /* a peer of the other family */
    bad[5].n_peers = 0;
    bad[6].max_message = 10;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(ovl_turn_server_new(&srv, &bad[i], &cb, 0), OVL_ERR_ARG);
        assert_null(srv);
    }
    ovl_turn_callbacks_t nocb = {0};
    assert_int_equal(ovl_turn_server_new(&srv, &ok, &nocb, 0), OVL_ERR_ARG);
    assert_int_equal(ovl_turn_server_new(&srv, &ok, &cb, 0), 0);
    ovl_turn_server_free(srv);
    ovl_turn_server_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turn_allocate_flow),  cmocka_unit_test(test_turn_bad_credentials),
        cmocka_unit_test(test_turn_stale_nonce),    cmocka_unit_test(test_turn_create_permission),
        cmocka_unit_test(test_turn_channel_bind),   cmocka_unit_test(test_turn_send_and_data_indications),
        cmocka_unit_test(test_turn_channel_data),   cmocka_unit_test(test_turn_refresh_and_expiry),
        cmocka_unit_test(test_turn_quotas),         cmocka_unit_test(test_turn_refusals),
        cmocka_unit_test(test_turn_stream_framing), cmocka_unit_test(test_turn_frame_len),
        cmocka_unit_test(test_turn_rest_password),  cmocka_unit_test(test_turn_signaling_credentials),
        cmocka_unit_test(test_turn_config_errors),
    };
    return cmocka_run_group_tests_name("proto turn", tests, NULL, NULL);
}
