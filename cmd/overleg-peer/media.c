/*
 * The peer's media thread: a relay/io event loop with the UDP sockets (recvmmsg into pool packets, sendmmsg
 * at the end of each turn), the ring from the signaling thread (woken by its eventfd) and one timer, at the
 * session's next timeout. Everything else is the session's (session.c). See peer.h.
 *
 * With --transport tcp the media goes over one ICE-TCP connection instead (RFC 6544, the active side): a
 * non-blocking connect to the relay's passive candidate, then the relay's own RFC 4571 connection code
 * (relay/io/tcp_conn.h) in this loop: whole frames handed to the session like datagrams, sends queued in two
 * bounded classes (audio and everything else before video, video evicted first) and written at the end of the
 * turn without ever blocking.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd/overleg-peer/session.h"
#include "relay/io/clock.h"
#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/io/spsc.h"
#include "relay/io/tcp_conn.h"
#include "relay/io/udp.h"

#define PATH_V4    1
#define PATH_V6    2
#define PATH_TCP   3
#define TCP_FRAMES 256 /* send queue cap in frames: well inside the pool, which UDP and reads share */
#define RING       64
#define POOL       512
#define RX_BATCH   32
#define MSG_BUDGET 16

struct ovl_peer_media {
    const ovl_peer_opts_t *opts;
    ovl_dtls_cert_t *cert;         /* owned */
    ovl_loop_t *loop;              /* owned */
    ovl_pool_t *pool;              /* owned */
    ovl_udp_t *udp[2];             /* owned: IPv4, IPv6 (NULL when the host has none) */
    ovl_tcp_set_t *tcp;            /* owned, --transport tcp only */
    ovl_tcp_conn_t *conn;          /* owned by tcp: the ICE-TCP connection while it is open */
    int connecting;                /* owned: the socket while its connect is in progress, else -1 */
    ovl_tcp_conn_stats_t tcp_done; /* counters of the connection that closed */
    ovl_spsc_t *in, *out;          /* owned: signaling -> media, media -> signaling */
    ovl_peer_session_t *session;   /* owned */
    ovl_timer_t timer;
    ovl_time_t armed_at, max_lag; /* the timer's time; how late it ever fired (starvation, for the report) */
    void (*wake)(void *ctx);
    void *wake_ctx;
    pthread_t thread;
    bool started;
    atomic_bool interrupted;
    ovl_peer_report_t report;
};

/* ---- datagrams ---- */

static void session_send(void *ctx, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len, bool video)
{
    ovl_peer_media_t *m = ctx;
    if (path_id == PATH_TCP) { /* a full queue drops (and counts) a whole frame: never a partial write */
        if (m->conn)
            (void)ovl_tcp_conn_send_copy(m->conn, data, len, video ? OVL_TCP_PRIO_VIDEO : OVL_TCP_PRIO_AUDIO);
        return;
    }
    ovl_udp_t *udp = m->udp[path_id == PATH_V6];
    struct sockaddr_storage ss;
    size_t sslen;
    ovl_pkt_t *p;
    if (!udp || len > OVL_POOL_DATA || ovl_addr_to_sockaddr(to, &ss, &sslen) != 0 || !(p = ovl_pool_get(m->pool)))
        return;
    memcpy(p->data, data, len);
    p->len = len;
    (void)ovl_udp_send(udp, p, (struct sockaddr *)&ss, (socklen_t)sslen, NULL); /* the queue takes its own ref */
    ovl_pkt_unref(p);
}

static void session_post(void *ctx, ovl_peer_msg_t *msg)
{
    ovl_peer_media_t *m = ctx;
    if (ovl_spsc_push(m->out, msg) != 0) {
        free(msg->sdp); /* the ring holds RING messages; signaling drains it on every wakeup */
        msg->sdp = NULL;
    }
    if (m->wake)
        m->wake(m->wake_ctx);
}

static void rearm(ovl_peer_media_t *m)
{
    ovl_time_t t = ovl_peer_session_next_timeout(m->session);
    m->armed_at = t;
    if (t == OVL_TIME_NEVER)
        ovl_timer_cancel(ovl_loop_timers(m->loop), &m->timer);
    else
        (void)ovl_timer_schedule(ovl_loop_timers(m->loop), &m->timer, t);
    if (ovl_peer_session_done(m->session))
        ovl_loop_stop(m->loop);
}

static void on_readable(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    ovl_udp_dgram_t d[RX_BATCH];
    size_t n = 0;
    (void)events;
    ovl_udp_t *udp = m->udp[0] && ovl_udp_fd(m->udp[0]) == fd ? m->udp[0] : m->udp[1];
    uint64_t path = udp == m->udp[0] ? PATH_V4 : PATH_V6;
    if (ovl_udp_recv(udp, d, RX_BATCH, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        ovl_addr_t from;
        if (ovl_addr_from_sockaddr(&from, (struct sockaddr *)&d[i].src) == 0)
            ovl_peer_session_on_datagram(m->session, path, &from, d[i].pkt->data, d[i].pkt->len, ovl_loop_now(loop));
        ovl_pkt_unref(d[i].pkt);
    }
    rearm(m);
}

static void on_msg(void *msg, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    ovl_peer_session_on_msg(m->session, msg, ovl_loop_now(m->loop));
}

static void on_ring(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    (void)loop;
    (void)fd;
    (void)events;
    (void)ovl_spsc_consume(m->in, MSG_BUDGET, on_msg, m);
    rearm(m);
}

static void on_timer(ovl_timer_t *timer, ovl_time_t now, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    (void)timer;
    if (m->armed_at != OVL_TIME_NEVER && now > m->armed_at && now - m->armed_at > m->max_lag)
        m->max_lag = now - m->armed_at;
    ovl_peer_session_on_timeout(m->session, now);
    rearm(m);
}

/* ---- ICE-TCP ---- */

static void tcp_add_stats(ovl_tcp_conn_stats_t *sum, const ovl_tcp_conn_t *c)
{
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(c, &st);
    sum->tx_frames += st.tx_frames;
    sum->rx_frames += st.rx_frames;
    sum->tx_blocked += st.tx_blocked;
    for (size_t i = 0; i < OVL_TCP_PRIO_COUNT; i++)
        sum->drops[i] += st.drops[i];
    if (st.queue_high_water > sum->queue_high_water)
        sum->queue_high_water = st.queue_high_water;
}

static void tcp_on_frame(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_time_t now, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    ovl_peer_session_on_datagram(m->session, PATH_TCP, ovl_tcp_conn_peer(c), pkt->data, pkt->len, now);
    rearm(m);
}

static void tcp_on_close(ovl_tcp_conn_t *c, ovl_tcp_close_reason_t reason, int err, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    char why[96];
    tcp_add_stats(&m->tcp_done, c);
    m->conn = NULL;
    snprintf(why, sizeof(why), "%s%s%s", ovl_tcp_close_reason_name(reason), err ? ": " : "", err ? strerror(err) : "");
    ovl_peer_session_on_tcp(m->session, false, why, ovl_loop_now(m->loop));
    rearm(m);
}

/* The connect finished (writable): the socket becomes the ICE-TCP connection, or the session hears why not. */
static void tcp_on_connected(ovl_loop_t *loop, int fd, unsigned events, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    int err = 0, ret;
    socklen_t len = sizeof(err);
    (void)events;
    (void)ovl_loop_remove(loop, fd);
    m->connecting = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    if (err) {
        close(fd);
        ovl_peer_session_on_tcp(m->session, false, strerror(err), ovl_loop_now(loop));
    } else {
        ovl_tcp_conn_params_t p = {.path_id = PATH_TCP, .on_frame = tcp_on_frame, .on_close = tcp_on_close, .ctx = m};
        if ((ret = ovl_tcp_conn_new(&m->conn, m->tcp, fd, &p, ovl_loop_now(loop))) != 0) /* fd is the set's now */
            ovl_peer_session_on_tcp(m->session, false, ovl_strerror(ret), ovl_loop_now(loop));
        else
            ovl_peer_session_on_tcp(m->session, true, NULL, ovl_loop_now(loop));
    }
    rearm(m);
}

/* RFC 6544 §5.2 active side: a non-blocking connect to the relay's passive candidate (from --bind's address
 * when it has the candidate's family); the loop says when it is done. */
static int session_tcp_connect(void *ctx, const ovl_addr_t *to)
{
    ovl_peer_media_t *m = ctx;
    struct sockaddr_storage ss, local;
    size_t sslen, llen;
    const char *bind_addr = m->opts->bind;
    ovl_addr_t b;
    int fd, ret;
    if (m->conn || m->connecting >= 0 || ovl_addr_to_sockaddr(to, &ss, &sslen) != 0)
        return OVL_ERR_STATE;
    if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
        return OVL_ERR_IO;
    if (bind_addr && *bind_addr && ovl_addr_parse(&b, bind_addr, 0) == 0 && b.family == to->family &&
        ovl_addr_to_sockaddr(&b, &local, &llen) == 0 && bind(fd, (struct sockaddr *)&local, (socklen_t)llen) != 0) {
        close(fd);
        return OVL_ERR_IO;
    }
    if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sslen) != 0 && errno != EINPROGRESS) {
        close(fd);
        return OVL_ERR_IO;
    }
    if ((ret = ovl_loop_add(m->loop, fd, OVL_LOOP_WRITE, tcp_on_connected, m)) != 0) {
        close(fd);
        return ret;
    }
    m->connecting = fd;
    return 0;
}

/* --cut-after: the connection goes without a word (close(2): FIN, or RST with unread data), the way a
 * crashed client or a dropped NAT mapping looks to the relay; signaling stays up. */
static void session_tcp_cut(void *ctx)
{
    ovl_peer_media_t *m = ctx;
    if (!m->conn)
        return;
    tcp_add_stats(&m->tcp_done, m->conn);
    ovl_tcp_conn_free(m->conn);
    m->conn = NULL;
}

/* End of every turn: what the turn queued leaves in one sendmmsg per socket; an interruption is handled. */
static void on_turn_end(ovl_loop_t *loop, void *ctx)
{
    ovl_peer_media_t *m = ctx;
    if (atomic_load(&m->interrupted) && !ovl_peer_session_done(m->session)) {
        ovl_peer_session_stop(m->session, -1, "interrupted", ovl_loop_now(loop));
        rearm(m);
    }
    for (size_t i = 0; i < 2; i++)
        if (m->udp[i])
            (void)ovl_udp_flush(m->udp[i]);
}

/* ---- setup ---- */

static int open_udp(ovl_peer_media_t *m, int v6, char *err, size_t cap)
{
    const char *bind = m->opts->bind;
    ovl_udp_config_t uc = {.addr = v6 ? "::" : "0.0.0.0", .rcvbuf = 1 << 20, .sndbuf = 1 << 20};
    int ret;
    if (bind && *bind) {
        if ((strchr(bind, ':') != NULL) != (v6 != 0))
            return 0; /* --bind picks one family */
        uc.addr = bind;
    }
    if ((ret = ovl_udp_new(&m->udp[v6], &uc, m->pool)) != 0) {
        if (v6 && !(bind && *bind))
            return 0; /* no IPv6 on this host: IPv4 only */
        snprintf(err, cap, "cannot open a UDP socket on %s (%s)", uc.addr, ovl_strerror(ret));
        return ret;
    }
    return ovl_loop_add(m->loop, ovl_udp_fd(m->udp[v6]), OVL_LOOP_READ, on_readable, m);
}

int ovl_peer_media_new(const ovl_peer_opts_t *opts, void (*wake)(void *ctx), void *wake_ctx, ovl_peer_media_t **out,
                       char *err, size_t cap)
{
    ovl_peer_media_t *m = NULL;
    ovl_clock_pair_t anchor;
    int ret = OVL_ERR_NOMEM;
    *out = NULL;
    snprintf(err, cap, "out of memory");
    if (!(m = calloc(1, sizeof(*m))))
        goto Exit;
    m->opts = opts;
    m->wake = wake;
    m->wake_ctx = wake_ctx;
    m->connecting = -1;
    atomic_init(&m->interrupted, false);
    if ((ret = ovl_dtls_cert_generate(&m->cert)) != 0) {
        snprintf(err, cap, "cannot make a DTLS certificate (%s)", ovl_strerror(ret));
        goto Exit;
    }
    if ((ret = ovl_loop_new(&m->loop, 16)) != 0 || (ret = ovl_pool_new(&m->pool, POOL)) != 0 ||
        (ret = ovl_spsc_new(&m->in, RING, sizeof(ovl_peer_msg_t))) != 0 ||
        (ret = ovl_spsc_new(&m->out, RING, sizeof(ovl_peer_msg_t))) != 0) {
        snprintf(err, cap, "cannot set up the media loop (%s)", ovl_strerror(ret));
        goto Exit;
    }
    if ((ret = open_udp(m, 0, err, cap)) != 0 || (ret = open_udp(m, 1, err, cap)) != 0)
        goto Exit;
    if (!m->udp[0] && !m->udp[1]) {
        ret = OVL_ERR_IO;
        snprintf(err, cap, "no UDP socket could be opened");
        goto Exit;
    }
    if ((ret = ovl_loop_add(m->loop, ovl_spsc_fd(m->in), OVL_LOOP_READ, on_ring, m)) != 0 ||
        (ret = ovl_loop_add_hook(m->loop, on_turn_end, m)) != 0)
        goto Exit;
    if (opts->tcp) { /* after on_turn_end: the ICE-TCP queues are written after an interruption is handled */
        ovl_tcp_config_t tc = {.queue_frames = TCP_FRAMES, .sndbuf = 1 << 20};
        if ((ret = ovl_tcp_set_new(&m->tcp, m->loop, m->pool, &tc)) != 0) {
            snprintf(err, cap, "cannot set up ICE-TCP (%s)", ovl_strerror(ret));
            goto Exit;
        }
    }
    (void)ovl_spsc_prepare_wait(m->in);
    ovl_timer_init(&m->timer, on_timer, m);
    ovl_clock_pair(&anchor);
    ovl_peer_session_cfg_t sc = {.opts = opts,
                                 .cert = m->cert,
                                 .path_v4 = m->udp[0] ? PATH_V4 : 0,
                                 .path_v6 = m->udp[1] ? PATH_V6 : 0,
                                 .path_tcp = opts->tcp ? PATH_TCP : 0,
                                 .tcp_connect = session_tcp_connect,
                                 .tcp_cut = session_tcp_cut,
                                 .clock_mono = anchor.mono,
                                 .clock_unix_us = anchor.wall,
                                 .send = session_send,
                                 .post = session_post,
                                 .ctx = m};
    if ((ret = ovl_peer_session_new(&sc, ovl_clock_now(), &m->session)) != 0) {
        snprintf(err, cap, "cannot set up the media session (%s)", ovl_strerror(ret));
        goto Exit;
    }
    *out = m;
    m = NULL;
    ret = 0;
    err[0] = '\0';
Exit:
    ovl_peer_media_free(m);
    return ret;
}

static void *thread_main(void *arg)
{
    ovl_peer_media_t *m = arg;
    rearm(m);
    while (!ovl_peer_session_done(m->session))
        if (ovl_loop_run(m->loop) != 0)
            ovl_peer_session_stop(m->session, OVL_PEER_EXIT_INTERNAL, "the event loop failed", ovl_clock_now());
    /* Let the last datagrams (DTLS close_notify) out, then freeze the report. */
    for (size_t i = 0; i < 2; i++)
        if (m->udp[i])
            (void)ovl_udp_flush(m->udp[i]);
    if (m->tcp)
        ovl_tcp_set_flush(m->tcp);
    ovl_peer_session_report(m->session, ovl_clock_now(), &m->report);
    m->report.max_loop_lag = m->max_lag;
    ovl_tcp_conn_stats_t st = m->tcp_done;
    if (m->conn)
        tcp_add_stats(&st, m->conn);
    m->report.tcp_tx_frames = st.tx_frames;
    m->report.tcp_rx_frames = st.rx_frames;
    m->report.tcp_drops_audio = st.drops[OVL_TCP_PRIO_AUDIO];
    m->report.tcp_drops_video = st.drops[OVL_TCP_PRIO_VIDEO];
    m->report.tcp_blocked = st.tx_blocked;
    m->report.tcp_queue_high_water = st.queue_high_water;
    return NULL;
}

int ovl_peer_media_start(ovl_peer_media_t *m)
{
    if (pthread_create(&m->thread, NULL, thread_main, m) != 0)
        return OVL_ERR_IO;
    m->started = true;
    return 0;
}

int ovl_peer_media_post(ovl_peer_media_t *m, ovl_peer_msg_t *msg)
{
    return ovl_spsc_push(m->in, msg);
}

int ovl_peer_media_poll(ovl_peer_media_t *m, ovl_peer_msg_t *msg)
{
    return ovl_spsc_pop(m->out, msg);
}

void ovl_peer_media_interrupt(ovl_peer_media_t *m)
{
    atomic_store(&m->interrupted, true);
    ovl_loop_wakeup(m->loop);
}

void ovl_peer_media_join(ovl_peer_media_t *m)
{
    if (m->started) {
        pthread_join(m->thread, NULL);
        m->started = false;
    }
}

const ovl_peer_report_t *ovl_peer_media_report(const ovl_peer_media_t *m)
{
    return &m->report;
}

static void dispose_msg(void *msg, void *ctx)
{
    (void)ctx;
    free(((ovl_peer_msg_t *)msg)->sdp);
}

void ovl_peer_media_free(ovl_peer_media_t *m)
{
    if (!m)
        return;
    ovl_peer_media_join(m);
    ovl_peer_session_free(m->session);
    ovl_tcp_set_free(m->tcp); /* closes the connection */
    if (m->connecting >= 0)
        close(m->connecting);
    for (size_t i = 0; i < 2; i++)
        ovl_udp_free(m->udp[i]);
    ovl_spsc_free(m->in, dispose_msg, NULL);
    ovl_spsc_free(m->out, dispose_msg, NULL);
    ovl_pool_free(m->pool);
    ovl_loop_free(m->loop);
    ovl_dtls_cert_free(m->cert);
    free(m);
}
