/*
 * SDP attribute parsers (the text after "a="): RFC 8866 §5.13
 *
 *   attribute = (attribute-name ":" attribute-value) / attribute-name
 *   attribute-name = token
 *
 * Each known attribute has its grammar pasted above its parser. An attribute the model does not know, or a
 * known one at a level where it has no meaning, is kept as text (ovl_sdp_attr_t). So is an rtpmap/fmtp/rtcp-fb
 * for a payload type the m= line does not list and a candidate with a transport or type outside the model: they
 * are not lost, and reparsing the written text gives the same model.
 */
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

typedef struct attr_parser {
    ovl_sdp_t *sdp;
    ovl_sdp_media_t *m; /* NULL at session level */
    const char *what;
    bool keep; /* set by a parser: store the attribute as text instead */
} ap_t;

#define FAIL(a, msg)                                                                                                   \
    do {                                                                                                               \
        (a)->what = (msg);                                                                                             \
        return OVL_ERR_PARSE;                                                                                          \
    } while (0)

#define LIMIT(a, msg)                                                                                                  \
    do {                                                                                                               \
        (a)->what = (msg);                                                                                             \
        return OVL_ERR_LIMIT;                                                                                          \
    } while (0)

static ovl_sdp_transport_t *transport(ap_t *a)
{
    return a->m ? &a->m->ice : &a->sdp->ice;
}

/* Copies a field that must match `ok` into dst (capacity cap). */
static int take(ap_t *a, char *dst, size_t cap, const char *f, size_t n, bool (*ok)(unsigned char), const char *what)
{
    if (!ovl_sdp_all(f, n, ok))
        FAIL(a, what);
    if (ovl_sdp_copy(dst, cap, f, n) != 0)
        LIMIT(a, what);
    return 0;
}

static int number(ap_t *a, ovl_sdp_cur_t *c, uint64_t max, uint64_t *v, const char *what)
{
    const char *f;
    size_t n;
    if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, max, v) != 0)
        FAIL(a, what);
    return 0;
}

/* The payload type before the first space (rtpmap, fmtp, rtcp-fb); keep as text when the m= line lacks it. */
static int codec_of(ap_t *a, ovl_sdp_cur_t *c, ovl_sdp_codec_t **codec, const char *what)
{
    uint64_t pt;
    int ret;
    if ((ret = number(a, c, 127, &pt, what)) != 0)
        return ret;
    if (!(*codec = ovl_sdp_find_codec(a->m, (unsigned)pt)))
        a->keep = true;
    return 0;
}

/* RFC 8839 §5.4: ice-ufrag-att = "ice-ufrag:" ufrag; ice-pwd-att = "ice-pwd:" password; ufrag = 4*256ice-char;
 * password = 22*256ice-char. Shorter values are accepted here (the ICE layer decides); longer ones are not. */
static int parse_ice_cred(ap_t *a, ovl_sdp_cur_t *c, bool pwd)
{
    char *dst = pwd ? transport(a)->pwd : transport(a)->ufrag;
    const char *what = pwd ? "bad a=ice-pwd" : "bad a=ice-ufrag";
    const char *f;
    size_t n;
    if (dst[0])
        FAIL(a, pwd ? "second a=ice-pwd" : "second a=ice-ufrag");
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_eol(c))
        FAIL(a, what);
    return take(a, dst, OVL_SDP_ICE_LEN, f, n, ovl_sdp_is_ice_char, what);
}

static bool options_char(unsigned char ch)
{
    return ovl_sdp_is_token_char(ch) || ch == ' ';
}

/* RFC 8839 §5.6: ice-options = "ice-options:" ice-option-tag *(SP ice-option-tag) */
static int parse_ice_options(ap_t *a, ovl_sdp_cur_t *c)
{
    char *dst = transport(a)->options;
    if (dst[0])
        FAIL(a, "second a=ice-options");
    return take(a, dst, sizeof(transport(a)->options), c->p, (size_t)(c->end - c->p), options_char,
                "bad a=ice-options");
}

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9'   ? ch - '0'
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                                    : -1;
}

/* RFC 8122 §5: attribute = "fingerprint" ":" hash-func SP fingerprint
 *              fingerprint = 2UHEX *(":" 2UHEX)   (lower-case hex is accepted too) */
static int parse_fingerprint(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_transport_t *t = transport(a);
    ovl_sdp_fingerprint_t *fp;
    const char *f;
    size_t n;
    int ret;
    if (t->n_fingerprints >= OVL_SDP_MAX_FINGERPRINTS)
        LIMIT(a, "too many a=fingerprint");
    fp = &t->fingerprints[t->n_fingerprints];
    memset(fp, 0, sizeof(*fp));
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=fingerprint hash");
    if ((ret = take(a, fp->hash, sizeof(fp->hash), f, n, ovl_sdp_is_token_char, "bad a=fingerprint hash")) != 0)
        return ret;
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_eol(c) || n % 3 != 2)
        FAIL(a, "bad a=fingerprint digest");
    fp->len = (n + 1) / 3;
    if (fp->len > sizeof(fp->bytes))
        LIMIT(a, "a=fingerprint digest longer than 64 bytes");
    for (size_t i = 0; i < fp->len; i++) {
        int hi = hexval(f[3 * i]), lo = hexval(f[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < fp->len && f[3 * i + 2] != ':'))
            FAIL(a, "bad a=fingerprint digest");
        fp->bytes[i] = (uint8_t)(hi << 4 | lo);
    }
    t->n_fingerprints++;
    return 0;
}

/* RFC 4145 §4: setup-attr = "a=setup:" role; role = "active" / "passive" / "actpass" / "holdconn" */
static int parse_setup(ap_t *a, ovl_sdp_cur_t *c)
{
    static const char *const roles[] = {"", "actpass", "active", "passive", "holdconn"};
    ovl_sdp_transport_t *t = transport(a);
    size_t n = (size_t)(c->end - c->p);
    if (t->setup != OVL_SDP_SETUP_NONE)
        FAIL(a, "second a=setup");
    for (size_t i = 1; i < OVL_ARRAY_LEN(roles); i++)
        if (strlen(roles[i]) == n && memcmp(c->p, roles[i], n) == 0) {
            t->setup = (ovl_sdp_setup_t)i;
            return 0;
        }
    FAIL(a, "bad a=setup");
}

/* RFC 8843 §9.1 / RFC 5888 §4: mid-attribute = "a=mid:" identification-tag; identification-tag = token */
static int parse_mid(ap_t *a, ovl_sdp_cur_t *c)
{
    const char *f;
    size_t n;
    int ret;
    if (a->m->mid[0])
        FAIL(a, "second a=mid");
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_eol(c))
        FAIL(a, "bad a=mid");
    if ((ret = take(a, a->m->mid, sizeof(a->m->mid), f, n, ovl_sdp_is_token_char, "bad a=mid")) != 0)
        return ret;
    /* RFC 8843 §9.1 / RFC 5888 §4: a mid names one section. */
    for (size_t i = 0; i < a->sdp->n_media; i++)
        if (&a->sdp->media[i] != a->m && strcmp(a->sdp->media[i].mid, a->m->mid) == 0)
            FAIL(a, "a=mid used by two sections");
    return 0;
}

/* RFC 5888 §5: group-attribute = "a=group:" semantics *(SP identification-tag) */
static int parse_group(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_group_t *g;
    const char *f;
    size_t n;
    int ret;
    if (a->sdp->n_groups >= OVL_SDP_MAX_GROUPS)
        LIMIT(a, "too many a=group");
    g = &a->sdp->groups[a->sdp->n_groups];
    memset(g, 0, sizeof(*g));
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=group");
    if ((ret = take(a, g->semantics, sizeof(g->semantics), f, n, ovl_sdp_is_token_char, "bad a=group")) != 0)
        return ret;
    while (!ovl_sdp_eol(c)) {
        if (g->n_mids >= OVL_SDP_MAX_MEDIA)
            LIMIT(a, "too many mids in a=group");
        if (ovl_sdp_field(c, &f, &n) != 0)
            FAIL(a, "bad a=group");
        if ((ret = take(a, g->mids[g->n_mids], OVL_SDP_TOKEN_LEN, f, n, ovl_sdp_is_token_char, "bad a=group")) != 0)
            return ret;
        g->n_mids++;
    }
    a->sdp->n_groups++;
    return 0;
}

/* RFC 8866 §6.6: rtpmap-value = payload-type SP encoding-name "/" clock-rate [ "/" encoding-params ] */
static int parse_rtpmap(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_codec_t *codec;
    const char *f, *slash, *slash2;
    size_t n;
    uint64_t clock, channels = 0;
    int ret;
    if ((ret = codec_of(a, c, &codec, "bad a=rtpmap payload type")) != 0 || a->keep)
        return ret;
    if (codec->name[0])
        FAIL(a, "second a=rtpmap for one payload type");
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_eol(c) || !(slash = memchr(f, '/', n)))
        FAIL(a, "bad a=rtpmap");
    slash2 = memchr(slash + 1, '/', n - (size_t)(slash + 1 - f));
    if (ovl_sdp_num(slash + 1, (size_t)((slash2 ? slash2 : f + n) - slash - 1), UINT32_MAX, &clock) != 0)
        FAIL(a, "bad a=rtpmap clock rate");
    if (slash2 && (ovl_sdp_num(slash2 + 1, (size_t)(f + n - slash2 - 1), 255, &channels) != 0 || channels == 0))
        FAIL(a, "bad a=rtpmap channels");
    if ((ret = take(a, codec->name, sizeof(codec->name), f, (size_t)(slash - f), ovl_sdp_is_token_char,
                    "bad a=rtpmap encoding name")) != 0)
        return ret;
    codec->clock = (uint32_t)clock;
    codec->channels = (uint8_t)channels;
    return 0;
}

/* RFC 8866 §6.15: fmtp-value = fmt SP format-specific-params; RFC 4588 §8.6: apt=<payload type> for RTX.
 * The params are split on ';'; apt= goes to codec->apt, the other pieces stay text in their order. */
static int parse_fmtp(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_codec_t *codec;
    const char *p = c->p;
    char *rest = NULL;
    size_t rest_len = 0;
    int ret;
    if ((ret = codec_of(a, c, &codec, "bad a=fmtp payload type")) != 0 || a->keep)
        return ret;
    p = c->p;
    if (codec->fmtp || codec->apt >= 0)
        FAIL(a, "second a=fmtp for one payload type");
    if (ovl_sdp_eol(c))
        FAIL(a, "a=fmtp without parameters");
    if (!(rest = malloc((size_t)(c->end - p) + 1)))
        return OVL_ERR_NOMEM;
    while (p <= c->end) {
        const char *semi = memchr(p, ';', (size_t)(c->end - p));
        const char *e = semi ? semi : c->end, *q = p;
        while (q < e && *q == ' ')
            q++;
        uint64_t apt;
        if (e - q >= 4 && memcmp(q, "apt=", 4) == 0) {
            if (codec->apt >= 0 || ovl_sdp_num(q + 4, (size_t)(e - q - 4), 127, &apt) != 0) {
                free(rest);
                FAIL(a, "bad a=fmtp apt");
            }
            codec->apt = (int16_t)apt;
        } else if (e > p) {
            if (rest_len)
                rest[rest_len++] = ';';
            memcpy(rest + rest_len, p, (size_t)(e - p));
            rest_len += (size_t)(e - p);
        }
        p = e + 1;
    }
    if (rest_len == 0) {
        free(rest);
        return 0;
    }
    rest[rest_len] = '\0';
    codec->fmtp = rest;
    return 0;
}

static bool fb_char(unsigned char ch)
{
    return ovl_sdp_is_field_char(ch) && ch != ' ';
}

/* Copies space-separated fields normalised to single spaces (rtcp-fb values, candidate extensions). */
static int join_fields(ap_t *a, ovl_sdp_cur_t *c, char *dst, size_t cap, const char *what)
{
    size_t len = 0;
    const char *f;
    size_t n;
    while (!ovl_sdp_eol(c)) {
        if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_all(f, n, fb_char))
            FAIL(a, what);
        if (len + (len ? 1 : 0) + n >= cap)
            LIMIT(a, what);
        if (len)
            dst[len++] = ' ';
        memcpy(dst + len, f, n);
        len += n;
    }
    if (len == 0)
        FAIL(a, what);
    dst[len] = '\0';
    return 0;
}

/* RFC 4585 §4.2: rtcp-fb-syntax = "a=rtcp-fb:" rtcp-fb-pt SP rtcp-fb-val CRLF; rtcp-fb-pt = "*" / fmt */
static int parse_rtcp_fb(ap_t *a, ovl_sdp_cur_t *c)
{
    char(*list)[OVL_SDP_FB_LEN];
    size_t *n;
    int ret;
    if (c->p < c->end && *c->p == '*') {
        c->p++;
        if (ovl_sdp_eol(c) || *c->p != ' ')
            FAIL(a, "bad a=rtcp-fb");
        ovl_sdp_skip_sp(c);
        list = a->m->fb_any;
        n = &a->m->n_fb_any;
    } else {
        ovl_sdp_codec_t *codec;
        if ((ret = codec_of(a, c, &codec, "bad a=rtcp-fb payload type")) != 0 || a->keep)
            return ret;
        list = codec->fb;
        n = &codec->n_fb;
    }
    if (*n >= OVL_SDP_MAX_FB)
        LIMIT(a, "too many a=rtcp-fb for one payload type");
    ret = join_fields(a, c, list[*n], OVL_SDP_FB_LEN, "bad a=rtcp-fb value");
    if (ret == 0)
        (*n)++;
    return ret;
}

static int parse_dir_token(const char *f, size_t n, ovl_sdp_dir_t *dir)
{
    for (int d = OVL_SDP_DIR_SENDRECV; d <= OVL_SDP_DIR_INACTIVE; d++) {
        const char *name = ovl_sdp_dir_name((ovl_sdp_dir_t)d);
        if (strlen(name) == n && memcmp(f, name, n) == 0) {
            *dir = (ovl_sdp_dir_t)d;
            return 0;
        }
    }
    return OVL_ERR_PARSE;
}

/* RFC 8285 §8: extmap = mapentry SP extensionname [SP extensionattributes]
 *              mapentry = "extmap:" 1*5DIGIT ["/" direction]
 * Ids: 1-14 (one-byte), 1-255 (two-byte), 4096-4351 (offer-only, §7). */
static int parse_extmap(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_extmap_t *e;
    ovl_sdp_dir_t dir = OVL_SDP_DIR_NONE;
    const char *f, *slash;
    size_t n;
    uint64_t id;
    int ret;
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=extmap");
    slash = memchr(f, '/', n);
    if (ovl_sdp_num(f, (size_t)((slash ? slash : f + n) - f), 4351, &id) != 0 || id == 0 || (id > 255 && id < 4096))
        FAIL(a, "bad a=extmap id");
    if (slash && parse_dir_token(slash + 1, (size_t)(f + n - slash - 1), &dir) != 0)
        FAIL(a, "bad a=extmap direction");
    for (size_t i = 0; i < a->m->n_extmaps; i++)
        if (a->m->extmaps[i].id == id)
            FAIL(a, "a=extmap id used twice");
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=extmap uri");
    if ((ret = ovl_sdp_push((void **)&a->m->extmaps, &a->m->n_extmaps, sizeof(*e), OVL_SDP_MAX_EXTMAPS, (void **)&e)) !=
        0)
        LIMIT(a, "too many a=extmap");
    e->id = (uint16_t)id;
    e->dir = dir;
    if ((ret = take(a, e->uri, sizeof(e->uri), f, n, fb_char, "bad a=extmap uri")) != 0 ||
        (!ovl_sdp_eol(c) && (ret = ovl_sdp_strndup(&e->attrs, c->p, (size_t)(c->end - c->p))) != 0)) {
        a->m->n_extmaps--;
        return ret;
    }
    return 0;
}

/* RFC 8830 §2: msid-value = msid-id [ SP msid-appdata ]; msid-id = 1*64token-char; msid-appdata = 1*64token-char */
static int parse_msid(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_msid_t *ms;
    const char *f;
    size_t n;
    int ret;
    if (a->m->n_msids >= OVL_SDP_MAX_MSIDS)
        LIMIT(a, "too many a=msid");
    ms = &a->m->msids[a->m->n_msids];
    memset(ms, 0, sizeof(*ms));
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=msid");
    if ((ret = take(a, ms->stream, sizeof(ms->stream), f, n, ovl_sdp_is_token_char, "bad a=msid")) != 0)
        return ret;
    if (!ovl_sdp_eol(c)) {
        if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_eol(c))
            FAIL(a, "bad a=msid");
        if ((ret = take(a, ms->track, sizeof(ms->track), f, n, ovl_sdp_is_token_char, "bad a=msid")) != 0)
            return ret;
    }
    a->m->n_msids++;
    return 0;
}

/* RFC 5576 §4.1: ssrc-attr = "ssrc:" ssrc-id SP attribute; attribute = att-field [":" att-value] */
static int parse_ssrc(ap_t *a, ovl_sdp_cur_t *c)
{
    const char *colon;
    uint64_t ssrc;
    char name[32];
    char *value = NULL;
    int ret;
    if ((ret = number(a, c, UINT32_MAX, &ssrc, "bad a=ssrc id")) != 0)
        return ret;
    if (ovl_sdp_eol(c))
        FAIL(a, "a=ssrc without an attribute");
    colon = memchr(c->p, ':', (size_t)(c->end - c->p));
    if ((ret = take(a, name, sizeof(name), c->p, (size_t)((colon ? colon : c->end) - c->p), ovl_sdp_is_token_char,
                    "bad a=ssrc attribute")) != 0)
        return ret;
    if (colon && ovl_sdp_strndup(&value, colon + 1, (size_t)(c->end - colon - 1)) != 0)
        return OVL_ERR_NOMEM;
    ret = ovl_sdp_add_ssrc(a->m, (uint32_t)ssrc, name, value);
    free(value);
    if (ret == OVL_ERR_LIMIT)
        a->what = "too many a=ssrc";
    return ret;
}

/* RFC 5576 §4.2: ssrc-group-attr = "ssrc-group:" semantics *(SP ssrc-id) */
static int parse_ssrc_group(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_ssrc_group_t *g;
    const char *f;
    size_t n;
    int ret;
    if (a->m->n_ssrc_groups >= OVL_SDP_MAX_SSRC_GROUPS)
        LIMIT(a, "too many a=ssrc-group");
    g = &a->m->ssrc_groups[a->m->n_ssrc_groups];
    memset(g, 0, sizeof(*g));
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=ssrc-group");
    if ((ret = take(a, g->semantics, sizeof(g->semantics), f, n, ovl_sdp_is_token_char, "bad a=ssrc-group")) != 0)
        return ret;
    if (ovl_sdp_eol(c))
        FAIL(a, "a=ssrc-group without SSRCs");
    while (!ovl_sdp_eol(c)) {
        uint64_t ssrc;
        if (g->n_ssrcs >= OVL_SDP_MAX_GROUP_SSRCS)
            LIMIT(a, "too many SSRCs in a=ssrc-group");
        if ((ret = number(a, c, UINT32_MAX, &ssrc, "bad a=ssrc-group SSRC")) != 0)
            return ret;
        g->ssrcs[g->n_ssrcs++] = (uint32_t)ssrc;
    }
    a->m->n_ssrc_groups++;
    return 0;
}

/* RFC 8851 §10: rid-syntax = %s"a=rid:" rid-id SP rid-dir [ rid-pt-param-list / rid-param-list ]
 *               rid-id = 1*(alpha-numeric / "-" / "_"); rid-dir = %s"send" / %s"recv" */
static int parse_rid(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_rid_t *r;
    const char *f;
    size_t n;
    int ret;
    if (a->m->n_rids >= OVL_SDP_MAX_RIDS)
        LIMIT(a, "too many a=rid");
    r = &a->m->rids[a->m->n_rids];
    memset(r, 0, sizeof(*r));
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(a, "bad a=rid");
    if ((ret = take(a, r->id, sizeof(r->id), f, n, ovl_sdp_is_rid_char, "bad a=rid id")) != 0)
        return ret;
    if (ovl_sdp_field(c, &f, &n) != 0 || n != 4 || (memcmp(f, "send", 4) != 0 && memcmp(f, "recv", 4) != 0))
        FAIL(a, "bad a=rid direction");
    r->send = f[0] == 's';
    if (!ovl_sdp_eol(c) && ovl_sdp_strndup(&r->params, c->p, (size_t)(c->end - c->p)) != 0)
        return OVL_ERR_NOMEM;
    a->m->n_rids++;
    return 0;
}

/* RFC 8853 §5.1: sc-str-list = sc-alt-list *( ";" sc-alt-list ); sc-alt-list = sc-id *( "," sc-id );
 *                sc-id = [sc-id-paused] rid-id; sc-id-paused = "~" */
static int parse_sim_list(ap_t *a, const char *f, size_t n, ovl_sdp_sim_list_t *l)
{
    const char *p = f, *end = f + n;
    if (l->n_streams)
        FAIL(a, "a=simulcast direction twice");
    while (p <= end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *se = semi ? semi : end;
        if (l->n_streams >= OVL_SDP_MAX_SIM_STREAMS)
            LIMIT(a, "too many simulcast streams");
        ovl_sdp_sim_stream_t *s = &l->streams[l->n_streams++];
        while (p <= se) {
            const char *comma = memchr(p, ',', (size_t)(se - p));
            const char *ae = comma ? comma : se;
            if (s->n_alts >= OVL_SDP_MAX_SIM_ALTS)
                LIMIT(a, "too many simulcast alternatives");
            ovl_sdp_sim_alt_t *alt = &s->alts[s->n_alts++];
            alt->paused = p < ae && *p == '~';
            p += alt->paused;
            int ret = take(a, alt->rid, sizeof(alt->rid), p, (size_t)(ae - p), ovl_sdp_is_rid_char, "bad a=simulcast");
            if (ret != 0)
                return ret;
            p = ae + 1;
        }
    }
    return 0;
}

/* RFC 8853 §5.1: sc-value = ( sc-send [SP sc-recv] ) / ( sc-recv [SP sc-send] )
 *                sc-send = %s"send" SP sc-str-list; sc-recv = %s"recv" SP sc-str-list */
static int parse_simulcast(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_simulcast_t *sc;
    int ret = 0;
    if (a->m->simulcast)
        FAIL(a, "second a=simulcast");
    if (!(sc = calloc(1, sizeof(*sc))))
        return OVL_ERR_NOMEM;
    a->m->simulcast = sc;
    for (int i = 0; i < 2 && ret == 0; i++) {
        const char *f, *l;
        size_t n, ln;
        if (i == 1 && ovl_sdp_eol(c))
            break;
        if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_field(c, &l, &ln) != 0 || n != 4 ||
            (memcmp(f, "send", 4) != 0 && memcmp(f, "recv", 4) != 0))
            FAIL(a, "bad a=simulcast");
        if (i == 0)
            sc->recv_first = f[0] == 'r';
        ret = parse_sim_list(a, l, ln, f[0] == 's' ? &sc->send : &sc->recv);
    }
    if (ret == 0 && !ovl_sdp_eol(c))
        FAIL(a, "bad a=simulcast");
    return ret;
}

/* RFC 8839 §5.1 candidate (sdp_candidate.c); a transport or type outside the model is kept as text. */
static int parse_candidate(ap_t *a, ovl_sdp_cur_t *c)
{
    ovl_sdp_candidate_t cand;
    int ret = ovl_sdp_candidate_parse(c->p, (size_t)(c->end - c->p), &cand);
    if (ret == OVL_ERR_UNSUPPORTED) {
        a->keep = true;
        return 0;
    }
    if (ret != 0) {
        a->what = "bad a=candidate";
        return ret;
    }
    ret = ovl_sdp_add_candidate(a->m, &cand);
    ovl_sdp_candidate_dispose(&cand);
    if (ret == OVL_ERR_LIMIT)
        a->what = "too many a=candidate";
    return ret;
}

typedef enum { LVL_SESSION = 1, LVL_MEDIA = 2, LVL_BOTH = 3 } level_t;

typedef struct known {
    const char *name;
    level_t level;
    int (*fn)(ap_t *a, ovl_sdp_cur_t *c); /* NULL: a flag without value */
    bool raw;                             /* the value as written (spaces after the colon kept) */
} known_t;

static int parse_ufrag(ap_t *a, ovl_sdp_cur_t *c)
{
    return parse_ice_cred(a, c, false);
}

static int parse_pwd(ap_t *a, ovl_sdp_cur_t *c)
{
    return parse_ice_cred(a, c, true);
}

/* draft-ietf-mmusic-msid (not in RFC 8830): msid-semantic: WMS [ids]; kept as written after the colon. */
static int parse_msid_semantic(ap_t *a, ovl_sdp_cur_t *c)
{
    if (a->sdp->msid_semantic)
        FAIL(a, "second a=msid-semantic");
    if (ovl_sdp_eol(c))
        FAIL(a, "empty a=msid-semantic");
    return ovl_sdp_strndup(&a->sdp->msid_semantic, c->p, (size_t)(c->end - c->p));
}

static const known_t known[] = {
    {"candidate", LVL_MEDIA, parse_candidate, false},
    {"end-of-candidates", LVL_MEDIA, NULL, false},
    {"extmap", LVL_MEDIA, parse_extmap, false},
    {"extmap-allow-mixed", LVL_BOTH, NULL, false},
    {"fingerprint", LVL_BOTH, parse_fingerprint, false},
    {"fmtp", LVL_MEDIA, parse_fmtp, false},
    {"group", LVL_SESSION, parse_group, false},
    {"ice-lite", LVL_SESSION, NULL, false},
    {"ice-options", LVL_BOTH, parse_ice_options, false},
    {"ice-pwd", LVL_BOTH, parse_pwd, false},
    {"ice-ufrag", LVL_BOTH, parse_ufrag, false},
    {"mid", LVL_MEDIA, parse_mid, false},
    {"msid", LVL_MEDIA, parse_msid, false},
    {"msid-semantic", LVL_SESSION, parse_msid_semantic, true},
    {"rid", LVL_MEDIA, parse_rid, false},
    {"rtcp-fb", LVL_MEDIA, parse_rtcp_fb, false},
    {"rtcp-mux", LVL_MEDIA, NULL, false},
    {"rtcp-rsize", LVL_MEDIA, NULL, false},
    {"rtpmap", LVL_MEDIA, parse_rtpmap, false},
    {"setup", LVL_BOTH, parse_setup, false},
    {"simulcast", LVL_MEDIA, parse_simulcast, false},
    {"ssrc", LVL_MEDIA, parse_ssrc, false},
    {"ssrc-group", LVL_MEDIA, parse_ssrc_group, false},
    {"bundle-only", LVL_MEDIA, NULL, false},
    {"sendrecv", LVL_BOTH, NULL, false},
    {"sendonly", LVL_BOTH, NULL, false},
    {"recvonly", LVL_BOTH, NULL, false},
    {"inactive", LVL_BOTH, NULL, false},
};

/* Flags (attributes without a value). Repeating one changes nothing; two directions conflict. */
static int set_flag(ap_t *a, const char *name)
{
    ovl_sdp_dir_t dir;
    ovl_sdp_media_t *m = a->m;
    if (parse_dir_token(name, strlen(name), &dir) == 0) {
        ovl_sdp_dir_t *d = m ? &m->dir : &a->sdp->dir;
        if (*d != OVL_SDP_DIR_NONE && *d != dir)
            FAIL(a, "two directions");
        *d = dir;
    } else if (strcmp(name, "extmap-allow-mixed") == 0) {
        *(m ? &m->extmap_allow_mixed : &a->sdp->extmap_allow_mixed) = true;
    } else if (strcmp(name, "ice-lite") == 0) {
        a->sdp->ice_lite = true;
    } else if (strcmp(name, "end-of-candidates") == 0) {
        m->end_of_candidates = true;
    } else if (strcmp(name, "rtcp-mux") == 0) {
        m->rtcp_mux = true;
    } else if (strcmp(name, "rtcp-rsize") == 0) {
        m->rtcp_rsize = true;
    } else if (strcmp(name, "bundle-only") == 0) {
        m->bundle_only = true;
    }
    return 0;
}

int ovl_sdp_parse_attr(ovl_sdp_t *sdp, ovl_sdp_media_t *m, const char *s, size_t n, const char **what)
{
    ap_t a = {sdp, m, NULL, false};
    const char *colon = memchr(s, ':', n);
    size_t name_len = (size_t)((colon ? colon : s + n) - s);
    const char *value = colon ? colon + 1 : NULL;
    size_t value_len = colon ? n - name_len - 1 : 0;
    int ret = 0;
    if (!ovl_sdp_all(s, name_len, ovl_sdp_is_token_char)) {
        *what = "bad attribute name";
        return OVL_ERR_PARSE;
    }
    for (size_t i = 0; i < OVL_ARRAY_LEN(known); i++) {
        const known_t *k = &known[i];
        if (strlen(k->name) != name_len || memcmp(k->name, s, name_len) != 0)
            continue;
        if (!(k->level & (m ? LVL_MEDIA : LVL_SESSION)))
            break; /* out of place: keep as text */
        if (!k->fn) {
            if (colon) {
                *what = "attribute takes no value";
                return OVL_ERR_PARSE;
            }
            ret = set_flag(&a, k->name);
        } else if (!colon) {
            a.what = "attribute needs a value";
            ret = OVL_ERR_PARSE;
        } else {
            ovl_sdp_cur_t c = {value, value + value_len};
            if (!k->raw)
                ovl_sdp_skip_sp(&c);
            ret = k->fn(&a, &c);
        }
        if (ret != 0 || !a.keep) {
            *what = a.what;
            return ret;
        }
        break;
    }
    ret = ovl_sdp_add_attr(m ? &m->attrs : &sdp->attrs, m ? &m->n_attrs : &sdp->n_attrs, s, name_len, value, value_len,
                           colon != NULL);
    if (ret == OVL_ERR_LIMIT)
        *what = "too many unknown attributes";
    return ret;
}
