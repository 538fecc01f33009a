/* Meeting links read back (see link.h). */
#include "signaling/link.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool b64url_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* RFC 3986 §3.2.2 reg-name (the DNS subset) or IPv4address: letters, digits, '-', '.'. */
static bool host_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static int fail(const char **why, const char *msg)
{
    if (why)
        *why = msg;
    return OVL_ERR_PARSE;
}

/* HOST[:PORT] up to `end`; IPv6 in brackets (RFC 3986 §3.2.2). */
static int parse_authority(const char *p, const char *end, ovl_link_t *out, const char **why)
{
    const char *host = p, *host_end;
    if (p < end && *p == '[') {
        host = ++p;
        for (; p < end && *p != ']'; p++)
            if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
                return fail(why, "the IPv6 address in the link is malformed");
        if (p == end)
            return fail(why, "the IPv6 address in the link has no closing ']'");
        host_end = p++;
    } else {
        while (p < end && host_char(*p))
            p++;
        host_end = p;
    }
    size_t n = (size_t)(host_end - host);
    if (n == 0 || n >= sizeof(out->host))
        return fail(why, "the link has no host name");
    memcpy(out->host, host, n);
    out->host[n] = '\0';
    out->port = 443;
    if (p < end && *p == ':') {
        unsigned long port = 0;
        if (++p == end)
            return fail(why, "the port in the link is empty");
        for (; p < end; p++) {
            if (*p < '0' || *p > '9' || (port = port * 10 + (unsigned long)(*p - '0')) > 65535)
                return fail(why, "the port in the link is not a number from 1 to 65535");
        }
        if (port == 0)
            return fail(why, "the port in the link is not a number from 1 to 65535");
        out->port = (uint16_t)port;
    }
    return p == end ? 0 : fail(why, "the host name in the link has characters a host name cannot have");
}

static int parse(const char *url, ovl_link_t *out, const char **why)
{
    static const char scheme[] = "https://";
    const char *p, *slash, *hash, *t;
    if (!url || strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
        return fail(why, "a meeting link starts with https://");
    p = url + sizeof(scheme) - 1;
    hash = strchr(p, '#');
    slash = strchr(p, '/');
    if (!slash || (hash && hash < slash))
        return fail(why, "the link has no /m/MEETING path");
    if (parse_authority(p, slash, out, why) != 0)
        return OVL_ERR_PARSE;
    if (strncmp(slash, "/m/", 3) != 0)
        return fail(why, "the link's path is not /m/MEETING");
    p = slash + 3;
    size_t n = 0;
    while (b64url_char(p[n]))
        n++;
    if (n != OVL_MEETING_ID_LEN)
        return fail(why, "the meeting id in the link is not 22 base64url characters");
    memcpy(out->meeting, p, n);
    p += n;
    if (*p == '/')
        p++;
    if (*p != '#')
        return fail(why, "the link has no #t=TOKEN part (was it cut short when copied?)");
    /* The fragment: parameters separated by '&'; t= is the token. */
    for (t = p + 1; t && *t; t = strchr(t, '&') ? strchr(t, '&') + 1 : NULL)
        if (strncmp(t, "t=", 2) == 0)
            break;
    if (!t || !*t)
        return fail(why, "the link has no #t=TOKEN part (was it cut short when copied?)");
    t += 2;
    n = 0;
    while (b64url_char(t[n]))
        n++;
    if (n == 0 || n > OVL_TOKEN_MAX_LEN || (t[n] != '\0' && t[n] != '&'))
        return fail(why, "the token in the link is not base64url");
    memcpy(out->token, t, n);
    return 0;
}

int ovl_link_parse(const char *url, ovl_link_t *out, const char **why)
{
    int ret;
    memset(out, 0, sizeof(*out));
    if (why)
        *why = NULL;
    if ((ret = parse(url, out, why)) != 0)
        memset(out, 0, sizeof(*out));
    return ret;
}
