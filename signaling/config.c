/* Configuration: table of keys, file parser, environment overrides. See config.h. */
#include "signaling/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/base.h"

typedef enum { KEY_STR, KEY_UINT, KEY_BOOL, KEY_DURATION, KEY_LOGFMT } key_type_t;

typedef struct key_desc {
    const char *name;
    key_type_t type;
    size_t offset;
    int64_t min, max; /* numbers and durations */
} key_desc_t;

#define K(name, type, min, max)                                                                                        \
    {                                                                                                                  \
#name, type, offsetof(ovl_config_t, name), min, max                                                            \
    }

static const key_desc_t keys[] = {
    K(listen, KEY_STR, 1, 0),
    K(public_host, KEY_STR, 1, 0),
    K(public_port, KEY_UINT, 0, 65535),
    K(data_dir, KEY_STR, 1, 0),
    K(tls_cert, KEY_STR, 0, 0),
    K(tls_key, KEY_STR, 0, 0),
    K(api_key, KEY_STR, 0, 0),
    K(log_format, KEY_LOGFMT, 0, 0),
    K(demo_meeting, KEY_BOOL, 0, 1),
    K(link_expiry, KEY_DURATION, 60, 3650LL * 86400),
    K(drain_time, KEY_DURATION, 0, 3600),
    K(max_frame_bytes, KEY_UINT, 1024, 1 << 20),
    K(rate_per_second, KEY_UINT, 1, 10000),
    K(rate_burst, KEY_UINT, 1, 100000),
    K(max_connections_per_ip, KEY_UINT, 1, 100000),
    K(max_participants, KEY_UINT, 2, 1000),
    K(max_chat_chars, KEY_UINT, 1, 20000),
    K(max_name_chars, KEY_UINT, 1, 64),
    K(max_pending, KEY_UINT, 1, 100000),
    K(first_byte_timeout, KEY_DURATION, 1, 300),
    K(join_timeout, KEY_DURATION, 1, 3600),
    K(idle_timeout, KEY_DURATION, 5, 3600),
    K(turn_uris, KEY_STR, 0, 0),
    K(turn_secret, KEY_STR, 0, 0),
    K(media_workers, KEY_UINT, 0, 256),
    K(media_port_base, KEY_UINT, 0, 65535),
    K(media_bind, KEY_STR, 0, 0),
    K(public_ip, KEY_STR, 0, 0),
    K(media_consent_timeout, KEY_DURATION, 1, 300),
};

void ovl_config_defaults(ovl_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen, "[::]:8443");
    strcpy(cfg->public_host, "localhost");
    strcpy(cfg->data_dir, "./overleg-data");
    cfg->log_format = OVL_LOG_TEXT;
    cfg->demo_meeting = 1;
    cfg->link_expiry = 30 * 86400;
    cfg->drain_time = 10;
    cfg->max_frame_bytes = 64 * 1024;
    cfg->rate_per_second = 20;
    cfg->rate_burst = 40;
    cfg->max_connections_per_ip = 20;
    cfg->max_participants = 50;
    cfg->max_chat_chars = 2000;
    cfg->max_name_chars = 64;
    cfg->max_pending = 256;
    cfg->first_byte_timeout = 5;
    cfg->join_timeout = 10;
    cfg->idle_timeout = 60;
    cfg->media_port_base = 10000;
    cfg->media_consent_timeout = 30;
}

size_t ovl_config_key_count(void)
{
    return OVL_ARRAY_LEN(keys);
}

const char *ovl_config_key_name(size_t i)
{
    return i < OVL_ARRAY_LEN(keys) ? keys[i].name : NULL;
}

int ovl_config_parse_duration(const char *s, int64_t *seconds)
{
    char *end = NULL;
    long long v;
    int64_t unit = 1;

    *seconds = 0;
    if (!s || !isdigit((unsigned char)s[0]))
        return OVL_ERR_PARSE;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || v < 0 || v > 100LL * 365 * 86400)
        return OVL_ERR_PARSE;
    if (*end == 's')
        end++;
    else if (*end == 'm')
        unit = 60, end++;
    else if (*end == 'h')
        unit = 3600, end++;
    else if (*end == 'd')
        unit = 86400, end++;
    if (*end != '\0')
        return OVL_ERR_PARSE;
    *seconds = (int64_t)v * unit;
    return 0;
}

static int parse_uint(const char *s, int64_t *v)
{
    char *end = NULL;
    long long x;
    if (!isdigit((unsigned char)s[0]))
        return OVL_ERR_PARSE;
    errno = 0;
    x = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return OVL_ERR_PARSE;
    *v = x;
    return 0;
}

static int set_key(ovl_config_t *cfg, const key_desc_t *k, const char *value, char *err, size_t cap)
{
    char *field = (char *)cfg + k->offset;
    int64_t v = 0;

    switch (k->type) {
    case KEY_STR:
        if (strlen(value) >= OVL_CONFIG_STR_MAX) {
            snprintf(err, cap, "%s: longer than %d characters", k->name, OVL_CONFIG_STR_MAX - 1);
            return OVL_ERR_PARSE;
        }
        if (k->min > 0 && value[0] == '\0') {
            snprintf(err, cap, "%s: must not be empty", k->name);
            return OVL_ERR_PARSE;
        }
        for (const char *c = value; *c; c++)
            if ((unsigned char)*c < 0x20) {
                snprintf(err, cap, "%s: contains a control character", k->name);
                return OVL_ERR_PARSE;
            }
        strcpy(field, value);
        return 0;
    case KEY_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            *(int *)field = 1;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
            *(int *)field = 0;
        else {
            snprintf(err, cap, "%s: must be true or false (got \"%.40s\")", k->name, value);
            return OVL_ERR_PARSE;
        }
        return 0;
    case KEY_LOGFMT:
        if (strcmp(value, "text") == 0)
            *(ovl_log_format_t *)field = OVL_LOG_TEXT;
        else if (strcmp(value, "json") == 0)
            *(ovl_log_format_t *)field = OVL_LOG_JSON;
        else {
            snprintf(err, cap, "%s: must be text or json (got \"%.40s\")", k->name, value);
            return OVL_ERR_PARSE;
        }
        return 0;
    case KEY_UINT:
        if (parse_uint(value, &v) != 0 || v < k->min || v > k->max) {
            snprintf(err, cap, "%s: must be a whole number from %lld to %lld (got \"%.40s\")", k->name,
                     (long long)k->min, (long long)k->max, value);
            return OVL_ERR_PARSE;
        }
        *(uint32_t *)field = (uint32_t)v;
        return 0;
    case KEY_DURATION:
        if (ovl_config_parse_duration(value, &v) != 0 || v < k->min || v > k->max) {
            snprintf(err, cap, "%s: must be a duration like 30s, 15m, 2h or 7d, from %llds to %llds (got \"%.40s\")",
                     k->name, (long long)k->min, (long long)k->max, value);
            return OVL_ERR_PARSE;
        }
        *(int64_t *)field = v;
        return 0;
    }
    return OVL_ERR_ARG;
}

int ovl_config_set(ovl_config_t *cfg, const char *key, const char *value, char *err, size_t cap)
{
    for (size_t i = 0; i < OVL_ARRAY_LEN(keys); i++)
        if (strcmp(keys[i].name, key) == 0)
            return set_key(cfg, &keys[i], value, err, cap);
    snprintf(err, cap, "%.64s: unknown key", key);
    return OVL_ERR_NOTFOUND;
}

static void trim(char **s, char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* One line "key = value" (already without newline), NUL-terminated copy in `line`. */
static int parse_line(ovl_config_t *cfg, char *line, char *err, size_t cap)
{
    char *s = line, *e = line + strlen(line), *eq, *ks, *ke, *vs, *ve;
    trim(&s, &e);
    if (s == e || *s == '#')
        return 0;
    if (!(eq = memchr(s, '=', (size_t)(e - s)))) {
        snprintf(err, cap, "expected key = value");
        return OVL_ERR_PARSE;
    }
    ks = s, ke = eq, vs = eq + 1, ve = e;
    trim(&ks, &ke);
    trim(&vs, &ve);
    if (ve - vs >= 2 && *vs == '"' && ve[-1] == '"')
        vs++, ve--;
    *ke = '\0';
    *ve = '\0';
    if (ks == ke) {
        snprintf(err, cap, "expected key = value");
        return OVL_ERR_PARSE;
    }
    return ovl_config_set(cfg, ks, vs, err, cap);
}

int ovl_config_parse(ovl_config_t *cfg, const char *text, size_t len, const char *origin, char *err, size_t cap)
{
    char line[1024], why[512];
    size_t pos = 0, lineno = 0;
    int ret;

    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n >= sizeof(line)) {
            snprintf(err, cap, "%s:%zu: line longer than %zu characters", origin, lineno, sizeof(line) - 1);
            return OVL_ERR_PARSE;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        if (memchr(line, '\0', n)) {
            snprintf(err, cap, "%s:%zu: contains a NUL byte", origin, lineno);
            return OVL_ERR_PARSE;
        }
        pos += n + (nl ? 1 : 0);
        why[0] = '\0';
        if ((ret = parse_line(cfg, line, why, sizeof(why))) != 0) {
            snprintf(err, cap, "%s:%zu: %s", origin, lineno, why);
            return ret;
        }
    }
    return 0;
}

int ovl_config_load_file(ovl_config_t *cfg, const char *path, char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int ret = OVL_ERR_IO;

    if (!f) {
        snprintf(err, cap, "config: cannot read %s: %s", path, strerror(errno));
        return OVL_ERR_IO;
    }
    if (!(buf = malloc(1 << 20))) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    n = fread(buf, 1, 1 << 20, f);
    if (ferror(f) || n == 1 << 20) {
        snprintf(err, cap, "config: cannot read %s (error or larger than 1 MiB)", path);
        goto Exit;
    }
    ret = ovl_config_parse(cfg, buf, n, path, err, cap);
Exit:
    free(buf);
    fclose(f);
    return ret;
}

int ovl_config_apply_env(ovl_config_t *cfg, char *(*get)(const char *name), char *err, size_t cap)
{
    char var[80], why[512];
    for (size_t i = 0; i < OVL_ARRAY_LEN(keys); i++) {
        size_t n = (size_t)snprintf(var, sizeof(var), "OVERLEG_%s", keys[i].name);
        for (size_t k = 8; k < n; k++)
            var[k] = (char)toupper((unsigned char)var[k]);
        const char *v = get(var);
        if (!v)
            continue;
        why[0] = '\0';
        if (set_key(cfg, &keys[i], v, why, sizeof(why)) != 0) {
            snprintf(err, cap, "%s (environment %s)", why, var);
            return OVL_ERR_PARSE;
        }
    }
    return 0;
}

int ovl_config_validate(const ovl_config_t *cfg, char *err, size_t cap)
{
    if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
        snprintf(err, cap, "%s: must be set together with %s", cfg->tls_cert[0] ? "tls_key" : "tls_cert",
                 cfg->tls_cert[0] ? "tls_cert" : "tls_key");
        return OVL_ERR_ARG;
    }
    if (cfg->api_key[0] && strlen(cfg->api_key) < 16) {
        snprintf(err, cap, "api_key: must be at least 16 characters (or empty to turn the REST API off)");
        return OVL_ERR_ARG;
    }
    if (cfg->rate_burst < cfg->rate_per_second) {
        snprintf(err, cap, "rate_burst: must be at least rate_per_second (%u)", cfg->rate_per_second);
        return OVL_ERR_ARG;
    }
    if ((cfg->turn_uris[0] == '\0') != (cfg->turn_secret[0] == '\0')) {
        snprintf(err, cap, "%s: must be set together with %s", cfg->turn_uris[0] ? "turn_secret" : "turn_uris",
                 cfg->turn_uris[0] ? "turn_uris" : "turn_secret");
        return OVL_ERR_ARG;
    }
    if (cfg->media_port_base && cfg->media_port_base + (cfg->media_workers ? cfg->media_workers : 1) - 1 > 65535) {
        snprintf(err, cap, "media_port_base: %u plus media_workers goes past port 65535", cfg->media_port_base);
        return OVL_ERR_ARG;
    }
    for (const char *c = cfg->public_ip; *c; c++)
        if (!(isxdigit((unsigned char)*c) || *c == '.' || *c == ':' || *c == ',' || *c == ' ')) {
            snprintf(err, cap, "public_ip: only numeric IPv4 or IPv6 addresses, comma separated (\"%.64s\")",
                     cfg->public_ip);
            return OVL_ERR_ARG;
        }
    for (const char *c = cfg->media_bind; *c; c++)
        if (!(isxdigit((unsigned char)*c) || *c == '.' || *c == ':')) {
            snprintf(err, cap, "media_bind: not a numeric IPv4 or IPv6 address (\"%.64s\")", cfg->media_bind);
            return OVL_ERR_ARG;
        }
    for (const char *c = cfg->public_host; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '.' || *c == '-' || *c == ':' || *c == '[' || *c == ']')) {
            snprintf(err, cap, "public_host: not a host name or address (\"%.64s\")", cfg->public_host);
            return OVL_ERR_ARG;
        }
    return 0;
}
