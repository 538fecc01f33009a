/*
 * WebRTC transport: lifecycle, RFC 7983 demultiplexing, DTLS-SRTP and media, events, stats.
 * The ICE side (both roles, trusted paths, restart, map registration) is in transport_ice.c.
 *
 * State is derived, never set directly: CLOSED if closed, else FAILED if ICE or DTLS failed, else
 * CONNECTED when a pair is selected and both SRTP sessions exist, else CONNECTING
 * (ovl_transport_update_state). Entering CONNECTED emits CONNECTED, so a transport that recovers
 * from consent loss by an ICE restart reports CONNECTED again.
 */
#include "relay/transport/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "relay/proto/demux.h"
#include "relay/transport/transport_internal.h"

const char *ovl_transport_state_name(ovl_transport_state_t state)
{
    switch (state) {
    case OVL_TRANSPORT_CONNECTING:
        return "connecting";
    case OVL_TRANSPORT_CONNECTED:
        return "connected";
    case OVL_TRANSPORT_FAILED:
        return "failed";
    case OVL_TRANSPORT_CLOSED:
        return "closed";
    }
    return "?";
}

const char *ovl_transport_event_name(ovl_transport_event_type_t type)
{
    switch (type) {
    case OVL_TRANSPORT_EVENT_ICE_SELECTED:
        return "ice-selected";
    case OVL_TRANSPORT_EVENT_ICE_RESTARTED:
        return "ice-restarted";
    case OVL_TRANSPORT_EVENT_DTLS_CONNECTED:
        return "dtls-connected";
    case OVL_TRANSPORT_EVENT_CONNECTED:
        return "connected";
    case OVL_TRANSPORT_EVENT_CONSENT_LOST:
        return "consent-lost";
    case OVL_TRANSPORT_EVENT_FAILED:
        return "failed";
    case OVL_TRANSPORT_EVENT_CLOSED:
        return "closed";
    }
    return "?";
}

const char *ovl_transport_drop_name(ovl_transport_drop_t reason)
{
    static const char *const names[OVL_TRANSPORT_DROP_COUNT] = {
        [OVL_TRANSPORT_DROP_UNKNOWN] = "unknown",         [OVL_TRANSPORT_DROP_STUN_PARSE] = "stun-parse",
        [OVL_TRANSPORT_DROP_STUN_AUTH] = "stun-auth",     [OVL_TRANSPORT_DROP_STUN_OTHER] = "stun-other",
        [OVL_TRANSPORT_DROP_UNTRUSTED] = "untrusted",     [OVL_TRANSPORT_DROP_DTLS] = "dtls",
        [OVL_TRANSPORT_DROP_NOT_READY] = "not-ready",     [OVL_TRANSPORT_DROP_SRTP_AUTH] = "srtp-auth",
        [OVL_TRANSPORT_DROP_SRTP_REPLAY] = "srtp-replay", [OVL_TRANSPORT_DROP_SRTP_INVALID] = "srtp-invalid",
        [OVL_TRANSPORT_DROP_NO_PATH] = "no-path",
    };
    return (unsigned)reason < OVL_TRANSPORT_DROP_COUNT ? names[reason] : "?";
}

/* ---- events and state --------------------------------------------------------------------------- */

/* Queues an event; it is delivered at the end of the public call (ovl_transport_deliver_events). A
 * public call queues at most four (ICE_SELECTED, ICE_RESTARTED, DTLS_CONNECTED, CONNECTED) before
 * they are delivered, so the queue never overflows; if it did, the event would be lost. */
static void queue_event(ovl_transport_t *t, ovl_transport_event_type_t type, int error, const char *reason)
{
    if (t->n_events == OVL_TRANSPORT_MAX_EVENTS)
        return;
    ovl_transport_event_t *ev = &t->events[t->n_events].ev;
    char *text = t->events[t->n_events].reason;
    t->n_events++;
    memset(ev, 0, sizeof(*ev));
    ev->type = type;
    ev->state = t->state;
    ev->path = t->path;
    ev->profile = t->profile;
    ev->error = error;
    if (reason != NULL) {
        snprintf(text, OVL_TRANSPORT_REASON_MAX, "%s", reason);
        ev->reason = text;
    }
}

void ovl_transport_emit(ovl_transport_t *t, ovl_transport_event_type_t type)
{
    queue_event(t, type, 0, NULL);
}

void ovl_transport_update_state(ovl_transport_t *t)
{
    ovl_transport_state_t s;
    if (t->closed)
        s = OVL_TRANSPORT_CLOSED;
    else if (t->dtls_failed || t->ice_failed)
        s = OVL_TRANSPORT_FAILED;
    else if (t->has_path && t->srtp_in != NULL && t->srtp_out != NULL)
        s = OVL_TRANSPORT_CONNECTED;
    else
        s = OVL_TRANSPORT_CONNECTING;
    if (s == t->state)
        return;
    t->state = s;
    if (s == OVL_TRANSPORT_CONNECTED)
        ovl_transport_emit(t, OVL_TRANSPORT_EVENT_CONNECTED);
}

/* The caller has set ice_failed or dtls_failed. A closed transport reports nothing more. */
void ovl_transport_fail(ovl_transport_t *t, ovl_transport_event_type_t type, int error, const char *reason)
{
    bool was_closed = t->state == OVL_TRANSPORT_CLOSED;
    ovl_transport_update_state(t);
    if (!was_closed)
        queue_event(t, type, error, reason);
}

void ovl_transport_deliver_events(ovl_transport_t *t)
{
    if (t->delivering) /* a callback called back into us: the outer loop delivers the rest */
        return;
    t->delivering = true;
    for (size_t i = 0; i < t->n_events; i++) {
        ovl_transport_event_t ev = t->events[i].ev; /* the callback may queue more behind it */
        t->on_state(t->user, &ev);
    }
    t->n_events = 0;
    t->delivering = false;
}

void ovl_transport_output(ovl_transport_t *t, const ovl_ice_path_t *to, const uint8_t *data, size_t len)
{
    t->stats.tx_datagrams++;
    t->stats.tx_bytes += len;
    t->send(t->user, to->path_id, &to->addr, data, len);
}

/* ---- DTLS callbacks ------------------------------------------------------------------------------ */

/* DTLS goes to the selected pair; a server without one yet answers where the last DTLS came from
 * (a browser may start DTLS as soon as a check succeeded, before it nominates). */
static void dtls_output(void *user, const uint8_t *data, size_t len)
{
    ovl_transport_t *t = user;
    const ovl_ice_path_t *to = t->has_path ? &t->path : t->has_dtls_reply ? &t->dtls_reply : NULL;
    if (to == NULL) {
        t->stats.drops[OVL_TRANSPORT_DROP_NO_PATH]++;
        return;
    }
    t->stats.tx_dtls++;
    ovl_transport_output(t, to, data, len);
}

/* RFC 5764 §4.2: our write key protects what we send, the peer's unprotects what we receive. */
static int make_srtp(ovl_transport_t *t, const ovl_dtls_srtp_keys_t *keys)
{
    ovl_srtp_config_t c;
    int ret;

    memset(&c, 0, sizeof(c));
    c.profile = keys->profile;
    c.master_len = keys->master_len;
    c.direction = OVL_SRTP_INBOUND;
    c.master = keys->remote;
    if ((ret = ovl_srtp_new(&c, &t->srtp_in)) < 0)
        return ret;
    c.direction = OVL_SRTP_OUTBOUND;
    c.master = keys->local;
    if ((ret = ovl_srtp_new(&c, &t->srtp_out)) < 0) {
        ovl_srtp_free(t->srtp_in);
        t->srtp_in = NULL;
        return ret;
    }
    t->profile = keys->profile;
    return 0;
}

static void dtls_event(void *user, const ovl_dtls_event_t *ev)
{
    ovl_transport_t *t = user;
    switch (ev->type) {
    case OVL_DTLS_EVENT_CONNECTED: {
        int ret = make_srtp(t, ev->keys);
        if (ret < 0) {
            t->dtls_failed = true;
            ovl_transport_fail(t, OVL_TRANSPORT_EVENT_FAILED, ret, "SRTP session setup from the DTLS keys failed");
            return;
        }
        ovl_transport_emit(t, OVL_TRANSPORT_EVENT_DTLS_CONNECTED);
        ovl_transport_update_state(t);
        break;
    }
    case OVL_DTLS_EVENT_FAILED:
        t->dtls_failed = true;
        ovl_transport_fail(t, OVL_TRANSPORT_EVENT_FAILED, ev->error, ev->reason);
        break;
    case OVL_DTLS_EVENT_CLOSED:
        if (!t->closed) {
            t->closed = true;
            ovl_transport_update_state(t);
            ovl_transport_emit(t, OVL_TRANSPORT_EVENT_CLOSED);
        }
        break;
    }
}

/* ---- lifecycle ------------------------------------------------------------------------------------- */

static int check_config(const ovl_transport_config_t *cfg)
{
    if (cfg == NULL || cfg->send == NULL || cfg->on_state == NULL || cfg->cert == NULL ||
        cfg->remote_fingerprint == NULL)
        return OVL_ERR_ARG;
    if (cfg->role != OVL_TRANSPORT_SERVER && cfg->role != OVL_TRANSPORT_CLIENT)
        return OVL_ERR_ARG;
    return 0;
}

int ovl_transport_new(const ovl_transport_config_t *cfg, ovl_time_t now, ovl_transport_t **out)
{
    ovl_transport_t *t = NULL;
    ovl_dtls_config_t dc;
    int ret;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || (ret = check_config(cfg)) < 0) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if ((t = calloc(1, sizeof(*t))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    t->role = cfg->role;
    t->state = OVL_TRANSPORT_CONNECTING;
    t->send = cfg->send;
    t->on_rtp = cfg->on_rtp;
    t->on_rtcp = cfg->on_rtcp;
    t->on_state = cfg->on_state;
    t->user = cfg->user;
    if ((ret = ovl_transport_ice_init(t, cfg, now)) < 0)
        goto Exit;
    memset(&dc, 0, sizeof(dc));
    dc.role = cfg->role == OVL_TRANSPORT_SERVER ? OVL_DTLS_SERVER : OVL_DTLS_CLIENT;
    dc.cert = cfg->cert;
    dc.remote_fingerprint = cfg->remote_fingerprint;
    dc.profiles = cfg->srtp_profiles;
    dc.n_profiles = cfg->n_srtp_profiles;
    dc.mtu = cfg->dtls_mtu;
    dc.output = dtls_output;
    dc.event = dtls_event;
    dc.user = t;
    if ((ret = ovl_dtls_new(&dc, &t->dtls)) < 0)
        goto Exit;
    *out = t;
    t = NULL;

Exit:
    ovl_transport_free(t);
    return ret;
}

void ovl_transport_free(ovl_transport_t *t)
{
    if (t == NULL)
        return;
    ovl_transport_ice_dispose(t);
    ovl_dtls_free(t->dtls);
    ovl_srtp_free(t->srtp_in);
    ovl_srtp_free(t->srtp_out);
    OPENSSL_cleanse(t, sizeof(*t));
    free(t);
}

/* ---- datagrams in ---------------------------------------------------------------------------------- */

static int drop(ovl_transport_t *t, ovl_transport_drop_t why, int error)
{
    t->stats.drops[why]++;
    return error;
}

static int handle_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                       ovl_time_t now)
{
    int ret = ovl_transport_ice_on_stun(t, msg, path_id, from, now);
    if (ret == 0)
        t->stats.rx_stun++;
    else if (ret == OVL_ERR_PARSE)
        drop(t, OVL_TRANSPORT_DROP_STUN_PARSE, ret);
    else if (ret == OVL_ERR_AUTH)
        drop(t, OVL_TRANSPORT_DROP_STUN_AUTH, ret);
    else
        drop(t, OVL_TRANSPORT_DROP_STUN_OTHER, ret);
    return ret;
}

/* DTLS only from a path that passed an ICE check (RFC 8445 §12: no data before a check succeeded). */
static int handle_dtls(ovl_transport_t *t, uint64_t path_id, const ovl_addr_t *from, const uint8_t *buf, size_t len,
                       ovl_time_t now)
{
    if (!ovl_transport_is_trusted(t, from, path_id))
        return drop(t, OVL_TRANSPORT_DROP_UNTRUSTED, OVL_ERR_NOTFOUND);
    if (t->closed || t->dtls_failed)
        return drop(t, OVL_TRANSPORT_DROP_DTLS, OVL_ERR_STATE);
    t->dtls_reply.addr = *from;
    t->dtls_reply.path_id = path_id;
    t->has_dtls_reply = true;
    int ret = ovl_dtls_feed(t->dtls, buf, len, now);
    if (ret == OVL_ERR_STATE) /* a client whose handshake has not started */
        return drop(t, OVL_TRANSPORT_DROP_DTLS, ret);
    t->stats.rx_dtls++;
    return ret;
}

static int handle_media(ovl_transport_t *t, bool rtcp, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf,
                        size_t len, ovl_time_t now)
{
    size_t n = len;
    int ret;

    if (!ovl_transport_is_trusted(t, from, path_id))
        return drop(t, OVL_TRANSPORT_DROP_UNTRUSTED, OVL_ERR_NOTFOUND);
    if (t->srtp_in == NULL || t->closed || t->dtls_failed)
        return drop(t, OVL_TRANSPORT_DROP_NOT_READY, OVL_ERR_STATE);
    ret = rtcp ? ovl_srtp_unprotect_rtcp(t->srtp_in, buf, &n) : ovl_srtp_unprotect_rtp(t->srtp_in, buf, &n);
    if (ret == OVL_ERR_AUTH)
        return drop(t, OVL_TRANSPORT_DROP_SRTP_AUTH, ret);
    if (ret == OVL_ERR_REPLAY)
        return drop(t, OVL_TRANSPORT_DROP_SRTP_REPLAY, ret);
    if (ret < 0)
        return drop(t, OVL_TRANSPORT_DROP_SRTP_INVALID, ret);
    ovl_transport_media_cb cb = rtcp ? t->on_rtcp : t->on_rtp;
    if (rtcp)
        t->stats.rx_rtcp++;
    else
        t->stats.rx_rtp++;
    if (cb != NULL)
        cb(t->user, buf, n, now);
    return 0;
}

int ovl_transport_on_datagram(ovl_transport_t *t, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf, size_t len,
                              ovl_time_t now)
{
    ovl_stun_msg_t msg;
    int ret;

    if (t == NULL || from == NULL || (buf == NULL && len != 0))
        return OVL_ERR_ARG;
    t->stats.rx_datagrams++;
    t->stats.rx_bytes += len;
    switch (ovl_demux_classify(buf, len)) {
    case OVL_DEMUX_STUN:
        ret = ovl_stun_parse(buf, len, &msg);
        if (ret < 0 && ret != OVL_ERR_UNSUPPORTED)
            ret = drop(t, OVL_TRANSPORT_DROP_STUN_PARSE, OVL_ERR_PARSE);
        else
            ret = handle_stun(t, &msg, path_id, from, now);
        break;
    case OVL_DEMUX_DTLS:
        ret = handle_dtls(t, path_id, from, buf, len, now);
        break;
    case OVL_DEMUX_RTP:
        ret = handle_media(t, false, path_id, from, buf, len, now);
        break;
    case OVL_DEMUX_RTCP:
        ret = handle_media(t, true, path_id, from, buf, len, now);
        break;
    default:
        ret = drop(t, OVL_TRANSPORT_DROP_UNKNOWN, OVL_ERR_PARSE);
        break;
    }
    ovl_transport_deliver_events(t);
    return ret;
}

int ovl_transport_on_stun(ovl_transport_t *t, const ovl_stun_msg_t *msg, uint64_t path_id, const ovl_addr_t *from,
                          ovl_time_t now)
{
    if (t == NULL || msg == NULL || from == NULL)
        return OVL_ERR_ARG;
    t->stats.rx_datagrams++;
    t->stats.rx_bytes += msg->len;
    int ret = handle_stun(t, msg, path_id, from, now);
    ovl_transport_deliver_events(t);
    return ret;
}

/* ---- media out ----------------------------------------------------------------------------------- */

static int protect(ovl_transport_t *t, bool rtcp, uint8_t *buf, size_t *len, size_t cap)
{
    int ret;
    if (t == NULL || buf == NULL || len == NULL)
        return OVL_ERR_ARG;
    if (t->state != OVL_TRANSPORT_CONNECTED)
        return OVL_ERR_STATE;
    ret = rtcp ? ovl_srtp_protect_rtcp(t->srtp_out, buf, len, cap) : ovl_srtp_protect_rtp(t->srtp_out, buf, len, cap);
    if (ret < 0)
        return ret;
    if (rtcp)
        t->stats.tx_rtcp++;
    else
        t->stats.tx_rtp++;
    return 0;
}

int ovl_transport_protect_rtp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap, ovl_ice_path_t *to)
{
    if (to != NULL)
        memset(to, 0, sizeof(*to));
    int ret = protect(t, false, buf, len, cap);
    if (ret == 0 && to != NULL)
        *to = t->path;
    return ret;
}

int ovl_transport_protect_rtcp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap, ovl_ice_path_t *to)
{
    if (to != NULL)
        memset(to, 0, sizeof(*to));
    int ret = protect(t, true, buf, len, cap);
    if (ret == 0 && to != NULL)
        *to = t->path;
    return ret;
}

int ovl_transport_send_rtp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap)
{
    int ret = protect(t, false, buf, len, cap);
    if (ret == 0)
        ovl_transport_output(t, &t->path, buf, *len);
    return ret;
}

int ovl_transport_send_rtcp(ovl_transport_t *t, uint8_t *buf, size_t *len, size_t cap)
{
    int ret = protect(t, true, buf, len, cap);
    if (ret == 0)
        ovl_transport_output(t, &t->path, buf, *len);
    return ret;
}

/* ---- timers, restart, close ----------------------------------------------------------------------- */

ovl_time_t ovl_transport_next_timeout(const ovl_transport_t *t)
{
    if (t == NULL || t->closed)
        return OVL_TIME_NEVER;
    ovl_time_t ice = ovl_transport_ice_next_timeout(t), dtls = ovl_dtls_next_timeout(t->dtls);
    return ice < dtls ? ice : dtls;
}

void ovl_transport_on_timeout(ovl_transport_t *t, ovl_time_t now)
{
    if (t == NULL || t->closed)
        return;
    ovl_transport_ice_on_timeout(t, now);
    if (!t->dtls_failed)
        ovl_dtls_on_timeout(t->dtls, now); /* a failure arrives as a DTLS event */
    ovl_transport_deliver_events(t);
}

int ovl_transport_restart_ice(ovl_transport_t *t, const ovl_transport_ice_restart_t *r, ovl_time_t now)
{
    if (t == NULL || r == NULL)
        return OVL_ERR_ARG;
    if (t->closed || t->dtls_failed)
        return OVL_ERR_STATE;
    int ret = ovl_transport_ice_restart(t, r, now);
    ovl_transport_deliver_events(t);
    return ret;
}

void ovl_transport_close(ovl_transport_t *t)
{
    if (t == NULL || t->closed)
        return;
    ovl_dtls_close(t->dtls); /* close_notify, if connected, to the selected pair */
    t->closed = true;
    ovl_transport_update_state(t);
    ovl_transport_deliver_events(t);
}

/* ---- accessors ------------------------------------------------------------------------------------ */

ovl_transport_state_t ovl_transport_state(const ovl_transport_t *t)
{
    return t->state;
}

ovl_transport_role_t ovl_transport_role(const ovl_transport_t *t)
{
    return t->role;
}

ovl_srtp_profile_t ovl_transport_profile(const ovl_transport_t *t)
{
    return t->profile;
}

int ovl_transport_selected_path(const ovl_transport_t *t, ovl_ice_path_t *path)
{
    memset(path, 0, sizeof(*path));
    if (!t->has_path || t->ice_failed)
        return OVL_ERR_NOTFOUND;
    *path = t->path;
    return 0;
}

const char *ovl_transport_local_ufrag(const ovl_transport_t *t)
{
    return t->ufrag.s;
}

void ovl_transport_stats(const ovl_transport_t *t, ovl_transport_stats_t *out)
{
    *out = t->stats;
}
