/*
 * ICE-TCP connections of a media worker: the passive side of RFC 6544, each connection carrying
 * RFC 4571 frames (a 2-byte big-endian length, then that many bytes: one STUN, DTLS, SRTP or
 * SRTCP "datagram").
 *
 *      0                   1                   2                   3
 *      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *     -----------------------------------------------------------------
 *     |             LENGTH            |  RTP or RTCP packet ...       |
 *     -----------------------------------------------------------------
 *                     RFC 4571 §2: the framing of every ICE-TCP packet
 *
 * Receive: each connection reads with one recv into its own read buffer, cuts whole frames out of
 * it and hands each one up (on_frame) in a packet from the worker's pool, with the connection's
 * path_id and peer address, exactly as a UDP datagram would be (ovl_transport_on_datagram,
 * ovl_transport_map_dispatch). Frames split across reads are reassembled; several frames per read
 * are delivered in order. A frame longer than `max_frame` (at most OVL_POOL_DATA; RFC 4571 allows
 * 65535 but no WebRTC packet comes near) cannot be resynchronised and closes the connection. When
 * the pool is exhausted the frame is dropped and counted; the stream stays in step.
 *
 * Send: frames are queued (a reference to the caller's pool packet; the 2-byte length lives in
 * the queue entry, so a shared packet is never modified) in two queues, AUDIO (audio and every
 * non-media frame: STUN, DTLS, RTCP) and VIDEO. At the end of each loop turn the set writes every
 * connection with queued frames with one sendmsg (a gather write of up to OVL_TCP_WRITE_FRAMES
 * frames, MSG_NOSIGNAL | MSG_DONTWAIT): first the rest of a frame a previous write left half
 * sent, then all of AUDIO, then VIDEO. Nothing ever blocks: a short write leaves the rest (down
 * to the exact byte) for later and turns EPOLLOUT interest on; when the socket drains, interest
 * goes back to read only.
 *
 * Queue limits, in frames and in bytes (2 + length per frame), are hard caps; video is accepted
 * only while the queue holds fewer than `video_queue_bytes` (a lower, soft limit), so a slow
 * reader fills the queue with audio's headroom still free. An audio frame that does not fit evicts
 * queued video frames (newest first) until it does; only when no video is left is audio dropped.
 * Frames are dropped whole and only before their first byte is written: the frame in flight is
 * always completed, so the stream never desynchronises. Drops are counted per class.
 *
 * STUN gate: Chromium drops an ICE-TCP connection that receives anything but STUN before its
 * binding completes. A connection made with `stun_only` refuses to queue anything but STUN until
 * ovl_tcp_conn_validate (the owner calls it once ICE has validated the connection's path).
 *
 * Timeouts: a connection is closed when no whole frame arrives within `first_frame_timeout` of
 * its creation, when a `stun_only` connection is not validated within `validate_timeout`, and when
 * nothing arrives for `idle_timeout` (Chromium sends a consent check every 5 s or so, RFC 7675).
 *
 * Closing: a connection closes itself (peer EOF, error, timeout, oversize frame) by calling
 * on_close once and then freeing itself: the owner forgets it there. The owner closes one with
 * ovl_tcp_conn_free (no on_close). Either may happen inside any callback of the connection; its
 * memory is released once the callback returns.
 *
 * Allocation: a connection's buffers and queues are allocated when it is created, never per
 * frame. Single-threaded: a set and its connections belong to one worker's loop.
 */
#ifndef OVL_IO_TCP_CONN_H
#define OVL_IO_TCP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/proto/addr.h"
#include "relay/proto/base.h"
#include "relay/proto/stun.h"

typedef struct ovl_tcp_set ovl_tcp_set_t;
typedef struct ovl_tcp_conn ovl_tcp_conn_t;

/* Send priority. AUDIO is every frame that must not wait behind video: audio RTP, RTCP, STUN, DTLS. */
typedef enum ovl_tcp_prio {
    OVL_TCP_PRIO_AUDIO = 0,
    OVL_TCP_PRIO_VIDEO = 1,
} ovl_tcp_prio_t;
#define OVL_TCP_PRIO_COUNT 2

typedef enum ovl_tcp_close_reason {
    OVL_TCP_CLOSE_EOF = 1,          /* the peer closed its side */
    OVL_TCP_CLOSE_ERROR,            /* a read or write failed: `err` holds errno */
    OVL_TCP_CLOSE_FIRST_TIMEOUT,    /* no whole frame within first_frame_timeout */
    OVL_TCP_CLOSE_VALIDATE_TIMEOUT, /* stun_only and not validated within validate_timeout */
    OVL_TCP_CLOSE_IDLE_TIMEOUT,     /* nothing received for idle_timeout */
    OVL_TCP_CLOSE_FRAME_TOO_BIG,    /* a frame longer than max_frame */
} ovl_tcp_close_reason_t;
#define OVL_TCP_CLOSE_REASONS 7 /* array size for counters indexed by reason */

/* Frames per gather write (two iovecs each). */
#define OVL_TCP_WRITE_FRAMES 64u
/* Largest RFC 4571 frame length. */
#define OVL_TCP_FRAME_MAX 65535u

/* Defaults for the zero fields of ovl_tcp_config_t. */
#define OVL_TCP_DEFAULT_QUEUE_BYTES   (256u * 1024u)
#define OVL_TCP_DEFAULT_QUEUE_FRAMES  512u
#define OVL_TCP_DEFAULT_FIRST_TIMEOUT OVL_SEC(10)
#define OVL_TCP_DEFAULT_VALIDATE      OVL_SEC(30)
#define OVL_TCP_DEFAULT_IDLE          OVL_SEC(30)
#define OVL_TCP_DEFAULT_NOTSENT_LOWAT (32 * 1024)
#define OVL_TCP_DEFAULT_READS         4u

/*
 * For tests: replacements of the two system calls, with the semantics of recv(2) (flags
 * MSG_DONTWAIT) and sendmsg(2) (flags MSG_NOSIGNAL | MSG_DONTWAIT). Loopback rarely writes short;
 * these let a test cut writes at any byte.
 */
typedef struct ovl_tcp_sys {
    ssize_t (*recv)(int fd, void *buf, size_t len, void *ctx);
    ssize_t (*sendmsg)(int fd, const struct msghdr *msg, void *ctx);
    void *ctx;
} ovl_tcp_sys_t;

/* Limits shared by every connection of a set. A zero field takes its default. */
typedef struct ovl_tcp_config {
    size_t max_frame;               /* longest frame received, 1..OVL_POOL_DATA; 0: OVL_POOL_DATA */
    size_t rx_buffer;               /* read buffer per connection, >= max_frame + 2; 0: 4 * (max_frame + 2) */
    size_t queue_bytes;             /* send queue hard cap, framing included; 0: OVL_TCP_DEFAULT_QUEUE_BYTES */
    size_t queue_frames;            /* send queue hard cap in frames; 0: OVL_TCP_DEFAULT_QUEUE_FRAMES */
    size_t video_queue_bytes;       /* video queued only below this; 0: queue_bytes / 2 */
    ovl_time_t first_frame_timeout; /* 0: default; OVL_TIME_NEVER: none */
    ovl_time_t validate_timeout;    /* 0: default; OVL_TIME_NEVER: none */
    ovl_time_t idle_timeout;        /* 0: default; OVL_TIME_NEVER: none */
    int sndbuf;                     /* SO_SNDBUF in bytes; 0: the system's */
    int notsent_lowat;              /* TCP_NOTSENT_LOWAT: unsent bytes the kernel holds (so the
                                     * queue, not the kernel, decides what waits); 0: default; <0: the system's */
    unsigned reads_per_event;       /* recv calls per readable event (fairness); 0: OVL_TCP_DEFAULT_READS */
    const ovl_tcp_sys_t *sys;       /* tests only; NULL: the kernel's */
} ovl_tcp_config_t;

/** A whole frame received. pkt is borrowed: the connection drops its reference when the callback
 * returns (take ovl_pkt_ref to keep it). The callback may send, validate or free the connection. */
typedef void (*ovl_tcp_frame_cb)(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_time_t now, void *ctx);

/** The connection closed itself (not called after ovl_tcp_conn_free). It is freed when the callback
 * returns: drop every pointer to it. `err` is an errno for OVL_TCP_CLOSE_ERROR, else 0. */
typedef void (*ovl_tcp_close_cb)(ovl_tcp_conn_t *c, ovl_tcp_close_reason_t reason, int err, void *ctx);

typedef struct ovl_tcp_conn_params {
    uint64_t path_id;       /* the owner's unique name for this connection (ICE path_id) */
    bool stun_only;         /* refuse non-STUN sends until ovl_tcp_conn_validate */
    const uint8_t *initial; /* bytes of the stream already read from the socket (copied); may be NULL */
    size_t initial_len;     /* at most rx_buffer */
    ovl_tcp_frame_cb on_frame;
    ovl_tcp_close_cb on_close;
    void *ctx; /* borrowed, passed to both callbacks */
} ovl_tcp_conn_params_t;

typedef struct ovl_tcp_conn_stats {
    uint64_t rx_frames, rx_bytes;            /* frames handed up and their bytes (without framing) */
    uint64_t rx_nobuf;                       /* frames dropped: packet pool exhausted */
    uint64_t rx_empty;                       /* zero-length frames skipped */
    uint64_t tx_frames, tx_bytes;            /* frames completely written, and their bytes (without framing) */
    uint64_t tx_calls;                       /* sendmsg calls that wrote something */
    uint64_t tx_short;                       /* writes that stopped inside the queued data */
    uint64_t tx_blocked;                     /* flushes that found the socket full (EAGAIN or a short write) */
    uint64_t tx_gated;                       /* non-STUN frames refused by the STUN gate */
    uint64_t tx_nobuf;                       /* ovl_tcp_conn_send_copy found the pool empty */
    uint64_t drops[OVL_TCP_PRIO_COUNT];      /* frames dropped or evicted, per class */
    uint64_t drop_bytes[OVL_TCP_PRIO_COUNT]; /* their bytes (without framing) */
    size_t queued_bytes;                     /* waiting now, framing included */
    size_t queued_frames;                    /* waiting now (a half-sent frame counts) */
    size_t queue_high_water;                 /* most bytes waiting at once */
} ovl_tcp_conn_stats_t;

typedef struct ovl_tcp_set_stats {
    size_t conns;                           /* open now */
    uint64_t opened;                        /* connections made */
    uint64_t closed[OVL_TCP_CLOSE_REASONS]; /* closed by themselves, per reason */
    uint64_t freed;                         /* closed by their owner */
} ovl_tcp_set_stats_t;

/**
 * Creates the set of ICE-TCP connections of one worker: their shared limits (cfg copied), the
 * worker's pool (borrowed), and an end-of-turn hook in `loop` (borrowed) that writes what the
 * turn queued. The hook cannot be removed: free the set only once the loop runs no more turns
 * (with the worker). Returns 0, OVL_ERR_ARG (a limit out of range), OVL_ERR_NOMEM or OVL_ERR_LIMIT
 * (the loop has no room for another hook).
 */
int ovl_tcp_set_new(ovl_tcp_set_t **out, ovl_loop_t *loop, ovl_pool_t *pool, const ovl_tcp_config_t *cfg);

/** Frees every connection still open (closing their sockets, no on_close), then the set. NULL is fine. */
void ovl_tcp_set_free(ovl_tcp_set_t *set);

/** Writes every connection with queued frames now (the end-of-turn hook calls it). */
void ovl_tcp_set_flush(ovl_tcp_set_t *set);

/** Copies the set's counters into *out. */
void ovl_tcp_set_stats(const ovl_tcp_set_t *set, ovl_tcp_set_stats_t *out);

/**
 * Makes a connection of `fd` (a connected TCP socket; the set owns it from now on, also on
 * failure, when it is closed): makes it non-blocking, sets TCP_NODELAY, the send buffer and
 * TCP_NOTSENT_LOWAT, reads its addresses, watches it in the loop and starts its timeouts. Bytes in
 * params->initial are handled as if read first, in the loop's next turn. Returns 0, OVL_ERR_ARG,
 * OVL_ERR_NOMEM or OVL_ERR_IO.
 */
int ovl_tcp_conn_new(ovl_tcp_conn_t **out, ovl_tcp_set_t *set, int fd, const ovl_tcp_conn_params_t *params,
                     ovl_time_t now);

/** Closes the socket, drops the queued frames and frees the connection, without on_close. Safe
 * inside the connection's own callbacks (then the memory goes when the callback returns). */
void ovl_tcp_conn_free(ovl_tcp_conn_t *c);

/**
 * Queues pkt->data[0 .. pkt->len) as one frame of class `prio`, taking its own reference (the
 * caller keeps its own and must not change the bytes any more). It leaves at the end of this
 * loop turn (or with ovl_tcp_conn_flush). Returns 0 (queued, possibly after evicting video),
 * OVL_ERR_LIMIT (dropped and counted: the queue is full for this class), OVL_ERR_STATE (the STUN
 * gate refused a non-STUN frame; counted) or OVL_ERR_ARG (length 0 or above OVL_TCP_FRAME_MAX).
 */
int ovl_tcp_conn_send(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_tcp_prio_t prio);

/** The same for bytes the caller keeps (copied into a packet of the set's pool; e.g. the output of
 * ovl_transport's send callback). Also OVL_ERR_LIMIT when the pool is empty (counted tx_nobuf). */
int ovl_tcp_conn_send_copy(ovl_tcp_conn_t *c, const uint8_t *data, size_t len, ovl_tcp_prio_t prio);

/** Writes now instead of at the end of the turn. Returns 0 (queue empty), OVL_ERR_AGAIN (the
 * socket is full; the rest leaves when it drains) or OVL_ERR_STATE (the connection closed). */
int ovl_tcp_conn_flush(ovl_tcp_conn_t *c);

/** Opens the STUN gate: from now on every frame may be sent. */
void ovl_tcp_conn_validate(ovl_tcp_conn_t *c);

/** True once ovl_tcp_conn_validate was called (always true without stun_only). */
bool ovl_tcp_conn_validated(const ovl_tcp_conn_t *c);

/** The owner's path_id of this connection. */
uint64_t ovl_tcp_conn_path_id(const ovl_tcp_conn_t *c);

/** The peer's address (the `from` of every frame) and the local address it connected to. */
const ovl_addr_t *ovl_tcp_conn_peer(const ovl_tcp_conn_t *c);
const ovl_addr_t *ovl_tcp_conn_local(const ovl_tcp_conn_t *c);

/** The socket (owned by the connection). */
int ovl_tcp_conn_fd(const ovl_tcp_conn_t *c);

/** Copies the connection's counters into *out. */
void ovl_tcp_conn_stats(const ovl_tcp_conn_t *c, ovl_tcp_conn_stats_t *out);

/** Stable name of a close reason ("eof", "error", ...). */
const char *ovl_tcp_close_reason_name(ovl_tcp_close_reason_t reason);

/* ---- hand-off: which worker an accepted connection belongs to --------------------------------- */

/* Most bytes to peek for the first frame: a Binding request with the longest USERNAME (two
 * 256-character ufrags, RFC 8839 §5.4) and every attribute Chromium adds stays well under this. */
#define OVL_TCP_FIRST_FRAME_MAX (2u + 1024u)

/**
 * Reads the first RFC 4571 frame of a new ICE-TCP connection from buf[0..len) (bytes peeked from
 * the socket, still unread), which must hold a STUN Binding request (RFC 8445 §7.2.2) with a valid
 * FINGERPRINT and a USERNAME: sets *ufrag to the local (relay) ufrag, the part of USERNAME before
 * the ':' (borrowed from buf; ovl_media_ufrag_worker tells the worker), and *frame_len (may be
 * NULL) to the frame's size with its prefix. MESSAGE-INTEGRITY is not checked here (the worker's
 * ICE agent does). Pure; no allocation. Returns 0; OVL_ERR_AGAIN when buf does not hold the whole
 * frame yet (peek again when more has arrived); OVL_ERR_PARSE when it is not such a frame, or
 * longer than OVL_TCP_FIRST_FRAME_MAX (not ICE-TCP: close it).
 */
int ovl_tcp_first_frame_ufrag(const uint8_t *buf, size_t len, ovl_stun_text_t *ufrag, size_t *frame_len);

#endif
