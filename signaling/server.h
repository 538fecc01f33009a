/*
 * The signaling server: libwebsockets glue on one TCP port (see listener.h) serving HTTPS (the
 * embedded web client, the REST API, /healthz, /readyz, /metrics) and WSS (the JSON protocol of
 * PROTOCOL.md, handled by the hub). Single-threaded: everything runs on the lws event loop.
 */
#ifndef OVL_SERVER_H
#define OVL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "signaling/config.h"
#include "signaling/log.h"
#include "signaling/media_port.h"
#include "signaling/store.h"

typedef struct ovl_server ovl_server_t;

/**
 * Binds the port, loads TLS (cfg->tls_cert/key, or the self-signed pair in the data dir), and
 * sets up the hub. `cfg` is copied; `log`, `store` and `media` (may be NULL) are borrowed and
 * must outlive the server. 0 or a negative OVL_ERR_* with `err` (one line).
 */
int ovl_server_new(const ovl_config_t *cfg, ovl_log_t *log, ovl_store_t *store, const uint8_t secret[OVL_SECRET_BYTES],
                   const ovl_media_port_t *media, ovl_server_t **out, char *err, size_t cap);

/** The port it listens on (the real one when the configuration asked for port 0). */
uint16_t ovl_server_port(const ovl_server_t *s);

/**
 * Runs the event loop until a drain (ovl_server_request_drain) has finished: every WebSocket is
 * closed or drain_time has passed. Returns 0.
 */
int ovl_server_run(ovl_server_t *s);

/**
 * Asks for a drain: stop accepting, refuse joins, tell participants, close. Async-signal-safe
 * (sets a flag and wakes the loop), so a SIGTERM handler may call it.
 */
void ovl_server_request_drain(ovl_server_t *s);

/** Delivers a media-plane event on the signaling thread (see media_port.h). */
void ovl_server_media_event(ovl_server_t *s, const ovl_media_event_t *ev);

/** Installs the handler for non-TLS, non-HTTP connections on the port (ICE-TCP); NULL closes them. */
void ovl_server_set_raw_tcp_handler(ovl_server_t *s,
                                    void (*on_raw_tcp)(void *ud, int fd, const uint8_t *first, size_t len), void *ud);

/**
 * Watches `fd` (borrowed: the server watches a duplicate, so the caller keeps and closes its own)
 * in the event loop and calls cb(ctx) on the signaling thread whenever it is readable; cb must
 * make it unreadable (read the eventfd) or it is called again. This is how the media plane's
 * event queues reach signaling. 0 or OVL_ERR_IO.
 */
int ovl_server_add_wakeup_fd(ovl_server_t *s, int fd, void (*cb)(void *ctx), void *ctx);

/**
 * Installs a provider of more Prometheus text for /metrics (the media plane's counters): fn
 * returns a malloc'd NUL-terminated string (or NULL), which the server appends and frees.
 */
void ovl_server_set_metrics_provider(ovl_server_t *s, char *(*fn)(void *ctx), void *ctx);

/**
 * Serves TURN over TLS on the HTTPS port (issue 6). Allocations may reach only the relay's media
 * addresses: every numeric IP in ips (borrowed strings) with every port in ports (the workers' UDP
 * ports; at most 16 pairs). The REST secret is turn_secret, else one derived from the server
 * secret; without turn_uris, welcome hands out "turns:PUBLIC_HOST:PORT?transport=tcp". Returns 0,
 * OVL_ERR_ARG (no usable address), OVL_ERR_STATE (already on) or OVL_ERR_NOMEM.
 */
int ovl_server_enable_turn(ovl_server_t *s, const char *const *ips, size_t n_ips, const uint16_t *ports,
                           size_t n_ports);

/** The built-in TURN server (borrowed), NULL until ovl_server_enable_turn: the media plane plugs its
 * datagram hooks in here (ovl_turn_glue_set_peer, ovl_turn_glue_from_peer). */
struct ovl_turn_glue *ovl_server_turn(ovl_server_t *s);

/** Stops and frees everything (open connections are closed). NULL is fine. */
void ovl_server_free(ovl_server_t *s);

#endif
