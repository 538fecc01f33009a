/*
 * SDP writer: the model as text with CRLF line endings, in RFC 8866 §5 line order and, within a level, the
 * attribute order Chromium writes (what Chromium and Firefox accept; every line's grammar is in sdp_attr.c).
 *
 *   session: v= o= s= [c=] *b= t= [i= u= e= p= r= z= k= as read] then group, extmap-allow-mixed,
 *            msid-semantic, ice-lite, ICE/DTLS, direction, other attributes
 *   section: m= [c=] *b= [i= k= as read] then ICE/DTLS, mid, bundle-only, extmap-allow-mixed, extmaps, direction,
 *            msid, rtcp-mux, rtcp-rsize, per codec (rtpmap, rtcp-fb, fmtp), rtcp-fb:*, ssrc-group, ssrc, rid,
 *            simulcast, candidates, end-of-candidates, other attributes
 *
 * The rarely used i= u= e= p= r= z= k= lines are written together in the order read, so a round trip keeps their
 * order (RFC 8866 wants i= u= e= p= before t=; WebRTC endpoints never send them).
 *
 * Text the parser would not read back (a line break or control character anywhere, a space inside a token, an
 * empty mandatory field, an out-of-range enum) fails with OVL_ERR_ARG, so a hand-built model cannot inject lines.
 */
#include <stdio.h>
#include <string.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

int ovl_sdp_put_str(ovl_wbuf_t *out, const char *s)
{
    return ovl_put_bytes(out, s, strlen(s));
}

int ovl_sdp_put_num(ovl_wbuf_t *out, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    return ovl_put_bytes(out, buf, (size_t)n);
}

static bool text_ok(const char *s, bool allow_space)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f || (!allow_space && c == ' '))
            return false;
    }
    return true;
}

int ovl_sdp_put_field(ovl_wbuf_t *out, const char *s)
{
    if (!s || !s[0] || !text_ok(s, false))
        return OVL_ERR_ARG;
    return ovl_sdp_put_str(out, s);
}

int ovl_sdp_put_text(ovl_wbuf_t *out, const char *s)
{
    if (!s || !text_ok(s, true))
        return OVL_ERR_ARG;
    return ovl_sdp_put_str(out, s);
}

/* A writer with a sticky error: after the first failure every call does nothing. */
typedef struct writer {
    ovl_wbuf_t *out;
    int err;
} writer_t;

static void s_(writer_t *w, const char *s)
{
    if (!w->err)
        w->err = ovl_sdp_put_str(w->out, s);
}

static void f_(writer_t *w, const char *s)
{
    if (!w->err)
        w->err = ovl_sdp_put_field(w->out, s);
}

static void t_(writer_t *w, const char *s)
{
    if (!w->err)
        w->err = ovl_sdp_put_text(w->out, s);
}

static void n_(writer_t *w, uint64_t v)
{
    if (!w->err)
        w->err = ovl_sdp_put_num(w->out, v);
}

static void bad(writer_t *w)
{
    if (!w->err)
        w->err = OVL_ERR_ARG;
}

/* Space-separated text that must not be empty nor start with a space (rtcp-fb values). */
static void words(writer_t *w, const char *s)
{
    if (!s || !s[0] || s[0] == ' ')
        bad(w);
    t_(w, s ? s : "");
}

/* An attribute name: token characters only (RFC 8866 §9). */
static void name_(writer_t *w, const char *s)
{
    if (!s || !ovl_sdp_all(s, strlen(s), ovl_sdp_is_token_char))
        bad(w);
    s_(w, s ? s : "");
}

/* i= u= e= p= r= z= k= lines, in the order they were read (one place per level keeps that order). */
static void other_lines(writer_t *w, const ovl_sdp_line_t *lines, size_t n)
{
    for (size_t i = 0; i < n && i < OVL_SDP_MAX_LINES; i++) {
        if (!lines[i].type || !strchr("iueprzk", lines[i].type))
            bad(w);
        char head[3] = {lines[i].type, '=', '\0'};
        s_(w, head);
        t_(w, lines[i].value);
        s_(w, "\r\n");
    }
}

static void conn_bw(writer_t *w, const char *type, const char *addr, const ovl_sdp_bw_t *bw, size_t n_bw)
{
    if (type[0]) {
        if (strcmp(type, "IP4") != 0 && strcmp(type, "IP6") != 0)
            bad(w);
        s_(w, "c=IN "), s_(w, type), s_(w, " "), f_(w, addr), s_(w, "\r\n");
    }
    for (size_t i = 0; i < n_bw; i++) {
        if (!bw[i].type[0] || !text_ok(bw[i].type, false) || strchr(bw[i].type, ':'))
            bad(w);
        s_(w, "b="), s_(w, bw[i].type), s_(w, ":"), n_(w, bw[i].value), s_(w, "\r\n");
    }
}

static void transport(writer_t *w, const ovl_sdp_transport_t *t)
{
    static const char *const roles[] = {"", "actpass", "active", "passive", "holdconn"};
    if (t->ufrag[0])
        s_(w, "a=ice-ufrag:"), f_(w, t->ufrag), s_(w, "\r\n");
    if (t->pwd[0])
        s_(w, "a=ice-pwd:"), f_(w, t->pwd), s_(w, "\r\n");
    if (t->options[0])
        s_(w, "a=ice-options:"), t_(w, t->options), s_(w, "\r\n");
    for (size_t i = 0; i < t->n_fingerprints && i < OVL_SDP_MAX_FINGERPRINTS; i++) {
        const ovl_sdp_fingerprint_t *fp = &t->fingerprints[i];
        char hex[3 * sizeof(fp->bytes)];
        if (fp->len == 0 || fp->len > sizeof(fp->bytes))
            bad(w);
        for (size_t k = 0; k < fp->len && k < sizeof(fp->bytes); k++)
            snprintf(hex + 3 * k, 4, k + 1 < fp->len ? "%02X:" : "%02X", fp->bytes[k]);
        s_(w, "a=fingerprint:"), f_(w, fp->hash), s_(w, " "), s_(w, fp->len ? hex : ""), s_(w, "\r\n");
    }
    if ((unsigned)t->setup >= OVL_ARRAY_LEN(roles))
        bad(w);
    else if (t->setup != OVL_SDP_SETUP_NONE)
        s_(w, "a=setup:"), s_(w, roles[t->setup]), s_(w, "\r\n");
}

static void direction(writer_t *w, ovl_sdp_dir_t dir)
{
    if ((unsigned)dir > OVL_SDP_DIR_INACTIVE)
        bad(w);
    else if (dir != OVL_SDP_DIR_NONE)
        s_(w, "a="), s_(w, ovl_sdp_dir_name(dir)), s_(w, "\r\n");
}

static void attrs(writer_t *w, const ovl_sdp_attr_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s_(w, "a="), name_(w, a[i].name);
        if (a[i].value)
            s_(w, ":"), t_(w, a[i].value);
        s_(w, "\r\n");
    }
}

static void codec(writer_t *w, const ovl_sdp_codec_t *c)
{
    if (c->name[0]) {
        s_(w, "a=rtpmap:"), n_(w, c->pt), s_(w, " "), f_(w, c->name), s_(w, "/"), n_(w, c->clock);
        if (c->channels)
            s_(w, "/"), n_(w, c->channels);
        s_(w, "\r\n");
    }
    for (size_t i = 0; i < c->n_fb && i < OVL_SDP_MAX_FB; i++)
        s_(w, "a=rtcp-fb:"), n_(w, c->pt), s_(w, " "), words(w, c->fb[i]), s_(w, "\r\n");
    bool has_fmtp = c->fmtp && c->fmtp[0];
    if (c->apt >= 0 || has_fmtp) {
        s_(w, "a=fmtp:"), n_(w, c->pt), s_(w, " ");
        if (c->apt > 127)
            bad(w);
        if (c->apt >= 0)
            s_(w, "apt="), n_(w, (uint64_t)c->apt), s_(w, has_fmtp ? ";" : "");
        if (has_fmtp)
            t_(w, c->fmtp);
        s_(w, "\r\n");
    }
}

static void sim_list(writer_t *w, const char *dir, const ovl_sdp_sim_list_t *l)
{
    s_(w, dir);
    if (l->n_streams > OVL_SDP_MAX_SIM_STREAMS)
        bad(w);
    for (size_t i = 0; i < l->n_streams && i < OVL_SDP_MAX_SIM_STREAMS; i++) {
        const ovl_sdp_sim_stream_t *st = &l->streams[i];
        if (st->n_alts == 0 || st->n_alts > OVL_SDP_MAX_SIM_ALTS)
            bad(w);
        for (size_t k = 0; k < st->n_alts && k < OVL_SDP_MAX_SIM_ALTS; k++)
            s_(w, k ? "," : i ? ";" : ""), s_(w, st->alts[k].paused ? "~" : ""), f_(w, st->alts[k].rid);
    }
}

static void simulcast(writer_t *w, const ovl_sdp_simulcast_t *sc)
{
    const ovl_sdp_sim_list_t *first = sc->recv_first ? &sc->recv : &sc->send;
    const ovl_sdp_sim_list_t *second = sc->recv_first ? &sc->send : &sc->recv;
    if (!first->n_streams)
        bad(w);
    s_(w, "a=simulcast:");
    sim_list(w, sc->recv_first ? "recv " : "send ", first);
    if (second->n_streams)
        sim_list(w, sc->recv_first ? " send " : " recv ", second);
    s_(w, "\r\n");
}

static void streams(writer_t *w, const ovl_sdp_media_t *m)
{
    for (size_t i = 0; i < m->n_ssrc_groups && i < OVL_SDP_MAX_SSRC_GROUPS; i++) {
        const ovl_sdp_ssrc_group_t *g = &m->ssrc_groups[i];
        if (g->n_ssrcs == 0 || g->n_ssrcs > OVL_SDP_MAX_GROUP_SSRCS)
            bad(w);
        s_(w, "a=ssrc-group:"), f_(w, g->semantics);
        for (size_t k = 0; k < g->n_ssrcs && k < OVL_SDP_MAX_GROUP_SSRCS; k++)
            s_(w, " "), n_(w, g->ssrcs[k]);
        s_(w, "\r\n");
    }
    for (size_t i = 0; i < m->n_ssrcs; i++) {
        const ovl_sdp_ssrc_t *s = &m->ssrcs[i];
        s_(w, "a=ssrc:"), n_(w, s->ssrc), s_(w, " "), f_(w, s->attr);
        if (strchr(s->attr, ':'))
            bad(w);
        if (s->value)
            s_(w, ":"), t_(w, s->value);
        s_(w, "\r\n");
    }
    for (size_t i = 0; i < m->n_rids && i < OVL_SDP_MAX_RIDS; i++) {
        const ovl_sdp_rid_t *r = &m->rids[i];
        s_(w, "a=rid:"), f_(w, r->id), s_(w, r->send ? " send" : " recv");
        if (r->params && r->params[0])
            s_(w, " "), t_(w, r->params);
        s_(w, "\r\n");
    }
    if (m->simulcast)
        simulcast(w, m->simulcast);
}

static void media_line(writer_t *w, const ovl_sdp_media_t *m)
{
    static const char *const kinds[] = {"audio", "video", "application"};
    const char *media = m->media[0] ? m->media : (unsigned)m->kind < OVL_ARRAY_LEN(kinds) ? kinds[m->kind] : "";
    s_(w, "m="), f_(w, media), s_(w, " "), n_(w, m->port), s_(w, " "), f_(w, m->proto);
    if (strstr(m->proto, "RTP/")) {
        if (m->n_codecs == 0)
            bad(w);
        for (size_t i = 0; i < m->n_codecs; i++)
            s_(w, " "), n_(w, m->codecs[i].pt);
    } else {
        if (!m->fmt || !m->fmt[0] || m->fmt[0] == ' ')
            bad(w);
        s_(w, " "), t_(w, m->fmt ? m->fmt : "");
    }
    s_(w, "\r\n");
}

static void media(writer_t *w, const ovl_sdp_media_t *m)
{
    media_line(w, m);
    conn_bw(w, m->conn_type, m->conn_addr, m->bw, m->n_bw);
    other_lines(w, m->lines, m->n_lines);
    transport(w, &m->ice);
    if (m->mid[0])
        s_(w, "a=mid:"), f_(w, m->mid), s_(w, "\r\n");
    if (m->bundle_only)
        s_(w, "a=bundle-only\r\n");
    if (m->extmap_allow_mixed)
        s_(w, "a=extmap-allow-mixed\r\n");
    for (size_t i = 0; i < m->n_extmaps; i++) {
        const ovl_sdp_extmap_t *e = &m->extmaps[i];
        if (e->id == 0 || (e->id > 255 && e->id < 4096) || e->id > 4351)
            bad(w);
        s_(w, "a=extmap:"), n_(w, e->id);
        if (e->dir != OVL_SDP_DIR_NONE)
            s_(w, "/"), s_(w, ovl_sdp_dir_name(e->dir));
        s_(w, " "), f_(w, e->uri);
        if (e->attrs && e->attrs[0])
            s_(w, " "), t_(w, e->attrs);
        s_(w, "\r\n");
    }
    direction(w, m->dir);
    for (size_t i = 0; i < m->n_msids && i < OVL_SDP_MAX_MSIDS; i++) {
        s_(w, "a=msid:"), f_(w, m->msids[i].stream);
        if (m->msids[i].track[0])
            s_(w, " "), f_(w, m->msids[i].track);
        s_(w, "\r\n");
    }
    if (m->rtcp_mux)
        s_(w, "a=rtcp-mux\r\n");
    if (m->rtcp_rsize)
        s_(w, "a=rtcp-rsize\r\n");
    for (size_t i = 0; i < m->n_codecs; i++)
        codec(w, &m->codecs[i]);
    for (size_t i = 0; i < m->n_fb_any && i < OVL_SDP_MAX_FB; i++)
        s_(w, "a=rtcp-fb:* "), words(w, m->fb_any[i]), s_(w, "\r\n");
    streams(w, m);
    for (size_t i = 0; i < m->n_candidates; i++) {
        s_(w, "a=candidate:");
        if (!w->err)
            w->err = ovl_sdp_candidate_write(&m->candidates[i], w->out);
        s_(w, "\r\n");
    }
    if (m->end_of_candidates)
        s_(w, "a=end-of-candidates\r\n");
    attrs(w, m->attrs, m->n_attrs);
}

static void session(writer_t *w, const ovl_sdp_t *sdp)
{
    s_(w, "v=0\r\no="), f_(w, sdp->origin_user), s_(w, " "), n_(w, sdp->sess_id), s_(w, " "), n_(w, sdp->sess_version);
    if (strcmp(sdp->origin_type, "IP4") != 0 && strcmp(sdp->origin_type, "IP6") != 0)
        bad(w);
    s_(w, " IN "), s_(w, sdp->origin_type), s_(w, " "), f_(w, sdp->origin_addr), s_(w, "\r\n");
    s_(w, "s="), t_(w, sdp->name ? sdp->name : "-"), s_(w, "\r\n");
    conn_bw(w, sdp->conn_type, sdp->conn_addr, sdp->bw, sdp->n_bw);
    s_(w, "t="), n_(w, sdp->t_start), s_(w, " "), n_(w, sdp->t_stop), s_(w, "\r\n");
    other_lines(w, sdp->lines, sdp->n_lines);
    for (size_t i = 0; i < sdp->n_groups && i < OVL_SDP_MAX_GROUPS; i++) {
        const ovl_sdp_group_t *g = &sdp->groups[i];
        s_(w, "a=group:"), f_(w, g->semantics);
        for (size_t k = 0; k < g->n_mids && k < OVL_SDP_MAX_MEDIA; k++)
            s_(w, " "), f_(w, g->mids[k]);
        s_(w, "\r\n");
    }
    if (sdp->extmap_allow_mixed)
        s_(w, "a=extmap-allow-mixed\r\n");
    if (sdp->msid_semantic) {
        if (!sdp->msid_semantic[0])
            bad(w);
        s_(w, "a=msid-semantic:"), t_(w, sdp->msid_semantic), s_(w, "\r\n");
    }
    if (sdp->ice_lite)
        s_(w, "a=ice-lite\r\n");
    transport(w, &sdp->ice);
    direction(w, sdp->dir);
    attrs(w, sdp->attrs, sdp->n_attrs);
}

int ovl_sdp_write(const ovl_sdp_t *sdp, ovl_wbuf_t *out)
{
    writer_t w = {out, 0};
    size_t start = out->len;
    session(&w, sdp);
    for (size_t i = 0; i < sdp->n_media && !w.err; i++)
        media(&w, &sdp->media[i]);
    if (w.err)
        out->len = start;
    return w.err;
}
