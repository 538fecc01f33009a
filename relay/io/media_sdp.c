/*
 * SDP text work of the media plane: random ICE credentials, the transport parameters of a client's
 * offer, the rewriting every description gets on its way to a client (track attribution, current
 * ICE credentials, a growing o= version) and the relay's ICE-restart offer. Not on the packet path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "relay/io/media_int.h"
#include "relay/proto/sdp.h"

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". 64 of them: one byte's low 6 bits pick one. */
static const char ice_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int ovl_media_sdp_credentials(unsigned worker, char ufrag[OVL_MEDIA_UFRAG_LEN + 1], char *pwd, size_t plen)
{
    uint8_t r[OVL_MEDIA_UFRAG_RAND_LEN + OVL_ICE_PWD_MAX];
    if (plen > OVL_ICE_PWD_MAX)
        return OVL_ERR_ARG;
    if (RAND_bytes(r, (int)(OVL_MEDIA_UFRAG_RAND_LEN + plen)) != 1)
        return OVL_ERR_CRYPTO;
    for (size_t i = 0; i < plen; i++)
        pwd[i] = ice_chars[r[OVL_MEDIA_UFRAG_RAND_LEN + i] & 63];
    pwd[plen] = '\0';
    return ovl_media_ufrag_make(ufrag, OVL_MEDIA_UFRAG_LEN + 1, worker, r);
}

static int fingerprint_from_sdp(const ovl_sdp_fingerprint_t *f, ovl_dtls_fingerprint_t *out)
{
    char text[OVL_DTLS_FINGERPRINT_TEXT_MAX + 16];
    size_t n = (size_t)snprintf(text, sizeof(text), "%s ", f->hash);
    if (n >= sizeof(text) || f->len == 0 || f->len > OVL_DTLS_FINGERPRINT_MAX)
        return OVL_ERR_UNSUPPORTED;
    for (size_t i = 0; i < f->len; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, i ? ":%02X" : "%02X", f->bytes[i]);
    return ovl_dtls_fingerprint_parse(text, n, out);
}

/* The best fingerprint of a transport: SHA-256 if present, else the first one we support. */
static int pick_fingerprint(const ovl_sdp_transport_t *tp, ovl_dtls_fingerprint_t *out)
{
    int ret = OVL_ERR_UNSUPPORTED;
    for (size_t i = 0; i < tp->n_fingerprints; i++) {
        ovl_dtls_fingerprint_t fp;
        if (fingerprint_from_sdp(&tp->fingerprints[i], &fp) != 0)
            continue;
        if (ret != 0 || fp.hash == OVL_DTLS_HASH_SHA256)
            *out = fp;
        ret = 0;
        if (fp.hash == OVL_DTLS_HASH_SHA256)
            break;
    }
    return ret;
}

int ovl_media_sdp_offer_params(const char *sdp, size_t len, char *ufrag, size_t ucap, ovl_dtls_fingerprint_t *fp)
{
    ovl_sdp_t *offer = NULL;
    ovl_sdp_transport_t tp;
    int ret;
    ufrag[0] = '\0';
    memset(fp, 0, sizeof(*fp));
    if ((ret = ovl_sdp_parse(sdp, len, &offer, NULL)) != 0)
        return OVL_ERR_PARSE;
    ret = OVL_ERR_UNSUPPORTED;
    for (size_t i = 0; i < offer->n_media; i++) {
        if (ovl_sdp_media_rejected(&offer->media[i]))
            continue;
        ovl_sdp_media_transport(offer, &offer->media[i], &tp);
        if (tp.ufrag[0] && strlen(tp.ufrag) < ucap && pick_fingerprint(&tp, fp) == 0) {
            strcpy(ufrag, tp.ufrag);
            ret = 0;
        }
        break; /* BUNDLE: the first accepted section's transport is the one */
    }
    ovl_sdp_free(offer);
    return ret;
}

/* ---- rewriting ---------------------------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
} sbuf_t;

static void put(sbuf_t *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap + n) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(sbuf_t *b, const char *s)
{
    put(b, s, strlen(s));
}

static bool starts(const char *line, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(line, prefix, k) == 0;
}

static const char *const slot_labels[] = {"audio", "camera", "screen"};

/* "ovl-17" or "17" -> 17; false for anything else. */
static bool stream_participant(const char *s, size_t n, uint64_t *id)
{
    if (n > 4 && memcmp(s, "ovl-", 4) == 0)
        s += 4, n -= 4;
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *id = v;
    return true;
}

/* A track id ending in "audio", "camera" or "screen" (after "-" or alone) -> that label. */
static const char *track_label(const char *s, size_t n)
{
    for (size_t i = 0; i < OVL_ARRAY_LEN(slot_labels); i++) {
        size_t k = strlen(slot_labels[i]);
        if (n >= k && memcmp(s + n - k, slot_labels[i], k) == 0 && (n == k || s[n - k - 1] == '-'))
            return slot_labels[i];
    }
    return NULL;
}

/* "<stream> <track>" of an msid value at v[0..n): rewritten when the stream names a participant. */
static void put_msid(sbuf_t *b, const char *v, size_t n, const ovl_media_sdp_edit_t *e)
{
    const char *sp = memchr(v, ' ', n);
    size_t sn = sp ? (size_t)(sp - v) : n;
    uint64_t id;
    const char *pub = NULL, *label = NULL;
    if (e->public_id && stream_participant(v, sn, &id))
        pub = e->public_id(e->ctx, id);
    if (pub && sp)
        label = track_label(sp + 1, n - sn - 1);
    if (!pub) {
        put(b, v, n);
        return;
    }
    puts_(b, pub);
    if (sp) {
        put(b, " ", 1);
        if (label) { /* browsers make it MediaStreamTrack.id: unique per connection, so "<pub>-<slot>" */
            puts_(b, pub);
            put(b, "-", 1);
            puts_(b, label);
        } else {
            put(b, sp + 1, n - sn - 1);
        }
    }
}

/* One line (without its line end) into b, edited. */
static void put_line(sbuf_t *b, const char *line, size_t n, const ovl_media_sdp_edit_t *e)
{
    char num[24];
    if (e->ufrag && starts(line, n, "a=ice-ufrag:")) {
        puts_(b, "a=ice-ufrag:");
        puts_(b, e->ufrag);
    } else if (e->pwd && starts(line, n, "a=ice-pwd:")) {
        puts_(b, "a=ice-pwd:");
        puts_(b, e->pwd);
    } else if (starts(line, n, "a=msid:")) {
        puts_(b, "a=msid:");
        put_msid(b, line + 7, n - 7, e);
    } else if (starts(line, n, "a=ssrc:") && memmem(line, n, " msid:", 6)) {
        const char *v = (const char *)memmem(line, n, " msid:", 6) + 6;
        put(b, line, (size_t)(v - line));
        put_msid(b, v, n - (size_t)(v - line), e);
    } else if (e->version && starts(line, n, "o=")) {
        /* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> (RFC 8866 §5.2):
         * the third field (fields are separated by one or more spaces) is replaced. */
        const char *end = line + n, *p = line + 2, *vs = NULL, *ve = NULL;
        for (int k = 0; k < 3 && p < end; k++) {
            while (p < end && *p == ' ')
                p++;
            const char *start = p;
            while (p < end && *p != ' ')
                p++;
            if (k == 2 && p > start)
                vs = start, ve = p;
        }
        if (!vs) {
            put(b, line, n);
            return;
        }
        put(b, line, (size_t)(vs - line));
        snprintf(num, sizeof(num), "%llu", (unsigned long long)e->version);
        puts_(b, num);
        put(b, ve, (size_t)(end - ve));
    } else {
        put(b, line, n);
    }
}

int ovl_media_sdp_rewrite(const char *in, const ovl_media_sdp_edit_t *edit, char **out)
{
    size_t len = strlen(in);
    sbuf_t b = {malloc(len + 256), 0, len + 256, false};
    *out = NULL;
    if (!b.p)
        return OVL_ERR_NOMEM;
    b.p[0] = '\0';
    for (const char *p = in; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        size_t body = n && p[n - 1] == '\r' ? n - 1 : n;
        put_line(&b, p, body, edit);
        put(&b, p + body, n - body + (nl ? 1 : 0)); /* the line end as it was */
        p += n + (nl ? 1 : 0);
    }
    if (b.failed) {
        free(b.p);
        return OVL_ERR_NOMEM;
    }
    *out = b.p;
    return 0;
}

/* ---- the ICE-restart offer ------------------------------------------------------------------------ */

static void set_creds(ovl_sdp_transport_t *tp, const char *ufrag, const char *pwd)
{
    if (tp->ufrag[0])
        snprintf(tp->ufrag, sizeof(tp->ufrag), "%s", ufrag);
    if (tp->pwd[0])
        snprintf(tp->pwd, sizeof(tp->pwd), "%s", pwd);
}

int ovl_media_sdp_restart_offer(const char *local, const char *ufrag, const char *pwd, char **out)
{
    ovl_sdp_t *cur = NULL, *offer = NULL;
    uint8_t *buf = NULL;
    ovl_wbuf_t w;
    int ret;
    *out = NULL;
    if ((ret = ovl_sdp_parse(local, strlen(local), &cur, NULL)) != 0 || (ret = ovl_sdp_offer_begin(cur, &offer)) != 0)
        goto Exit;
    /* RFC 8445 §9 / RFC 9429 §5.2.1: new credentials everywhere they appear, nothing else changes. */
    set_creds(&offer->ice, ufrag, pwd);
    for (size_t i = 0; i < offer->n_media; i++)
        set_creds(&offer->media[i].ice, ufrag, pwd);
    size_t cap = 4 * strlen(local) + 4096;
    ret = OVL_ERR_NOMEM;
    if (!(buf = malloc(cap + 1)))
        goto Exit;
    ovl_wbuf_init(&w, buf, cap);
    if ((ret = ovl_sdp_write(offer, &w)) != 0)
        goto Exit;
    buf[w.len] = '\0';
    *out = (char *)buf;
    buf = NULL;
Exit:
    free(buf);
    ovl_sdp_free(offer);
    ovl_sdp_free(cur);
    return ret;
}
