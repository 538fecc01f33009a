/*
 * SDP parser, line level (RFC 8866 §5): splits the text into lines, checks each is "<type>=<value>" in UTF-8
 * without control characters, parses v= o= s= t= c= b= m= and keeps i= u= e= p= r= z= k= as text; a= lines go to
 * sdp_attr.c.
 *
 *   session-description = version-field origin-field session-name-field [information-field] [uri-field]
 *                         *email-field *phone-field [connection-field] *bandwidth-field 1*time-description
 *                         [key-field] *attribute-field *media-description
 *   media-description   = media-field [information-field] *connection-field *bandwidth-field [key-field]
 *                         *attribute-field
 *
 * Lines are accepted in any order within their level (a known line is not lost for being out of place); a
 * duplicate single-valued line, an unknown type letter (RFC 8866 §5: the description must then be ignored) or a
 * value that does not parse fails with OVL_ERR_PARSE and the line number.
 */
#include <stdlib.h>
#include <string.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

typedef struct parser {
    ovl_sdp_t *sdp;
    ovl_sdp_media_t *m; /* current section, NULL at session level */
    bool seen_v, seen_o, seen_t;
    const char *what;
} parser_t;

#define FAIL(ps, msg)                                                                                                  \
    do {                                                                                                               \
        (ps)->what = (msg);                                                                                            \
        return OVL_ERR_PARSE;                                                                                          \
    } while (0)

int ovl_sdp_num(const char *s, size_t n, uint64_t max, uint64_t *v)
{
    uint64_t x = 0;
    if (n == 0 || n > 20)
        return OVL_ERR_PARSE;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return OVL_ERR_PARSE;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return OVL_ERR_PARSE;
        x = x * 10 + d;
    }
    if (x > max)
        return OVL_ERR_PARSE;
    *v = x;
    return 0;
}

/* RFC 3629 §4 UTF-8, without control characters (C0, DEL): SDP text never needs them. */
static bool line_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
        if (len == 0 || n - i < len)
            return false;
        for (size_t k = 1; k < len; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        /* No overlong 3/4-byte forms, no surrogates, nothing past U+10FFFF. */
        if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) || (c == 0xf0 && s[i + 1] < 0x90) ||
            (c == 0xf4 && s[i + 1] > 0x8f))
            return false;
        i += len;
    }
    return true;
}

static int copy_field(parser_t *ps, char *dst, size_t cap, const char *f, size_t n, const char *what)
{
    if (!ovl_sdp_all(f, n, ovl_sdp_is_field_char))
        FAIL(ps, what);
    if (ovl_sdp_copy(dst, cap, f, n) != 0) {
        ps->what = what;
        return OVL_ERR_LIMIT;
    }
    return 0;
}

/* "IN" SP ("IP4" / "IP6") SP address, shared by o= and c=. */
static int parse_addr(parser_t *ps, ovl_sdp_cur_t *c, char type[4], char addr[OVL_SDP_ADDR_LEN], const char *what)
{
    const char *f;
    size_t n;
    if (ovl_sdp_field(c, &f, &n) != 0 || n != 2 || memcmp(f, "IN", 2) != 0)
        FAIL(ps, what);
    if (ovl_sdp_field(c, &f, &n) != 0 || n != 3 || (memcmp(f, "IP4", 3) != 0 && memcmp(f, "IP6", 3) != 0))
        FAIL(ps, what);
    memcpy(type, f, 3);
    type[3] = '\0';
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_eol(c))
        FAIL(ps, what);
    return copy_field(ps, addr, OVL_SDP_ADDR_LEN, f, n, what);
}

/* RFC 8866 §5.2: o=<username> <sess-id> <sess-version> <nettype> <addrtype> <unicast-address> */
static int parse_origin(parser_t *ps, ovl_sdp_cur_t *c)
{
    const char *f;
    size_t n;
    int ret;
    if (ps->m || ps->seen_o)
        FAIL(ps, "o= must appear once, before m=");
    ps->seen_o = true;
    if (ovl_sdp_field(c, &f, &n) != 0)
        FAIL(ps, "bad o= username");
    if ((ret = copy_field(ps, ps->sdp->origin_user, sizeof(ps->sdp->origin_user), f, n, "bad o= username")) != 0)
        return ret;
    if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, UINT64_MAX, &ps->sdp->sess_id) != 0)
        FAIL(ps, "bad o= sess-id");
    if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, UINT64_MAX, &ps->sdp->sess_version) != 0)
        FAIL(ps, "bad o= sess-version");
    return parse_addr(ps, c, ps->sdp->origin_type, ps->sdp->origin_addr, "bad o= address");
}

/* RFC 8866 §5.9: t=<start-time> <stop-time> (one time description; repeat times go to r= lines) */
static int parse_time(parser_t *ps, ovl_sdp_cur_t *c)
{
    const char *f;
    size_t n;
    if (ps->m || ps->seen_t)
        FAIL(ps, "t= must appear once, before m=");
    ps->seen_t = true;
    if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, UINT64_MAX, &ps->sdp->t_start) != 0 ||
        ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, UINT64_MAX, &ps->sdp->t_stop) != 0 || !ovl_sdp_eol(c))
        FAIL(ps, "bad t=");
    return 0;
}

/* RFC 8866 §5.8: b=<bwtype>:<bandwidth> */
static int parse_bw(parser_t *ps, const char *s, size_t len)
{
    ovl_sdp_bw_t *bw = ps->m ? ps->m->bw : ps->sdp->bw;
    size_t *n_bw = ps->m ? &ps->m->n_bw : &ps->sdp->n_bw;
    const char *colon = memchr(s, ':', len);
    uint64_t v;
    if (!colon || !ovl_sdp_all(s, (size_t)(colon - s), ovl_sdp_is_token_char) ||
        ovl_sdp_num(colon + 1, len - (size_t)(colon + 1 - s), UINT32_MAX, &v) != 0)
        FAIL(ps, "bad b=");
    if (*n_bw >= OVL_SDP_MAX_BW || (size_t)(colon - s) >= sizeof(bw->type)) {
        ps->what = "too many or too long b= lines";
        return OVL_ERR_LIMIT;
    }
    ovl_sdp_copy(bw[*n_bw].type, sizeof(bw->type), s, (size_t)(colon - s));
    bw[*n_bw].value = (uint32_t)v;
    (*n_bw)++;
    return 0;
}

/* RFC 8866 §9: proto = token *("/" token) */
static bool proto_char(unsigned char c)
{
    return ovl_sdp_is_token_char(c) || c == '/';
}

static bool is_rtp_proto(const char *proto)
{
    return strstr(proto, "RTP/") != NULL;
}

/* RFC 8866 §5.14: m=<media> <port>[/<number of ports>] <proto> <fmt> ... */
static int parse_media(parser_t *ps, ovl_sdp_cur_t *c)
{
    static const char *const kinds[] = {"audio", "video", "application"};
    const char *f;
    size_t n;
    uint64_t v;
    int ret;
    ovl_sdp_media_t *m;
    if ((ret = ovl_sdp_add_media(ps->sdp, &m)) != 0) {
        ps->what = "too many m= sections";
        return ret;
    }
    ps->m = m;
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_all(f, n, ovl_sdp_is_token_char) ||
        ovl_sdp_copy(m->media, sizeof(m->media), f, n) != 0)
        FAIL(ps, "bad m= media");
    m->kind = OVL_SDP_KIND_OTHER;
    for (size_t i = 0; i < OVL_ARRAY_LEN(kinds); i++)
        if (strcmp(m->media, kinds[i]) == 0)
            m->kind = (ovl_sdp_kind_t)i;
    if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, 65535, &v) != 0)
        FAIL(ps, "bad m= port (a port count is not supported)");
    m->port = (uint16_t)v;
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_all(f, n, proto_char) ||
        ovl_sdp_copy(m->proto, sizeof(m->proto), f, n) != 0)
        FAIL(ps, "bad m= proto");
    if (ovl_sdp_eol(c))
        FAIL(ps, "m= without a format");
    if (!is_rtp_proto(m->proto)) {
        const char *s = c->p;
        size_t len = (size_t)(c->end - c->p);
        return ovl_sdp_strndup(&m->fmt, s, len);
    }
    while (!ovl_sdp_eol(c)) {
        ovl_sdp_codec_t *codec;
        if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, 127, &v) != 0)
            FAIL(ps, "bad m= payload type (0..127)");
        if (ovl_sdp_find_codec(m, (unsigned)v))
            FAIL(ps, "payload type twice in m=");
        if ((ret = ovl_sdp_add_codec(m, (unsigned)v, &codec)) != 0) {
            ps->what = "too many payload types";
            return ret;
        }
    }
    return 0;
}

static int parse_other(parser_t *ps, char type, const char *s, size_t len)
{
    ovl_sdp_line_t *lines = ps->m ? ps->m->lines : ps->sdp->lines;
    size_t *n = ps->m ? &ps->m->n_lines : &ps->sdp->n_lines;
    if (*n >= OVL_SDP_MAX_LINES) {
        ps->what = "too many i=/u=/e=/p=/r=/z=/k= lines";
        return OVL_ERR_LIMIT;
    }
    if (ovl_sdp_strndup(&lines[*n].value, s, len) != 0)
        return OVL_ERR_NOMEM;
    lines[*n].type = type;
    (*n)++;
    return 0;
}

static int parse_line(parser_t *ps, char type, const char *s, size_t len)
{
    ovl_sdp_cur_t c = {s, s + len};
    switch (type) {
    case 'v':
        FAIL(ps, "v= must be the first line, once");
    case 'o':
        return parse_origin(ps, &c);
    case 's':
        if (ps->m || ps->sdp->name)
            FAIL(ps, "s= must appear once, before m=");
        return ovl_sdp_strndup(&ps->sdp->name, s, len);
    case 't':
        return parse_time(ps, &c);
    case 'c': {
        char *ctype = ps->m ? ps->m->conn_type : ps->sdp->conn_type;
        if (ctype[0])
            FAIL(ps, "second c= line");
        return parse_addr(ps, &c, ctype, ps->m ? ps->m->conn_addr : ps->sdp->conn_addr, "bad c=");
    }
    case 'b':
        return parse_bw(ps, s, len);
    case 'm':
        return parse_media(ps, &c);
    case 'a':
        return ovl_sdp_parse_attr(ps->sdp, ps->m, s, len, &ps->what);
    case 'i':
    case 'u':
    case 'e':
    case 'p':
    case 'r':
    case 'z':
    case 'k':
        return parse_other(ps, type, s, len);
    default:
        FAIL(ps, "unknown line type");
    }
}

int ovl_sdp_parse(const char *text, size_t len, ovl_sdp_t **out, ovl_sdp_error_t *err)
{
    parser_t ps = {0};
    size_t line = 0;
    int ret = OVL_ERR_PARSE;
    const char *p = text, *end = text + len;
    *out = NULL;

    if (len > OVL_SDP_MAX_SIZE) {
        ps.what = "SDP larger than OVL_SDP_MAX_SIZE";
        ret = OVL_ERR_LIMIT;
        goto Exit;
    }
    if (!(ps.sdp = calloc(1, sizeof(*ps.sdp)))) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t n = (size_t)(eol - p);
        line++;
        if (n && p[n - 1] == '\r')
            n--;
        if (n > OVL_SDP_MAX_LINE) {
            ps.what = "line longer than OVL_SDP_MAX_LINE";
            ret = OVL_ERR_LIMIT;
            goto Exit;
        }
        if (n == 0) {
            /* An empty line (a trailing one, or a stray blank line) carries nothing. */
        } else if (!line_ok((const unsigned char *)p, n)) {
            ps.what = "control character or invalid UTF-8";
            goto Exit;
        } else if (n < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
            ps.what = "line is not <type>=<value>";
            goto Exit;
        } else if (!ps.seen_v) {
            if (n != 3 || memcmp(p, "v=0", 3) != 0) {
                ps.what = "first line must be v=0";
                goto Exit;
            }
            ps.seen_v = true;
        } else if ((ret = parse_line(&ps, p[0], p + 2, n - 2)) != 0) {
            goto Exit;
        }
        ret = OVL_ERR_PARSE;
        p = nl ? nl + 1 : end;
    }
    line = 0;
    if (!ps.seen_o || !ps.sdp->name || !ps.seen_t) {
        ps.what = len == 0 ? "empty SDP" : "missing o=, s= or t= line";
        goto Exit;
    }
    *out = ps.sdp;
    ps.sdp = NULL;
    ret = 0;
Exit:
    if (ret != 0 && err) {
        err->line = line;
        err->what = ps.what ? ps.what : ovl_strerror(ret);
    }
    ovl_sdp_free(ps.sdp);
    return ret;
}
