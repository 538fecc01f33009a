/* Prometheus text exposition (format 0.0.4) of the media workers' counters, one series per worker. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/io/media_int.h"

typedef struct tbuf {
    char *p;
    size_t len, cap;
    bool failed;
} tbuf_t;

static void add(tbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
}

/* One metric: its header, then a line per worker with the member at byte offset `off`. */
typedef struct metric {
    const char *name, *type, *help;
    size_t off;
} metric_t;

#define M(name, type, field, help)                                                                                     \
    {                                                                                                                  \
        "overleg_media_" name, type, help, offsetof(ovl_media_stats_t, field)                                          \
    }

static const metric_t metrics[] = {
    M("udp_received_packets_total", "counter", rx_packets, "UDP datagrams received."),
    M("udp_received_bytes_total", "counter", rx_bytes, "UDP bytes received."),
    M("udp_sent_packets_total", "counter", tx_packets, "UDP datagrams sent."),
    M("udp_sent_bytes_total", "counter", tx_bytes, "UDP bytes sent."),
    M("udp_receive_calls_total", "counter", rx_calls, "recvmmsg calls that returned datagrams."),
    M("udp_send_calls_total", "counter", tx_calls, "sendmmsg calls that sent datagrams."),
    M("rtp_received_total", "counter", rtp_in, "Decrypted RTP packets handed to the router."),
    M("rtp_sent_total", "counter", rtp_out, "RTP packets protected and queued for subscribers."),
    M("rtcp_received_total", "counter", rtcp_in, "Decrypted RTCP compounds handed to the router."),
    M("rtcp_sent_total", "counter", rtcp_out, "RTCP compounds protected and queued."),
    M("transports", "gauge", transports, "WebRTC transports (participants that offered)."),
    M("transports_connected", "gauge", connected, "Transports with ICE and DTLS-SRTP up."),
    M("rooms", "gauge", rooms, "Meetings with media on the worker."),
    M("participants", "gauge", participants, "Participants on the worker."),
    M("participants_failed_total", "counter", failed, "Participants dropped because their media failed."),
    M("commands_total", "counter", commands, "Commands from signaling handled."),
    M("events_total", "counter", events, "Events passed to signaling."),
    M("events_deferred_total", "counter", events_deferred, "Events that waited because signaling was behind."),
    M("pool_packets_in_use", "gauge", pool_in_use, "Packet buffers in use."),
    M("pool_packets", "gauge", pool_capacity, "Packet buffers in the pool."),
    M("tcp_accepted_total", "counter", tcp_accepted, "ICE-TCP connections handed to the worker."),
    M("tcp_connections", "gauge", tcp_open, "ICE-TCP connections open."),
    M("tcp_received_frames", "gauge", tcp_rx_frames, "RFC 4571 frames received on the open ICE-TCP connections."),
    M("tcp_sent_frames", "gauge", tcp_tx_frames, "RFC 4571 frames sent on the open ICE-TCP connections."),
    M("tcp_dropped_audio_frames", "gauge", tcp_drop_audio,
      "Audio-class frames a full ICE-TCP queue dropped (open connections)."),
    M("tcp_dropped_video_frames", "gauge", tcp_drop_video,
      "Video frames a slow ICE-TCP reader dropped (open connections)."),
    M("turn_received_packets_total", "counter", turn_rx_packets,
      "Datagrams from TURN allocations handed straight to the worker (no UDP hop)."),
    M("turn_received_bytes_total", "counter", turn_rx_bytes, "Bytes of datagrams from TURN allocations."),
    M("turn_sent_packets_total", "counter", turn_tx_packets, "Datagrams to TURN allocations handed to signaling."),
    M("turn_sent_bytes_total", "counter", turn_tx_bytes, "Bytes of datagrams to TURN allocations."),
    M("turn_dropped_total", "counter", turn_drops, "Datagrams to TURN allocations dropped on the worker."),
    M("turn_lent_packets", "gauge", turn_lent, "Pool packets lent to the signaling thread for TURN."),
    M("video_thin_raises_total", "counter", thin_raises,
      "Times congestion (loss, ICE-TCP backlog) raised a subscriber's video thinning level."),
};

static uint64_t field(const ovl_media_stats_t *s, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)s + off, sizeof(v));
    return v;
}

_Static_assert(OVL_THIN_REASONS <= 8, "ovl_media_stats_t.thin_frames holds every reason");

static const char *const drop_names[] = {"unknown-source", "not-connected", "no-buffer", "send", "route"};

char *ovl_media_metrics_render(const ovl_media_t *m)
{
    size_t n = ovl_media_worker_count(m);
    ovl_media_stats_t *st = calloc(n ? n : 1, sizeof(*st));
    tbuf_t b = {malloc(8192), 0, 8192, false};
    if (!st || !b.p) {
        free(st);
        free(b.p);
        return NULL;
    }
    b.p[0] = '\0';
    for (size_t i = 0; i < n; i++)
        ovl_media_stats(m, i, &st[i]);
    add(&b, "# HELP overleg_media_workers Media worker threads.\n# TYPE overleg_media_workers gauge\n");
    add(&b, "overleg_media_workers %zu\n", n);
    for (size_t k = 0; k < OVL_ARRAY_LEN(metrics); k++) {
        add(&b, "# HELP %s %s\n# TYPE %s %s\n", metrics[k].name, metrics[k].help, metrics[k].name, metrics[k].type);
        for (size_t i = 0; i < n; i++)
            add(&b, "%s{worker=\"%zu\"} %llu\n", metrics[k].name, i, (unsigned long long)field(&st[i], metrics[k].off));
    }
    add(&b, "# HELP overleg_media_dropped_total Datagrams and packets dropped, by reason.\n"
            "# TYPE overleg_media_dropped_total counter\n");
    for (size_t i = 0; i < n; i++) {
        uint64_t relay[] = {st[i].drop_unknown_source, st[i].drop_not_connected, st[i].drop_no_buffer, st[i].drop_send,
                            st[i].drop_route};
        for (size_t r = 0; r < OVL_ARRAY_LEN(relay); r++)
            add(&b, "overleg_media_dropped_total{worker=\"%zu\",reason=\"%s\"} %llu\n", i, drop_names[r],
                (unsigned long long)relay[r]);
        for (size_t r = 0; r < OVL_TRANSPORT_DROP_COUNT; r++)
            add(&b, "overleg_media_dropped_total{worker=\"%zu\",reason=\"transport-%s\"} %llu\n", i,
                ovl_transport_drop_name((ovl_transport_drop_t)r), (unsigned long long)st[i].drop_transport[r]);
    }
    add(&b, "# HELP overleg_media_video_thinned_frames_total Video frames not forwarded to a subscriber on a thin "
            "path or at its wish, by reason.\n"
            "# TYPE overleg_media_video_thinned_frames_total counter\n");
    for (size_t i = 0; i < n; i++)
        for (size_t r = 0; r < OVL_THIN_REASONS; r++)
            add(&b, "overleg_media_video_thinned_frames_total{worker=\"%zu\",reason=\"%s\"} %llu\n", i,
                ovl_thin_reason_name((ovl_thin_reason_t)r), (unsigned long long)st[i].thin_frames[r]);
    add(&b, "# HELP overleg_media_commands_refused_total Commands refused: a worker's queue was full.\n"
            "# TYPE overleg_media_commands_refused_total counter\n");
    add(&b, "overleg_media_commands_refused_total %llu\n", (unsigned long long)ovl_media_commands_refused(m));
    free(st);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
