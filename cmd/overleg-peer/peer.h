/*
 * overleg-peer: a synthetic WebRTC participant in C, built from the project's own cores. It joins a meeting
 * through the signaling server exactly as the browser does (WSS, join, the first offer, answers to the relay's
 * offers), sends real VP8 and Opus, decodes what it receives, and reports per remote participant.
 *
 * Two threads, no shared state, no busy-waiting:
 *   - the signaling thread (main): libwebsockets client (signaling/wsclient.h), JSON protocol;
 *   - the media thread (media.c): a relay/io event loop with the UDP sockets and one timer, driving the
 *     session (session.c, session_rtp.c): the WebRTC transport (ICE controlling client, DTLS client, SRTP),
 *     the senders and receivers (codecs/media_sender.h, media_receiver.h), RTCP.
 * They exchange ovl_peer_msg_t messages through two relay/io/spsc rings: the media thread wakes on the ring's
 * eventfd, the signaling thread through ovl_wsclient_wakeup (lws_cancel_service).
 *
 * After the media thread has stopped, the signaling thread reads its report (report.c) and exits with one of
 * the OVL_PEER_EXIT_* codes.
 */
#ifndef OVL_PEER_H
#define OVL_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "codecs/media_receiver.h"
#include "codecs/media_sender.h"
#include "relay/proto/base.h"
#include "relay/proto/dtls_cert.h"

/* Exit codes (documented in --help and the README). */
enum {
    OVL_PEER_EXIT_OK = 0,       /* decoded audio and video from every expected peer (or ran the duration) */
    OVL_PEER_EXIT_EXPECT = 1,   /* fewer peers decoded than --expect-peers */
    OVL_PEER_EXIT_USAGE = 2,    /* bad arguments or a bad link */
    OVL_PEER_EXIT_CONNECT = 3,  /* the server could not be reached (TCP, TLS, certificate, WebSocket) or went away */
    OVL_PEER_EXIT_REFUSED = 4,  /* the server refused the join or ended the session (token, meeting, lobby, removed) */
    OVL_PEER_EXIT_MEDIA = 5,    /* media failed: offer refused, no usable candidate, ICE/DTLS failed, consent lost */
    OVL_PEER_EXIT_INTERNAL = 6, /* out of memory, sockets, libraries */
};

#define OVL_PEER_ID_LEN      65 /* participant ids and names (PROTOCOL.md: names are 1..64 characters) */
#define OVL_PEER_MAX_REMOTES 64
#define OVL_PEER_MAX_TRACKS  (3 * OVL_PEER_MAX_REMOTES)
#define OVL_PEER_REASON_LEN  160

/* What the command line asked for. */
typedef struct ovl_peer_opts {
    const char *link;
    const char *name;
    ovl_time_t duration; /* media time after joining */
    unsigned expect;     /* --expect-peers */
    unsigned min_frames; /* --min-frames: audio and video frames of a remote that make it count as decoded (>= 1) */
    double loss;         /* --loss: percent of received media packets dropped */
    uint64_t seed;       /* the loss PRNG's seed (reported) */
    bool json, insecure;
    bool tcp;             /* --transport tcp: media over ICE-TCP (RFC 6544 active, RFC 4571 framing) */
    ovl_time_t cut_after; /* --cut-after: test hook, close the ICE-TCP connection this long after media is up */
    const char *ca_file;  /* --ca-file: PEM CAs trusted besides the system store (a private CA) */
    const char *bind;     /* --bind: local address of the media sockets (default: any) */
    ovl_time_t linger;    /* stay this long after the expected peers decoded (so they can decode us) */
    ovl_time_t wait_more; /* wait up to this long past the duration for the expected peers */
    unsigned width, height, fps, video_kbps;
} ovl_peer_opts_t;

/* Messages between the threads (copied through the spsc rings). `sdp` is owned by the receiver. */
typedef enum ovl_peer_msg_type {
    /* signaling -> media */
    OVL_PEER_MSG_JOINED = 1,  /* id: our participant id (welcome) */
    OVL_PEER_MSG_PARTICIPANT, /* id, name: someone is in the meeting */
    OVL_PEER_MSG_LEFT,        /* id, reason: someone left */
    OVL_PEER_MSG_ANSWER,      /* sdp: the relay's answer to our offer */
    OVL_PEER_MSG_OFFER,       /* sdp: a relay offer */
    OVL_PEER_MSG_STOP,        /* code, reason: end now (signaling ended, refused, interrupted) */
    /* media -> signaling */
    OVL_PEER_MSG_SEND_OFFER,  /* sdp */
    OVL_PEER_MSG_SEND_ANSWER, /* sdp */
    OVL_PEER_MSG_DONE,        /* the media thread has finished; its report is ready */
} ovl_peer_msg_type_t;

typedef struct ovl_peer_msg {
    ovl_peer_msg_type_t type;
    int code;
    char *sdp; /* owned */
    char id[OVL_PEER_ID_LEN];
    char name[OVL_PEER_ID_LEN];
    char reason[OVL_PEER_REASON_LEN];
} ovl_peer_msg_t;

/* ---- the report: everything the summary prints ---- */

typedef struct ovl_peer_track_report {
    bool present;
    char mid[OVL_PEER_ID_LEN];
    char track[OVL_PEER_ID_LEN];
    uint32_t ssrc;
    ovl_time_t added_at; /* negotiated (our answer to the offer that added it) */
    ovl_media_receiver_stats_t st;
    uint64_t dropped; /* packets dropped by --loss */
} ovl_peer_track_report_t;

typedef struct ovl_peer_remote_report {
    char id[OVL_PEER_ID_LEN];
    char name[OVL_PEER_ID_LEN];
    bool left;
    char left_reason[OVL_PEER_ID_LEN];
    ovl_time_t seen_at, left_at;
    ovl_peer_track_report_t audio, video, screen;
} ovl_peer_remote_report_t;

typedef struct ovl_peer_report {
    int code;                         /* the exit code */
    char reason[OVL_PEER_REASON_LEN]; /* one sentence */
    char you[OVL_PEER_ID_LEN];
    ovl_time_t started_at, joined_at, answered_at, connected_at, complete_at, ended_at;
    const char *profile;          /* SRTP profile name, or NULL */
    bool tcp;                     /* the media went over ICE-TCP (else UDP) */
    char path[OVL_PEER_ID_LEN];   /* "udp 192.0.2.1:10000" / "tcp 192.0.2.1:8443": the relay's end of the selected
                                   * pair, "" before one was selected */
    ovl_time_t tcp_up_at, cut_at; /* ICE-TCP connection made; closed by --cut-after */
    uint64_t tcp_tx_frames, tcp_rx_frames, tcp_drops_audio, tcp_drops_video, tcp_blocked; /* ICE-TCP counters */
    size_t tcp_queue_high_water; /* most bytes ever waiting in our ICE-TCP send queue */
    unsigned expect, complete;
    double loss;
    uint64_t seed, dropped, unknown_ssrc;
    uint64_t unknown_ssrc_named; /* of those: of an SSRC some relay offer named (they came before our answer
                                  * to it was in place, or after the offer that removed it); the rest never */
    ovl_time_t max_loop_lag;     /* the most our timer ever fired after its time (CPU starvation, measured) */
    unsigned min_frames;
    ovl_media_sender_stats_t audio_sent, video_sent;
    uint64_t plis_received, firs_received, remb_bps, rtcp_sent, rtcp_received;
    int64_t rtt_us; /* from the relay's receiver reports on our streams (RFC 3550 §6.4.1); -1: none yet */
    uint64_t rx_datagrams, tx_datagrams, rx_dropped;
    size_t n_remotes;
    ovl_peer_remote_report_t remotes[OVL_PEER_MAX_REMOTES];
} ovl_peer_report_t;

/* ---- the media thread (media.c) ---- */

typedef struct ovl_peer_media ovl_peer_media_t;

/**
 * Creates the media side: the DTLS certificate, the event loop, the UDP sockets (IPv4, and IPv6 where the host
 * has it), the two rings. `wake` is called (from the media thread) after each message it posts for the
 * signaling thread. Returns 0 or an OVL_ERR_*, with `err` (cap bytes) saying what failed.
 */
int ovl_peer_media_new(const ovl_peer_opts_t *opts, void (*wake)(void *ctx), void *wake_ctx, ovl_peer_media_t **out,
                       char *err, size_t cap);

/** Starts the media thread. 0 or OVL_ERR_IO. */
int ovl_peer_media_start(ovl_peer_media_t *m);

/** Signaling thread: posts a message (its sdp is handed over). 0 or OVL_ERR_AGAIN (ring full; still ours). */
int ovl_peer_media_post(ovl_peer_media_t *m, ovl_peer_msg_t *msg);

/** Signaling thread: takes the next message from the media thread. 0 or OVL_ERR_AGAIN. */
int ovl_peer_media_poll(ovl_peer_media_t *m, ovl_peer_msg_t *msg);

/** Any thread, also a signal handler: asks the media thread to finish now (it then posts DONE). */
void ovl_peer_media_interrupt(ovl_peer_media_t *m);

/** Waits for the media thread to end (after DONE). */
void ovl_peer_media_join(ovl_peer_media_t *m);

/** The report, valid after ovl_peer_media_join. */
const ovl_peer_report_t *ovl_peer_media_report(const ovl_peer_media_t *m);

/** Frees everything (after join, or when never started). NULL is fine. */
void ovl_peer_media_free(ovl_peer_media_t *m);

/* ---- the summary (report.c) ---- */

/** The report as a JSON document (a new string the caller frees), or NULL when out of memory. */
char *ovl_peer_report_json(const ovl_peer_report_t *r);

/** Writes the report for people to `f`. */
void ovl_peer_report_print(const ovl_peer_report_t *r, FILE *f);

/** A remote counts as decoded when at least one audio and one video frame of it were decoded. */
bool ovl_peer_remote_complete(const ovl_peer_remote_report_t *r);

/* ---- the signaling thread (signal.c) ---- */

/**
 * Joins the meeting of opts->link and runs the signaling side until the media thread is done (or the server
 * refuses or goes away: then the media thread is told to stop). Returns 0 or the OVL_PEER_EXIT_* code of a
 * failure it saw first (with a one-line message in err).
 */
int ovl_peer_signal_run(const ovl_peer_opts_t *opts, ovl_peer_media_t **media_out, char *err, size_t cap);

#endif
