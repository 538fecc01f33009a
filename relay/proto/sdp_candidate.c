/*
 * ICE candidate attribute, both directions. RFC 8839 §5.1:
 *
 *   candidate-attribute = "candidate" ":" foundation SP component-id SP transport SP priority SP
 *                         connection-address SP port SP cand-type [SP rel-addr] [SP rel-port] *(SP cand-extension)
 *   foundation          = 1*32ice-char
 *   component-id        = 1*3DIGIT
 *   transport           = "UDP" / transport-extension
 *   priority            = 1*10DIGIT
 *   cand-type           = "typ" SP candidate-types
 *   candidate-types     = "host" / "srflx" / "prflx" / "relay" / token
 *   rel-addr            = "raddr" SP connection-address
 *   rel-port            = "rport" SP port
 *   cand-extension      = extension-att-name SP extension-att-value
 *
 * RFC 6544 §4.5 (ICE-TCP): transport "TCP" and the extension  tcp-type-ext = "tcptype" SP tcp-type,
 * tcp-type = "active" / "passive" / "so". Chromium adds generation, ufrag, network-id and network-cost.
 * Transport and type names are case-insensitive (Firefox writes "UDP", Chromium "udp"); the writer uses lower case.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "relay/proto/sdp.h"
#include "relay/proto/sdp_internal.h"

static const char *const cand_types[] = {"host", "srflx", "prflx", "relay"};
static const char *const tcp_types[] = {"", "active", "passive", "so"};

static bool field_is(const char *f, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(f, word, n) == 0;
}

static int num_field(ovl_sdp_cur_t *c, uint64_t max, uint64_t *v)
{
    const char *f;
    size_t n;
    if (ovl_sdp_field(c, &f, &n) != 0 || ovl_sdp_num(f, n, max, v) != 0)
        return OVL_ERR_PARSE;
    return 0;
}

static int addr_field(ovl_sdp_cur_t *c, char dst[OVL_SDP_ADDR_LEN])
{
    const char *f;
    size_t n;
    if (ovl_sdp_field(c, &f, &n) != 0 || !ovl_sdp_all(f, n, ovl_sdp_is_field_char))
        return OVL_ERR_PARSE;
    return ovl_sdp_copy(dst, OVL_SDP_ADDR_LEN, f, n);
}

/* Appends "name value" to the unknown extensions text (single spaces). */
static int ext_append(ovl_sdp_candidate_t *out, const char *name, size_t nl, const char *value, size_t vl)
{
    size_t old = out->ext ? strlen(out->ext) : 0;
    size_t len = old + (old ? 1 : 0) + nl + 1 + vl;
    if (len > OVL_SDP_MAX_LINE)
        return OVL_ERR_LIMIT;
    char *s = realloc(out->ext, len + 1);
    if (!s)
        return OVL_ERR_NOMEM;
    out->ext = s;
    if (old)
        s[old++] = ' ';
    memcpy(s + old, name, nl);
    s[old + nl] = ' ';
    memcpy(s + old + nl + 1, value, vl);
    s[len] = '\0';
    return 0;
}

/* The name/value pairs after cand-type. Known names may appear once each. */
static int parse_extensions(ovl_sdp_cur_t *c, ovl_sdp_candidate_t *out)
{
    bool seen_raddr = false, seen_tcptype = false, seen_ufrag = false;
    while (!ovl_sdp_eol(c)) {
        const char *name, *v;
        size_t nl, vl;
        uint64_t x;
        int ret;
        if (ovl_sdp_field(c, &name, &nl) != 0 || ovl_sdp_field(c, &v, &vl) != 0 ||
            !ovl_sdp_all(name, nl, ovl_sdp_is_token_char) || !ovl_sdp_all(v, vl, ovl_sdp_is_field_char))
            return OVL_ERR_PARSE;
        ovl_sdp_cur_t vc = {v, v + vl};
        if (field_is(name, nl, "raddr")) {
            if (seen_raddr || (ret = addr_field(&vc, out->raddr)) != 0)
                return seen_raddr ? OVL_ERR_PARSE : ret;
            seen_raddr = true;
        } else if (field_is(name, nl, "rport")) {
            if (out->has_rport || num_field(&vc, 65535, &x) != 0)
                return OVL_ERR_PARSE;
            out->has_rport = true, out->rport = (uint16_t)x;
        } else if (field_is(name, nl, "tcptype")) {
            size_t t = 1;
            while (t < OVL_ARRAY_LEN(tcp_types) && !field_is(v, vl, tcp_types[t]))
                t++;
            if (seen_tcptype || t == OVL_ARRAY_LEN(tcp_types))
                return OVL_ERR_PARSE;
            seen_tcptype = true, out->tcptype = (ovl_sdp_tcptype_t)t;
        } else if (field_is(name, nl, "generation")) {
            if (out->has_generation || num_field(&vc, UINT32_MAX, &x) != 0)
                return OVL_ERR_PARSE;
            out->has_generation = true, out->generation = (uint32_t)x;
        } else if (field_is(name, nl, "network-id")) {
            if (out->has_network_id || num_field(&vc, UINT32_MAX, &x) != 0)
                return OVL_ERR_PARSE;
            out->has_network_id = true, out->network_id = (uint32_t)x;
        } else if (field_is(name, nl, "network-cost")) {
            if (out->has_network_cost || num_field(&vc, UINT32_MAX, &x) != 0)
                return OVL_ERR_PARSE;
            out->has_network_cost = true, out->network_cost = (uint32_t)x;
        } else if (field_is(name, nl, "ufrag")) {
            if (seen_ufrag || !ovl_sdp_all(v, vl, ovl_sdp_is_ice_char))
                return OVL_ERR_PARSE;
            if ((ret = ovl_sdp_copy(out->ufrag, sizeof(out->ufrag), v, vl)) != 0)
                return ret;
            seen_ufrag = true;
        } else if ((ret = ext_append(out, name, nl, v, vl)) != 0) {
            return ret;
        }
    }
    return 0;
}

int ovl_sdp_candidate_parse(const char *s, size_t n, ovl_sdp_candidate_t *out)
{
    ovl_sdp_cur_t c = {s, s + n};
    const char *f, *proto;
    size_t fl, pl;
    uint64_t v;
    int ret = OVL_ERR_PARSE;
    bool unknown = false;
    memset(out, 0, sizeof(*out));
    ovl_sdp_skip_sp(&c);
    if (ovl_sdp_field(&c, &f, &fl) != 0 || !ovl_sdp_all(f, fl, ovl_sdp_is_ice_char))
        goto Exit;
    if ((ret = ovl_sdp_copy(out->foundation, sizeof(out->foundation), f, fl)) != 0)
        goto Exit;
    ret = OVL_ERR_PARSE;
    if (num_field(&c, 256, &v) != 0 || v == 0)
        goto Exit;
    out->component = (uint16_t)v;
    if (ovl_sdp_field(&c, &proto, &pl) != 0 || !ovl_sdp_all(proto, pl, ovl_sdp_is_token_char))
        goto Exit;
    if (field_is(proto, pl, "udp"))
        out->proto = OVL_SDP_CAND_UDP;
    else if (field_is(proto, pl, "tcp"))
        out->proto = OVL_SDP_CAND_TCP;
    else
        unknown = true;
    if (num_field(&c, UINT32_MAX, &v) != 0)
        goto Exit;
    out->priority = (uint32_t)v;
    if ((ret = addr_field(&c, out->address)) != 0)
        goto Exit;
    ret = OVL_ERR_PARSE;
    if (num_field(&c, 65535, &v) != 0)
        goto Exit;
    out->port = (uint16_t)v;
    if (ovl_sdp_field(&c, &f, &fl) != 0 || !field_is(f, fl, "typ") || ovl_sdp_field(&c, &f, &fl) != 0 ||
        !ovl_sdp_all(f, fl, ovl_sdp_is_token_char))
        goto Exit;
    size_t t = 0;
    while (t < OVL_ARRAY_LEN(cand_types) && !field_is(f, fl, cand_types[t]))
        t++;
    if (t == OVL_ARRAY_LEN(cand_types))
        unknown = true;
    else
        out->type = (ovl_sdp_cand_type_t)t;
    if ((ret = parse_extensions(&c, out)) != 0)
        goto Exit;
    ret = unknown ? OVL_ERR_UNSUPPORTED : 0;
Exit:
    if (ret != 0)
        ovl_sdp_candidate_dispose(out);
    return ret;
}

void ovl_sdp_candidate_dispose(ovl_sdp_candidate_t *c)
{
    free(c->ext);
    memset(c, 0, sizeof(*c));
}

static int put_pair(ovl_wbuf_t *out, const char *name, uint64_t v)
{
    int ret;
    if ((ret = ovl_sdp_put_str(out, name)) != 0 || (ret = ovl_sdp_put_num(out, v)) != 0)
        return ret;
    return 0;
}

int ovl_sdp_candidate_write(const ovl_sdp_candidate_t *c, ovl_wbuf_t *out)
{
    size_t start = out->len;
    int ret = OVL_ERR_ARG;
    if (c->component == 0 || c->component > 256 || (unsigned)c->proto > OVL_SDP_CAND_TCP ||
        (unsigned)c->type >= OVL_ARRAY_LEN(cand_types) || (unsigned)c->tcptype >= OVL_ARRAY_LEN(tcp_types))
        goto Exit;
    if ((ret = ovl_sdp_put_field(out, c->foundation)) != 0 || (ret = put_pair(out, " ", c->component)) != 0 ||
        (ret = ovl_sdp_put_str(out, c->proto == OVL_SDP_CAND_UDP ? " udp " : " tcp ")) != 0 ||
        (ret = ovl_sdp_put_num(out, c->priority)) != 0 || (ret = ovl_sdp_put_str(out, " ")) != 0 ||
        (ret = ovl_sdp_put_field(out, c->address)) != 0 || (ret = put_pair(out, " ", c->port)) != 0 ||
        (ret = ovl_sdp_put_str(out, " typ ")) != 0 || (ret = ovl_sdp_put_str(out, cand_types[c->type])) != 0)
        goto Exit;
    if (c->raddr[0] && ((ret = ovl_sdp_put_str(out, " raddr ")) != 0 || (ret = ovl_sdp_put_field(out, c->raddr)) != 0))
        goto Exit;
    if (c->has_rport && (ret = put_pair(out, " rport ", c->rport)) != 0)
        goto Exit;
    if (c->tcptype != OVL_SDP_TCPTYPE_NONE &&
        ((ret = ovl_sdp_put_str(out, " tcptype ")) != 0 || (ret = ovl_sdp_put_str(out, tcp_types[c->tcptype])) != 0))
        goto Exit;
    if (c->has_generation && (ret = put_pair(out, " generation ", c->generation)) != 0)
        goto Exit;
    if (c->ufrag[0] && ((ret = ovl_sdp_put_str(out, " ufrag ")) != 0 || (ret = ovl_sdp_put_field(out, c->ufrag)) != 0))
        goto Exit;
    if (c->has_network_id && (ret = put_pair(out, " network-id ", c->network_id)) != 0)
        goto Exit;
    if (c->has_network_cost && (ret = put_pair(out, " network-cost ", c->network_cost)) != 0)
        goto Exit;
    if (c->ext && c->ext[0] && ((ret = ovl_sdp_put_str(out, " ")) != 0 || (ret = ovl_sdp_put_text(out, c->ext)) != 0))
        goto Exit;
    ret = 0;
Exit:
    if (ret != 0)
        out->len = start;
    return ret;
}

uint32_t ovl_sdp_candidate_priority(unsigned type_pref, unsigned local_pref, unsigned component)
{
    return (uint32_t)((type_pref & 0x7f) << 24 | (local_pref & 0xffff) << 8 | ((256 - component) & 0xff));
}
