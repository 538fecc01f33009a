/*
 * The peer's media session: negotiation with the relay, the transport, the remote participants and the end of
 * the run. Media itself (encoding, RTP, RTCP) is in session_rtp.c. See session.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cmd/overleg-peer/session_int.h"

#define TCP_CONNECT_TIMEOUT OVL_SEC(10) /* to the relay's passive ICE-TCP candidate */

/* ---- randomness: credentials, SSRCs, first sequence numbers (RFC 3550 §5.1), the loss PRNG's seed ---- */

static void random_bytes(void *buf, size_t len)
{
    if (RAND_bytes(buf, (int)len) != 1) { /* never in practice; predictable values still work */
        for (size_t i = 0; i < len; i++)
            ((uint8_t *)buf)[i] = (uint8_t)(i * 131 + 7);
    }
}

static uint32_t random_u32(void)
{
    uint32_t v;
    do
        random_bytes(&v, sizeof(v));
    while (v == 0);
    return v;
}

/* RFC 8839 §5.4 ice-char: ALPHA / DIGIT / "+" / "/". */
static void random_ice(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t r[64];
    random_bytes(r, n);
    for (size_t i = 0; i < n; i++)
        out[i] = set[r[i] % 64];
    out[n] = '\0';
}

static void post(ovl_peer_session_t *s, ovl_peer_msg_type_t type, char *sdp, int code, const char *reason)
{
    ovl_peer_msg_t m = {.type = type, .sdp = sdp, .code = code};
    snprintf(m.reason, sizeof(m.reason), "%s", reason ? reason : "");
    s->cfg.post(s->cfg.ctx, &m);
}

/* ---- lifecycle ---- */

int ovl_peer_session_new(const ovl_peer_session_cfg_t *cfg, ovl_time_t now, ovl_peer_session_t **out)
{
    ovl_peer_session_t *s = NULL;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (!cfg || !cfg->opts || !cfg->cert || !cfg->send || !cfg->post || (!cfg->path_v4 && !cfg->path_v6) ||
        (cfg->opts->tcp && (!cfg->path_tcp || !cfg->tcp_connect || !cfg->tcp_cut)))
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if (!(s = calloc(1, sizeof(*s))))
        goto Exit;
    s->cfg = *cfg;
    s->o = cfg->opts;
    s->started_at = now;
    random_ice(s->ufrag, 8);
    random_ice(s->pwd, 24);
    random_ice(s->cname, 16);
    snprintf(s->stream, sizeof(s->stream), "peer-%08x", random_u32());
    s->audio_ssrc = random_u32();
    do
        s->video_ssrc = random_u32();
    while (s->video_ssrc == s->audio_ssrc);
    do
        s->rtx_ssrc = random_u32();
    while (s->rtx_ssrc == s->audio_ssrc || s->rtx_ssrc == s->video_ssrc);
    random_bytes(&s->sess_id, sizeof(s->sess_id));
    s->sess_id &= 0x3fffffffffffffffull; /* RFC 8866 §5.2: fits in 63 bits, as browsers keep it */
    s->sess_version = 1;
    s->ats0 = random_u32();
    s->vts0 = random_u32();
    s->prng = s->o->seed;
    s->code = -1;
    s->rtt_us = -1;
    for (size_t i = 0; i < OVL_PEER_MAX_REMOTES; i++)
        s->remotes[i].tracks[0] = s->remotes[i].tracks[1] = s->remotes[i].tracks[2] = -1;
    *out = s;
    s = NULL;
    ret = 0;
Exit:
    ovl_peer_session_free(s);
    return ret;
}

void ovl_peer_session_free(ovl_peer_session_t *s)
{
    if (!s)
        return;
    ovl_transport_free(s->t);
    ovl_peer_rtp_free(s);
    free(s);
}

bool ovl_peer_session_done(const ovl_peer_session_t *s)
{
    return s->done;
}

/* ---- remote participants ---- */

static peer_remote_t *remote_find(ovl_peer_session_t *s, const char *id)
{
    for (size_t i = 0; i < s->n_remotes; i++)
        if (strcmp(s->remotes[i].id, id) == 0)
            return &s->remotes[i];
    return NULL;
}

static peer_remote_t *remote_get(ovl_peer_session_t *s, const char *id, ovl_time_t now)
{
    peer_remote_t *r = remote_find(s, id);
    if (r || s->n_remotes == OVL_PEER_MAX_REMOTES)
        return r;
    r = &s->remotes[s->n_remotes++];
    snprintf(r->id, sizeof(r->id), "%s", id);
    r->seen_at = now;
    return r;
}

/* The participant a relay track belongs to: its a=msid stream id names the publisher (PROTOCOL.md), written
 * as the participant id ("p2") or with the relay's prefix ("ovl-p2"). */
static peer_remote_t *remote_for_stream(ovl_peer_session_t *s, const char *stream, ovl_time_t now)
{
    peer_remote_t *r = remote_find(s, stream);
    if (!r && strncmp(stream, "ovl-", 4) == 0)
        r = remote_find(s, stream + 4);
    return r ? r : remote_get(s, strncmp(stream, "ovl-", 4) == 0 ? stream + 4 : stream, now);
}

/* ---- negotiation ---- */

static void local_params(const ovl_peer_session_t *s, ovl_sdp_client_local_t *l)
{
    memset(l, 0, sizeof(*l));
    l->ice_ufrag = s->ufrag;
    l->ice_pwd = s->pwd;
    l->fingerprint = ovl_dtls_cert_fingerprint(s->cfg.cert);
    l->session_id = s->sess_id;
    l->session_version = s->sess_version;
    l->cname = s->cname;
    l->stream_id = s->stream;
    l->audio_ssrc = s->audio_ssrc;
    l->video_ssrc = s->video_ssrc;
    l->video_rtx_ssrc = s->rtx_ssrc;
}

static void send_sdp(ovl_peer_session_t *s, const ovl_sdp_t *sdp, ovl_peer_msg_type_t type, ovl_time_t now)
{
    char *text;
    size_t len;
    if (ovl_sdp_client_text(sdp, &text, &len) != 0) {
        ovl_peer_finish(s, OVL_PEER_EXIT_INTERNAL, "could not write SDP", now);
        return;
    }
    post(s, type, text, 0, NULL);
}

static void on_joined(ovl_peer_session_t *s, const char *you, ovl_time_t now)
{
    ovl_sdp_client_local_t l;
    ovl_sdp_t *offer = NULL;
    snprintf(s->you, sizeof(s->you), "%s", you);
    s->joined_at = now;
    if (s->offered)
        return;
    local_params(s, &l);
    if (ovl_sdp_client_offer(&l, &offer) != 0) {
        ovl_peer_finish(s, OVL_PEER_EXIT_INTERNAL, "could not build the offer", now);
        return;
    }
    s->offered = true;
    send_sdp(s, offer, OVL_PEER_MSG_SEND_OFFER, now);
    ovl_sdp_free(offer);
}

static void on_state(void *user, const ovl_transport_event_t *ev);

static void transport_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    ovl_peer_session_t *s = user;
    s->cfg.send(s->cfg.ctx, path_id, to, data, len, s->tx_video);
}

/* The transport towards the relay's UDP candidates, each through the socket of its address family; with
 * --transport tcp, towards its passive ICE-TCP candidate through our connection to it (RFC 6544: the pair is
 * the connection). */
static int make_transport(ovl_peer_session_t *s, ovl_time_t now)
{
    ovl_ice_path_t cands[OVL_SDP_CLIENT_MAX_CANDS];
    size_t n = 0;
    if (s->o->tcp)
        cands[n++] = (ovl_ice_path_t){.addr = s->tcp_addr, .path_id = s->cfg.path_tcp};
    for (size_t i = 0; i < s->remote.n_candidates && !s->o->tcp; i++) {
        const ovl_addr_t *a = &s->remote.candidates[i];
        uint64_t path = a->family == OVL_ADDR_IPV6 ? s->cfg.path_v6 : s->cfg.path_v4;
        if (path)
            cands[n++] = (ovl_ice_path_t){.addr = *a, .path_id = path};
    }
    if (n == 0)
        return OVL_ERR_NOTFOUND;
    ovl_transport_config_t tc = {.role = OVL_TRANSPORT_CLIENT,
                                 .local_ufrag = s->ufrag,
                                 .local_pwd = s->pwd,
                                 .remote_ufrag = s->remote.ice_ufrag,
                                 .remote_pwd = s->remote.ice_pwd,
                                 .remote_candidates = cands,
                                 .n_remote_candidates = n,
                                 .cert = s->cfg.cert,
                                 .remote_fingerprint = &s->remote.fingerprint,
                                 .send = transport_send,
                                 .on_rtp = ovl_peer_rtp_on_rtp,
                                 .on_rtcp = ovl_peer_rtp_on_rtcp,
                                 .on_state = on_state,
                                 .user = s};
    return ovl_transport_new(&tc, now, &s->t);
}

static void on_answer(ovl_peer_session_t *s, const char *text, ovl_time_t now)
{
    ovl_sdp_t *answer = NULL;
    ovl_sdp_error_t e;
    char why[OVL_PEER_REASON_LEN];
    int ret;
    if (s->answered || !s->offered) {
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, "the relay sent an answer out of turn", now);
        return;
    }
    if ((ret = ovl_sdp_parse(text, strlen(text), &answer, &e)) != 0) {
        snprintf(why, sizeof(why), "the relay's answer does not parse: %s at line %zu", e.what, e.line);
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
        goto Exit;
    }
    if (ovl_sdp_client_remote(answer, &s->remote) != 0 || ovl_sdp_client_send_params(answer, &s->send) != 0) {
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, "the relay's answer has no usable transport (ICE, fingerprint)", now);
        goto Exit;
    }
    if (!s->send.audio || !s->send.video) {
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, "the relay's answer does not take our audio and video", now);
        goto Exit;
    }
    s->answered = true;
    s->answered_at = now;
    if (s->o->tcp) {
        if (s->remote.n_tcp_candidates == 0) {
            ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, "no passive ICE-TCP candidate in the relay's answer", now);
            goto Exit;
        }
        s->tcp_addr = s->remote.tcp_candidates[0];
        s->tcp_wait = true;
        s->tcp_asked_at = now;
        if ((ret = s->cfg.tcp_connect(s->cfg.ctx, &s->tcp_addr)) != 0) {
            snprintf(why, sizeof(why), "cannot connect to the relay's ICE-TCP candidate (%s)", ovl_strerror(ret));
            ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
            goto Exit;
        }
    } else if ((ret = make_transport(s, now)) != 0) {
        snprintf(why, sizeof(why), "no usable UDP candidate in the relay's answer (%s)", ovl_strerror(ret));
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
        goto Exit;
    }
    if ((ret = ovl_peer_rtp_start(s, now)) != 0) {
        snprintf(why, sizeof(why), "could not set up the encoders and senders (%s)", ovl_strerror(ret));
        ovl_peer_finish(s, OVL_PEER_EXIT_INTERNAL, why, now);
    }
Exit:
    ovl_sdp_free(answer);
}

static bool track_listed(const ovl_sdp_client_track_t *list, size_t n, const peer_track_t *t)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].mid, t->mid) == 0 && list[i].ssrc == t->ssrc)
            return true;
    return false;
}

static const peer_track_t *track_by_mid(const ovl_peer_session_t *s, const char *mid, uint32_t ssrc)
{
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].active && strcmp(s->tracks[i].mid, mid) == 0 && s->tracks[i].ssrc == ssrc)
            return &s->tracks[i];
    return NULL;
}

/* A relay offer: tracks that are gone stop mapping SSRCs; new ones get receivers. */
static void sync_tracks(ovl_peer_session_t *s, const ovl_sdp_t *offer, ovl_time_t now)
{
    ovl_sdp_client_track_t *list = s->offered_tracks;
    size_t n = 0;
    (void)ovl_sdp_client_tracks(offer, list, OVL_SDP_CLIENT_MAX_TRACKS, &n);
    for (size_t i = 0; i < s->n_tracks; i++)
        if (s->tracks[i].active && !track_listed(list, n, &s->tracks[i]))
            s->tracks[i].active = false;
    for (size_t i = 0; i < n; i++) {
        if (track_by_mid(s, list[i].mid, list[i].ssrc))
            continue;
        peer_remote_t *r = remote_for_stream(s, list[i].stream, now);
        if (!r || ovl_peer_rtp_add_track(s, &list[i], (size_t)(r - s->remotes), now) != 0)
            fprintf(stderr, "overleg-peer: cannot receive track %s of %s\n", list[i].mid, list[i].stream);
    }
}

/* RFC 8445 §9: new ICE credentials in a relay offer are an ICE restart; ours change too. */
static void maybe_restart(ovl_peer_session_t *s, const ovl_sdp_t *offer, ovl_time_t now)
{
    ovl_sdp_client_remote_t r;
    if (!s->t || ovl_sdp_client_remote(offer, &r) != 0 || strcmp(r.ice_ufrag, s->remote.ice_ufrag) == 0)
        return;
    char ufrag[sizeof(s->ufrag)], pwd[sizeof(s->pwd)];
    random_ice(ufrag, 8);
    random_ice(pwd, 24);
    ovl_transport_ice_restart_t rs = {
        .local_ufrag = ufrag, .local_pwd = pwd, .remote_ufrag = r.ice_ufrag, .remote_pwd = r.ice_pwd};
    if (ovl_transport_restart_ice(s->t, &rs, now) != 0)
        return;
    memcpy(s->ufrag, ufrag, sizeof(ufrag));
    memcpy(s->pwd, pwd, sizeof(pwd));
    memcpy(s->remote.ice_ufrag, r.ice_ufrag, sizeof(r.ice_ufrag));
    memcpy(s->remote.ice_pwd, r.ice_pwd, sizeof(r.ice_pwd));
}

static void on_offer(ovl_peer_session_t *s, const char *text, ovl_time_t now)
{
    ovl_sdp_t *offer = NULL, *answer = NULL;
    ovl_sdp_client_local_t l;
    ovl_sdp_error_t e;
    char why[OVL_PEER_REASON_LEN];
    if (ovl_sdp_parse(text, strlen(text), &offer, &e) != 0) {
        snprintf(why, sizeof(why), "a relay offer does not parse: %s at line %zu", e.what, e.line);
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
        goto Exit;
    }
    maybe_restart(s, offer, now);
    sync_tracks(s, offer, now);
    s->sess_version++;
    local_params(s, &l);
    if (ovl_sdp_client_answer(offer, &l, &answer) != 0) {
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, "cannot answer a relay offer", now);
        goto Exit;
    }
    send_sdp(s, answer, OVL_PEER_MSG_SEND_ANSWER, now);
Exit:
    ovl_sdp_free(answer);
    ovl_sdp_free(offer);
}

void ovl_peer_session_on_msg(ovl_peer_session_t *s, ovl_peer_msg_t *msg, ovl_time_t now)
{
    peer_remote_t *r;
    if (!s->done) {
        switch (msg->type) {
        case OVL_PEER_MSG_JOINED:
            on_joined(s, msg->id, now);
            break;
        case OVL_PEER_MSG_PARTICIPANT:
            if ((r = remote_get(s, msg->id, now)) != NULL)
                snprintf(r->name, sizeof(r->name), "%s", msg->name);
            break;
        case OVL_PEER_MSG_LEFT:
            if ((r = remote_find(s, msg->id)) != NULL && !r->left) {
                r->left = true;
                r->left_at = now;
                snprintf(r->reason, sizeof(r->reason), "%.*s", (int)sizeof(r->reason) - 1, msg->reason);
            }
            break;
        case OVL_PEER_MSG_ANSWER:
            on_answer(s, msg->sdp ? msg->sdp : "", now);
            break;
        case OVL_PEER_MSG_OFFER:
            on_offer(s, msg->sdp ? msg->sdp : "", now);
            break;
        case OVL_PEER_MSG_STOP:
            ovl_peer_session_stop(s, msg->code, msg->reason, now);
            break;
        default:
            break;
        }
    }
    free(msg->sdp);
    msg->sdp = NULL;
}

/* ---- the transport ---- */

static void on_state(void *user, const ovl_transport_event_t *ev)
{
    ovl_peer_session_t *s = user;
    char why[OVL_PEER_REASON_LEN];
    switch (ev->type) {
    case OVL_TRANSPORT_EVENT_CONNECTED:
        s->connected = true;
        s->sel = ev->path;
        s->has_sel = true;
        break;
    case OVL_TRANSPORT_EVENT_CONSENT_LOST:
    case OVL_TRANSPORT_EVENT_FAILED:
        snprintf(why, sizeof(why), "media transport %s: %s", ovl_transport_event_name(ev->type),
                 ev->reason ? ev->reason : ovl_strerror(ev->error));
        s->code = OVL_PEER_EXIT_MEDIA;
        snprintf(s->reason, sizeof(s->reason), "%s", why);
        s->connected = false;
        break;
    case OVL_TRANSPORT_EVENT_CLOSED:
        s->code = OVL_PEER_EXIT_MEDIA;
        snprintf(s->reason, sizeof(s->reason), "the relay closed the media transport (DTLS close_notify)");
        s->connected = false;
        break;
    default:
        break;
    }
}

/* After every transport call (events carry no time): start media once connected, end on a failure. */
static void after_transport(ovl_peer_session_t *s, ovl_time_t now)
{
    if (s->connected && !s->connected_at) {
        s->connected_at = now;
        s->media_at = s->next_audio = s->next_video = now;
        s->next_rtcp = now + OVL_MS(500);
    }
    if (s->code >= 0 && !s->done)
        ovl_peer_finish(s, s->code, s->reason, now);
}

void ovl_peer_session_on_tcp(ovl_peer_session_t *s, bool up, const char *reason, ovl_time_t now)
{
    char why[OVL_PEER_REASON_LEN], addr[OVL_ADDR_STRLEN];
    int ret;
    if (s->done)
        return;
    ovl_addr_format(&s->tcp_addr, addr, sizeof(addr));
    if (up && s->tcp_wait) {
        s->tcp_wait = false;
        s->tcp_up = true;
        s->tcp_up_at = now;
        if ((ret = make_transport(s, now)) != 0) {
            snprintf(why, sizeof(why), "cannot start ICE over TCP to %s (%s)", addr, ovl_strerror(ret));
            ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
        }
        return;
    }
    if (up)
        return;
    if (s->tcp_wait) {
        snprintf(why, sizeof(why), "cannot connect to the relay's ICE-TCP candidate %s: %s", addr, reason);
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
        return;
    }
    s->tcp_up = false;
    if (s->cut || !s->t)
        return; /* --cut-after: we closed it; the relay and signaling decide what happens next */
    ovl_transport_path_closed(s->t, s->cfg.path_tcp, now);
    if (s->code >= 0)
        snprintf(s->reason, sizeof(s->reason), "the ICE-TCP connection to %s closed (%s); media lost", addr, reason);
    after_transport(s, now);
}

void ovl_peer_session_on_datagram(ovl_peer_session_t *s, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf,
                                  size_t len, ovl_time_t now)
{
    if (!s->t || s->done)
        return;
    (void)ovl_transport_on_datagram(s->t, path_id, from, buf, len, now);
    after_transport(s, now);
    ovl_peer_check_end(s, now);
}

/* ---- time ---- */

static unsigned complete_remotes(const ovl_peer_session_t *s)
{
    unsigned n = 0;
    for (size_t i = 0; i < s->n_remotes; i++) {
        const peer_remote_t *pr = &s->remotes[i];
        ovl_media_receiver_stats_t a = {0}, v = {0};
        if (pr->tracks[SLOT_AUDIO] >= 0)
            ovl_media_receiver_stats(s->tracks[pr->tracks[SLOT_AUDIO]].rx, &a);
        if (pr->tracks[SLOT_CAMERA] >= 0)
            ovl_media_receiver_stats(s->tracks[pr->tracks[SLOT_CAMERA]].rx, &v);
        n += a.frames_decoded >= s->o->min_frames && v.frames_decoded >= s->o->min_frames && a.frames_decoded &&
             v.frames_decoded;
    }
    return n;
}

ovl_time_t ovl_peer_end_deadline(const ovl_peer_session_t *s)
{
    if (!s->joined_at)
        return s->started_at + s->o->duration + s->o->wait_more; /* never joined: give up eventually */
    ovl_time_t end = s->joined_at + s->o->duration;
    if (s->o->expect == 0)
        return end;
    if (!s->complete_at)
        return end + s->o->wait_more;
    /* Stay so the others can decode us: the linger, or as long again as decoding them took us when that was
     * longer (a loaded machine slows everyone alike; the others need about as long for us). */
    ovl_time_t took = s->connected_at && s->complete_at > s->connected_at ? s->complete_at - s->connected_at : 0;
    ovl_time_t stay = s->complete_at + (took > s->o->linger ? took : s->o->linger);
    return stay > end ? stay : end;
}

void ovl_peer_check_end(ovl_peer_session_t *s, ovl_time_t now)
{
    if (s->done)
        return;
    if (s->o->expect && !s->complete_at && complete_remotes(s) >= s->o->expect)
        s->complete_at = now;
    if (now >= ovl_peer_end_deadline(s))
        ovl_peer_session_stop(s, -1, NULL, now);
}

void ovl_peer_session_stop(ovl_peer_session_t *s, int code, const char *reason, ovl_time_t now)
{
    char why[OVL_PEER_REASON_LEN];
    unsigned n = complete_remotes(s);
    if (s->done)
        return;
    if (code < 0 || (code == OVL_PEER_EXIT_REFUSED && s->o->expect && n >= s->o->expect)) {
        /* The duration ended (or we were interrupted, or the meeting ended after all went well). */
        if (s->o->expect && n < s->o->expect) {
            snprintf(why, sizeof(why), "decoded audio and video from %u of %u expected peers%s%s", n, s->o->expect,
                     reason && *reason ? "; " : "", reason ? reason : "");
            code = OVL_PEER_EXIT_EXPECT;
        } else if (!s->o->expect && !s->connected_at) {
            snprintf(why, sizeof(why), "the media transport never connected%s%s", reason && *reason ? "; " : "",
                     reason ? reason : "");
            code = OVL_PEER_EXIT_MEDIA;
        } else if (s->o->expect) {
            snprintf(why, sizeof(why), "decoded audio and video from %u of %u expected peers", n, s->o->expect);
            code = OVL_PEER_EXIT_OK;
        } else {
            snprintf(why, sizeof(why), "ran for the duration; decoded audio and video from %u peers", n);
            code = OVL_PEER_EXIT_OK;
        }
        reason = why;
    }
    ovl_peer_finish(s, code, reason, now);
}

void ovl_peer_finish(ovl_peer_session_t *s, int code, const char *reason, ovl_time_t now)
{
    if (s->done)
        return;
    s->done = true;
    s->code = code;
    s->ended_at = now;
    if (reason != s->reason)
        snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
    if (s->t)
        ovl_transport_close(s->t); /* DTLS close_notify: the relay may let go at once */
    post(s, OVL_PEER_MSG_DONE, NULL, code, s->reason);
}

/* ICE-TCP timers: the connect timeout, and the --cut-after test hook (counted from media connected, or with
 * --expect-peers from the moment they were decoded). */
static ovl_time_t tcp_deadline(const ovl_peer_session_t *s)
{
    if (s->tcp_wait)
        return s->tcp_asked_at + TCP_CONNECT_TIMEOUT;
    ovl_time_t from = s->o->expect ? s->complete_at : s->connected_at; /* --expect-peers: once they decoded */
    if (s->tcp_up && s->o->cut_after && from && !s->cut)
        return from + s->o->cut_after;
    return OVL_TIME_NEVER;
}

static void tcp_on_timeout(ovl_peer_session_t *s, ovl_time_t now)
{
    char why[OVL_PEER_REASON_LEN], addr[OVL_ADDR_STRLEN];
    if (s->tcp_wait) {
        snprintf(why, sizeof(why), "cannot connect to the relay's ICE-TCP candidate %s: no answer in %d s",
                 ovl_addr_format(&s->tcp_addr, addr, sizeof(addr)), (int)(TCP_CONNECT_TIMEOUT / OVL_SEC(1)));
        ovl_peer_finish(s, OVL_PEER_EXIT_MEDIA, why, now);
        return;
    }
    s->cut = true; /* before the call: the media thread reports the close through ovl_peer_session_on_tcp */
    s->cut_at = now;
    s->tcp_up = false;
    s->cfg.tcp_cut(s->cfg.ctx);
}

ovl_time_t ovl_peer_session_next_timeout(const ovl_peer_session_t *s)
{
    if (s->done)
        return OVL_TIME_NEVER;
    ovl_time_t t = ovl_peer_end_deadline(s), x;
    if (s->t && (x = ovl_transport_next_timeout(s->t)) < t)
        t = x;
    if ((x = tcp_deadline(s)) < t)
        t = x;
    if ((x = ovl_peer_rtp_next_timeout(s)) < t)
        t = x;
    return t;
}

void ovl_peer_session_on_timeout(ovl_peer_session_t *s, ovl_time_t now)
{
    if (s->done)
        return;
    if (tcp_deadline(s) <= now)
        tcp_on_timeout(s, now);
    if (s->done)
        return;
    if (s->t && ovl_transport_next_timeout(s->t) <= now) {
        ovl_transport_on_timeout(s->t, now);
        after_transport(s, now);
    }
    if (!s->done)
        ovl_peer_rtp_on_timeout(s, now);
    ovl_peer_check_end(s, now);
}

/* ---- the report ---- */

static void track_report(const ovl_peer_session_t *s, int idx, ovl_peer_track_report_t *out)
{
    memset(out, 0, sizeof(*out));
    if (idx < 0)
        return;
    const peer_track_t *t = &s->tracks[idx];
    out->present = true;
    snprintf(out->mid, sizeof(out->mid), "%s", t->mid);
    snprintf(out->track, sizeof(out->track), "%s", t->track);
    out->ssrc = t->ssrc;
    out->added_at = t->added_at;
    out->dropped = t->dropped;
    ovl_media_receiver_stats(t->rx, &out->st);
}

void ovl_peer_session_report(const ovl_peer_session_t *s, ovl_time_t now, ovl_peer_report_t *out)
{
    memset(out, 0, sizeof(*out));
    out->code = s->done ? s->code : -1;
    snprintf(out->reason, sizeof(out->reason), "%s", s->reason);
    snprintf(out->you, sizeof(out->you), "%s", s->you);
    out->started_at = s->started_at;
    out->joined_at = s->joined_at;
    out->answered_at = s->answered_at;
    out->connected_at = s->connected_at;
    out->complete_at = s->complete_at;
    out->ended_at = s->done ? s->ended_at : now;
    out->profile = s->t && ovl_transport_profile(s->t) != OVL_SRTP_PROFILE_NONE
                       ? ovl_srtp_profile_info(ovl_transport_profile(s->t))->name
                       : NULL;
    out->tcp = s->o->tcp;
    out->tcp_up_at = s->tcp_up_at;
    out->cut_at = s->cut_at;
    char addr[OVL_ADDR_STRLEN];
    if (s->has_sel)
        snprintf(out->path, sizeof(out->path), "%s %s", s->sel.path_id == s->cfg.path_tcp ? "tcp" : "udp",
                 ovl_addr_format(&s->sel.addr, addr, sizeof(addr)));
    out->expect = s->o->expect;
    out->complete = complete_remotes(s);
    out->loss = s->o->loss;
    out->seed = s->o->seed;
    out->dropped = s->dropped;
    out->unknown_ssrc = s->unknown_ssrc;
    out->min_frames = s->o->min_frames ? s->o->min_frames : 1;
    for (size_t i = 0; i < s->n_unknown; i++)
        for (size_t k = 0; k < s->n_tracks; k++)
            if (s->tracks[k].ssrc == s->unknown[i].ssrc ||
                (s->tracks[k].rtx_ssrc && s->tracks[k].rtx_ssrc == s->unknown[i].ssrc)) {
                out->unknown_ssrc_named += s->unknown[i].packets;
                break;
            }
    if (s->asend)
        ovl_media_sender_stats(s->asend, &out->audio_sent);
    if (s->vsend)
        ovl_media_sender_stats(s->vsend, &out->video_sent);
    out->plis_received = s->plis_received;
    out->firs_received = s->firs_received;
    out->remb_bps = s->remb_bps;
    out->rtcp_sent = s->rtcp_sent;
    out->rtcp_received = s->rtcp_received;
    out->rtt_us = s->rtt_us;
    if (s->t) {
        ovl_transport_stats_t ts;
        ovl_transport_stats(s->t, &ts);
        out->rx_datagrams = ts.rx_datagrams;
        out->tx_datagrams = ts.tx_datagrams;
        for (size_t i = 0; i < OVL_TRANSPORT_DROP_COUNT; i++)
            out->rx_dropped += ts.drops[i];
    }
    out->n_remotes = s->n_remotes;
    for (size_t i = 0; i < s->n_remotes; i++) {
        const peer_remote_t *r = &s->remotes[i];
        ovl_peer_remote_report_t *o = &out->remotes[i];
        snprintf(o->id, sizeof(o->id), "%s", r->id);
        snprintf(o->name, sizeof(o->name), "%s", r->name);
        o->left = r->left;
        snprintf(o->left_reason, sizeof(o->left_reason), "%s", r->reason);
        o->seen_at = r->seen_at;
        o->left_at = r->left_at;
        track_report(s, r->tracks[SLOT_AUDIO], &o->audio);
        track_report(s, r->tracks[SLOT_CAMERA], &o->video);
        track_report(s, r->tracks[SLOT_SCREEN], &o->screen);
    }
}
