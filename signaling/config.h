/*
 * Server configuration: built-in defaults, then a `key = value` file, then OVERLEG_<KEY>
 * environment variables (OVERLEG_LISTEN, OVERLEG_PUBLIC_HOST, ...). Every key is listed in
 * deploy/overleg.conf.example. Errors are one line naming the key: "max_participants: must be a
 * whole number from 2 to 1000 (got \"x\")".
 */
#ifndef OVL_CONFIG_H
#define OVL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define OVL_CONFIG_STR_MAX 256

typedef enum { OVL_LOG_TEXT = 0, OVL_LOG_JSON = 1 } ovl_log_format_t;

typedef struct ovl_config {
    char listen[OVL_CONFIG_STR_MAX];      /* "[::]:8443", "127.0.0.1:8443", comma list */
    char public_host[OVL_CONFIG_STR_MAX]; /* host name in links and in the certificate */
    uint32_t public_port;                 /* port in links; 0 = the (first) listen port */
    char data_dir[OVL_CONFIG_STR_MAX];
    char tls_cert[OVL_CONFIG_STR_MAX]; /* PEM; empty = self-signed in data_dir */
    char tls_key[OVL_CONFIG_STR_MAX];
    char api_key[OVL_CONFIG_STR_MAX]; /* Bearer key for /api; empty = REST API off */
    ovl_log_format_t log_format;
    int demo_meeting;    /* create/print a "Demo" meeting on `serve` */
    int64_t link_expiry; /* seconds: default lifetime of a new meeting */
    int64_t drain_time;  /* seconds: SIGTERM grace */
    uint32_t max_frame_bytes;
    uint32_t rate_per_second;
    uint32_t rate_burst;
    uint32_t max_connections_per_ip;
    uint32_t max_participants;
    uint32_t max_chat_chars;
    uint32_t max_name_chars;
    uint32_t max_pending;
    int64_t first_byte_timeout;           /* seconds */
    int64_t join_timeout;                 /* seconds */
    int64_t idle_timeout;                 /* seconds */
    char turn_uris[OVL_CONFIG_STR_MAX];   /* comma list of turn:/turns: URIs; empty = none */
    char turn_secret[OVL_CONFIG_STR_MAX]; /* coturn use-auth-secret shared secret */
    uint32_t media_workers;               /* media worker threads; 0 = one per CPU */
    uint32_t media_port_base;             /* worker i's UDP port is base + i; 0 = ports the kernel picks */
    char media_bind[OVL_CONFIG_STR_MAX];  /* numeric address for the media sockets; empty = :: (or 0.0.0.0) */
    char public_ip[OVL_CONFIG_STR_MAX];   /* addresses in ICE candidates, comma list; empty = interfaces */
    int64_t media_consent_timeout;        /* seconds: RFC 7675 consent freshness */
} ovl_config_t;

/** Fills `cfg` with the built-in defaults (a working single-machine setup). */
void ovl_config_defaults(ovl_config_t *cfg);

/**
 * Sets one key from text. Returns 0, OVL_ERR_NOTFOUND for an unknown key or OVL_ERR_PARSE for a
 * bad value; `err` (capacity `cap`) gets one line naming the key.
 */
int ovl_config_set(ovl_config_t *cfg, const char *key, const char *value, char *err, size_t cap);

/**
 * Applies a configuration text of `key = value` lines (`#` comments, blank lines, optional double
 * quotes around the value). `origin` names the source in errors ("overleg.conf"). Returns 0 or a
 * negative OVL_ERR_* with `err` set to "origin:LINE: key: what is wrong".
 */
int ovl_config_parse(ovl_config_t *cfg, const char *text, size_t len, const char *origin, char *err, size_t cap);

/** Reads and applies the file at `path`. Returns 0, OVL_ERR_IO (unreadable) or a parse error. */
int ovl_config_load_file(ovl_config_t *cfg, const char *path, char *err, size_t cap);

/**
 * Applies OVERLEG_<KEY> for every key, looking variables up through `get` (getenv in the server,
 * a table in tests). Returns 0 or an error naming the variable.
 */
int ovl_config_apply_env(ovl_config_t *cfg, char *(*get)(const char *name), char *err, size_t cap);

/** Cross-key checks (cert without key, burst below rate, ...). 0 or OVL_ERR_ARG with `err`. */
int ovl_config_validate(const ovl_config_t *cfg, char *err, size_t cap);

/** Number of keys, and the name of key `i` (for docs and tests). */
size_t ovl_config_key_count(void);
const char *ovl_config_key_name(size_t i);

/** Parses a duration: "90" or "90s", "15m", "2h", "7d" into seconds. 0 or OVL_ERR_PARSE. */
int ovl_config_parse_duration(const char *s, int64_t *seconds);

#endif
