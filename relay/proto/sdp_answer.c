/*
 * The relay's answer to a client's offer (RFC 3264 §6, RFC 9429 §5.3.1, BUNDLE RFC 8843 §7.3).
 *
 * The relay is ICE-lite (RFC 8445 §2.5) and the DTLS server (setup:passive, RFC 8842 §5.1); it receives each
 * client's audio (Opus) and video (VP8 + RTX) on the client's own sections and sends other participants' media on
 * sections it adds in its later offers (sdp_offer.c). See ovl_sdp_answer_build in sdp.h for the rules.
 */
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

const char *const ovl_sdp_default_extmaps[] = {
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",                               /* RFC 6464: active speaker */
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",                /* REMB bandwidth estimation */
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01", /* transport-cc */
    "urn:ietf:params:rtp-hdrext:sdes:mid",                                       /* RFC 8843 §15.2: BUNDLE demux */
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",                             /* RFC 8852: simulcast rid */
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",                    /* RFC 8852: rid of RTX */
    NULL,
};

/* rtcp-fb values the relay handles (RFC 4585 nack/pli, RFC 5104 fir, REMB and transport-cc drafts). */
static const char *const audio_fb[] = {"transport-cc", "nack", NULL};
static const char *const video_fb[] = {"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

static bool ice_str_ok(const char *s, size_t min)
{
    size_t n = s ? strlen(s) : 0;
    return n >= min && n <= 256 && ovl_sdp_all(s, n, ovl_sdp_is_ice_char);
}

static bool local_ok(const ovl_sdp_local_t *l)
{
    if (!ice_str_ok(l->ice_ufrag, 4) || !ice_str_ok(l->ice_pwd, 22))
        return false;
    if (l->n_candidates > OVL_SDP_MAX_CANDIDATES || (l->n_candidates && !l->candidates))
        return false;
    if (l->extmap_uris)
        for (size_t i = 0; i < l->n_extmap_uris; i++)
            if (!l->extmap_uris[i] || strlen(l->extmap_uris[i]) >= sizeof(((ovl_sdp_extmap_t *)0)->uri))
                return false;
    return true;
}

static bool extmap_supported(const ovl_sdp_local_t *l, const char *uri)
{
    if (!l->extmap_uris)
        return in_list(ovl_sdp_default_extmaps, uri);
    for (size_t i = 0; i < l->n_extmap_uris; i++)
        if (strcmp(l->extmap_uris[i], uri) == 0)
            return true;
    return false;
}

/* The offered codec the relay takes for this kind: opus/48000/2 or VP8/90000 (names are case-insensitive). */
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

static const ovl_sdp_codec_t *rtx_for(const ovl_sdp_media_t *m, unsigned pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (ovl_sdp_ieq(m->codecs[i].name, "rtx") && m->codecs[i].apt == (int)pt && m->codecs[i].clock == 90000)
            return &m->codecs[i];
    return NULL;
}

static bool proto_ok(const char *proto)
{
    return strcmp(proto, "UDP/TLS/RTP/SAVPF") == 0 || strcmp(proto, "TCP/DTLS/RTP/SAVPF") == 0 ||
           strcmp(proto, "RTP/SAVPF") == 0;
}

static bool in_group(const ovl_sdp_group_t *g, const char *mid)
{
    for (size_t i = 0; i < g->n_mids; i++)
        if (strcmp(g->mids[i], mid) == 0)
            return true;
    return false;
}

/* Whether the relay can take this offered section at all (transport checks come later). */
static bool acceptable(const ovl_sdp_media_t *om, const ovl_sdp_group_t *bundle)
{
    if (ovl_sdp_media_rejected(om) || !om->mid[0] || !om->rtcp_mux || !proto_ok(om->proto))
        return false;
    if (om->kind != OVL_SDP_KIND_AUDIO && om->kind != OVL_SDP_KIND_VIDEO)
        return false;
    if (bundle && !in_group(bundle, om->mid))
        return false;
    return main_codec(om) != NULL;
}

/* The DTLS and ICE parameters the client must have given for the section the relay accepts. */
static int check_remote_transport(const ovl_sdp_t *offer, const ovl_sdp_media_t *om)
{
    ovl_sdp_transport_t t;
    ovl_sdp_media_transport(offer, om, &t);
    if (!t.ufrag[0] || !t.pwd[0] || t.n_fingerprints == 0)
        return OVL_ERR_UNSUPPORTED;
    /* RFC 8842 §5.1: the relay is always the DTLS server, so the client must be able to be the client. */
    if (t.setup == OVL_SDP_SETUP_PASSIVE || t.setup == OVL_SDP_SETUP_HOLDCONN)
        return OVL_ERR_UNSUPPORTED;
    return 0;
}

static void copy_fb(char (*dst)[OVL_SDP_FB_LEN], size_t *n_dst, const char (*src)[OVL_SDP_FB_LEN], size_t n,
                    const char *const *supported)
{
    for (size_t i = 0; i < n && *n_dst < OVL_SDP_MAX_FB; i++)
        if (in_list(supported, src[i]))
            memcpy(dst[(*n_dst)++], src[i], OVL_SDP_FB_LEN);
}

static int answer_codecs(ovl_sdp_media_t *am, const ovl_sdp_media_t *om, const ovl_sdp_local_t *local)
{
    const ovl_sdp_codec_t *oc = main_codec(om), *rtx;
    const char *const *fb = om->kind == OVL_SDP_KIND_AUDIO ? audio_fb : video_fb;
    ovl_sdp_codec_t *c;
    int ret;
    if ((ret = ovl_sdp_add_codec(am, oc->pt, &c)) != 0)
        return ret;
    memcpy(c->name, oc->name, sizeof(c->name));
    c->clock = oc->clock;
    c->channels = oc->channels;
    copy_fb(c->fb, &c->n_fb, oc->fb, oc->n_fb, fb);
    if (om->kind == OVL_SDP_KIND_AUDIO) {
        /* RFC 7587 §6.1: 10 ms packets allowed, in-band FEC wanted, DTX when the operator asks for it. */
        const char *fmtp = local->opus_dtx ? "minptime=10;useinbandfec=1;usedtx=1" : "minptime=10;useinbandfec=1";
        if ((ret = ovl_sdp_strndup(&c->fmtp, fmtp, strlen(fmtp))) != 0)
            return ret;
    } else if ((rtx = rtx_for(om, oc->pt)) != NULL) {
        /* RFC 4588 §8.6: RTX keeps the offered payload type and its apt. */
        if ((ret = ovl_sdp_add_codec(am, rtx->pt, &c)) != 0)
            return ret;
        memcpy(c->name, rtx->name, sizeof(c->name));
        c->clock = rtx->clock;
        c->apt = rtx->apt;
    }
    copy_fb(am->fb_any, &am->n_fb_any, om->fb_any, om->n_fb_any, fb);
    return 0;
}

static ovl_sdp_dir_t answer_dir(ovl_sdp_dir_t offered)
{
    /* RFC 3264 §6.1: the relay receives what the client sends; it sends nothing on the client's sections. */
    return offered == OVL_SDP_DIR_SENDRECV || offered == OVL_SDP_DIR_SENDONLY ? OVL_SDP_DIR_RECVONLY
                                                                              : OVL_SDP_DIR_INACTIVE;
}

static ovl_sdp_dir_t mirror(ovl_sdp_dir_t d)
{
    return d == OVL_SDP_DIR_SENDONLY ? OVL_SDP_DIR_RECVONLY : d == OVL_SDP_DIR_RECVONLY ? OVL_SDP_DIR_SENDONLY : d;
}

/* RFC 8851 §4 / RFC 8853 §5.3: rids the client sends become rids the relay receives. */
static void answer_simulcast(ovl_sdp_media_t *am, const ovl_sdp_media_t *om)
{
    for (size_t i = 0; i < om->n_rids; i++) {
        if (!om->rids[i].send)
            continue;
        ovl_sdp_rid_t *r = &am->rids[am->n_rids++];
        memcpy(r->id, om->rids[i].id, sizeof(r->id));
        r->send = false;
    }
    if (am->simulcast) {
        am->simulcast->recv = om->simulcast->send;
        am->simulcast->recv_first = true;
    }
}

static int accept_section(ovl_sdp_media_t *am, const ovl_sdp_t *offer, const ovl_sdp_media_t *om,
                          const ovl_sdp_local_t *local, bool tag)
{
    int ret;
    am->port = 9; /* RFC 9429 §5.3.1: the candidates carry the addresses */
    strcpy(am->conn_type, "IP4");
    strcpy(am->conn_addr, "0.0.0.0");
    memcpy(am->ice.ufrag, local->ice_ufrag, strlen(local->ice_ufrag) + 1);
    memcpy(am->ice.pwd, local->ice_pwd, strlen(local->ice_pwd) + 1);
    strcpy(am->ice.fingerprints[0].hash, "sha-256");
    memcpy(am->ice.fingerprints[0].bytes, local->fingerprint_sha256, 32);
    am->ice.fingerprints[0].len = 32;
    am->ice.n_fingerprints = 1;
    am->ice.setup = OVL_SDP_SETUP_PASSIVE;
    am->dir = answer_dir(ovl_sdp_media_dir(offer, om));
    am->rtcp_mux = true;
    am->rtcp_rsize = om->rtcp_rsize;
    for (size_t i = 0; i < om->n_extmaps; i++) {
        const ovl_sdp_extmap_t *e = &om->extmaps[i];
        if (e->id > 255 || !extmap_supported(local, e->uri))
            continue;
        ovl_sdp_extmap_t x = *e;
        x.dir = mirror(e->dir);
        x.attrs = NULL;
        if ((ret = ovl_sdp_add_extmap(am, &x)) != 0)
            return ret;
    }
    if ((ret = answer_codecs(am, om, local)) != 0)
        return ret;
    if (am->dir == OVL_SDP_DIR_RECVONLY) {
        if (om->simulcast && om->simulcast->send.n_streams && !(am->simulcast = calloc(1, sizeof(*am->simulcast))))
            return OVL_ERR_NOMEM;
        answer_simulcast(am, om);
    }
    if (tag) {
        for (size_t i = 0; i < local->n_candidates; i++)
            if ((ret = ovl_sdp_add_candidate(am, &local->candidates[i])) != 0)
                return ret;
        am->end_of_candidates = true;
    }
    return 0;
}

/* RFC 3264 §6: a rejected stream keeps its m= line with port 0; JSEP keeps the mid and one offered format. */
static int reject_section(ovl_sdp_media_t *am, const ovl_sdp_media_t *om)
{
    ovl_sdp_codec_t *c;
    am->port = 0;
    strcpy(am->conn_type, "IP4");
    strcpy(am->conn_addr, "0.0.0.0");
    if (om->fmt)
        return ovl_sdp_strndup(&am->fmt, om->fmt, strlen(om->fmt));
    return om->n_codecs ? ovl_sdp_add_codec(am, om->codecs[0].pt, &c) : 0;
}

static int build_sections(ovl_sdp_t *ans, const ovl_sdp_t *offer, const ovl_sdp_local_t *local)
{
    const ovl_sdp_group_t *bundle = ovl_sdp_bundle(offer);
    const char *tag_mid = NULL;
    int ret;
    /* The BUNDLE tag is the first accepted mid in the offer's group order (RFC 8843 §7.3.1). */
    if (bundle) {
        for (size_t g = 0; g < bundle->n_mids && !tag_mid; g++) {
            const ovl_sdp_media_t *om = ovl_sdp_find_mid(offer, bundle->mids[g]);
            if (om && acceptable(om, bundle))
                tag_mid = om->mid;
        }
    }
    bool taken = false;
    for (size_t i = 0; i < offer->n_media; i++) {
        const ovl_sdp_media_t *om = &offer->media[i];
        ovl_sdp_media_t *am;
        bool ok = acceptable(om, bundle) && (bundle || !taken);
        if ((ret = ovl_sdp_add_media(ans, &am)) != 0)
            return ret;
        am->kind = om->kind;
        memcpy(am->media, om->media, sizeof(am->media));
        memcpy(am->proto, om->proto, sizeof(am->proto));
        memcpy(am->mid, om->mid, sizeof(am->mid));
        if (ok && (ret = check_remote_transport(offer, om)) != 0)
            return ret;
        bool tag = bundle ? tag_mid && strcmp(tag_mid, om->mid) == 0 : !taken && ok;
        ret = ok ? accept_section(am, offer, om, local, tag) : reject_section(am, om);
        if (ret != 0)
            return ret;
        taken = taken || ok;
    }
    return 0;
}

static void build_group(ovl_sdp_t *ans, const ovl_sdp_t *offer)
{
    const ovl_sdp_group_t *bundle = ovl_sdp_bundle(offer);
    if (!bundle)
        return;
    ovl_sdp_group_t *g = &ans->groups[ans->n_groups++];
    strcpy(g->semantics, "BUNDLE");
    for (size_t i = 0; i < bundle->n_mids; i++) {
        const ovl_sdp_media_t *am = ovl_sdp_find_mid(ans, bundle->mids[i]);
        if (am && !ovl_sdp_media_rejected(am) && g->n_mids < OVL_SDP_MAX_MEDIA)
            memcpy(g->mids[g->n_mids++], am->mid, OVL_SDP_TOKEN_LEN);
    }
}

int ovl_sdp_answer_build(const ovl_sdp_t *offer, const ovl_sdp_local_t *local, ovl_sdp_t **answer_out)
{
    ovl_sdp_t *ans = NULL;
    int ret;
    *answer_out = NULL;
    if (!offer || !local || !local_ok(local)) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if (offer->ice_lite) { /* RFC 8445 §2.5: two lite agents cannot complete ICE */
        ret = OVL_ERR_UNSUPPORTED;
        goto Exit;
    }
    if ((ret = ovl_sdp_new(&ans)) != 0)
        goto Exit;
    ans->sess_id = local->session_id;
    ans->sess_version = local->session_version;
    ans->ice_lite = true;
    if ((ret = build_sections(ans, offer, local)) != 0)
        goto Exit;
    build_group(ans, offer);
    *answer_out = ans;
    ans = NULL;
Exit:
    ovl_sdp_free(ans);
    return ret;
}
