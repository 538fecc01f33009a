/* TURN requests that make or change an allocation (RFC 8656 §7-§11), after RFC 8489 §9.2
 * long-term authentication with TURN REST credentials. */
#include <string.h>

#include "relay/proto/cursor.h"
#include "relay/proto/turn_internal.h"

/* REQUESTED-ADDRESS-FAMILY code of an address family (RFC 8656 §18.6). */
static uint8_t family_code(uint8_t family)
{
    return family == OVL_ADDR_IPV4 ? 0x01 : 0x02;
}

/*
 * RFC 8489 §9.2.4, in its order: no MESSAGE-INTEGRITY -> 401 with REALM and NONCE; USERNAME,
 * REALM or NONCE missing -> 400; NONCE not valid any more -> 438 with a new one; USERNAME not a
 * valid (unexpired) TURN REST username -> 401; MESSAGE-INTEGRITY wrong -> 401. Then RFC 8656 §5:
 * a session with an allocation keeps its username (441). Returns 0 with the key, or a negative
 * value once the error is answered.
 */
static int authenticate(ovl_turn_session_t *s, const ovl_stun_msg_t *m, ovl_time_t now,
                        uint8_t key[OVL_STUN_LONG_TERM_KEYLEN])
{
    ovl_turn_server_t *srv = s->srv;
    const ovl_turn_alloc_t *al = &s->alloc;
    int64_t expiry;
    size_t poff;
    char pwd[OVL_TURN_REST_PASSWORD_LEN + 1];

    if (!(m->has & OVL_STUN_HAS_INTEGRITY)) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_UNAUTHENTICATED, "Unauthenticated", NULL, true, now);
        return OVL_ERR_AUTH;
    }
    uint32_t need = OVL_STUN_HAS_USERNAME | OVL_STUN_HAS_REALM | OVL_STUN_HAS_NONCE;
    if ((m->has & need) != need) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_BAD_REQUEST, "USERNAME, REALM and NONCE are required", NULL, false,
                             now);
        return OVL_ERR_PARSE;
    }
    if (!ovl_turn_nonce_valid(srv->cfg.nonce_key, s->id, m->nonce.s, m->nonce.len, now)) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_STALE_NONCE, "Stale Nonce", NULL, true, now);
        return OVL_ERR_AUTH;
    }
    if (m->username.len > OVL_TURN_USERNAME_MAX ||
        ovl_turn_rest_username(m->username.s, m->username.len, &expiry, &poff) < 0 ||
        expiry <= ovl_turn_unix_now(srv, now)) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_UNAUTHENTICATED, "Unauthenticated", NULL, true, now);
        return OVL_ERR_AUTH;
    }
    bool same =
        al->active && al->username_len == m->username.len && memcmp(al->username, m->username.s, m->username.len) == 0;
    if (same) {
        memcpy(key, al->key, OVL_STUN_LONG_TERM_KEYLEN);
    } else if (ovl_turn_rest_password(srv->secret, srv->cfg.secret_len, m->username.s, m->username.len, pwd,
                                      sizeof(pwd)) < 0 ||
               ovl_stun_long_term_key(m->username.s, m->username.len, srv->realm, srv->realm_len, pwd,
                                      OVL_TURN_REST_PASSWORD_LEN, key) < 0) {
        memset(key, 0, OVL_STUN_LONG_TERM_KEYLEN); /* then the integrity check below fails */
    }
    if (ovl_stun_check_integrity(m, key, OVL_STUN_LONG_TERM_KEYLEN) != 0) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_UNAUTHENTICATED, "Unauthenticated", NULL, true, now);
        return OVL_ERR_AUTH;
    }
    if (al->active && !same) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_WRONG_CREDENTIALS, "Wrong Credentials", key, false, now);
        return OVL_ERR_AUTH;
    }
    return 0;
}

/* RFC 8656 §7.2: min(requested, max), but never below the default. */
static ovl_time_t lifetime(const ovl_turn_server_t *srv, const ovl_turn_attrs_t *a)
{
    ovl_time_t want = (a->has & OVL_TURN_HAS_LIFETIME) ? OVL_SEC((ovl_time_t)a->lifetime) : srv->cfg.default_lifetime;
    if (want > srv->cfg.max_lifetime)
        want = srv->cfg.max_lifetime;
    return want < srv->cfg.default_lifetime ? srv->cfg.default_lifetime : want;
}

static void add_lifetime(ovl_turn_reply_t *r, ovl_time_t expires, ovl_time_t now)
{
    uint8_t v[4];
    ovl_store_u32(v, expires > now ? (uint32_t)((expires - now) / 1000000u) : 0);
    ovl_stun_add_attr(&r->b, OVL_TURN_ATTR_LIFETIME, v, sizeof(v));
}

static void reply_ok(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const uint8_t *key)
{
    ovl_turn_reply_t r;
    ovl_turn_reply_start(s, &r, OVL_STUN_SUCCESS, m->method, m->txid);
    s->srv->st.responses_ok++;
    ovl_turn_reply_send(s, &r, key);
}

/* RFC 8656 §7.3: XOR-RELAYED-ADDRESS, LIFETIME, XOR-MAPPED-ADDRESS. */
static void allocate_ok(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const uint8_t *key, ovl_time_t now)
{
    ovl_turn_reply_t r;
    ovl_turn_reply_start(s, &r, OVL_STUN_SUCCESS, OVL_TURN_ALLOCATE, m->txid);
    ovl_turn_add_xor_address(&r.b, OVL_TURN_ATTR_XOR_RELAYED_ADDRESS, &s->alloc.relayed);
    add_lifetime(&r, s->alloc.expires, now);
    ovl_turn_add_xor_address(&r.b, OVL_STUN_ATTR_XOR_MAPPED_ADDRESS, &s->client);
    s->srv->st.responses_ok++;
    ovl_turn_reply_send(s, &r, key);
}

static size_t user_allocations(const ovl_turn_server_t *srv, const char *participant, size_t len)
{
    size_t n = 0;
    for (const ovl_turn_session_t *s = srv->allocs; s != NULL; s = s->anext) {
        const ovl_turn_alloc_t *al = &s->alloc;
        n += al->username_len - al->participant_off == len &&
             memcmp(al->username + al->participant_off, participant, len) == 0;
    }
    return n;
}

/* A free relayed port (an even one if asked), after the last one handed out; 0 when none is. */
static uint16_t pick_port(ovl_turn_server_t *srv, bool even)
{
    for (size_t i = 0; i < srv->n_ports; i++) {
        size_t idx = (srv->port_cursor + i) % srv->n_ports;
        uint16_t port = (uint16_t)(srv->cfg.port_min + idx);
        if ((even && (port & 1)) || srv->by_port[idx] != NULL)
            continue;
        srv->port_cursor = idx + 1;
        return port;
    }
    return 0;
}

/* The RFC 8656 §7.2 checks that need no allocation yet; answers and returns false on failure. */
static bool allocate_checks(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a,
                            const uint8_t *key, ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    uint16_t code = 0;
    const char *why = NULL;
    const char *participant = m->username.s;
    size_t plen = m->username.len;
    int64_t expiry;
    size_t poff = 0;
    (void)ovl_turn_rest_username(m->username.s, m->username.len, &expiry, &poff); /* authenticate checked it */
    participant += poff;
    plen -= poff;

    if (!(a->has & OVL_TURN_HAS_TRANSPORT))
        code = OVL_TURN_ERR_BAD_REQUEST, why = "REQUESTED-TRANSPORT is required";
    else if (a->transport != OVL_TURN_PROTO_UDP)
        code = OVL_TURN_ERR_UNSUPPORTED_TRANSPORT, why = "Only UDP relaying";
    else if ((a->has & OVL_TURN_HAS_RESERVATION) && (a->has & (OVL_TURN_HAS_EVEN_PORT | OVL_TURN_HAS_FAMILY)))
        code = OVL_TURN_ERR_BAD_REQUEST, why = "RESERVATION-TOKEN with EVEN-PORT or REQUESTED-ADDRESS-FAMILY";
    else if ((a->has & OVL_TURN_HAS_FAMILY) && (a->has & OVL_TURN_HAS_ADDITIONAL_FAMILY))
        code = OVL_TURN_ERR_BAD_REQUEST, why = "Two address family attributes";
    else if (a->has & OVL_TURN_HAS_RESERVATION)
        code = OVL_TURN_ERR_INSUFFICIENT_CAPACITY, why = "No reservations";
    else if ((a->has & OVL_TURN_HAS_FAMILY) ? a->family != family_code(srv->cfg.relay_ip.family)
                                            : srv->cfg.relay_ip.family != OVL_ADDR_IPV4)
        code = OVL_TURN_ERR_FAMILY_NOT_SUPPORTED, why = "Address Family not Supported";
    else if (a->even_port_r)
        code = OVL_TURN_ERR_INSUFFICIENT_CAPACITY, why = "No reservations";
    else if (srv->st.allocations >= srv->cfg.max_allocations)
        code = OVL_TURN_ERR_INSUFFICIENT_CAPACITY, why = "Insufficient Capacity";
    else if (user_allocations(srv, participant, plen) >= srv->cfg.max_allocations_per_user)
        code = OVL_TURN_ERR_QUOTA_REACHED, why = "Allocation Quota Reached";
    if (code != 0)
        ovl_turn_reply_error(s, m, code, why, key, false, now);
    return code == 0;
}

/* RFC 8656 §7.2: Allocate. The relayed address is virtual: a free port of the range, never bound. */
static void allocate(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a, const uint8_t *key,
                     ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_turn_alloc_t *al = &s->alloc;
    if (al->active) { /* one allocation per 5-tuple; a retransmitted Allocate gets its answer again */
        if (memcmp(al->txid, m->txid, OVL_STUN_TXID_LEN) == 0)
            allocate_ok(s, m, key, now);
        else
            ovl_turn_reply_error(s, m, OVL_TURN_ERR_ALLOCATION_MISMATCH, "Allocation Mismatch", key, false, now);
        return;
    }
    if (!allocate_checks(s, m, a, key, now))
        return;
    uint16_t port = pick_port(srv, (a->has & OVL_TURN_HAS_EVEN_PORT) != 0);
    if (port == 0) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_INSUFFICIENT_CAPACITY, "No relayed port free", key, false, now);
        return;
    }
    memset(al, 0, sizeof(*al));
    al->active = true;
    al->relayed = srv->cfg.relay_ip;
    al->relayed.port = port;
    al->expires = now + lifetime(srv, a);
    memcpy(al->txid, m->txid, OVL_STUN_TXID_LEN);
    memcpy(al->username, m->username.s, m->username.len);
    al->username_len = m->username.len;
    int64_t expiry;
    (void)ovl_turn_rest_username(al->username, al->username_len, &expiry, &al->participant_off);
    memcpy(al->key, key, OVL_STUN_LONG_TERM_KEYLEN);
    srv->by_port[port - srv->cfg.port_min] = s;
    s->anext = srv->allocs;
    s->aprev = NULL;
    if (srv->allocs != NULL)
        srv->allocs->aprev = s;
    srv->allocs = s;
    srv->st.allocations++;
    srv->st.allocations_total++;
    ovl_turn_sweep_arm(srv, now);
    allocate_ok(s, m, key, now);
    if (srv->cb.on_allocation != NULL) {
        ovl_turn_alloc_event_t ev = {.type = OVL_TURN_ALLOC_CREATED,
                                     .relayed = al->relayed,
                                     .client = s->client,
                                     .username = al->username,
                                     .username_len = al->username_len};
        srv->cb.on_allocation(srv->cb.user, s, s->ctx, &ev);
    }
}

/* RFC 8656 §8.2: Refresh; a LIFETIME of 0 deletes the allocation. */
static void refresh(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a, const uint8_t *key,
                    ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_turn_alloc_t *al = &s->alloc;
    if ((a->has & OVL_TURN_HAS_FAMILY) && a->family != family_code(srv->cfg.relay_ip.family)) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_PEER_FAMILY_MISMATCH, "Peer Address Family Mismatch", key, false, now);
        return;
    }
    bool drop = (a->has & OVL_TURN_HAS_LIFETIME) && a->lifetime == 0;
    al->expires = drop ? now : now + lifetime(srv, a);
    ovl_turn_reply_t r;
    ovl_turn_reply_start(s, &r, OVL_STUN_SUCCESS, OVL_TURN_REFRESH, m->txid);
    add_lifetime(&r, al->expires, now);
    srv->st.responses_ok++;
    ovl_turn_reply_send(s, &r, key);
    if (drop)
        ovl_turn_alloc_delete(s);
}

/* Installs or refreshes a permission for peer's IP (RFC 8656 §9). Returns false when full. */
static bool install_perm(ovl_turn_alloc_t *al, const ovl_addr_t *peer, ovl_time_t now)
{
    ovl_addr_t ip = *peer;
    ip.port = 0;
    for (size_t i = 0; i < al->n_perms; i++) {
        if (ovl_addr_equal(&al->perms[i].ip, &ip)) {
            al->perms[i].expires = now + OVL_TURN_PERMISSION_LIFE;
            return true;
        }
    }
    if (al->n_perms == OVL_TURN_MAX_PERMISSIONS)
        return false;
    al->perms[al->n_perms++] = (ovl_turn_perm_t){.ip = ip, .expires = now + OVL_TURN_PERMISSION_LIFE};
    return true;
}

/* Permissions that installing `peers` would add (peers already permitted or repeated count once). */
static size_t new_perms(const ovl_turn_alloc_t *al, const ovl_addr_t *peers, size_t n)
{
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        bool seen = false;
        ovl_addr_t ip = peers[i];
        ip.port = 0;
        for (size_t j = 0; j < al->n_perms && !seen; j++)
            seen = ovl_addr_equal(&al->perms[j].ip, &ip);
        for (size_t j = 0; j < i && !seen; j++)
            seen = peers[j].family == ip.family && memcmp(peers[j].ip, ip.ip, sizeof(ip.ip)) == 0;
        added += !seen;
    }
    return added;
}

/*
 * RFC 8656 §10.2: CreatePermission for every XOR-PEER-ADDRESS, all or none. Here an address that
 * is not one of the relay's own is Forbidden (403): an allocation may only reach the relay.
 */
static void create_permission(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a,
                              const uint8_t *key, ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_turn_alloc_t *al = &s->alloc;
    if (a->n_peers == 0) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_BAD_REQUEST, "XOR-PEER-ADDRESS is required", key, false, now);
        return;
    }
    if (a->too_many_peers) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_INSUFFICIENT_CAPACITY, "Too many permissions", key, false, now);
        return;
    }
    for (size_t i = 0; i < a->n_peers; i++) {
        if (a->peers[i].family != srv->cfg.relay_ip.family) {
            ovl_turn_reply_error(s, m, OVL_TURN_ERR_PEER_FAMILY_MISMATCH, "Peer Address Family Mismatch", key, false,
                                 now);
            return;
        }
        if (!ovl_turn_peer_ip_allowed(srv, &a->peers[i])) {
            ovl_turn_reply_error(s, m, OVL_TURN_ERR_FORBIDDEN, "Forbidden: only this relay can be reached", key, false,
                                 now);
            return;
        }
    }
    ovl_turn_prune(al, now);
    if (al->n_perms + new_perms(al, a->peers, a->n_peers) > OVL_TURN_MAX_PERMISSIONS) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_INSUFFICIENT_CAPACITY, "Too many permissions", key, false, now);
        return;
    }
    for (size_t i = 0; i < a->n_peers; i++)
        (void)install_perm(al, &a->peers[i], now); /* room was checked above */
    srv->st.permissions++;
    reply_ok(s, m, key);
}

/* A channel entry (bound, or expired within its reuse guard) by number or by peer. */
static ovl_turn_chan_t *chan_entry(ovl_turn_alloc_t *al, uint16_t number, const ovl_addr_t *peer)
{
    for (size_t i = 0; i < al->n_chans; i++)
        if (number != 0 ? al->chans[i].number == number : ovl_addr_equal(&al->chans[i].peer, peer))
            return &al->chans[i];
    return NULL;
}

/* RFC 8656 §11.2: ChannelBind, which also installs or refreshes the peer's permission. */
static void channel_bind(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a, const uint8_t *key,
                         ovl_time_t now)
{
    ovl_turn_server_t *srv = s->srv;
    ovl_turn_alloc_t *al = &s->alloc;
    const ovl_addr_t *peer = &a->peers[0];
    uint16_t code = 0;
    const char *why = NULL;

    ovl_turn_prune(al, now);
    ovl_turn_chan_t *by_number = chan_entry(al, a->channel, NULL);
    ovl_turn_chan_t *by_peer = a->n_peers > 0 ? chan_entry(al, 0, peer) : NULL;
    if (!(a->has & OVL_TURN_HAS_CHANNEL) || a->n_peers == 0)
        code = OVL_TURN_ERR_BAD_REQUEST, why = "CHANNEL-NUMBER and XOR-PEER-ADDRESS are required";
    else if (a->channel < OVL_TURN_CHANNEL_MIN || a->channel > OVL_TURN_CHANNEL_MAX)
        code = OVL_TURN_ERR_BAD_REQUEST, why = "Channel number out of range";
    else if (peer->family != srv->cfg.relay_ip.family)
        code = OVL_TURN_ERR_PEER_FAMILY_MISMATCH, why = "Peer Address Family Mismatch";
    else if (!ovl_turn_peer_allowed(srv, peer))
        code = OVL_TURN_ERR_FORBIDDEN, why = "Forbidden: only this relay can be reached";
    else if (by_number != NULL && !ovl_addr_equal(&by_number->peer, peer))
        code = OVL_TURN_ERR_BAD_REQUEST, why = "Channel bound to another peer";
    else if (by_peer != NULL && by_peer->number != a->channel)
        code = OVL_TURN_ERR_BAD_REQUEST, why = "Peer bound to another channel";
    else if ((by_number == NULL && al->n_chans == OVL_TURN_MAX_CHANNELS) ||
             (ovl_turn_find_perm(al, peer, now) == NULL && al->n_perms == OVL_TURN_MAX_PERMISSIONS))
        code = OVL_TURN_ERR_INSUFFICIENT_CAPACITY, why = "Too many channels";
    if (code != 0) {
        ovl_turn_reply_error(s, m, code, why, key, false, now);
        return;
    }
    if (by_number == NULL) {
        by_number = &al->chans[al->n_chans++];
        by_number->number = a->channel;
        by_number->peer = *peer;
    }
    by_number->expires = now + OVL_TURN_CHANNEL_LIFE;
    (void)install_perm(al, peer, now);
    srv->st.channel_binds++;
    reply_ok(s, m, key);
}

/* RFC 8489 §6.3.1.1: 420 listing the unknown comprehension-required attributes. */
static void unknown_attributes(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a,
                               const uint8_t *key)
{
    ovl_turn_reply_t r;
    s->srv->st.err_420++;
    ovl_turn_reply_start(s, &r, OVL_STUN_ERROR, m->method, m->txid);
    ovl_stun_add_error_code(&r.b, OVL_TURN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute");
    ovl_stun_add_unknown_attributes(&r.b, a->unknown, a->n_unknown);
    ovl_turn_reply_send(s, &r, key);
}

void ovl_turn_handle_request(ovl_turn_session_t *s, const ovl_stun_msg_t *m, const ovl_turn_attrs_t *a, int attrs_ret,
                             ovl_time_t now)
{
    uint8_t key[OVL_STUN_LONG_TERM_KEYLEN];
    if (s->alloc.active && now >= s->alloc.expires) { /* expired, not yet swept: it is gone */
        s->srv->st.expired++;
        ovl_turn_alloc_delete(s);
    }
    if (authenticate(s, m, now, key) < 0)
        return;
    if (attrs_ret < 0) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_BAD_REQUEST, "Malformed attribute", key, false, now);
        return;
    }
    if (a->n_unknown > 0) {
        unknown_attributes(s, m, a, key);
        return;
    }
    if (m->method == OVL_TURN_ALLOCATE) {
        allocate(s, m, a, key, now);
        return;
    }
    if (!s->alloc.active) {
        ovl_turn_reply_error(s, m, OVL_TURN_ERR_ALLOCATION_MISMATCH, "Allocation Mismatch", key, false, now);
        return;
    }
    switch (m->method) {
    case OVL_TURN_REFRESH:
        refresh(s, m, a, key, now);
        break;
    case OVL_TURN_CREATE_PERMISSION:
        create_permission(s, m, a, key, now);
        break;
    case OVL_TURN_CHANNEL_BIND:
        channel_bind(s, m, a, key, now);
        break;
    default:
        break;
    }
}
