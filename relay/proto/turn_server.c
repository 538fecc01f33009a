/* TURN server core: sessions, stream framing, dispatch, the data paths and expiry (see turn.h).
 * The requests that change an allocation are in turn_alloc.c. */
#include <stdlib.h>
#include <string.h>

#include "relay/proto/cursor.h"
#include "relay/proto/turn_internal.h"

#define DEFAULT_LIFETIME    OVL_SEC(600)
#define DEFAULT_MAX_LIFE    OVL_SEC(3600)
#define DEFAULT_NONCE_LIFE  OVL_SEC(600)
#define DEFAULT_SESSIONS    4096
#define DEFAULT_ALLOCATIONS 1024
#define DEFAULT_PER_USER    8
#define DEFAULT_MESSAGE     4096
#define SWEEP_EVERY         OVL_SEC(1)
#define OUT_HEADROOM        64 /* a Data indication's header, XOR-PEER-ADDRESS and DATA header */

/* ---- configuration and lifetime ---------------------------------------------------------------- */

static int resolve(ovl_turn_config_t *c)
{
    if (c->default_lifetime == 0)
        c->default_lifetime = DEFAULT_LIFETIME;
    if (c->max_lifetime == 0)
        c->max_lifetime = DEFAULT_MAX_LIFE;
    if (c->nonce_lifetime == 0)
        c->nonce_lifetime = DEFAULT_NONCE_LIFE;
    if (c->max_sessions == 0)
        c->max_sessions = DEFAULT_SESSIONS;
    if (c->max_allocations == 0)
        c->max_allocations = DEFAULT_ALLOCATIONS;
    if (c->max_allocations_per_user == 0)
        c->max_allocations_per_user = DEFAULT_PER_USER;
    if (c->max_message == 0)
        c->max_message = DEFAULT_MESSAGE;
    if (c->realm == NULL || c->realm[0] == '\0' || strlen(c->realm) > 127 || c->secret == NULL || c->secret_len == 0 ||
        c->port_min == 0 || c->port_max < c->port_min || c->n_peers == 0 || c->n_peers > OVL_TURN_MAX_PEERS ||
        c->peers == NULL || c->max_lifetime < c->default_lifetime ||
        (c->relay_ip.family != OVL_ADDR_IPV4 && c->relay_ip.family != OVL_ADDR_IPV6) || c->max_message < 64 ||
        c->max_message > OVL_TURN_MESSAGE_MAX || (c->software != NULL && strlen(c->software) > 127))
        return OVL_ERR_ARG;
    for (size_t i = 0; i < c->n_peers; i++)
        if (c->peers[i].family != c->relay_ip.family)
            return OVL_ERR_ARG;
    return 0;
}

int ovl_turn_server_new(ovl_turn_server_t **out, const ovl_turn_config_t *cfg, const ovl_turn_callbacks_t *cb,
                        ovl_time_t now)
{
    ovl_turn_server_t *srv = NULL;
    int ret;

    *out = NULL;
    if (cfg == NULL || cb == NULL || cb->to_client == NULL || cb->to_peer == NULL) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if ((srv = calloc(1, sizeof(*srv))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    srv->cfg = *cfg;
    if ((ret = resolve(&srv->cfg)) < 0)
        goto Exit;
    srv->n_ports = (size_t)srv->cfg.port_max - srv->cfg.port_min + 1;
    srv->out_cap = (srv->cfg.max_message > 0xffff ? srv->cfg.max_message : 0xffff) + OUT_HEADROOM;
    if ((srv->secret = malloc(srv->cfg.secret_len)) == NULL ||
        (srv->by_port = calloc(srv->n_ports, sizeof(*srv->by_port))) == NULL ||
        (srv->out = malloc(srv->out_cap)) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    memcpy(srv->secret, cfg->secret, cfg->secret_len);
    srv->cfg.secret = srv->secret;
    srv->realm_len = strlen(cfg->realm);
    memcpy(srv->realm, cfg->realm, srv->realm_len + 1);
    srv->cfg.realm = srv->realm;
    if (cfg->software != NULL) {
        memcpy(srv->software, cfg->software, strlen(cfg->software) + 1);
        srv->cfg.software = srv->software;
    }
    memcpy(srv->peers, cfg->peers, cfg->n_peers * sizeof(*cfg->peers));
    srv->cfg.peers = srv->peers;
    srv->cfg.relay_ip.port = 0;
    srv->cb = *cb;
    srv->unix_base = cfg->unix_time;
    srv->mono_base = now;
    srv->next_sweep = OVL_TIME_NEVER;
    srv->next_id = 1;
    *out = srv;
    srv = NULL;

Exit:
    ovl_turn_server_free(srv);
    return ret;
}

void ovl_turn_server_free(ovl_turn_server_t *srv)
{
    if (srv == NULL)
        return;
    while (srv->sessions != NULL) {
        ovl_turn_session_t *s = srv->sessions;
        srv->sessions = s->next;
        free(s);
    }
    free(srv->by_port);
    free(srv->secret);
    free(srv->out);
    free(srv);
}

void ovl_turn_server_set_unix_time(ovl_turn_server_t *srv, int64_t unix_time, ovl_time_t now)
{
    srv->unix_base = unix_time;
    srv->mono_base = now;
}

int64_t ovl_turn_unix_now(const ovl_turn_server_t *srv, ovl_time_t now)
{
    if (now >= srv->mono_base)
        return srv->unix_base + (int64_t)((now - srv->mono_base) / 1000000u);
    return srv->unix_base - (int64_t)((srv->mono_base - now + 999999u) / 1000000u);
}

int ovl_turn_session_open(ovl_turn_server_t *srv, const ovl_addr_t *client, void *ctx, ovl_time_t now,
                          ovl_turn_session_t **out)
{
    (void)now;
    *out = NULL;
    if (srv->st.sessions >= srv->cfg.max_sessions)
        return OVL_ERR_LIMIT;
    ovl_turn_session_t *s = calloc(1, sizeof(*s) + srv->cfg.max_message);
    if (s == NULL)
        return OVL_ERR_NOMEM;
    s->srv = srv;
    s->ctx = ctx;
    s->id = srv->next_id++;
    if (client != NULL)
        s->client = *client;
    s->next = srv->sessions;
    if (srv->sessions != NULL)
        srv->sessions->prev = s;
    srv->sessions = s;
    srv->st.sessions++;
    *out = s;
    return 0;
}

void ovl_turn_session_close(ovl_turn_session_t *s)
{
    if (s == NULL)
        return;
    ovl_turn_server_t *srv = s->srv;
    if (s->alloc.active)
        ovl_turn_alloc_delete(s);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        srv->sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    srv->st.sessions--;
    free(s);
}

bool ovl_turn_session_allocated(const ovl_turn_session_t *s)
{
    return s->alloc.active;
}

ovl_addr_t ovl_turn_session_relayed(const ovl_turn_session_t *s)
{
    ovl_addr_t none = {0};
    return s->alloc.active ? s->alloc.relayed : none;
}

void ovl_turn_server_stats(const ovl_turn_server_t *srv, ovl_turn_stats_t *out)
{
    *out = srv->st;
}

/* ---- replies ------------------------------------------------------------------------------------ */

void ovl_turn_reply_start(ovl_turn_session_t *s, ovl_turn_reply_t *r, ovl_stun_class_t cls, uint16_t method,
                          const uint8_t txid[OVL_STUN_TXID_LEN])
{
    ovl_turn_server_t *srv = s->srv;
    ovl_wbuf_init(&r->w, srv->out, srv->out_cap);
    ovl_stun_build_start(&r->b, &r->w, cls, method, txid);
    if (srv->cfg.software != NULL)
        ovl_stun_add_software(&r->b, srv->cfg.software);
}

void ovl_turn_reply_send(ovl_turn_session_t *s, ovl_turn_reply_t *r, const uint8_t *key)
{
    ovl_turn_server_t *srv = s->srv;
    if (ovl_stun_build_finish(&r->b, key, key != NULL ? OVL_STUN_LONG_TERM_KEYLEN : 0) < 0)
        return; /* cannot happen with out_cap; nothing half-built goes out */
    srv->cb.to_client(srv->cb.user, s, s->ctx, r->w.base, r->w.len);
}

static void count_error(ovl_turn_stats_t *st, uint16_t code)
{
    switch (code) {
    case OVL_TURN_ERR_BAD_REQUEST:
        st->err_400++;
        break;
    case OVL_TURN_ERR_UNAUTHENTICATED:
        st->err_401++;
        break;
    case OVL_TURN_ERR_FORBIDDEN:
        st->err_403++;
        break;
    case OVL_TURN_ERR_UNKNOWN_ATTRIBUTE:
        st->err_420++;
        break;
    case OVL_TURN_ERR_ALLOCATION_MISMATCH:
        st->err_437++;
        break;
    case OVL_TURN_ERR_STALE_NONCE:
        st->err_438++;
        break;
    case OVL_TURN_ERR_WRONG_CREDENTIALS:
        st->err_441++;
        break;
    case OVL_TURN_ERR_UNSUPPORTED_TRANSPORT:
        st->err_442++;
        break;
    case OVL_TURN_ERR_QUOTA_REACHED:
        st->err_486++;
        break;
    case OVL_TURN_ERR_INSUFFICIENT_CAPACITY:
        st->err_508++;
        break;
    default:
        st->err_4xx_other++;
    }
}

void ovl_turn_reply_error(ovl_turn_session_t *s, const ovl_stun_msg_t *m, uint16_t code, const char *reason,
                          const uint8_t *key, bool with_nonce, ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_turn_reply_t r;
    count_error(&srv->st, code);
    ovl_turn_reply_start(s, &r, OVL_STUN_ERROR, m->method, m->txid);
    ovl_stun_add_error_code(&r.b, code, reason);
    if (with_nonce) { /* RFC 8489 §9.2.4: REALM and a NONCE with 401 and 438 */
        char nonce[OVL_TURN_NONCE_LEN];
        ovl_turn_nonce_make(srv->cfg.nonce_key, s->id, now + srv->cfg.nonce_lifetime, nonce);
        ovl_stun_add_attr(&r.b, OVL_STUN_ATTR_REALM, srv->realm, srv->realm_len);
        ovl_stun_add_attr(&r.b, OVL_STUN_ATTR_NONCE, nonce, sizeof(nonce));
    }
    ovl_turn_reply_send(s, &r, key);
}

/* ---- peers and permissions ---------------------------------------------------------------------- */

static bool same_ip(const ovl_addr_t *a, const ovl_addr_t *b)
{
    return a->family == b->family && memcmp(a->ip, b->ip, sizeof(a->ip)) == 0;
}

bool ovl_turn_peer_ip_allowed(const ovl_turn_server_t *srv, const ovl_addr_t *ip)
{
    for (size_t i = 0; i < srv->cfg.n_peers; i++)
        if (same_ip(&srv->peers[i], ip))
            return true;
    return false;
}

bool ovl_turn_peer_allowed(const ovl_turn_server_t *srv, const ovl_addr_t *addr)
{
    for (size_t i = 0; i < srv->cfg.n_peers; i++)
        if (same_ip(&srv->peers[i], addr) && (srv->peers[i].port == 0 || srv->peers[i].port == addr->port))
            return true;
    return false;
}

const ovl_turn_perm_t *ovl_turn_find_perm(const ovl_turn_alloc_t *al, const ovl_addr_t *peer, ovl_time_t now)
{
    for (size_t i = 0; i < al->n_perms; i++)
        if (same_ip(&al->perms[i].ip, peer) && now < al->perms[i].expires)
            return &al->perms[i];
    return NULL;
}

/* The unexpired channel bound to number, or to peer (number 0), or NULL. */
static const ovl_turn_chan_t *find_chan(const ovl_turn_alloc_t *al, uint16_t number, const ovl_addr_t *peer,
                                        ovl_time_t now)
{
    for (size_t i = 0; i < al->n_chans; i++) {
        const ovl_turn_chan_t *c = &al->chans[i];
        if (now < c->expires && (number != 0 ? c->number == number : ovl_addr_equal(&c->peer, peer)))
            return c;
    }
    return NULL;
}

/* ---- data: client -> peer ----------------------------------------------------------------------- */

static void relay_to_peer(ovl_turn_session_t *s, const ovl_addr_t *peer, const uint8_t *data, size_t len)
{
    ovl_turn_server_t *srv = s->srv;
    srv->st.to_peer_packets++;
    srv->st.to_peer_bytes += len;
    srv->cb.to_peer(srv->cb.user, &s->alloc.relayed, peer, data, len);
}

/* RFC 8656 §11.3 (receiving a Send indication): needs an allocation, XOR-PEER-ADDRESS and DATA, a
 * permission for the peer's IP; silently dropped otherwise. Here also: the peer must be one of the
 * relay's own addresses. */
static void on_send(ovl_turn_session_t *s, const ovl_turn_attrs_t *a, ovl_time_t now)
{
    const ovl_turn_alloc_t *al = &s->alloc;
    if (!al->active || now >= al->expires || !(a->has & OVL_TURN_HAS_PEER) || !(a->has & OVL_TURN_HAS_DATA) ||
        a->n_peers == 0 || !ovl_turn_peer_allowed(s->srv, &a->peers[0]) ||
        ovl_turn_find_perm(al, &a->peers[0], now) == NULL) {
        s->srv->st.dropped++;
        return;
    }
    relay_to_peer(s, &a->peers[0], a->data, a->data_len);
}

/* RFC 8656 §12.6 (receiving ChannelData): a bound, unexpired channel whose peer still has a
 * permission; dropped otherwise. */
static void on_channel_data(ovl_turn_session_t *s, const uint8_t *frame, ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    uint16_t number = ovl_load_u16(frame), len = ovl_load_u16(frame + 2);
    const ovl_turn_alloc_t *al = &s->alloc;
    srv->st.channel_data_in++;
    const ovl_turn_chan_t *c = NULL;
    if (al->active && now < al->expires && number >= OVL_TURN_CHANNEL_MIN && number <= OVL_TURN_CHANNEL_MAX)
        c = find_chan(al, number, NULL, now);
    if (c == NULL || ovl_turn_find_perm(al, &c->peer, now) == NULL) {
        srv->st.dropped++;
        return;
    }
    relay_to_peer(s, &c->peer, frame + 4, len);
}

/* ---- data: peer -> client ----------------------------------------------------------------------- */

/*
 * RFC 8656 §11.4 (Data indication: XOR-PEER-ADDRESS and DATA) or, with a channel bound to the
 * peer, §12.5 ChannelData padded to a multiple of 4 for the stream.
 */
int ovl_turn_server_from_peer(ovl_turn_server_t *srv, const ovl_addr_t *relayed, const ovl_addr_t *peer,
                              const uint8_t *data, size_t len, ovl_time_t now)
{
    ovl_turn_session_t *s = NULL;
    if (relayed->family == srv->cfg.relay_ip.family && same_ip(relayed, &srv->cfg.relay_ip) &&
        relayed->port >= srv->cfg.port_min && relayed->port <= srv->cfg.port_max)
        s = srv->by_port[relayed->port - srv->cfg.port_min];
    if (s == NULL || now >= s->alloc.expires) {
        srv->st.dropped++;
        return OVL_ERR_NOTFOUND;
    }
    if (len > 0xffff || len + OUT_HEADROOM > srv->out_cap || (data == NULL && len > 0)) {
        srv->st.dropped++;
        return OVL_ERR_ARG;
    }
    if (ovl_turn_find_perm(&s->alloc, peer, now) == NULL) {
        srv->st.dropped++;
        return OVL_ERR_STATE;
    }
    srv->st.from_peer_packets++;
    srv->st.from_peer_bytes += len;
    const ovl_turn_chan_t *c = find_chan(&s->alloc, 0, peer, now);
    if (c != NULL) {
        size_t total = (4 + len + 3) & ~(size_t)3;
        ovl_store_u16(srv->out, c->number);
        ovl_store_u16(srv->out + 2, (uint16_t)len);
        if (len > 0)
            memcpy(srv->out + 4, data, len);
        memset(srv->out + 4 + len, 0, total - 4 - len);
        srv->cb.to_client(srv->cb.user, s, s->ctx, srv->out, total);
        return 0;
    }
    uint8_t txid[OVL_STUN_TXID_LEN]; /* RFC 8656 §11.4: any value; ours counts so each differs */
    uint64_t seq = srv->st.from_peer_packets;
    memset(txid, 0, sizeof(txid));
    ovl_store_u32(txid + 4, (uint32_t)(seq >> 32));
    ovl_store_u32(txid + 8, (uint32_t)seq);
    ovl_turn_reply_t r;
    ovl_wbuf_init(&r.w, srv->out, srv->out_cap);
    ovl_stun_build_start(&r.b, &r.w, OVL_STUN_INDICATION, OVL_TURN_DATA, txid);
    ovl_turn_add_xor_address(&r.b, OVL_TURN_ATTR_XOR_PEER_ADDRESS, peer);
    if (ovl_stun_add_attr(&r.b, OVL_TURN_ATTR_DATA, data, len) < 0) {
        srv->st.dropped++;
        return OVL_ERR_ARG;
    }
    srv->cb.to_client(srv->cb.user, s, s->ctx, r.w.base, r.w.len);
    return 0;
}

/* ---- the stream --------------------------------------------------------------------------------- */

static void answer_binding(ovl_turn_session_t *s, const ovl_stun_msg_t *m)
{
    ovl_turn_reply_t r;
    ovl_turn_reply_start(s, &r, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m->txid);
    ovl_turn_add_xor_address(&r.b, OVL_STUN_ATTR_XOR_MAPPED_ADDRESS, &s->client);
    s->srv->st.responses_ok++;
    ovl_turn_reply_send(s, &r, NULL);
}

static void on_stun(ovl_turn_session_t *s, const uint8_t *frame, size_t len, ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_stun_msg_t m;
    ovl_turn_attrs_t a;
    int r = ovl_stun_parse(frame, len, &m);
    if ((r < 0 && r != OVL_ERR_UNSUPPORTED) ||
        ((m.has & OVL_STUN_HAS_FINGERPRINT) && ovl_stun_check_fingerprint(&m) < 0)) {
        srv->st.dropped++; /* RFC 8489 §6.3: a malformed message is dropped, not answered */
        return;
    }
    int ra = ovl_turn_attrs_parse(&m, &a);
    if (m.cls == OVL_STUN_INDICATION) {
        srv->st.indications_in++;
        if (m.method == OVL_TURN_SEND && ra == 0)
            on_send(s, &a, now);
        else
            srv->st.dropped++;
        return;
    }
    if (m.cls != OVL_STUN_REQUEST) { /* responses from a client mean nothing here */
        srv->st.dropped++;
        return;
    }
    srv->st.requests++;
    switch (m.method) {
    case OVL_STUN_BINDING:
        answer_binding(s, &m);
        return;
    case OVL_TURN_ALLOCATE:
    case OVL_TURN_REFRESH:
    case OVL_TURN_CREATE_PERMISSION:
    case OVL_TURN_CHANNEL_BIND:
        ovl_turn_handle_request(s, &m, &a, ra, now);
        return;
    default:
        ovl_turn_reply_error(s, &m, OVL_TURN_ERR_BAD_REQUEST, "Unknown method", NULL, false, now);
    }
}

static void handle_frame(ovl_turn_session_t *s, const uint8_t *frame, size_t len, ovl_time_t now)
{
    if ((frame[0] & 0xc0) == 0x40)
        on_channel_data(s, frame, now);
    else
        on_stun(s, frame, len, now);
}

int ovl_turn_session_feed(ovl_turn_session_t *s, const uint8_t *data, size_t len, ovl_time_t now)
{
    const uint8_t *p = data, *end = data + len;
    size_t cap = s->srv->cfg.max_message, flen;
    int r;

    if (data == NULL && len > 0)
        return OVL_ERR_ARG;
    if (s->rx_len > 0) { /* finish the message a previous call left incomplete */
        while (s->rx_len < 4 && p < end)
            s->rx[s->rx_len++] = *p++;
        if ((r = ovl_turn_frame_len(s->rx, s->rx_len, &flen)) == OVL_ERR_AGAIN)
            return 0;
        if (r < 0)
            return r;
        if (flen > cap)
            return OVL_ERR_LIMIT;
        size_t take = flen - s->rx_len < (size_t)(end - p) ? flen - s->rx_len : (size_t)(end - p);
        memcpy(s->rx + s->rx_len, p, take);
        s->rx_len += take;
        p += take;
        if (s->rx_len < flen)
            return 0;
        s->rx_len = 0;
        handle_frame(s, s->rx, flen, now);
    }
    while (p < end) { /* whole messages straight from the caller's buffer */
        if ((r = ovl_turn_frame_len(p, (size_t)(end - p), &flen)) == OVL_ERR_AGAIN)
            break;
        if (r < 0)
            return r;
        if (flen > cap)
            return OVL_ERR_LIMIT;
        if ((size_t)(end - p) < flen)
            break;
        handle_frame(s, p, flen, now);
        p += flen;
    }
    s->rx_len = (size_t)(end - p); /* under 4 bytes, or under one message of at most cap */
    memcpy(s->rx, p, s->rx_len);
    return 0;
}

/* ---- expiry ------------------------------------------------------------------------------------- */

void ovl_turn_alloc_delete(ovl_turn_session_t *s)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_turn_alloc_t *al = &s->alloc;
    if (!al->active)
        return;
    al->active = false;
    srv->by_port[al->relayed.port - srv->cfg.port_min] = NULL;
    if (s->aprev != NULL)
        s->aprev->anext = s->anext;
    else
        srv->allocs = s->anext;
    if (s->anext != NULL)
        s->anext->aprev = s->aprev;
    s->aprev = s->anext = NULL;
    srv->st.allocations--;
    if (srv->cb.on_allocation != NULL) {
        ovl_turn_alloc_event_t ev = {.type = OVL_TURN_ALLOC_DELETED,
                                     .relayed = al->relayed,
                                     .client = s->client,
                                     .username = al->username,
                                     .username_len = al->username_len};
        srv->cb.on_allocation(srv->cb.user, s, s->ctx, &ev);
    }
}

void ovl_turn_prune(ovl_turn_alloc_t *al, ovl_time_t now)
{
    size_t j = 0;
    for (size_t i = 0; i < al->n_perms; i++)
        if (now < al->perms[i].expires)
            al->perms[j++] = al->perms[i];
    al->n_perms = j;
    j = 0;
    for (size_t i = 0; i < al->n_chans; i++)
        if (now < al->chans[i].expires + OVL_TURN_CHANNEL_REUSE)
            al->chans[j++] = al->chans[i];
    al->n_chans = j;
}

ovl_time_t ovl_turn_server_next_timeout(const ovl_turn_server_t *srv)
{
    return srv->allocs != NULL ? srv->next_sweep : OVL_TIME_NEVER;
}

void ovl_turn_server_on_timeout(ovl_turn_server_t *srv, ovl_time_t now)
{
    ovl_turn_session_t *s = srv->allocs;
    while (s != NULL) {
        ovl_turn_session_t *next = s->anext; /* deleting unlinks s */
        if (now >= s->alloc.expires) {
            srv->st.expired++;
            ovl_turn_alloc_delete(s);
        } else {
            ovl_turn_prune(&s->alloc, now);
        }
        s = next;
    }
    srv->next_sweep = now + SWEEP_EVERY;
}

void ovl_turn_sweep_arm(ovl_turn_server_t *srv, ovl_time_t now)
{
    if (srv->next_sweep == OVL_TIME_NEVER || srv->next_sweep > now + SWEEP_EVERY)
        srv->next_sweep = now + SWEEP_EVERY;
}
