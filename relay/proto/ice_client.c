/*
 * Controlling ICE client for the synthetic peer: checks with aggressive nomination (every check
 * carries USE-CANDIDATE; the first pair to succeed is selected), STUN retransmissions (RFC 8489
 * §6.2.1), consent freshness (RFC 7675). It talks to a lite agent, so it never answers checks.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "relay/proto/ice.h"

enum {
    CHECK_WAITING = 0, /* not sent yet */
    CHECK_IN_PROGRESS,
    CHECK_SUCCEEDED,
    CHECK_FAILED, /* timed out, error answer, or given up once another pair was selected */
};

void ovl_ice_client_config_default(ovl_ice_client_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rto = OVL_MS(500);
    cfg->max_transmissions = 7;
    cfg->last_wait = 16;
    cfg->pacing = OVL_MS(50);
    cfg->consent_interval = OVL_SEC(5);
    cfg->consent_timeout = OVL_SEC(30);
    /* RFC 8445 §5.1.2.1 with type preference 110 (peer-reflexive), local preference 65535, component 1. */
    cfg->priority = (110u << 24) | (65535u << 8) | (256u - 1u);
}

int ovl_ice_client_init(ovl_ice_client_t *client, const ovl_ice_client_config_t *cfg, const char *local_ufrag,
                        const char *remote_ufrag, const char *remote_pwd, ovl_time_t now)
{
    uint8_t tb[8];

    memset(client, 0, sizeof(*client));
    if (cfg == NULL || cfg->random == NULL || cfg->max_transmissions == 0 ||
        ovl_ice_ufrag_set(&client->local_ufrag, local_ufrag) < 0 || client->local_ufrag.len == 0 ||
        ovl_ice_ufrag_set(&client->remote_ufrag, remote_ufrag) < 0 || client->remote_ufrag.len == 0 ||
        ovl_ice_pwd_set(&client->remote_pwd, remote_pwd) < 0 || client->remote_pwd.len == 0) {
        ovl_ice_client_dispose(client);
        return OVL_ERR_ARG;
    }
    client->cfg = *cfg;
    client->cfg.random(client->cfg.random_user, tb, sizeof(tb));
    client->tie_breaker = (uint64_t)ovl_load_u32(tb) << 32 | ovl_load_u32(tb + 4);
    client->state = OVL_ICE_CHECKING;
    client->selected = -1;
    client->next_first = now;
    return 0;
}

void ovl_ice_client_dispose(ovl_ice_client_t *client)
{
    OPENSSL_cleanse(client, sizeof(*client));
}

int ovl_ice_client_add_remote(ovl_ice_client_t *client, const ovl_addr_t *addr, uint64_t path_id)
{
    if (addr == NULL || (addr->family != OVL_ADDR_IPV4 && addr->family != OVL_ADDR_IPV6))
        return OVL_ERR_ARG;
    if (client->state != OVL_ICE_CHECKING)
        return OVL_ERR_STATE;
    if (client->n_checks == OVL_ICE_CLIENT_MAX_REMOTE)
        return OVL_ERR_LIMIT;
    ovl_ice_client_check_t *c = &client->checks[client->n_checks++];
    memset(c, 0, sizeof(*c));
    c->remote.addr = *addr;
    c->remote.path_id = path_id;
    c->state = CHECK_WAITING;
    return 0;
}

/* RFC 8445 §7.2.2, §7.1: a check from the controlling agent, keyed with the remote password. */
static int build_check(const ovl_ice_client_t *client, const uint8_t txid[OVL_STUN_TXID_LEN], ovl_wbuf_t *out)
{
    char username[2 * OVL_ICE_UFRAG_MAX + 2];
    size_t rl = client->remote_ufrag.len, ll = client->local_ufrag.len;
    ovl_stun_builder_t b;

    memcpy(username, client->remote_ufrag.s, rl);
    username[rl] = ':';
    memcpy(username + rl + 1, client->local_ufrag.s, ll);
    ovl_stun_build_start(&b, out, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid);
    ovl_stun_add_username(&b, username, rl + 1 + ll);
    ovl_stun_add_priority(&b, client->cfg.priority);
    ovl_stun_add_ice_controlling(&b, client->tie_breaker);
    ovl_stun_add_use_candidate(&b); /* aggressive nomination; kept on consent checks to pin the lite side */
    return ovl_stun_build_finish(&b, (const uint8_t *)client->remote_pwd.s, client->remote_pwd.len);
}

/* RFC 7675 §5.1: the next consent check goes out after interval * U(0.8, 1.2). */
static ovl_time_t consent_delay(const ovl_ice_client_t *client)
{
    uint8_t r[4];
    client->cfg.random(client->cfg.random_user, r, sizeof(r));
    return client->cfg.consent_interval * (800u + ovl_load_u32(r) % 401u) / 1000u;
}

/* Sends transmission number check->sent + 1 and schedules the next one (RFC 8489 §6.2.1: RTO doubles;
 * after the Rc-th, wait Rm * initial RTO before giving up). */
static int transmit(ovl_ice_client_t *client, ovl_ice_client_check_t *check, ovl_time_t now, ovl_wbuf_t *out,
                    ovl_ice_path_t *to)
{
    int ret;
    if (check->sent == 0) {
        client->cfg.random(client->cfg.random_user, check->txid, sizeof(check->txid));
        check->rto = client->cfg.rto;
    }
    if ((ret = build_check(client, check->txid, out)) < 0)
        return ret;
    check->sent++;
    check->state = CHECK_IN_PROGRESS;
    if (check->sent < client->cfg.max_transmissions) {
        check->next = now + check->rto;
        check->rto *= 2;
    } else {
        check->next = now + client->cfg.last_wait * client->cfg.rto;
    }
    *to = check->remote;
    return 0;
}

static int poll_checking(ovl_ice_client_t *client, ovl_time_t now, ovl_wbuf_t *out, ovl_ice_path_t *to,
                         ovl_ice_event_t *ev)
{
    bool all_failed = client->n_checks > 0;
    for (size_t i = 0; i < client->n_checks; i++) {
        ovl_ice_client_check_t *c = &client->checks[i];
        if (c->state == CHECK_IN_PROGRESS && now >= c->next) {
            if (c->sent >= client->cfg.max_transmissions)
                c->state = CHECK_FAILED;
            else
                return transmit(client, c, now, out, to);
        }
        all_failed &= c->state == CHECK_FAILED;
    }
    if (all_failed) {
        client->state = OVL_ICE_FAILED;
        ev->type = OVL_ICE_EVENT_FAILED;
        return 0;
    }
    if (now < client->next_first)
        return OVL_ERR_AGAIN;
    for (size_t i = 0; i < client->n_checks; i++) {
        if (client->checks[i].state == CHECK_WAITING) {
            int ret = transmit(client, &client->checks[i], now, out, to);
            if (ret == 0)
                client->next_first = now + client->cfg.pacing;
            return ret;
        }
    }
    return OVL_ERR_AGAIN;
}

static int poll_connected(ovl_ice_client_t *client, ovl_time_t now, ovl_wbuf_t *out, ovl_ice_path_t *to,
                          ovl_ice_event_t *ev)
{
    const ovl_ice_path_t *sel = &client->checks[client->selected].remote;
    if (now >= client->consent_ok + client->cfg.consent_timeout) { /* RFC 7675 §5.1 */
        client->state = OVL_ICE_FAILED;
        ev->type = OVL_ICE_EVENT_CONSENT_LOST;
        ev->path = *sel;
        return 0;
    }
    if (now < client->next_consent)
        return OVL_ERR_AGAIN;
    /* Each consent check is a new transaction, not retransmitted: the next one 5 s later is the retry.
     * Answers to any of the last few still count. */
    uint8_t *txid = client->consent_txids[client->consent_next];
    client->cfg.random(client->cfg.random_user, txid, OVL_STUN_TXID_LEN);
    int ret = build_check(client, txid, out);
    if (ret < 0)
        return ret;
    client->consent_next = (client->consent_next + 1) % OVL_ICE_CLIENT_CONSENT_TXIDS;
    if (client->consent_used < OVL_ICE_CLIENT_CONSENT_TXIDS)
        client->consent_used++;
    client->next_consent = now + consent_delay(client);
    *to = *sel;
    return 0;
}

int ovl_ice_client_poll(ovl_ice_client_t *client, ovl_time_t now, ovl_wbuf_t *out, ovl_ice_path_t *to,
                        ovl_ice_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    memset(to, 0, sizeof(*to));
    switch (client->state) {
    case OVL_ICE_CHECKING:
        return poll_checking(client, now, out, to, ev);
    case OVL_ICE_CONNECTED:
        return poll_connected(client, now, out, to, ev);
    default:
        return OVL_ERR_AGAIN;
    }
}

ovl_time_t ovl_ice_client_next_timeout(const ovl_ice_client_t *client)
{
    ovl_time_t next = OVL_TIME_NEVER;
    if (client->state == OVL_ICE_CONNECTED) {
        next = client->consent_ok + client->cfg.consent_timeout;
        return client->next_consent < next ? client->next_consent : next;
    }
    if (client->state != OVL_ICE_CHECKING)
        return next;
    for (size_t i = 0; i < client->n_checks; i++) {
        const ovl_ice_client_check_t *c = &client->checks[i];
        ovl_time_t t = c->state == CHECK_IN_PROGRESS ? c->next
                       : c->state == CHECK_WAITING   ? client->next_first
                                                     : OVL_TIME_NEVER;
        if (t < next)
            next = t;
    }
    return next;
}

/* The check or consent transaction an answer belongs to: sets *check (NULL for consent). */
static int find_transaction(ovl_ice_client_t *client, const ovl_stun_msg_t *m, ovl_ice_client_check_t **check,
                            const ovl_ice_path_t **sent_to)
{
    for (size_t i = 0; i < client->n_checks; i++) {
        ovl_ice_client_check_t *c = &client->checks[i];
        if (c->state == CHECK_IN_PROGRESS && memcmp(c->txid, m->txid, OVL_STUN_TXID_LEN) == 0) {
            *check = c;
            *sent_to = &c->remote;
            return 0;
        }
    }
    if (client->state != OVL_ICE_CONNECTED)
        return OVL_ERR_NOTFOUND;
    for (size_t i = 0; i < client->consent_used; i++) {
        if (memcmp(client->consent_txids[i], m->txid, OVL_STUN_TXID_LEN) == 0) {
            *check = NULL;
            *sent_to = &client->checks[client->selected].remote;
            return 0;
        }
    }
    return OVL_ERR_NOTFOUND;
}

static void select_pair(ovl_ice_client_t *client, ovl_ice_client_check_t *check, const ovl_stun_msg_t *m,
                        ovl_time_t now, ovl_ice_event_t *ev)
{
    client->selected = (int)(check - client->checks);
    if (m->has & OVL_STUN_HAS_XOR_MAPPED_ADDRESS)
        client->mapped = m->xor_mapped;
    client->state = OVL_ICE_CONNECTED;
    client->consent_ok = now;
    client->next_consent = now + consent_delay(client);
    for (size_t i = 0; i < client->n_checks; i++) /* the others stop */
        if (&client->checks[i] != check)
            client->checks[i].state = CHECK_FAILED;
    ev->type = OVL_ICE_EVENT_SELECTED;
    ev->path = check->remote;
}

int ovl_ice_client_on_stun(ovl_ice_client_t *client, const uint8_t *pkt, size_t len, const ovl_addr_t *from,
                           uint64_t path_id, ovl_time_t now, ovl_ice_event_t *ev)
{
    ovl_stun_msg_t m;
    ovl_ice_client_check_t *check = NULL;
    const ovl_ice_path_t *sent_to = NULL;
    int r;

    memset(ev, 0, sizeof(*ev));
    if (client->state == OVL_ICE_FAILED)
        return OVL_ERR_STATE;
    /* RFC 8489 §6.3.3: a success answer with unknown required attributes fails; we just drop it. */
    if ((r = ovl_stun_parse(pkt, len, &m)) < 0)
        return r == OVL_ERR_UNSUPPORTED ? r : OVL_ERR_PARSE;
    if (m.method != OVL_STUN_BINDING || (m.cls != OVL_STUN_SUCCESS && m.cls != OVL_STUN_ERROR))
        return OVL_ERR_UNSUPPORTED;
    if (ovl_stun_check_fingerprint(&m) < 0)
        return OVL_ERR_PARSE;
    if (find_transaction(client, &m, &check, &sent_to) < 0)
        return OVL_ERR_NOTFOUND;
    /* RFC 8445 §7.2.5.2.1: the answer must come back from where the check went. */
    if (sent_to->path_id != path_id || !ovl_addr_equal(&sent_to->addr, from))
        return OVL_ERR_NOTFOUND;
    if (ovl_stun_check_integrity(&m, (const uint8_t *)client->remote_pwd.s, client->remote_pwd.len) != 0)
        return OVL_ERR_AUTH;
    if (m.cls == OVL_STUN_ERROR) { /* 487 included: this client never gives up the controlling role */
        if (check != NULL)
            check->state = CHECK_FAILED;
        return OVL_ERR_STATE;
    }
    if (check == NULL) { /* consent (RFC 7675 §5.1) */
        client->consent_ok = now;
        return 0;
    }
    check->state = CHECK_SUCCEEDED;
    select_pair(client, check, &m, now, ev);
    return 0;
}

ovl_ice_state_t ovl_ice_client_state(const ovl_ice_client_t *client)
{
    return client->state;
}

int ovl_ice_client_selected(const ovl_ice_client_t *client, ovl_ice_path_t *path, ovl_addr_t *mapped)
{
    if (path != NULL)
        memset(path, 0, sizeof(*path));
    if (mapped != NULL)
        memset(mapped, 0, sizeof(*mapped));
    if (client->state != OVL_ICE_CONNECTED || client->selected < 0)
        return OVL_ERR_NOTFOUND;
    if (path != NULL)
        *path = client->checks[client->selected].remote;
    if (mapped != NULL)
        *mapped = client->mapped;
    return 0;
}
