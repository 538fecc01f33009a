/*
 * The client's side of the negotiation (see sdp_client.h): its first offer, the relay's answer read back, the
 * tracks of relay offers and the client's answers to them. Built on the SDP model of sdp.h and its internal
 * helpers, like the relay's own builders (sdp_answer.c, sdp_offer.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp_client.h"
#include "relay/proto/sdp_internal.h"

/* rtcp-fb values the client asks for and accepts on video (RFC 4585 §4.2, RFC 5104 §7.1). */
static const char *const video_fb[] = {"nack", "nack pli", "ccm fir", NULL};
/* Header extensions the client writes (one-byte form, RFC 8285 §4.2). */
static const char *const audio_exts[] = {OVL_SDP_CLIENT_URI_LEVEL, OVL_SDP_CLIENT_URI_MID, NULL};
static const char *const video_exts[] = {OVL_SDP_CLIENT_URI_MID, NULL};

#define OPUS_FMTP "minptime=10;useinbandfec=1"

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static bool ice_ok(const char *s, size_t min)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= 256 && ovl_sdp_all(s, n, ovl_sdp_is_ice_char);
}

static bool local_ok(const ovl_sdp_client_local_t *l)
{
    size_t cname = l && l->cname ? strlen(l->cname) : 0, stream = l && l->stream_id ? strlen(l->stream_id) : 0;
    if (!l || !ice_ok(l->ice_ufrag, 4) || !ice_ok(l->ice_pwd, 22) || !l->fingerprint ||
        !ovl_dtls_hash_name(l->fingerprint->hash) || l->fingerprint->len == 0 ||
        l->fingerprint->len > sizeof(((ovl_sdp_fingerprint_t *)0)->bytes))
        return false;
    if (cname == 0 || cname > 255 || !ovl_sdp_all(l->cname, cname, ovl_sdp_is_field_char))
        return false;
    if (stream == 0 || stream > 64 || !ovl_sdp_all(l->stream_id, stream, ovl_sdp_is_token_char))
        return false;
    return l->video_rtx_ssrc == 0 || (l->video_ssrc != 0 && l->video_rtx_ssrc != l->video_ssrc);
}

/* ICE credentials, fingerprint, setup, rtcp-mux and the null address of an accepted section. */
static void put_transport(ovl_sdp_media_t *m, const ovl_sdp_client_local_t *l, ovl_sdp_setup_t setup)
{
    m->port = 9; /* RFC 9429 §5.2.1: no candidates in the description, port 9 ("discard") */
    strcpy(m->conn_type, "IP4");
    strcpy(m->conn_addr, "0.0.0.0");
    snprintf(m->ice.ufrag, sizeof(m->ice.ufrag), "%s", l->ice_ufrag);
    snprintf(m->ice.pwd, sizeof(m->ice.pwd), "%s", l->ice_pwd);
    snprintf(m->ice.fingerprints[0].hash, sizeof(m->ice.fingerprints[0].hash), "%s",
             ovl_dtls_hash_name(l->fingerprint->hash));
    memcpy(m->ice.fingerprints[0].bytes, l->fingerprint->bytes, l->fingerprint->len);
    m->ice.fingerprints[0].len = l->fingerprint->len;
    m->ice.n_fingerprints = 1;
    m->ice.setup = setup;
    m->rtcp_mux = true;
}

static int add_codec(ovl_sdp_media_t *m, unsigned pt, const char *name, uint32_t clock, uint8_t channels,
                     const char *fmtp, ovl_sdp_codec_t **out)
{
    ovl_sdp_codec_t *c;
    int ret = ovl_sdp_add_codec(m, pt, &c);
    if (ret != 0)
        return ret;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->clock = clock;
    c->channels = channels;
    if (fmtp && (ret = ovl_sdp_strndup(&c->fmtp, fmtp, strlen(fmtp))) != 0)
        return ret;
    if (out)
        *out = c;
    return 0;
}

static int add_ext(ovl_sdp_media_t *m, uint16_t id, const char *uri)
{
    ovl_sdp_extmap_t x = {.id = id};
    snprintf(x.uri, sizeof(x.uri), "%s", uri);
    return ovl_sdp_add_extmap(m, &x);
}

/* RFC 8830 §2 a=msid, RFC 5576 §4.1 a=ssrc cname/msid, §4.2 a=ssrc-group:FID <media> <rtx>. */
static int put_streams(ovl_sdp_media_t *m, const ovl_sdp_client_local_t *l, const char *track, uint32_t ssrc,
                       uint32_t rtx_ssrc)
{
    char msid[2 * OVL_SDP_TOKEN_LEN];
    uint32_t ssrcs[2] = {ssrc, rtx_ssrc};
    size_t n = rtx_ssrc ? 2 : 1;
    int ret;
    snprintf(m->msids[0].stream, sizeof(m->msids[0].stream), "%s", l->stream_id);
    snprintf(m->msids[0].track, sizeof(m->msids[0].track), "%s", track);
    m->n_msids = 1;
    snprintf(msid, sizeof(msid), "%s %s", l->stream_id, track);
    if (rtx_ssrc) {
        ovl_sdp_ssrc_group_t *g = &m->ssrc_groups[0];
        snprintf(g->semantics, sizeof(g->semantics), "FID");
        g->ssrcs[0] = ssrc;
        g->ssrcs[1] = rtx_ssrc;
        g->n_ssrcs = 2;
        m->n_ssrc_groups = 1;
    }
    for (size_t i = 0; i < n; i++)
        if ((ret = ovl_sdp_add_ssrc(m, ssrcs[i], "cname", l->cname)) != 0 ||
            (ret = ovl_sdp_add_ssrc(m, ssrcs[i], "msid", msid)) != 0)
            return ret;
    return 0;
}

static int offer_audio(ovl_sdp_t *sdp, const ovl_sdp_client_local_t *l)
{
    ovl_sdp_media_t *m;
    int ret;
    if ((ret = ovl_sdp_add_media(sdp, &m)) != 0)
        return ret;
    m->kind = OVL_SDP_KIND_AUDIO;
    strcpy(m->media, "audio");
    strcpy(m->proto, "UDP/TLS/RTP/SAVPF");
    strcpy(m->mid, OVL_SDP_CLIENT_MID_AUDIO);
    put_transport(m, l, OVL_SDP_SETUP_ACTPASS);
    m->dir = OVL_SDP_DIR_SENDRECV;
    m->rtcp_rsize = true;
    if ((ret = add_ext(m, OVL_SDP_CLIENT_EXT_LEVEL, OVL_SDP_CLIENT_URI_LEVEL)) != 0 ||
        (ret = add_ext(m, OVL_SDP_CLIENT_EXT_MID, OVL_SDP_CLIENT_URI_MID)) != 0 ||
        (ret = add_codec(m, OVL_SDP_CLIENT_PT_OPUS, "opus", 48000, 2, OPUS_FMTP, NULL)) != 0)
        return ret;
    return put_streams(m, l, "audio", l->audio_ssrc, 0);
}

static int offer_video(ovl_sdp_t *sdp, const ovl_sdp_client_local_t *l)
{
    ovl_sdp_media_t *m;
    ovl_sdp_codec_t *c;
    int ret;
    if ((ret = ovl_sdp_add_media(sdp, &m)) != 0)
        return ret;
    m->kind = OVL_SDP_KIND_VIDEO;
    strcpy(m->media, "video");
    strcpy(m->proto, "UDP/TLS/RTP/SAVPF");
    strcpy(m->mid, OVL_SDP_CLIENT_MID_VIDEO);
    put_transport(m, l, OVL_SDP_SETUP_ACTPASS);
    m->dir = OVL_SDP_DIR_SENDRECV;
    m->rtcp_rsize = true;
    if ((ret = add_ext(m, OVL_SDP_CLIENT_EXT_MID, OVL_SDP_CLIENT_URI_MID)) != 0 ||
        (ret = add_codec(m, OVL_SDP_CLIENT_PT_VP8, "VP8", 90000, 0, NULL, &c)) != 0)
        return ret;
    for (size_t i = 0; video_fb[i]; i++)
        snprintf(c->fb[c->n_fb++], OVL_SDP_FB_LEN, "%s", video_fb[i]);
    if (l->video_rtx_ssrc) {
        if ((ret = add_codec(m, OVL_SDP_CLIENT_PT_RTX, "rtx", 90000, 0, NULL, &c)) != 0)
            return ret;
        c->apt = OVL_SDP_CLIENT_PT_VP8;
    }
    return put_streams(m, l, "camera", l->video_ssrc, l->video_rtx_ssrc);
}

int ovl_sdp_client_offer(const ovl_sdp_client_local_t *l, ovl_sdp_t **out)
{
    ovl_sdp_t *sdp = NULL;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (!local_ok(l) || (!l->audio_ssrc && !l->video_ssrc))
        goto Exit;
    if ((ret = ovl_sdp_new(&sdp)) != 0)
        goto Exit;
    sdp->sess_id = l->session_id;
    sdp->sess_version = l->session_version;
    strcpy(sdp->origin_addr, "127.0.0.1");
    ovl_sdp_group_t *g = &sdp->groups[sdp->n_groups++];
    strcpy(g->semantics, "BUNDLE");
    if (l->audio_ssrc) {
        if ((ret = offer_audio(sdp, l)) != 0)
            goto Exit;
        strcpy(g->mids[g->n_mids++], OVL_SDP_CLIENT_MID_AUDIO);
    }
    if (l->video_ssrc) {
        if ((ret = offer_video(sdp, l)) != 0)
            goto Exit;
        strcpy(g->mids[g->n_mids++], OVL_SDP_CLIENT_MID_VIDEO);
    }
    *out = sdp;
    sdp = NULL;
Exit:
    ovl_sdp_free(sdp);
    return ret;
}

/* ---- reading the relay's descriptions ---- */

static bool accepted(const ovl_sdp_media_t *m)
{
    return !ovl_sdp_media_rejected(m) && (m->kind == OVL_SDP_KIND_AUDIO || m->kind == OVL_SDP_KIND_VIDEO);
}

/* The BUNDLE tag section: the first accepted mid of the BUNDLE group (RFC 8843 §7.2), else the first accepted. */
static const ovl_sdp_media_t *tag_section(const ovl_sdp_t *sdp)
{
    const ovl_sdp_group_t *g = ovl_sdp_bundle(sdp);
    for (size_t i = 0; g && i < g->n_mids; i++) {
        const ovl_sdp_media_t *m = ovl_sdp_find_mid(sdp, g->mids[i]);
        if (m && accepted(m))
            return m;
    }
    for (size_t i = 0; i < sdp->n_media; i++)
        if (accepted(&sdp->media[i]))
            return &sdp->media[i];
    return NULL;
}

/* An SDP fingerprint as the DTLS layer's type (by way of its text form, which ovl_dtls_fingerprint_parse checks). */
static int fingerprint_from_sdp(const ovl_sdp_fingerprint_t *f, ovl_dtls_fingerprint_t *out)
{
    char text[OVL_DTLS_FINGERPRINT_TEXT_MAX + 16];
    int n = snprintf(text, sizeof(text), "%s ", f->hash);
    if (f->len == 0 || f->len > OVL_DTLS_FINGERPRINT_MAX || n < 0 || (size_t)n + f->len * 3 >= sizeof(text))
        return OVL_ERR_PARSE;
    for (size_t i = 0; i < f->len; i++)
        n += snprintf(text + n, sizeof(text) - (size_t)n, i ? ":%02X" : "%02X", f->bytes[i]);
    return ovl_dtls_fingerprint_parse(text, (size_t)n, out);
}

static void take_candidates(const ovl_sdp_media_t *m, ovl_sdp_client_remote_t *out)
{
    for (size_t i = 0; i < m->n_candidates; i++) {
        const ovl_sdp_candidate_t *c = &m->candidates[i];
        if (c->component != 1)
            continue;
        if (c->proto == OVL_SDP_CAND_UDP && out->n_candidates < OVL_SDP_CLIENT_MAX_CANDS &&
            ovl_addr_parse(&out->candidates[out->n_candidates], c->address, c->port) == 0)
            out->n_candidates++;
        else if (c->proto == OVL_SDP_CAND_TCP && c->tcptype == OVL_SDP_TCPTYPE_PASSIVE &&
                 out->n_tcp_candidates < OVL_SDP_CLIENT_MAX_CANDS &&
                 ovl_addr_parse(&out->tcp_candidates[out->n_tcp_candidates], c->address, c->port) == 0)
            out->n_tcp_candidates++;
    }
}

int ovl_sdp_client_remote(const ovl_sdp_t *sdp, ovl_sdp_client_remote_t *out)
{
    const ovl_sdp_media_t *m;
    ovl_sdp_transport_t t;
    int ret = OVL_ERR_NOTFOUND;
    memset(out, 0, sizeof(*out));
    if (!sdp || !(m = tag_section(sdp)))
        goto Exit;
    ovl_sdp_media_transport(sdp, m, &t);
    ret = OVL_ERR_UNSUPPORTED;
    if (!t.ufrag[0] || !t.pwd[0] || t.setup == OVL_SDP_SETUP_ACTIVE)
        goto Exit;
    /* RFC 8122 §5: prefer sha-256; otherwise the first fingerprint whose hash we know. */
    for (int pass = 0; pass < 2 && out->fingerprint.hash == OVL_DTLS_HASH_NONE; pass++)
        for (size_t i = 0; i < t.n_fingerprints && out->fingerprint.hash == OVL_DTLS_HASH_NONE; i++) {
            if (pass == 0 && !ovl_sdp_ieq(t.fingerprints[i].hash, "sha-256"))
                continue;
            if (fingerprint_from_sdp(&t.fingerprints[i], &out->fingerprint) != 0)
                memset(&out->fingerprint, 0, sizeof(out->fingerprint));
        }
    if (out->fingerprint.hash == OVL_DTLS_HASH_NONE)
        goto Exit;
    memcpy(out->ice_ufrag, t.ufrag, sizeof(out->ice_ufrag));
    memcpy(out->ice_pwd, t.pwd, sizeof(out->ice_pwd));
    out->ice_lite = sdp->ice_lite;
    out->setup = t.setup;
    take_candidates(m, out);
    ret = 0;
Exit:
    if (ret != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}

/* The offered/answered main codec of a section: opus/48000/2 for audio, VP8/90000 for video. */
static const ovl_sdp_codec_t *main_codec(const ovl_sdp_media_t *m)
{
    for (size_t i = 0; i < m->n_codecs; i++) {
        const ovl_sdp_codec_t *c = &m->codecs[i];
        if (m->kind == OVL_SDP_KIND_AUDIO && ovl_sdp_ieq(c->name, "opus") && c->clock == 48000 && c->channels == 2)
            return c;
        if (m->kind == OVL_SDP_KIND_VIDEO && ovl_sdp_ieq(c->name, "VP8") && c->clock == 90000)
            return c;
    }
    return NULL;
}

/* The RTX codec whose apt is `pt` (RFC 4588 §8.6). */
static const ovl_sdp_codec_t *rtx_codec(const ovl_sdp_media_t *m, unsigned pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (ovl_sdp_ieq(m->codecs[i].name, "rtx") && m->codecs[i].apt == (int16_t)pt)
            return &m->codecs[i];
    return NULL;
}

static uint8_t ext_id(const ovl_sdp_media_t *m, const char *uri)
{
    for (size_t i = 0; i < m->n_extmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0 && m->extmaps[i].id >= 1 && m->extmaps[i].id <= 14)
            return (uint8_t)m->extmaps[i].id;
    return 0;
}

static bool has_fb(const ovl_sdp_media_t *m, const ovl_sdp_codec_t *c, const char *fb)
{
    for (size_t i = 0; i < c->n_fb; i++)
        if (strcmp(c->fb[i], fb) == 0)
            return true;
    for (size_t i = 0; i < m->n_fb_any; i++)
        if (strcmp(m->fb_any[i], fb) == 0)
            return true;
    return false;
}

/* True when the relay receives on this section of its description: it says recvonly (or sendrecv). */
static bool relay_receives(const ovl_sdp_t *sdp, const ovl_sdp_media_t *m)
{
    ovl_sdp_dir_t d = ovl_sdp_media_dir(sdp, m);
    return accepted(m) && (d == OVL_SDP_DIR_RECVONLY || d == OVL_SDP_DIR_SENDRECV);
}

int ovl_sdp_client_send_params(const ovl_sdp_t *sdp, ovl_sdp_client_send_t *out)
{
    const ovl_sdp_media_t *m;
    const ovl_sdp_codec_t *c, *rtx;
    memset(out, 0, sizeof(*out));
    if (!sdp)
        return OVL_ERR_ARG;
    m = ovl_sdp_find_mid(sdp, OVL_SDP_CLIENT_MID_AUDIO);
    if (m && m->kind == OVL_SDP_KIND_AUDIO && relay_receives(sdp, m) && (c = main_codec(m)) != NULL) {
        out->audio = true;
        out->audio_pt = c->pt;
        out->audio_level_id = ext_id(m, OVL_SDP_CLIENT_URI_LEVEL);
        out->audio_mid_id = ext_id(m, OVL_SDP_CLIENT_URI_MID);
    }
    m = ovl_sdp_find_mid(sdp, OVL_SDP_CLIENT_MID_VIDEO);
    if (m && m->kind == OVL_SDP_KIND_VIDEO && relay_receives(sdp, m) && (c = main_codec(m)) != NULL) {
        out->video = true;
        out->video_pt = c->pt;
        out->video_mid_id = ext_id(m, OVL_SDP_CLIENT_URI_MID);
        if ((rtx = rtx_codec(m, c->pt)) != NULL) {
            out->rtx = true;
            out->rtx_pt = rtx->pt;
        }
        out->nack = has_fb(m, c, "nack");
        out->pli = has_fb(m, c, "nack pli");
        out->fir = has_fb(m, c, "ccm fir");
    }
    return 0;
}

static bool own_mid(const char *mid)
{
    return strcmp(mid, OVL_SDP_CLIENT_MID_AUDIO) == 0 || strcmp(mid, OVL_SDP_CLIENT_MID_VIDEO) == 0;
}

/* The section's a=msid, else the msid of its first a=ssrc line that has one (RFC 5576 §4.1 legacy form). */
static bool track_msid(const ovl_sdp_media_t *m, ovl_sdp_client_track_t *t)
{
    if (m->n_msids) {
        memcpy(t->stream, m->msids[0].stream, sizeof(t->stream));
        memcpy(t->track, m->msids[0].track, sizeof(t->track));
        return true;
    }
    for (size_t i = 0; i < m->n_ssrcs; i++) {
        const char *v = m->ssrcs[i].value, *sp;
        if (strcmp(m->ssrcs[i].attr, "msid") != 0 || !v)
            continue;
        sp = strchr(v, ' ');
        size_t n = sp ? (size_t)(sp - v) : strlen(v);
        if (n == 0 || n >= sizeof(t->stream))
            continue;
        memcpy(t->stream, v, n);
        t->stream[n] = '\0';
        snprintf(t->track, sizeof(t->track), "%s", sp ? sp + 1 : "");
        return true;
    }
    return false;
}

static void track_ssrcs(const ovl_sdp_media_t *m, ovl_sdp_client_track_t *t)
{
    for (size_t g = 0; g < m->n_ssrc_groups; g++)
        if (strcmp(m->ssrc_groups[g].semantics, "FID") == 0 && m->ssrc_groups[g].n_ssrcs == 2) {
            t->ssrc = m->ssrc_groups[g].ssrcs[0];
            t->rtx_ssrc = m->ssrc_groups[g].ssrcs[1];
            return;
        }
    if (m->n_ssrcs)
        t->ssrc = m->ssrcs[0].ssrc;
}

int ovl_sdp_client_tracks(const ovl_sdp_t *offer, ovl_sdp_client_track_t *out, size_t cap, size_t *n)
{
    *n = 0;
    if (!offer)
        return OVL_ERR_ARG;
    for (size_t i = 0; i < offer->n_media; i++) {
        const ovl_sdp_media_t *m = &offer->media[i];
        const ovl_sdp_codec_t *c, *rtx;
        ovl_sdp_dir_t d = ovl_sdp_media_dir(offer, m);
        ovl_sdp_client_track_t t;
        if (!accepted(m) || own_mid(m->mid) || (d != OVL_SDP_DIR_SENDONLY && d != OVL_SDP_DIR_SENDRECV) ||
            !(c = main_codec(m)))
            continue;
        memset(&t, 0, sizeof(t));
        memcpy(t.mid, m->mid, sizeof(t.mid));
        t.kind = m->kind;
        track_ssrcs(m, &t);
        if (!t.ssrc || !track_msid(m, &t))
            continue;
        t.pt = c->pt;
        t.clock = c->clock;
        if ((rtx = rtx_codec(m, c->pt)) != NULL) {
            t.has_rtx = true;
            t.rtx_pt = rtx->pt;
        }
        t.mid_id = ext_id(m, OVL_SDP_CLIENT_URI_MID);
        t.level_id = ext_id(m, OVL_SDP_CLIENT_URI_LEVEL);
        if (*n == cap)
            return OVL_ERR_LIMIT;
        out[(*n)++] = t;
    }
    return 0;
}

/* ---- the client's answer to a relay offer ---- */

static int reject(ovl_sdp_media_t *am, const ovl_sdp_media_t *om)
{
    ovl_sdp_codec_t *c;
    am->port = 0;
    strcpy(am->conn_type, "IP4");
    strcpy(am->conn_addr, "0.0.0.0");
    if (om->fmt)
        return ovl_sdp_strndup(&am->fmt, om->fmt, strlen(om->fmt));
    return om->n_codecs ? ovl_sdp_add_codec(am, om->codecs[0].pt, &c) : 0;
}

static ovl_sdp_dir_t answer_dir(ovl_sdp_dir_t offered, bool ours)
{
    switch (offered) {
    case OVL_SDP_DIR_SENDONLY:
        return OVL_SDP_DIR_RECVONLY;
    case OVL_SDP_DIR_RECVONLY:
        return ours ? OVL_SDP_DIR_SENDONLY : OVL_SDP_DIR_INACTIVE;
    case OVL_SDP_DIR_SENDRECV:
    case OVL_SDP_DIR_NONE:
        return ours ? OVL_SDP_DIR_SENDRECV : OVL_SDP_DIR_RECVONLY;
    default:
        return OVL_SDP_DIR_INACTIVE;
    }
}

static int answer_codecs(ovl_sdp_media_t *am, const ovl_sdp_media_t *om, const ovl_sdp_codec_t *oc)
{
    const ovl_sdp_codec_t *orx;
    ovl_sdp_codec_t *c;
    int ret;
    if ((ret = add_codec(am, oc->pt, oc->name, oc->clock, oc->channels,
                         om->kind == OVL_SDP_KIND_AUDIO ? OPUS_FMTP : NULL, &c)) != 0)
        return ret;
    if (om->kind != OVL_SDP_KIND_VIDEO)
        return 0;
    for (size_t i = 0; video_fb[i]; i++)
        if (has_fb(om, oc, video_fb[i]))
            snprintf(c->fb[c->n_fb++], OVL_SDP_FB_LEN, "%s", video_fb[i]);
    if ((orx = rtx_codec(om, oc->pt)) != NULL) {
        if ((ret = add_codec(am, orx->pt, orx->name, orx->clock, 0, NULL, &c)) != 0)
            return ret;
        c->apt = orx->apt;
    }
    return 0;
}

static int answer_exts(ovl_sdp_media_t *am, const ovl_sdp_media_t *om)
{
    const char *const *known = om->kind == OVL_SDP_KIND_AUDIO ? audio_exts : video_exts;
    int ret;
    for (size_t i = 0; i < om->n_extmaps; i++)
        if (om->extmaps[i].id >= 1 && om->extmaps[i].id <= 14 && in_list(known, om->extmaps[i].uri) &&
            (ret = add_ext(am, om->extmaps[i].id, om->extmaps[i].uri)) != 0)
            return ret;
    return 0;
}

static int answer_section(ovl_sdp_media_t *am, const ovl_sdp_t *offer, const ovl_sdp_media_t *om,
                          const ovl_sdp_client_local_t *l, bool *ok)
{
    const ovl_sdp_codec_t *oc = accepted(om) ? main_codec(om) : NULL;
    bool audio_ours = strcmp(om->mid, OVL_SDP_CLIENT_MID_AUDIO) == 0 && om->kind == OVL_SDP_KIND_AUDIO;
    bool video_ours = strcmp(om->mid, OVL_SDP_CLIENT_MID_VIDEO) == 0 && om->kind == OVL_SDP_KIND_VIDEO;
    bool ours = (audio_ours && l->audio_ssrc) || (video_ours && l->video_ssrc);
    int ret;
    am->kind = om->kind;
    memcpy(am->media, om->media, sizeof(am->media));
    memcpy(am->proto, om->proto, sizeof(am->proto));
    memcpy(am->mid, om->mid, sizeof(am->mid));
    *ok = oc != NULL && om->mid[0] && om->rtcp_mux;
    if (!*ok)
        return reject(am, om);
    put_transport(am, l, OVL_SDP_SETUP_ACTIVE);
    am->rtcp_rsize = om->rtcp_rsize;
    am->dir = answer_dir(ovl_sdp_media_dir(offer, om), ours);
    if ((ret = answer_exts(am, om)) != 0 || (ret = answer_codecs(am, om, oc)) != 0)
        return ret;
    if (ours && (am->dir == OVL_SDP_DIR_SENDONLY || am->dir == OVL_SDP_DIR_SENDRECV))
        return audio_ours ? put_streams(am, l, "audio", l->audio_ssrc, 0)
                          : put_streams(am, l, "camera", l->video_ssrc, l->video_rtx_ssrc);
    return 0;
}

static void answer_group(ovl_sdp_t *ans, const ovl_sdp_t *offer)
{
    const ovl_sdp_group_t *bundle = ovl_sdp_bundle(offer);
    ovl_sdp_group_t *g = &ans->groups[ans->n_groups++];
    strcpy(g->semantics, "BUNDLE");
    /* RFC 8843 §7.3: the answerer's group lists the accepted mids, in the offer's group order. */
    for (size_t i = 0; bundle && i < bundle->n_mids; i++) {
        const ovl_sdp_media_t *am = ovl_sdp_find_mid(ans, bundle->mids[i]);
        if (am && !ovl_sdp_media_rejected(am))
            memcpy(g->mids[g->n_mids++], am->mid, OVL_SDP_TOKEN_LEN);
    }
    if (!bundle)
        for (size_t i = 0; i < ans->n_media; i++)
            if (!ovl_sdp_media_rejected(&ans->media[i]))
                memcpy(g->mids[g->n_mids++], ans->media[i].mid, OVL_SDP_TOKEN_LEN);
}

int ovl_sdp_client_answer(const ovl_sdp_t *offer, const ovl_sdp_client_local_t *l, ovl_sdp_t **out)
{
    ovl_sdp_t *ans = NULL;
    bool any = false;
    int ret = OVL_ERR_ARG;
    *out = NULL;
    if (!offer || !local_ok(l))
        goto Exit;
    if ((ret = ovl_sdp_new(&ans)) != 0)
        goto Exit;
    ans->sess_id = l->session_id;
    ans->sess_version = l->session_version;
    strcpy(ans->origin_addr, "127.0.0.1");
    for (size_t i = 0; i < offer->n_media; i++) {
        ovl_sdp_media_t *am;
        bool ok;
        if ((ret = ovl_sdp_add_media(ans, &am)) != 0 || (ret = answer_section(am, offer, &offer->media[i], l, &ok)))
            goto Exit;
        any = any || ok;
    }
    ret = OVL_ERR_UNSUPPORTED;
    if (!any)
        goto Exit;
    answer_group(ans, offer);
    *out = ans;
    ans = NULL;
    ret = 0;
Exit:
    ovl_sdp_free(ans);
    return ret;
}

int ovl_sdp_client_text(const ovl_sdp_t *sdp, char **text, size_t *len)
{
    int ret = OVL_ERR_LIMIT;
    *text = NULL;
    *len = 0;
    for (size_t cap = 8192; cap <= 4 * OVL_SDP_MAX_SIZE && ret == OVL_ERR_LIMIT; cap *= 2) {
        uint8_t *buf = malloc(cap + 1);
        ovl_wbuf_t w;
        if (!buf)
            return OVL_ERR_NOMEM;
        ovl_wbuf_init(&w, buf, cap);
        if ((ret = ovl_sdp_write(sdp, &w)) != 0) {
            free(buf);
            continue;
        }
        buf[w.len] = '\0';
        *text = (char *)buf;
        *len = w.len;
    }
    return ret;
}
