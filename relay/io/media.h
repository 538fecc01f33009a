/*
 * The media plane: the running SFU relay inside `overleg serve`.
 *
 *   signaling thread                         media worker i (one thread, relay/io/worker.h)
 *   ----------------                         ----------------------------------------------
 *   ovl_media_join/offer/answer/...  --cmd-->  rooms (relay/route) and transports
 *                                              (relay/transport) of the meetings placed on it,
 *   ovl_media_poll(i)  <--events (eventfd)--   its UDP socket (port base + i), timers, pool
 *
 * ovl_media_new makes one process-wide DTLS certificate, works out the addresses the relay
 * announces in its ICE candidates, and creates N workers (binding their sockets, so a port in
 * use is reported at start). A meeting's media lives on one worker: the first participant of a
 * meeting places it on the worker with the fewest participants, and it stays there while anyone
 * is in it. Commands are posted to that worker's queue; nothing is shared with the workers and
 * nothing is locked.
 *
 * Participants are named by the caller's 64-bit id (signaling's connection id) and carry a
 * public id (what other participants know them by, "p3"): the relay's offers announce every
 * forwarded track as `a=msid:<public id> <public id>-<audio|camera|screen>` (PROTOCOL.md, Tracks).
 *
 * Threads: every function here is for the controlling (signaling) thread, except
 * ovl_media_stats, which any thread may call.
 */
#ifndef OVL_IO_MEDIA_H
#define OVL_IO_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/proto/addr.h"
#include "relay/proto/base.h"

typedef struct ovl_media ovl_media_t;

#define OVL_MEDIA_MAX_WORKERS    256
#define OVL_MEDIA_MAX_ADDRS      8  /* addresses announced as candidates */
#define OVL_MEDIA_PUBLIC_ID_MAX  31 /* bytes of a participant's public id */
#define OVL_MEDIA_MEETING_ID_MAX 127

typedef struct ovl_media_config {
    unsigned workers;   /* 0: one per online CPU */
    uint16_t port_base; /* worker i binds UDP port_base + i; 0: ports the kernel picks (tests) */
    /* Numeric address to bind; NULL or "": "::" (IPv6 and IPv4), or 0.0.0.0 when the host has no IPv6. */
    const char *bind;
    /* Addresses announced in candidates, comma or space separated (IPv4 and IPv6); NULL or "": a
     * specific `bind` address, else the addresses of the machine's running, non-loopback interfaces
     * (IPv6 link-local left out), else 127.0.0.1. */
    const char *public_ips;
    ovl_time_t consent_timeout; /* RFC 7675 consent; 0: 30 s */
    ovl_time_t connect_timeout; /* from the answer to ICE nomination; 0: 30 s */
    size_t max_participants;    /* per meeting (route caps it at 256); 0: 50 */
    size_t max_transports;      /* per worker; 0: 4096 */
    size_t pool_packets;        /* per worker; 0: 8192 */
    size_t queue_capacity;      /* messages per queue direction, a power of two; 0: 4096 */
} ovl_media_config_t;

/* What comes up from the media plane (on the signaling thread, through ovl_media_poll). */
typedef enum ovl_media_out_type {
    OVL_MEDIA_OUT_OFFER = 1,      /* send `sdp` to `participant` as an offer */
    OVL_MEDIA_OUT_ANSWER,         /* send `sdp` to `participant` as the answer to its first offer */
    OVL_MEDIA_OUT_FAILED,         /* the participant's media failed (ICE, consent, DTLS, bad SDP); it is gone */
    OVL_MEDIA_OUT_ACTIVE_SPEAKER, /* `participant` is now the active speaker of its meeting */
} ovl_media_out_type_t;

typedef struct ovl_media_out {
    ovl_media_out_type_t type;
    uint64_t participant;
    const char *sdp;    /* OFFER, ANSWER: NUL-terminated, borrowed for the callback */
    const char *reason; /* FAILED: one sentence, borrowed for the callback */
} ovl_media_out_t;

/* Counters of one worker, as published by it about every 100 ms (snapshots; every member is a uint64_t). */
typedef struct ovl_media_stats {
    uint64_t port;
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes; /* UDP */
    uint64_t rx_calls, tx_calls;                         /* recvmmsg/sendmmsg calls that moved datagrams */
    uint64_t drop_unknown_source;                        /* no transport claims the datagram */
    uint64_t drop_not_connected;                         /* media for a participant whose transport is not up */
    uint64_t drop_no_buffer;                             /* packet pool empty (receive or send) */
    uint64_t drop_send;                                  /* send queue full or the kernel refused */
    uint64_t drop_route;         /* RTP the router dropped (unknown SSRC, duplicate...) or that failed to protect */
    uint64_t drop_transport[16]; /* by ovl_transport_drop_t (all transports, ever) */
    uint64_t rtp_in, rtp_out, rtcp_in, rtcp_out; /* through the router */
    uint64_t transports, rooms, participants;    /* now */
    uint64_t connected;                          /* transports CONNECTED now */
    uint64_t failed;                             /* participants dropped by a transport failure */
    uint64_t commands, events, events_deferred;  /* queue traffic; events that waited for room */
    uint64_t pool_in_use, pool_capacity;
    uint64_t tcp_accepted, tcp_open; /* ICE-TCP connections: handed to the worker ever, open now */
    uint64_t tcp_rx_frames, tcp_tx_frames, tcp_drop_audio, tcp_drop_video; /* of connections open now */
    uint64_t turn_rx_packets, turn_rx_bytes; /* datagrams from TURN allocations, short-circuited in */
    uint64_t turn_tx_packets, turn_tx_bytes; /* datagrams to TURN allocations, handed to signaling */
    uint64_t turn_drops;                     /* TURN datagrams dropped (bad path, too many lent, no buffer) */
    uint64_t turn_lent;                      /* pool packets lent to signaling for TURN now */
    uint64_t thin_frames[8]; /* video frames thinned (not forwarded to a subscriber), by ovl_thin_reason_t */
    uint64_t thin_raises;    /* times congestion raised a subscriber's thinning level */
} ovl_media_stats_t;

/**
 * Creates the plane without starting it: the certificate, the addresses, every worker with its
 * socket bound. Returns 0, or a negative OVL_ERR_* with one line in err naming the setting
 * ("media_port_base: cannot bind UDP port 10000: Address already in use").
 */
int ovl_media_new(const ovl_media_config_t *cfg, ovl_media_t **out, char *err, size_t cap);

/** Starts the worker threads. 0 or OVL_ERR_IO. */
int ovl_media_start(ovl_media_t *m);

/** Stops and joins the worker threads (each frees its rooms and transports). Idempotent. */
void ovl_media_stop(ovl_media_t *m);

/** Stops if needed and frees everything, queued messages included. NULL is fine. */
void ovl_media_free(ovl_media_t *m);

/** Number of workers. */
size_t ovl_media_worker_count(const ovl_media_t *m);

/** UDP port of worker i. */
uint16_t ovl_media_worker_port(const ovl_media_t *m, size_t i);

/** The addresses announced in candidates (numeric strings, borrowed), and how many. */
const char *const *ovl_media_public_addrs(const ovl_media_t *m, size_t *n);

/**
 * The public TCP port of the relay's passive ICE-TCP candidates (RFC 6544): the port HTTPS is
 * reached on (public_port, else the listen port), which signaling sorts (ovl_media_tcp_hand_off
 * receives the ICE-TCP connections). 0: no TCP candidates (the default). Before ovl_media_start only.
 */
void ovl_media_set_tcp_port(ovl_media_t *m, uint16_t port);

/**
 * An accepted ICE-TCP connection whose first RFC 4571 frame (still unread in the socket) carries
 * the relay ufrag ufrag[0..len) (tcp_accept.h finds it): fd goes to the worker the ufrag names
 * (ufrag.h), which serves it. Takes fd in every case (closed on failure). 0; OVL_ERR_PARSE (not a
 * relay ufrag), OVL_ERR_NOTFOUND (no such worker), OVL_ERR_AGAIN (the worker's queue is full),
 * OVL_ERR_NOMEM.
 */
int ovl_media_tcp_hand_off(ovl_media_t *m, int fd, const char *ufrag, size_t len);

/* ---- TURN allocations short-circuited into the workers (signaling thread) ---- */

/*
 * The built-in TURN server (signaling/turn_glue.c) lives on the signaling thread; its allocations
 * may only reach the relay's own media addresses (announced address k x worker port). Instead of
 * sending such a datagram through a UDP socket to the worker (a second kernel round trip, and NAT
 * hairpinning when the announced address is a public one), the signaling thread hands it to the
 * worker that owns the port, which takes it as if it had arrived on its socket from the
 * allocation's relayed address (ICE path "TURN to address k"); what the worker sends to that
 * relayed address comes back to the signaling thread (ovl_media_turn_poll) for the allocation's
 * client. Each worker lends signaling packets of its own pool through two lock-free rings (no
 * lock, no allocation per packet); the worker's eventfd / the ring's eventfd wake the other side.
 */

/** A datagram a worker sent to TURN relayed address `relayed` from its media address `from`;
 * data is borrowed for the call. */
typedef void (*ovl_media_turn_fn)(void *ctx, const ovl_addr_t *relayed, const ovl_addr_t *from, const uint8_t *data,
                                  size_t len);

/**
 * A datagram a TURN client sent from its allocation `relayed` to the relay's media address `to`
 * (copied). 0; OVL_ERR_NOTFOUND (to is no worker's announced address and port), OVL_ERR_ARG (too
 * long), OVL_ERR_AGAIN (the worker lent no free packet: dropped, as a full network would).
 */
int ovl_media_turn_send(ovl_media_t *m, const ovl_addr_t *relayed, const ovl_addr_t *to, const uint8_t *data,
                        size_t len);

/** Eventfd that becomes readable when worker i has datagrams for TURN allocations. */
int ovl_media_turn_fd(const ovl_media_t *m, size_t i);

/** Handles up to `budget` of worker i's datagrams for TURN allocations with fn. Returns how many. */
size_t ovl_media_turn_poll(ovl_media_t *m, size_t i, size_t budget, ovl_media_turn_fn fn, void *ctx);

/* ---- commands (signaling thread); each returns 0 or a negative OVL_ERR_* ---- */

/**
 * A participant (caller's id) was admitted to meeting `meeting_id`, known to the others as
 * `public_id` (1..OVL_MEDIA_PUBLIC_ID_MAX token characters). Places the meeting if new.
 * OVL_ERR_ARG (bad ids), OVL_ERR_STATE (id already joined), OVL_ERR_AGAIN (queue full), OVL_ERR_NOMEM.
 */
int ovl_media_join(ovl_media_t *m, const char *meeting_id, uint64_t participant, const char *public_id);

/**
 * The participant's first SDP offer (copied). It is parsed here first, so a malformed offer is
 * refused at once with OVL_ERR_PARSE (or OVL_ERR_UNSUPPORTED: no DTLS fingerprint or ICE
 * credentials); the answer comes later as OVL_MEDIA_OUT_ANSWER. OVL_ERR_NOTFOUND (not joined).
 */
int ovl_media_offer(ovl_media_t *m, uint64_t participant, const char *sdp);

/** The participant's answer to the relay's last offer (copied). OVL_ERR_NOTFOUND, OVL_ERR_AGAIN. */
int ovl_media_answer(ovl_media_t *m, uint64_t participant, const char *sdp);

/** New ICE credentials for the participant: a relay offer carrying them follows. */
int ovl_media_ice_restart(ovl_media_t *m, uint64_t participant);

/**
 * The participant's wish for camera video (`receive` message): false stops forwarding every
 * camera video to it (screen shares and audio keep flowing), true resumes them at a key frame.
 * OVL_ERR_NOTFOUND (not joined), OVL_ERR_AGAIN (queue full).
 */
int ovl_media_receive(ovl_media_t *m, uint64_t participant, bool video);

/** The participant left: its transport and tracks go, the others get offers retiring them. */
void ovl_media_leave(ovl_media_t *m, uint64_t participant);

/** The meeting ended: everyone still in it goes. */
void ovl_media_end(ovl_media_t *m, const char *meeting_id);

/* ---- events (signaling thread) ---- */

/** Eventfd that becomes readable when worker i has events (watch it in the signaling loop). */
int ovl_media_events_fd(const ovl_media_t *m, size_t i);

/** Handles up to `budget` of worker i's events with fn(ev, ctx). Returns how many. */
size_t ovl_media_poll(ovl_media_t *m, size_t i, size_t budget, void (*fn)(const ovl_media_out_t *ev, void *ctx),
                      void *ctx);

/* ---- counters (any thread) ---- */

/** Copies worker i's last published counters into *out. */
void ovl_media_stats(const ovl_media_t *m, size_t i, ovl_media_stats_t *out);

/** Commands refused because a worker's queue was full, since start (signaling thread). */
uint64_t ovl_media_commands_refused(const ovl_media_t *m);

/** Renders every worker's counters as Prometheus text (format 0.0.4) into a new string; NULL on NOMEM. */
char *ovl_media_metrics_render(const ovl_media_t *m);

#endif
