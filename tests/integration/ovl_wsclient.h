/*
 * A small synchronous WSS test client over libwebsockets (client role), for integration tests and
 * the synthetic peers that come later. One lws context per client, serviced only inside these
 * calls; TLS accepts the server's self-signed certificate. Received text frames queue up until a
 * wait takes them.
 */
#ifndef OVL_WSCLIENT_H
#define OVL_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

typedef struct ovl_tc ovl_tc_t;

/**
 * Connects to wss://host:port/path and waits up to `timeout_ms` for the handshake. Returns 0 with
 * *out set, or -1 (*out NULL) when the connection or upgrade failed.
 */
int ovl_tc_connect(const char *host, uint16_t port, const char *path, int timeout_ms, ovl_tc_t **out);

/** Queues one frame (text, or binary when `binary`) and services until it is written. 0 or -1. */
int ovl_tc_send_frame(ovl_tc_t *c, const void *data, size_t len, int binary);

/** Queues one frame without sending it yet (for floods). 0 or -1. */
int ovl_tc_queue(ovl_tc_t *c, const void *data, size_t len, int binary);

/** Services until every queued frame is written or `timeout_ms` passes. 0 when all went out. */
int ovl_tc_flush(ovl_tc_t *c, int timeout_ms);

/** Sends a text frame (a NUL-terminated string). 0 or -1. */
int ovl_tc_send(ovl_tc_t *c, const char *text);

/** Sends a JSON value as text (`fmt` is a json_pack format). 0 or -1. */
int ovl_tc_sendf(ovl_tc_t *c, const char *fmt, ...);

/**
 * Waits up to `timeout_ms` for a message whose "type" is `type` (NULL: any); returns it (a new
 * reference the caller json_decref's) and leaves other messages queued. NULL on timeout or when
 * the connection closed with no such message left.
 */
json_t *ovl_tc_wait(ovl_tc_t *c, const char *type, int timeout_ms);

/** Waits for an `error` whose code is `code`; 1 when it came, else 0. */
int ovl_tc_wait_error(ovl_tc_t *c, const char *code, int timeout_ms);

/** Waits up to `timeout_ms` for the connection to close; 1 if closed. *close_code: the peer's code or 0. */
int ovl_tc_wait_closed(ovl_tc_t *c, int timeout_ms, int *close_code);

/** Drops every queued message. */
void ovl_tc_clear(ovl_tc_t *c);

/** Services the connection for `ms` milliseconds (lets messages arrive). */
void ovl_tc_pump(ovl_tc_t *c, int ms);

/** Closes (if open) and frees. NULL is fine. */
void ovl_tc_free(ovl_tc_t *c);

#endif
