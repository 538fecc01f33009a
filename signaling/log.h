/*
 * One line per event, human-readable text or JSON lines. Events are a name plus key/value string
 * pairs, so the logger can enforce its redaction rule: a value whose key names a secret (token,
 * secret, password, key, credential, authorization, sdp, ...) or whose text contains "ice-pwd" is
 * written as "[redacted]". Callers never log raw message bodies.
 */
#ifndef OVL_LOG_H
#define OVL_LOG_H

#include <stdio.h>

#include "signaling/config.h"

typedef enum { OVL_LOG_DEBUG = 0, OVL_LOG_INFO, OVL_LOG_WARN, OVL_LOG_ERROR } ovl_log_level_t;

typedef struct ovl_log {
    ovl_log_format_t format;
    ovl_log_level_t min_level;
    FILE *out; /* borrowed */
} ovl_log_t;

/** Sets up a logger writing to `out` (borrowed; stderr in the server). */
void ovl_log_init(ovl_log_t *log, ovl_log_format_t format, FILE *out);

/**
 * Writes one event: `event` then (key, value) pairs of strings ending with a NULL key, e.g.
 * ovl_log_event(log, OVL_LOG_INFO, "join", "meeting", id, "role", "host", NULL). A NULL value is
 * written as empty. Values are escaped (one line always) and cut at 256 bytes.
 */
void ovl_log_event(ovl_log_t *log, ovl_log_level_t level, const char *event, ...);

/** Formats one event into `buf` (capacity `cap`) without writing it; for tests. Returns the length. */
size_t ovl_log_format_line(const ovl_log_t *log, char *buf, size_t cap, ovl_log_level_t level, const char *event,
                           const char *const *kv, size_t kv_count);

/** 1 when a value under `key` must never be written (the redaction rule), else 0. */
int ovl_log_key_is_secret(const char *key);

#endif
