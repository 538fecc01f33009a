/* Event logger with a redaction rule. See log.h. */
#include "signaling/log.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define VALUE_MAX 256
#define KV_MAX    32

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static const char *const secret_words[] = {"token",      "secret",        "password", "pwd",   "key",
                                           "credential", "authorization", "sdp",      "cookie"};

void ovl_log_init(ovl_log_t *log, ovl_log_format_t format, FILE *out)
{
    log->format = format;
    log->min_level = OVL_LOG_INFO;
    log->out = out;
}

int ovl_log_key_is_secret(const char *key)
{
    for (size_t i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++)
        if (strcasestr(key, secret_words[i]))
            return 1;
    return 0;
}

typedef struct out {
    char *buf;
    size_t cap, len;
} out_t;

static void put_raw(out_t *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->cap; i++)
        o->buf[o->len++] = s[i];
    o->buf[o->len] = '\0';
}

static void put_str(out_t *o, const char *s)
{
    put_raw(o, s, strlen(s));
}

/* Escapes `s` for a JSON string (json=1) or a text value; control bytes become \u00XX / \xXX. */
static void put_escaped(out_t *o, const char *s, int json)
{
    char tmp[8];
    size_t n = 0;
    for (const unsigned char *c = (const unsigned char *)s; *c && n < VALUE_MAX; c++, n++) {
        if (*c == '"' || *c == '\\') {
            put_raw(o, "\\", 1);
            put_raw(o, (const char *)c, 1);
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(tmp, sizeof(tmp), json ? "\\u%04x" : "\\x%02x", *c);
            put_str(o, tmp);
        } else {
            put_raw(o, (const char *)c, 1);
        }
    }
    if (s[n] != '\0')
        put_str(o, "...");
}

static int needs_quotes(const char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++)
        if (*s == ' ' || *s == '"' || *s == '=' || (unsigned char)*s < 0x20)
            return 1;
    return 0;
}

size_t ovl_log_format_line(const ovl_log_t *log, char *buf, size_t cap, ovl_log_level_t level, const char *event,
                           const char *const *kv, size_t kv_count)
{
    out_t o = {buf, cap, 0};
    char ts[40];
    struct timespec now;
    struct tm tm;
    int json = log->format == OVL_LOG_JSON;

    if (cap == 0)
        return 0;
    buf[0] = '\0';
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);

    if (json) {
        put_str(&o, "{\"ts\":\"");
        put_str(&o, ts);
        put_str(&o, "\",\"level\":\"");
        put_str(&o, level_names[level]);
        put_str(&o, "\",\"event\":\"");
        put_escaped(&o, event, 1);
        put_str(&o, "\"");
    } else {
        put_str(&o, ts);
        put_str(&o, " ");
        put_str(&o, level_names[level]);
        put_str(&o, " ");
        put_escaped(&o, event, 0);
    }
    for (size_t i = 0; i < kv_count; i++) {
        const char *k = kv[2 * i], *v = kv[2 * i + 1] ? kv[2 * i + 1] : "";
        if (ovl_log_key_is_secret(k) || strcasestr(v, "ice-pwd"))
            v = "[redacted]";
        if (json) {
            put_str(&o, ",\"");
            put_escaped(&o, k, 1);
            put_str(&o, "\":\"");
            put_escaped(&o, v, 1);
            put_str(&o, "\"");
        } else {
            put_str(&o, " ");
            put_escaped(&o, k, 0);
            put_str(&o, "=");
            int q = needs_quotes(v);
            if (q)
                put_str(&o, "\"");
            put_escaped(&o, v, 0);
            if (q)
                put_str(&o, "\"");
        }
    }
    if (json)
        put_str(&o, "}");
    put_str(&o, "\n");
    /* A line cut by the buffer still ends with a newline. */
    if (o.len > 0 && buf[o.len - 1] != '\n')
        buf[o.len - 1] = '\n';
    return o.len;
}

void ovl_log_event(ovl_log_t *log, ovl_log_level_t level, const char *event, ...)
{
    const char *kv[KV_MAX * 2];
    size_t count = 0;
    char line[4096];
    va_list ap;

    if (!log || !log->out || level < log->min_level)
        return;
    va_start(ap, event);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k || count == KV_MAX)
            break;
        kv[count * 2] = k;
        kv[count * 2 + 1] = va_arg(ap, const char *);
        count++;
    }
    va_end(ap);
    size_t n = ovl_log_format_line(log, line, sizeof(line), level, event, kv, count);
    fwrite(line, 1, n, log->out);
    fflush(log->out);
}
