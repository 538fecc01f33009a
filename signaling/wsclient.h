/*
 * A WebSocket-over-TLS client of the signaling protocol (signaling/PROTOCOL.md) over libwebsockets: what the
 * synthetic peer (cmd/overleg-peer) and the integration tests use to talk to `overleg serve` as a browser does.
 *
 * One lws context per client, serviced only inside the calls below, on the thread that owns the client.
 * Received text frames are parsed as JSON and queue up until taken (ovl_wsclient_take / _wait). Nothing
 * busy-waits: ovl_wsclient_service sleeps in lws's poll until a frame, a close, a deadline or a wakeup from
 * another thread (ovl_wsclient_wakeup, the one thread-safe call) arrives.
 *
 * TLS: the server's certificate is checked against the system CA store (plus cfg.ca_file) and must name
 * cfg.host, unless cfg.insecure, which accepts any certificate (the self-signed one `overleg serve` makes on
 * first start; tests). Errors are negative OVL_ERR_*; connecting fills a one-line reason.
 */
#ifndef OVL_WSCLIENT_H
#define OVL_WSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "relay/proto/base.h"

typedef struct ovl_wsclient ovl_wsclient_t;

typedef struct ovl_wsclient_config {
    const char *host;    /* host name or numeric address to connect to; also TLS SNI and the name checked */
    uint16_t port;       /* TCP port */
    const char *path;    /* request path, "/ws" */
    bool insecure;       /* accept any server certificate (no CA, name or expiry check) */
    const char *ca_file; /* an extra PEM file of trusted CAs, or NULL */
    int timeout_ms;      /* for the TCP, TLS and WebSocket handshakes; 0: 10 s */
} ovl_wsclient_config_t;

/**
 * Connects to wss://host:port/path and waits for the WebSocket handshake. Returns 0 with *out set, or
 * OVL_ERR_IO (connection refused, TLS or upgrade failed), OVL_ERR_AGAIN (timed out), OVL_ERR_ARG,
 * OVL_ERR_NOMEM; then *out is NULL and err (cap bytes, may be NULL) holds a one-line reason.
 */
int ovl_wsclient_connect(const ovl_wsclient_config_t *cfg, ovl_wsclient_t **out, char *err, size_t cap);

/** Closes (if open) and frees. NULL is fine. */
void ovl_wsclient_free(ovl_wsclient_t *c);

/**
 * Runs the client's event loop until something happened (a frame arrived, the connection closed, a queued
 * frame went out, ovl_wsclient_wakeup was called) or `timeout_ms` passed (negative: no limit). Returns 0, or
 * OVL_ERR_STATE once the connection is closed.
 */
int ovl_wsclient_service(ovl_wsclient_t *c, int timeout_ms);

/** Makes a concurrent or the next ovl_wsclient_service return. Any thread may call it. */
void ovl_wsclient_wakeup(ovl_wsclient_t *c);

/** True once the connection has closed (by either side, or failed). */
bool ovl_wsclient_closed(const ovl_wsclient_t *c);

/** The close code the server sent (RFC 6455 §7.4), 0 if none. */
int ovl_wsclient_close_code(const ovl_wsclient_t *c);

/** Queues one frame (text, or binary when `binary`; copied) without waiting. 0, OVL_ERR_STATE (closed), NOMEM. */
int ovl_wsclient_queue(ovl_wsclient_t *c, const void *data, size_t len, bool binary);

/** Services until every queued frame is written or `timeout_ms` passes. 0, OVL_ERR_AGAIN or OVL_ERR_STATE. */
int ovl_wsclient_flush(ovl_wsclient_t *c, int timeout_ms);

/** Queues one frame and flushes (up to 20 s). 0 or an error of queue/flush. */
int ovl_wsclient_send_frame(ovl_wsclient_t *c, const void *data, size_t len, bool binary);

/** Sends a NUL-terminated text frame. */
int ovl_wsclient_send(ovl_wsclient_t *c, const char *text);

/** Sends a JSON value built by json_pack(fmt, ...) as text. */
int ovl_wsclient_sendf(ovl_wsclient_t *c, const char *fmt, ...);

/** Queues a JSON value as text without waiting (`j` stays the caller's). */
int ovl_wsclient_queue_json(ovl_wsclient_t *c, const json_t *j);

/**
 * Takes the oldest queued message whose "type" is `type` (NULL: any), without waiting: a new reference the
 * caller json_decref's, or NULL.
 */
json_t *ovl_wsclient_take(ovl_wsclient_t *c, const char *type);

/**
 * Waits up to `timeout_ms` for a message whose "type" is `type` (NULL: any) and takes it (other messages stay
 * queued). NULL on timeout, or when the connection closed with no such message left.
 */
json_t *ovl_wsclient_wait(ovl_wsclient_t *c, const char *type, int timeout_ms);

/** Waits for an `error` message whose code is `code`; true when it came. */
bool ovl_wsclient_wait_error(ovl_wsclient_t *c, const char *code, int timeout_ms);

/** Waits up to `timeout_ms` for the connection to close; true if closed. *close_code (may be NULL): see above. */
bool ovl_wsclient_wait_closed(ovl_wsclient_t *c, int timeout_ms, int *close_code);

/** Drops every queued message. */
void ovl_wsclient_clear(ovl_wsclient_t *c);

/** Services the connection for `ms` milliseconds (lets messages arrive). */
void ovl_wsclient_pump(ovl_wsclient_t *c, int ms);

#endif
