/*
 * The ICE side of a transport, for both roles:
 *
 * - server: an ovl_ice_lite_t answers checks; its SELECTED events move the media path; its trusted
 *   pairs decide what DTLS and SRTP are accepted from. The agent forgets pairs silently (timeout,
 *   eviction, restart, failure), so after every call into it the transport re-checks the paths it
 *   registered in the map (`known`, at most OVL_ICE_LITE_MAX_PAIRS after a sync) and removes the
 *   ones no longer trusted.
 * - client: an ovl_ice_client_t checks the relay's candidates; the first success selects the media
 *   path and starts the DTLS client. A restart re-initialises the agent with the new credentials and
 *   keeps the old path for media until the new agent selects one.
 *
 * Restart bookkeeping mirrors the lite agent's: the previous local ufrag is still answered (and
 * stays in the map) only when a pair was selected at restart time, until a check carrying
 * USE-CANDIDATE and the new credentials is accepted; a second restart before that keeps the oldest
 * credentials as the previous ones.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "relay/transport/transport_internal.h"

static bool path_eq(const ovl_ice_path_t *p, const ovl_addr_t *addr, uint64_t path_id)
{
    return p->path_id == path_id && ovl_addr_equal(&p->addr, addr);
}

bool ovl_transport_is_trusted(const ovl_transport_t *t, const ovl_addr_t *addr, uint64_t path_id)
{
    if (t->ice_failed)
        return false;
    if (t->role == OVL_TRANSPORT_SERVER)
        return ovl_ice_lite_is_trusted(&t->ice.lite, addr, path_id);
    return t->has_path && path_eq(&t->path, addr, path_id);
}

/* ---- map registration --------------------------------------------------------------------------- */

static void map_ufrags(ovl_transport_t *t)
{
    if (t->map == NULL)
        return;
    /* Cannot fail: restart checked the ufrag is free, and attach reserved room for two per transport. */
    t->ufrag_in_map = ovl_transport_map_add_ufrag(t->map, t, t->ufrag.s, t->ufrag.len) == 0;
    if (t->restart_pending)
        t->old_ufrag_in_map = ovl_transport_map_add_ufrag(t->map, t, t->old_ufrag.s, t->old_ufrag.len) == 0;
}

static void unmap_ufrags(ovl_transport_t *t)
{
    if (t->map == NULL)
        return;
    if (t->ufrag_in_map)
        ovl_transport_map_remove_ufrag(t->map, t, t->ufrag.s, t->ufrag.len);
    if (t->old_ufrag_in_map)
        ovl_transport_map_remove_ufrag(t->map, t, t->old_ufrag.s, t->old_ufrag.len);
    t->ufrag_in_map = t->old_ufrag_in_map = false;
}

/* The previous credentials are gone (restart completed, or ICE failed). */
static void forget_old_ufrag(ovl_transport_t *t)
{
    if (t->map != NULL && t->old_ufrag_in_map)
        ovl_transport_map_remove_ufrag(t->map, t, t->old_ufrag.s, t->old_ufrag.len);
    t->old_ufrag_in_map = false;
    t->restart_pending = false;
    OPENSSL_cleanse(&t->old_ufrag, sizeof(t->old_ufrag));
}

/* Removes the registered paths that ICE no longer trusts. */
static void sync_paths(ovl_transport_t *t)
{
    for (size_t i = 0; i < t->n_known;) {
        const ovl_ice_path_t *p = &t->known[i];
        if (ovl_transport_is_trusted(t, &p->addr, p->path_id)) {
            i++;
            continue;
        }
        if (t->map != NULL)
            ovl_transport_map_remove_path(t->map, t, p);
        t->known[i] = t->known[--t->n_known];
    }
}

/* A check just validated p: register it (again: the latest transport to validate a path owns it). */
static void learn_path(ovl_transport_t *t, const ovl_ice_path_t *p)
{
    size_t i;
    sync_paths(t);
    for (i = 0; i < t->n_known; i++)
        if (path_eq(&t->known[i], &p->addr, p->path_id))
            break;
    if (i == t->n_known) {
        if (t->n_known == OVL_TRANSPORT_MAX_PATHS) /* cannot happen after a sync: ICE trusts fewer */
            return;
        t->known[t->n_known++] = *p;
    }
    if (t->map != NULL)
        ovl_transport_map_add_path(t->map, t, p);
}

/* ---- selection, failure --------------------------------------------------------------------------- */

static void select_path(ovl_transport_t *t, const ovl_ice_path_t *p, bool restarted, ovl_time_t now)
{
    bool changed = !t->has_path || !path_eq(&t->path, &p->addr, p->path_id);
    t->path = *p;
    t->has_path = true;
    if (changed)
        ovl_transport_emit(t, OVL_TRANSPORT_EVENT_ICE_SELECTED);
    if (restarted)
        ovl_transport_emit(t, OVL_TRANSPORT_EVENT_ICE_RESTARTED);
    if (t->role == OVL_TRANSPORT_CLIENT && ovl_dtls_state(t->dtls) == OVL_DTLS_NEW)
        ovl_dtls_start(t->dtls, now); /* ClientHello to the pair just selected; failures come as events */
    ovl_transport_update_state(t);
}

static void ice_lost(ovl_transport_t *t, ovl_transport_event_type_t type, const char *reason)
{
    t->ice_failed = true;
    t->has_path = false;
    t->has_dtls_reply = false;
    forget_old_ufrag(t);
    sync_paths(t);
    ovl_transport_fail(t, type, OVL_ERR_AGAIN, reason);
}

/* ---- STUN in -------------------------------------------------------------------------------------- */

/* True when USERNAME's local part (RFC 8445 §7.2.2: before the ':') is our current ufrag. */
static bool for_current_ufrag(const ovl_transport_t *t, const ovl_stun_msg_t *msg)
{
    ovl_stun_text_t u;
    return ovl_ice_username_local_ufrag(msg, &u) == 0 && u.len == t->ufrag.len && memcmp(u.s, t->ufrag.s, u.len) == 0;
}

static int lite_on_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                        ovl_time_t now)
{
    ovl_wbuf_t out;
    ovl_ice_event_t ev;
    ovl_ice_path_t src = {.addr = *from, .path_id = path_id};
    bool restarted = false;

    ovl_wbuf_init(&out, t->scratch, sizeof(t->scratch));
    int ret = ovl_ice_lite_on_stun_msg(&t->ice.lite, msg, from, path_id, now, &out, &ev);
    if (out.len > 0) { /* an answer, success or error, goes back where the request came from */
        t->stats.tx_stun++;
        ovl_transport_output(t, &src, out.base, out.len);
    }
    if (ret == 0 && msg->cls == OVL_STUN_REQUEST) {
        /* RFC 8445 §9: a nomination with the new credentials completes a restart; the agent has
         * just forgotten the previous credentials and the pairs they validated. */
        if (t->restart_pending && (msg->has & OVL_STUN_HAS_USE_CANDIDATE) && for_current_ufrag(t, msg)) {
            forget_old_ufrag(t);
            restarted = true;
        }
        learn_path(t, &src);
    }
    if (ev.type == OVL_ICE_EVENT_SELECTED)
        select_path(t, &ev.path, restarted, now);
    else if (restarted)
        select_path(t, &t->path, true, now);
    return ret;
}

static int client_on_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                          ovl_time_t now)
{
    ovl_ice_event_t ev;
    int ret = ovl_ice_client_on_stun(&t->ice.client, msg->pkt, msg->len, from, path_id, now, &ev);
    if (ev.type == OVL_ICE_EVENT_SELECTED) {
        bool restarted = t->restart_pending;
        if (restarted)
            forget_old_ufrag(t);
        learn_path(t, &ev.path); /* before select_path moves has_path: the old path is synced out */
        select_path(t, &ev.path, restarted, now);
        sync_paths(t);
    }
    return ret;
}

int ovl_transport_ice_on_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                              ovl_time_t now)
{
    if (t->role == OVL_TRANSPORT_SERVER)
        return lite_on_stun(t, msg, path_id, from, now);
    return client_on_stun(t, msg, path_id, from, now);
}

/* ---- timers ----------------------------------------------------------------------------------------- */

ovl_time_t ovl_transport_ice_next_timeout(const ovl_transport_t *t)
{
    if (t->ice_failed)
        return OVL_TIME_NEVER;
    if (t->role == OVL_TRANSPORT_SERVER)
        return ovl_ice_lite_next_timeout(&t->ice.lite);
    return ovl_ice_client_next_timeout(&t->ice.client);
}

static void lite_on_timeout(ovl_transport_t *t, ovl_time_t now)
{
    ovl_ice_event_t ev;
    ovl_ice_lite_on_timeout(&t->ice.lite, now, &ev);
    if (ev.type == OVL_ICE_EVENT_CONSENT_LOST)
        ice_lost(t, OVL_TRANSPORT_EVENT_CONSENT_LOST,
                 "ICE consent lost: no valid connectivity check from the peer for 30 s (RFC 7675)");
    else if (ev.type == OVL_ICE_EVENT_CONNECT_TIMEOUT)
        ice_lost(t, OVL_TRANSPORT_EVENT_FAILED,
                 "ICE failed: the peer nominated no candidate pair in time; is UDP or TCP to the relay blocked?");
    sync_paths(t); /* pairs that went silent */
}

/* The client does one thing per poll: send a check or report an event. Bounded: at most one check
 * per candidate and one consent check can be due at once. */
static void client_on_timeout(ovl_transport_t *t, ovl_time_t now)
{
    for (size_t i = 0; i < 2 * OVL_TRANSPORT_MAX_CANDIDATES + 2 && !t->ice_failed; i++) {
        ovl_wbuf_t out;
        ovl_ice_path_t to;
        ovl_ice_event_t ev;
        ovl_wbuf_init(&out, t->scratch, sizeof(t->scratch));
        if (ovl_ice_client_poll(&t->ice.client, now, &out, &to, &ev) < 0)
            break;
        if (out.len > 0) {
            t->stats.tx_stun++;
            ovl_transport_output(t, &to, out.base, out.len);
        }
        if (ev.type == OVL_ICE_EVENT_CONSENT_LOST)
            ice_lost(t, OVL_TRANSPORT_EVENT_CONSENT_LOST,
                     "ICE consent lost: the relay answered no consent check for 30 s (RFC 7675)");
        else if (ev.type == OVL_ICE_EVENT_FAILED)
            ice_lost(t, OVL_TRANSPORT_EVENT_FAILED,
                     "ICE failed: no connectivity check to the relay's candidates succeeded");
    }
}

void ovl_transport_ice_on_timeout(ovl_transport_t *t, ovl_time_t now)
{
    if (t->ice_failed)
        return;
    if (t->role == OVL_TRANSPORT_SERVER)
        lite_on_timeout(t, now);
    else
        client_on_timeout(t, now);
}

/* ---- a path that closed --------------------------------------------------------------------------- */

void ovl_transport_path_closed(ovl_transport_t *t, uint64_t path_id, ovl_time_t now)
{
    if (t == NULL || t->closed || t->ice_failed)
        return;
    if (t->role == OVL_TRANSPORT_SERVER) {
        ovl_ice_event_t ev;
        ovl_ice_lite_path_closed(&t->ice.lite, path_id, now, &ev);
        if (ev.type == OVL_ICE_EVENT_CONSENT_LOST)
            ice_lost(t, OVL_TRANSPORT_EVENT_CONSENT_LOST,
                     "ICE consent lost: the peer's ICE-TCP connection closed and no other path to it is left");
        else if (ev.type == OVL_ICE_EVENT_SELECTED)
            select_path(t, &ev.path, false, now);
        sync_paths(t);
    } else if (t->has_path && t->path.path_id == path_id) {
        ice_lost(t, OVL_TRANSPORT_EVENT_CONSENT_LOST, "ICE consent lost: the ICE-TCP connection to the relay closed");
    }
    ovl_transport_deliver_events(t);
}

/* ---- init, restart, dispose ------------------------------------------------------------------------ */

static void default_random(void *user, uint8_t *buf, size_t len)
{
    (void)user;
    if (RAND_bytes(buf, (int)len) != 1) /* never in practice; the ids are then merely predictable */
        memset(buf, 0x5a, len);
}

static int client_agent_init(ovl_transport_t *t, ovl_ice_client_t *agent, const char *lu, const char *ru,
                             const char *rp, const ovl_ice_path_t *cands, size_t n, ovl_time_t now)
{
    if (n == 0 || n > OVL_TRANSPORT_MAX_CANDIDATES)
        return OVL_ERR_ARG;
    if (ovl_ice_client_init(agent, &t->client_cfg, lu, ru, rp, now) < 0)
        return OVL_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (ovl_ice_client_add_remote(agent, &cands[i].addr, cands[i].path_id) < 0) {
            ovl_ice_client_dispose(agent);
            return OVL_ERR_ARG;
        }
    }
    return 0;
}

static int agent_init(ovl_transport_t *t, const ovl_transport_config_t *cfg, ovl_time_t now)
{
    if (t->role == OVL_TRANSPORT_SERVER) {
        if (ovl_ice_lite_init(&t->ice.lite, cfg->ice_lite, cfg->local_ufrag, cfg->local_pwd, now) < 0)
            return OVL_ERR_ARG;
        if (ovl_ice_lite_set_remote(&t->ice.lite, cfg->remote_ufrag) < 0)
            return OVL_ERR_ARG;
        return 0;
    }
    if (cfg->ice_client != NULL)
        t->client_cfg = *cfg->ice_client;
    else
        ovl_ice_client_config_default(&t->client_cfg);
    t->client_cfg.random = cfg->random != NULL ? cfg->random : default_random;
    t->client_cfg.random_user = cfg->random != NULL ? cfg->random_user : NULL;
    if (cfg->remote_candidates == NULL || cfg->n_remote_candidates > OVL_TRANSPORT_MAX_CANDIDATES)
        return OVL_ERR_ARG;
    memcpy(t->cands, cfg->remote_candidates, cfg->n_remote_candidates * sizeof(t->cands[0]));
    t->n_cands = cfg->n_remote_candidates;
    return client_agent_init(t, &t->ice.client, cfg->local_ufrag, cfg->remote_ufrag, cfg->remote_pwd, t->cands,
                             t->n_cands, now);
}

int ovl_transport_ice_init(ovl_transport_t *t, const ovl_transport_config_t *cfg, ovl_time_t now)
{
    int ret;
    if (ovl_ice_ufrag_set(&t->ufrag, cfg->local_ufrag) < 0 || t->ufrag.len == 0)
        return OVL_ERR_ARG;
    if ((ret = agent_init(t, cfg, now)) < 0)
        return ret;
    if (cfg->map != NULL) {
        if ((ret = ovl_transport_map_attach(cfg->map)) < 0)
            return ret;
        t->map = cfg->map;
        if ((ret = ovl_transport_map_add_ufrag(t->map, t, t->ufrag.s, t->ufrag.len)) < 0)
            return ret;
        t->ufrag_in_map = true;
    }
    return 0;
}

void ovl_transport_ice_dispose(ovl_transport_t *t)
{
    t->ice_failed = true; /* nothing is trusted any more: sync removes every path */
    sync_paths(t);
    unmap_ufrags(t);
    if (t->map != NULL)
        ovl_transport_map_detach(t->map);
    t->map = NULL;
    if (t->role == OVL_TRANSPORT_SERVER)
        ovl_ice_lite_dispose(&t->ice.lite);
    else
        ovl_ice_client_dispose(&t->ice.client);
}

/* The new local ufrag must differ from the ones in use and be free in the map. */
static int check_new_ufrag(const ovl_transport_t *t, const char *lu)
{
    size_t n = lu != NULL ? strlen(lu) : 0;
    if (n == 0 || n > OVL_ICE_UFRAG_MAX)
        return OVL_ERR_ARG;
    if ((n == t->ufrag.len && memcmp(lu, t->ufrag.s, n) == 0) ||
        (t->restart_pending && n == t->old_ufrag.len && memcmp(lu, t->old_ufrag.s, n) == 0))
        return OVL_ERR_ARG;
    if (t->map != NULL && ovl_transport_map_find_ufrag(t->map, lu, n) != NULL)
        return OVL_ERR_ARG;
    return 0;
}

static int restart_agent(ovl_transport_t *t, const ovl_transport_ice_restart_t *r, bool *keep_old, ovl_time_t now)
{
    if (t->role == OVL_TRANSPORT_SERVER) {
        ovl_ice_path_t sel;
        *keep_old = ovl_ice_lite_selected(&t->ice.lite, &sel) == 0;
        return ovl_ice_lite_restart(&t->ice.lite, r->local_ufrag, r->local_pwd, r->remote_ufrag, now) < 0 ? OVL_ERR_ARG
                                                                                                          : 0;
    }
    ovl_ice_client_t fresh;
    const ovl_ice_path_t *cands = r->remote_candidates != NULL ? r->remote_candidates : t->cands;
    size_t n = r->remote_candidates != NULL ? r->n_remote_candidates : t->n_cands;
    int ret = client_agent_init(t, &fresh, r->local_ufrag, r->remote_ufrag, r->remote_pwd, cands, n, now);
    if (ret < 0)
        return ret;
    if (cands != t->cands) {
        memcpy(t->cands, cands, n * sizeof(t->cands[0]));
        t->n_cands = n;
    }
    ovl_ice_client_dispose(&t->ice.client);
    t->ice.client = fresh;
    OPENSSL_cleanse(&fresh, sizeof(fresh));
    *keep_old = t->has_path && !t->ice_failed; /* media stays on the old path until the new one */
    return 0;
}

int ovl_transport_ice_restart(ovl_transport_t *t, const ovl_transport_ice_restart_t *r, ovl_time_t now)
{
    bool keep_old = false;
    int ret;

    if ((ret = check_new_ufrag(t, r->local_ufrag)) < 0)
        return ret;
    if ((ret = restart_agent(t, r, &keep_old, now)) < 0)
        return ret;
    unmap_ufrags(t);
    if (!t->restart_pending)
        t->old_ufrag = t->ufrag;
    ovl_ice_ufrag_set(&t->ufrag, r->local_ufrag); /* length checked above */
    t->restart_pending = keep_old;
    if (!keep_old) {
        OPENSSL_cleanse(&t->old_ufrag, sizeof(t->old_ufrag));
        t->has_path = false; /* a failed ICE had no usable pair */
    }
    t->ice_failed = false;
    map_ufrags(t);
    sync_paths(t);
    ovl_transport_update_state(t);
    return 0;
}
