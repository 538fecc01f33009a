/*
 * The one TCP port: this module owns the listening sockets (IPv4 and IPv6), accepts non-blocking
 * connections, and classifies each by its first byte without consuming it (recv MSG_PEEK):
 *
 *   0x16 (a TLS record: ClientHello)  -> on_web(fd, tls = 1)   HTTPS / WSS
 *   printable ASCII ("GET ", "POST")  -> on_web(fd, tls = 0)   plain HTTP (redirected to HTTPS)
 *   anything else (0x00 0x?? of an RFC 4571 frame carrying STUN: ICE-TCP)
 *                                     -> on_raw_tcp(fd, first bytes), installed by the media plane;
 *                                        without one the socket is closed.
 *
 * Every socket it watches (listeners and connections waiting for their first byte) sits in its own
 * epoll set, whose single fd the caller's event loop watches (the server adopts it into lws); no
 * call blocks. A connection that sends nothing within first_byte_timeout is closed, and at most
 * max_pending wait at once (more are closed at accept).
 */
#ifndef OVL_LISTENER_H
#define OVL_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "relay/proto/base.h"

typedef struct ovl_listener ovl_listener_t;

typedef enum { OVL_FIRST_BYTE_TLS, OVL_FIRST_BYTE_HTTP, OVL_FIRST_BYTE_RAW } ovl_first_byte_t;

/** Classifies a connection by the first bytes it sent (at least one). */
ovl_first_byte_t ovl_listener_classify(const uint8_t *first, size_t len);

typedef struct ovl_listener_handlers {
    /** A TLS (tls = 1) or plain HTTP connection; the fd (non-blocking) now belongs to the callee. */
    void (*on_web)(void *ud, int fd, int tls);
    /**
     * Anything else; `first` holds the peeked bytes (still unread in the socket). NULL: closed.
     * The fd belongs to the callee.
     */
    void (*on_raw_tcp)(void *ud, int fd, const uint8_t *first, size_t len);
    void *ud;
} ovl_listener_handlers_t;

typedef struct ovl_listener_config {
    const char *listen;            /* "[::]:8443", "127.0.0.1:0", comma-separated list */
    uint32_t max_pending;          /* connections waiting for their first byte */
    ovl_time_t first_byte_timeout; /* microseconds */
} ovl_listener_config_t;

/**
 * Binds and listens on every address of cfg->listen ("[::]" is dual-stack; port 0 picks a free
 * port). Returns 0, OVL_ERR_ARG (bad address text) or OVL_ERR_IO, with `err` naming the address.
 */
int ovl_listener_new(const ovl_listener_config_t *cfg, const ovl_listener_handlers_t *h, ovl_listener_t **out,
                     char *err, size_t cap);

/** Closes every socket it still owns. NULL is fine. */
void ovl_listener_free(ovl_listener_t *l);

/** The fd to watch for readability (an epoll set). */
int ovl_listener_fd(const ovl_listener_t *l);

/** The port of the first listening socket (the real one when 0 was asked for). */
uint16_t ovl_listener_port(const ovl_listener_t *l);

/** Replaces the raw-TCP handler (the media plane installs one; NULL: such sockets are closed). */
void ovl_listener_set_raw_handler(ovl_listener_t *l, void (*on_raw_tcp)(void *, int, const uint8_t *, size_t),
                                  void *ud);

/** Call when ovl_listener_fd is readable: accepts and classifies whatever is ready. Never blocks. */
void ovl_listener_service(ovl_listener_t *l, ovl_time_t now);

/** Closes waiting connections older than the first-byte timeout. */
void ovl_listener_expire(ovl_listener_t *l, ovl_time_t now);

/** Stops accepting (closes the listening sockets); waiting connections are still classified. */
void ovl_listener_stop(ovl_listener_t *l);

/** Connections waiting for their first byte. */
size_t ovl_listener_pending(const ovl_listener_t *l);

/** Totals since start: accepted, classified raw, closed unclassified (timeout, cap, EOF, no handler). */
void ovl_listener_stats(const ovl_listener_t *l, uint64_t *accepted, uint64_t *raw, uint64_t *dropped);

#endif
