/*
 * The media plane's parts as its files share them (not for callers; media.h is the API):
 *
 *   media.c         the plane, on the signaling thread: certificate, addresses, workers, placement
 *                   of meetings, participant -> worker map, commands down, events up.
 *   media_worker.c  one worker's hooks: datagrams -> transport map, commands, tick (stats, event
 *                   backlog), end of turn (timers to arm, participants to reap).
 *   media_part.c    participants and rooms on a worker: transports, route participants, the
 *                   route sink (pool buffers, protect in place, sendmmsg queue), timers.
 *   media_nego.c    one participant's SDP: the first offer, the relay's offers and the client's
 *                   answers in order (one outstanding offer), ICE restarts.
 *   media_sdp.c     SDP text work: ICE credentials, the client offer's transport parameters,
 *                   msid / credentials / version rewriting, the restart offer.
 *   media_addr.c    the addresses announced in candidates.
 *   media_metrics.c Prometheus text of the workers' counters.
 *
 * Ownership on a worker: the worker owns its rooms (hash by meeting id) and participants (hash by
 * id); a room owns its route room; a participant owns its transport; the route room owns the
 * route participants. Everything here runs on the worker's thread.
 */
#ifndef OVL_IO_MEDIA_INT_H
#define OVL_IO_MEDIA_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "relay/io/media.h"
#include "relay/io/tcp_conn.h"
#include "relay/io/ufrag.h"
#include "relay/io/worker.h"
#include "relay/proto/dtls_cert.h"
#include "relay/proto/sdp.h"
#include "relay/route/route.h"
#include "relay/transport/transport.h"
#include "relay/transport/transport_map.h"

/* ICE ufrag: OVL_MEDIA_UFRAG_LEN (ufrag.h) characters naming the worker, then 84 random bits. */
#define OVL_MEDIA_PWD_LEN  24 /* ICE password: 144 random bits (RFC 8445 §5.3 asks for at least 128) */
#define OVL_MEDIA_PATH_UDP 1  /* path_id of a worker's UDP socket (ICE-TCP connections get others) */
/* path_ids of TURN allocations short-circuited into a worker (media_turn.c): OVL_MEDIA_PATH_TURN + k
 * is "through an allocation, to announced address k"; far above any ICE-TCP path_id. */
#define OVL_MEDIA_PATH_TURN     ((uint64_t)1 << 62)
#define OVL_MEDIA_TURN_LENT_MAX 512  /* pool packets a worker lends to signaling for TURN, at most */
#define OVL_MEDIA_TURN_CREDIT   128  /* empty packets the worker keeps lent for TURN data coming in */
#define OVL_MEDIA_TURN_RING     1024 /* messages per TURN ring (above LENT_MAX: a push cannot fail) */
#define OVL_MEDIA_TICK          OVL_MS(200)
#define OVL_MEDIA_PART_BUCKETS  1024
#define OVL_MEDIA_ROOM_BUCKETS  256

/* Commands, ovl_worker_msg_t.type (signaling -> worker); id is the participant. */
enum {
    OVL_MEDIA_CMD_JOIN = 1,    /* payload: ovl_media_join_cmd_t */
    OVL_MEDIA_CMD_OFFER,       /* payload: ovl_media_offer_cmd_t */
    OVL_MEDIA_CMD_ANSWER,      /* payload: SDP text, NUL-terminated, len bytes */
    OVL_MEDIA_CMD_ICE_RESTART, /* no payload */
    OVL_MEDIA_CMD_LEAVE,       /* no payload */
    OVL_MEDIA_CMD_END,         /* payload: the meeting id, NUL-terminated; id unused */
    OVL_MEDIA_CMD_TCP,         /* payload: an int, the fd of an ICE-TCP connection (closed by dispose) */
    OVL_MEDIA_CMD_RECEIVE,     /* arg: 1 camera video wanted, 0 not (no payload) */
};
/* Events (worker -> signaling): type is an ovl_media_out_type_t, id the participant, payload the
 * SDP (OFFER, ANSWER) or the reason (FAILED), NUL-terminated. */

typedef struct ovl_media_join_cmd {
    char meeting[OVL_MEDIA_MEETING_ID_MAX + 1];
    char public_id[OVL_MEDIA_PUBLIC_ID_MAX + 1];
} ovl_media_join_cmd_t;

typedef struct ovl_media_offer_cmd {
    char remote_ufrag[OVL_ICE_UFRAG_MAX + 1];  /* the client's ICE ufrag */
    ovl_dtls_fingerprint_t remote_fingerprint; /* the client's certificate fingerprint */
    size_t len;
    char sdp[]; /* the offer, len bytes and a NUL */
} ovl_media_offer_cmd_t;

/* What every worker shares (read-only once the threads run). */
typedef struct ovl_media_shared {
    const ovl_dtls_cert_t *cert; /* borrowed from the plane */
    uint8_t fingerprint_sha256[32];
    char addrs[OVL_MEDIA_MAX_ADDRS][64];      /* announced addresses */
    ovl_addr_t addr_bin[OVL_MEDIA_MAX_ADDRS]; /* the same, parsed (port 0) */
    size_t n_addrs;
    bool v6_socket; /* sockets are IPv6 (dual stack): IPv4 peers appear IPv4-mapped */
    ovl_ice_lite_config_t ice;
    size_t max_participants;
    uint16_t tcp_port; /* the public TCP port of the passive ICE-TCP candidates; 0: none */
} ovl_media_shared_t;

typedef struct ovl_media_worker ovl_media_worker_t;
typedef struct ovl_media_room ovl_media_room_t;
typedef struct ovl_media_part ovl_media_part_t;
typedef struct ovl_media_tcp ovl_media_tcp_t;
#define OVL_MEDIA_TCP_BUCKETS 256

/* Where a participant's negotiation is (media_nego.c). */
typedef enum ovl_media_nego {
    OVL_MEDIA_NEGO_IDLE = 0, /* no relay offer is with the client */
    OVL_MEDIA_NEGO_ROUTE,    /* the router's offer is with the client */
    OVL_MEDIA_NEGO_RESTART,  /* our ICE-restart offer is with the client */
} ovl_media_nego_t;

struct ovl_media_part {
    ovl_media_part_t *hash_next;   /* worker's participant table */
    ovl_media_part_t *room_next;   /* room's list */
    ovl_media_part_t *doomed_next; /* worker's reap list */
    ovl_media_part_t *dirty_next;  /* worker's timer re-arm list */
    ovl_media_worker_t *mw;        /* back-ref */
    ovl_media_room_t *room;        /* back-ref */
    uint64_t id;
    char public_id[OVL_MEDIA_PUBLIC_ID_MAX + 1];
    ovl_transport_t *t;                  /* owned; NULL until the first offer */
    ovl_route_participant_t *rp;         /* owned by the route room */
    ovl_timer_t timer;                   /* the transport's next timeout */
    char ufrag[OVL_MEDIA_UFRAG_LEN + 1]; /* current local ICE credentials */
    char pwd[OVL_MEDIA_PWD_LEN + 1];
    uint64_t session_id, sdp_version; /* o= line of every description we send */
    ovl_media_nego_t nego;
    bool creds_announced; /* the current credentials went out in an offer or answer */
    char *local_sdp;      /* owned: the last description the client accepted */
    char *pending_sdp;    /* owned: the offer with the client */
    char *held_offer;     /* owned: a router offer waiting for our restart offer's answer */
    uint64_t path_id;     /* the ICE-selected path (OVL_MEDIA_PATH_UDP or an ICE-TCP connection); 0: none */
    bool connected, doomed, dirty, failed;
};

struct ovl_media_room {
    ovl_media_room_t *hash_next;
    ovl_media_worker_t *mw; /* back-ref */
    char meeting[OVL_MEDIA_MEETING_ID_MAX + 1];
    ovl_route_room_t *route; /* owned */
    ovl_timer_t timer;       /* the route room's next timeout */
    ovl_media_part_t *parts; /* borrowed list */
    size_t n_parts;
};

/* Counters kept on the worker thread (published as ovl_media_stats_t). */
typedef struct ovl_media_counters {
    uint64_t drop_unknown_source, drop_not_connected, drop_no_buffer, drop_send, drop_route;
    uint64_t drop_transport[OVL_TRANSPORT_DROP_COUNT]; /* of transports already freed */
    uint64_t rtp_in, rtp_out, rtcp_in, rtcp_out;
    uint64_t failed, commands, events, events_deferred;
    uint64_t tcp_accepted; /* ICE-TCP connections handed to this worker */
    uint64_t turn_rx_packets, turn_rx_bytes, turn_tx_packets, turn_tx_bytes, turn_drops; /* media_turn.c */
    uint64_t thin_frames[OVL_THIN_REASONS], thin_raises;                                 /* of rooms already freed */
} ovl_media_counters_t;

#define OVL_MEDIA_STATS_WORDS (sizeof(ovl_media_stats_t) / sizeof(uint64_t))

typedef struct ovl_media_backlog {
    struct ovl_media_backlog *next;
    ovl_worker_msg_t msg;
} ovl_media_backlog_t;

struct ovl_media_worker {
    ovl_worker_t *w;                  /* owned */
    const ovl_media_shared_t *shared; /* borrowed */
    unsigned index;
    ovl_transport_map_t *map;                           /* owned */
    ovl_sdp_candidate_t cands[2 * OVL_MEDIA_MAX_ADDRS]; /* UDP, then passive ICE-TCP */
    size_t n_cands;
    ovl_media_part_t *parts[OVL_MEDIA_PART_BUCKETS];
    ovl_media_room_t *rooms[OVL_MEDIA_ROOM_BUCKETS];
    size_t n_parts, n_rooms, n_transports;
    ovl_media_part_t *doomed, *dirty;
    ovl_media_backlog_t *backlog, *backlog_tail;
    ovl_time_t now; /* the loop's time for the hook being run */
    ovl_time_t next_clock;
    uint64_t room_seq;
    ovl_media_counters_t c;
    ovl_tcp_set_t *tcp;                                /* owned; NULL until the thread starts */
    ovl_media_tcp_t *tcp_conns[OVL_MEDIA_TCP_BUCKETS]; /* by path_id */
    uint64_t next_path;                                /* path_id of the next ICE-TCP connection */
    _Atomic uint64_t snapshot[OVL_MEDIA_STATS_WORDS];  /* ovl_media_stats_t, word by word */
    /* TURN short-circuit (media_turn.c): two rings, each with one producer and one consumer. */
    ovl_spsc_t *turn_down; /* owned: signaling -> worker (data from allocations, packets given back) */
    ovl_spsc_t *turn_up;   /* owned: worker -> signaling (data to allocations, empty packets) */
    size_t turn_lent;      /* worker thread: packets of its pool that signaling holds or that are in the rings */
    ovl_pkt_t *turn_stash[OVL_MEDIA_TURN_LENT_MAX]; /* signaling thread: empty packets lent to it */
    size_t turn_stash_n;                            /* signaling thread */
};

/* ---- media_worker.c ---- */
/** Creates worker `index` (socket bound, not started). */
int ovl_media_worker_new(ovl_media_worker_t **out, const ovl_media_shared_t *shared, const ovl_worker_config_t *wcfg,
                         size_t max_transports);
void ovl_media_worker_free(ovl_media_worker_t *mw);
/** Queues an event for signaling (kept in a backlog when the queue is full). Takes `payload` (malloc'd or NULL). */
void ovl_media_worker_emit(ovl_media_worker_t *mw, uint32_t type, uint64_t id, char *payload);
/** Reads the last published snapshot (any thread). */
void ovl_media_worker_snapshot(const ovl_media_worker_t *mw, ovl_media_stats_t *out);

/** (Re)makes the worker's candidates from the shared addresses, ports and tcp_port (before start). */
void ovl_media_worker_candidates(ovl_media_worker_t *mw);

/* ---- media_tcp.c ---- */
/** Worker thread start: the ICE-TCP connection set. 0 or a negative OVL_ERR_*. */
int ovl_media_tcp_start(ovl_media_worker_t *mw);
/** Worker thread end: closes every ICE-TCP connection. */
void ovl_media_tcp_stop(ovl_media_worker_t *mw);
/** CMD_TCP: makes an ICE-TCP connection of fd (taken) with the next path_id. */
void ovl_media_tcp_adopt(ovl_media_worker_t *mw, int fd);
/** Queues pkt (a reference is taken) on ICE-TCP path `path_id`. 0, or a negative OVL_ERR_* (counted by the caller). */
/** The counters of ICE-TCP path `path_id`. 0 or OVL_ERR_NOTFOUND. */
int ovl_media_tcp_path_stats(const ovl_media_worker_t *mw, uint64_t path_id, ovl_tcp_conn_stats_t *out);
/** Adds the ICE-TCP counters to *s (worker thread). */
void ovl_media_tcp_counters(const ovl_media_worker_t *mw, ovl_media_stats_t *s);
int ovl_media_tcp_send(ovl_media_worker_t *mw, ovl_pkt_t *pkt, uint64_t path_id, ovl_tcp_prio_t prio);

/* ---- media_turn.c ---- */
/** Creates the worker's two TURN rings (before start). 0 or a negative OVL_ERR_*. */
int ovl_media_turn_new(ovl_media_worker_t *mw);
/** Frees the rings (after the thread ended); lent packets go with the pool. */
void ovl_media_turn_free(ovl_media_worker_t *mw);
/** Worker thread start: watches the down ring in the loop and lends the first empty packets. */
int ovl_media_turn_start(ovl_media_worker_t *mw);
/** Worker thread: pkt (a reference is taken, or a copy made) to the allocation `to->addr` on TURN
 * path `to->path_id`. 0, or a negative OVL_ERR_* (counted by the caller). */
int ovl_media_turn_queue(ovl_media_worker_t *mw, ovl_pkt_t *pkt, const ovl_ice_path_t *to);
/** Adds the TURN counters to *s (worker thread). */
void ovl_media_turn_counters(const ovl_media_worker_t *mw, ovl_media_stats_t *s);
/** Signaling thread: data[0..len) from allocation `relayed` to announced address k of this worker
 * (copied into a lent packet). 0, OVL_ERR_ARG (too long), OVL_ERR_AGAIN (no lent packet: dropped). */
int ovl_media_turn_lane_send(ovl_media_worker_t *mw, size_t k, const ovl_addr_t *relayed, const uint8_t *data,
                             size_t len);
/** Signaling thread: handles up to `budget` datagrams the worker sent towards allocations. */
size_t ovl_media_turn_lane_poll(ovl_media_worker_t *mw, size_t budget, ovl_media_turn_fn fn, void *ctx);

/* ---- media_part.c ---- */
ovl_media_part_t *ovl_media_part_find(const ovl_media_worker_t *mw, uint64_t id);
ovl_media_room_t *ovl_media_room_find(const ovl_media_worker_t *mw, const char *meeting);
/** JOIN: the room (made if new), a route participant, fresh ICE credentials. */
void ovl_media_part_join(ovl_media_worker_t *mw, uint64_t id, const ovl_media_join_cmd_t *cmd);
/** The client's first offer: the transport, then the router answers. */
void ovl_media_part_offer(ovl_media_part_t *p, const ovl_media_offer_cmd_t *cmd);
/** Removes a participant now (not from inside its transport's callbacks): route, transport, room if empty. */
void ovl_media_part_remove(ovl_media_part_t *p, bool close_transport);
/** Frees a room and everyone in it without events (meeting end, shutdown). */
void ovl_media_room_free(ovl_media_room_t *r);
/** The participant failed: FAILED goes up once and it is removed at the end of the turn. */
void ovl_media_part_fail(ovl_media_part_t *p, const char *reason);
/** Arms p's transport timer if its next timeout is earlier than the armed one. */
void ovl_media_part_arm(ovl_media_part_t *p);
/** Arms the room's timer if the router's next timeout is earlier than the armed one. */
void ovl_media_room_arm(ovl_media_room_t *r);
/** New random ICE credentials for p that no other transport of the worker uses. */
void ovl_media_part_new_credentials(ovl_media_part_t *p);

/* ---- media_nego.c ---- */
/** Router event: SDP for participant p (answer or offer). */
void ovl_media_nego_route_sdp(ovl_media_part_t *p, const char *type, const char *text);
/** The client's answer (SDP text). */
void ovl_media_nego_answer(ovl_media_part_t *p, const char *sdp, size_t len);
/** ICE restart: new credentials, transport restarted, the offer carrying them sent when nothing is outstanding. */
void ovl_media_nego_ice_restart(ovl_media_part_t *p);
/** Frees p's SDP texts. */
void ovl_media_nego_dispose(ovl_media_part_t *p);

/* ---- media_sdp.c ---- */
/**
 * New ICE credentials (RFC 8839 §5.4 ice-chars, RAND_bytes): ufrag (OVL_MEDIA_UFRAG_LEN characters
 * and a NUL) naming `worker` by the rule of ufrag.h, and pwd[0..plen) plus a NUL. 0, OVL_ERR_ARG or
 * OVL_ERR_CRYPTO.
 */
int ovl_media_sdp_credentials(unsigned worker, char ufrag[OVL_MEDIA_UFRAG_LEN + 1], char *pwd, size_t plen);

/**
 * From a client's offer: the ICE ufrag and the DTLS fingerprint (SHA-256 preferred) of its first
 * accepted section (session level as fallback). OVL_ERR_PARSE (bad SDP), OVL_ERR_UNSUPPORTED (no
 * usable ufrag or fingerprint).
 */
int ovl_media_sdp_offer_params(const char *sdp, size_t len, char *ufrag, size_t ucap, ovl_dtls_fingerprint_t *fp);

/* How ovl_media_sdp_rewrite changes a description. */
typedef struct ovl_media_sdp_edit {
    const char *ufrag, *pwd; /* replace every a=ice-ufrag / a=ice-pwd value; NULL: keep */
    uint64_t version;        /* replace the o= sess-version; 0: keep */
    /* Public id of route participant `id`, or NULL (then the msid is kept). */
    const char *(*public_id)(void *ctx, uint64_t id);
    void *ctx;
} ovl_media_sdp_edit_t;

/**
 * Copies SDP text with the edits applied; msid stream ids "ovl-<id>" or "<id>" (decimal) become
 * the publisher's public id P and track ids "...audio|camera|screen" "P-<slot>" (unique in the
 * connection: browsers use it as MediaStreamTrack.id), in a=msid and a=ssrc ... msid: lines.
 * *out is malloc'd and NUL-terminated. OVL_ERR_NOMEM.
 */
int ovl_media_sdp_rewrite(const char *in, const ovl_media_sdp_edit_t *edit, char **out);

/** An offer re-offering description `local` (text) with new ICE credentials (RFC 8445 §9). *out malloc'd. */
int ovl_media_sdp_restart_offer(const char *local, const char *ufrag, const char *pwd, char **out);

/* ---- media_addr.c ---- */
/**
 * The addresses to announce (see ovl_media_config_t.public_ips), numeric, at most `max`.
 * OVL_ERR_PARSE with err naming public_ip for a bad entry.
 */
int ovl_media_addr_resolve(const char *public_ips, const char *bind, bool v6_ok, char (*out)[64], size_t max, size_t *n,
                           char *err, size_t cap);

/** The sockaddr for `a` on a socket of family v6_socket (IPv4 becomes IPv4-mapped on IPv6). */
int ovl_media_addr_to_sockaddr(const ovl_addr_t *a, bool v6_socket, struct sockaddr_storage *ss, socklen_t *len);

/** A received source address, IPv4-mapped IPv6 turned back into IPv4. */
int ovl_media_addr_from_sockaddr(ovl_addr_t *a, const struct sockaddr *sa);

#endif
