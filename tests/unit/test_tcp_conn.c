/* ICE-TCP connections (relay/io/tcp_conn.h) over real loopback TCP sockets: RFC 4571 §2 framing
 * (frames split at every byte, several per read, oversize), the two-class send queue against a
 * reader that stops (video dropped first, audio kept, the worker never blocks), short writes
 * resumed at every byte, the STUN gate, timeouts, closing from every side, and the RFC 6544
 * hand-off helper (first frame's USERNAME, RFC 8445 §7.2.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmocka.h>

#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/io/tcp_conn.h"
#include "relay/io/ufrag.h"
#include "relay/proto/stun.h"

#define MAX_FRAMES 4096

/* What the connection handed up and how it ended. */
typedef struct rec {
    size_t n;
    size_t len[MAX_FRAMES];
    uint8_t first[MAX_FRAMES][4]; /* first bytes of each frame */
    uint32_t sum[MAX_FRAMES];     /* checksum of each frame */
    uint64_t path_id;
    int closed;
    ovl_tcp_close_reason_t reason;
    int err;
    ovl_tcp_conn_t *conn;
    /* behaviour */
    int free_after; /* free the connection from on_frame after this many frames (0: never) */
    int echo_prio;  /* >= 0: answer each frame with the same bytes at this priority */
} rec_t;

typedef struct fixture {
    ovl_loop_t *loop;
    ovl_pool_t *pool;
    ovl_tcp_set_t *set;
    ovl_tcp_conn_t *conn;
    int peer; /* the test's end (the "browser") */
    rec_t rec;
} fixture_t;

static uint32_t checksum(const uint8_t *p, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void on_frame(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_time_t now, void *ctx)
{
    (void)now;
    rec_t *r = ctx;
    assert_true(r->n < MAX_FRAMES);
    r->len[r->n] = pkt->len;
    memcpy(r->first[r->n], pkt->data, pkt->len < 4 ? pkt->len : 4);
    r->sum[r->n] = checksum(pkt->data, pkt->len);
    r->path_id = ovl_tcp_conn_path_id(c);
    r->n++;
    if (r->echo_prio >= 0)
        ovl_tcp_conn_send(c, pkt, (ovl_tcp_prio_t)r->echo_prio);
    if (r->free_after > 0 && (int)r->n == r->free_after) {
        ovl_tcp_conn_free(c);
        r->conn = NULL;
    }
}

static void on_close(ovl_tcp_conn_t *c, ovl_tcp_close_reason_t reason, int err, void *ctx)
{
    rec_t *r = ctx;
    if (getenv("TCP_TEST_DEBUG"))
        fprintf(stderr, "close: %s (%d)\n", ovl_tcp_close_reason_name(reason), err);
    assert_ptr_equal(c, r->conn);
    r->closed++;
    r->reason = reason;
    r->err = err;
    r->conn = NULL;
    ovl_tcp_conn_free(c); /* harmless inside on_close */
}

/* A connected loopback pair: *server is the accepted end, the return value the client end. */
static int tcp_pair(int *server, int client_rcvbuf)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(l, 4), 0);
    assert_int_equal(getsockname(l, (struct sockaddr *)&a, &alen), 0);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (client_rcvbuf > 0)
        assert_int_equal(setsockopt(c, SOL_SOCKET, SO_RCVBUF, &client_rcvbuf, sizeof(client_rcvbuf)), 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    *server = accept(l, NULL, NULL);
    assert_true(*server >= 0);
    close(l);
    return c;
}

static void fixture_open(fixture_t *fx, const ovl_tcp_config_t *cfg, bool stun_only, int client_rcvbuf)
{
    memset(fx, 0, sizeof(*fx));
    fx->rec.echo_prio = -1;
    assert_int_equal(ovl_loop_new(&fx->loop, 0), 0);
    assert_int_equal(ovl_pool_new(&fx->pool, 4096), 0);
    assert_int_equal(ovl_tcp_set_new(&fx->set, fx->loop, fx->pool, cfg), 0);
    int server;
    fx->peer = tcp_pair(&server, client_rcvbuf);
    ovl_tcp_conn_params_t p = {
        .path_id = 0x7cc0001, .stun_only = stun_only, .on_frame = on_frame, .on_close = on_close, .ctx = &fx->rec};
    assert_int_equal(ovl_tcp_conn_new(&fx->conn, fx->set, server, &p, ovl_loop_now(fx->loop)), 0);
    fx->rec.conn = fx->conn;
}

static void fixture_close(fixture_t *fx)
{
    if (fx->rec.conn != NULL)
        ovl_tcp_conn_free(fx->rec.conn);
    ovl_tcp_set_stats_t st;
    ovl_tcp_set_stats(fx->set, &st);
    assert_int_equal(st.conns, 0);
    ovl_tcp_set_free(fx->set);
    ovl_pool_stats_t ps;
    ovl_pool_stats(fx->pool, &ps);
    assert_int_equal(ps.in_use, 0); /* every frame's packet went back */
    ovl_pool_free(fx->pool);
    ovl_loop_free(fx->loop);
    if (fx->peer >= 0)
        close(fx->peer);
}

static void write_all(int fd, const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Turns the loop until cond holds (at most 200 turns of up to 20 ms each). */
#define PUMP_UNTIL(fx, cond)                                                                                           \
    do {                                                                                                               \
        for (int pump_i = 0; pump_i < 200 && !(cond); pump_i++)                                                        \
            assert_true(ovl_loop_turn((fx)->loop, OVL_MS(20)) >= 0);                                                   \
        assert_true(cond);                                                                                             \
    } while (0)

/* A frame's payload: byte 0 is the first byte given, then a pattern of (seq, i). */
static size_t make_payload(uint8_t *buf, uint8_t first, uint32_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(seq * 131 + i * 7);
    buf[0] = first;
    if (len >= 5)
        buf[1] = (uint8_t)(seq >> 24), buf[2] = (uint8_t)(seq >> 16), buf[3] = (uint8_t)(seq >> 8),
        buf[4] = (uint8_t)seq;
    return len;
}

static size_t frame(uint8_t *out, const uint8_t *payload, size_t len)
{
    out[0] = (uint8_t)(len >> 8);
    out[1] = (uint8_t)len;
    memcpy(out + 2, payload, len);
    return 2 + len;
}

/* ---- receive ---------------------------------------------------------------------------------- */

/* RFC 4571 §2: a stream of frames, cut at every byte boundary, reassembles into the same frames. */
static void test_tcp_split_at_every_byte(void **state)
{
    (void)state;
    fixture_t fx;
    fixture_open(&fx, NULL, false, 0);
    static const size_t sizes[] = {1, 20, 300, 2, 1200};
    uint8_t stream[4096], payload[2048];
    size_t total = 0, ends[5];
    uint32_t sums[5];
    for (size_t i = 0; i < 5; i++) {
        make_payload(payload, (uint8_t)(0x80 + i), (uint32_t)i, sizes[i]);
        sums[i] = checksum(payload, sizes[i]);
        total += frame(stream + total, payload, sizes[i]);
        ends[i] = total;
    }
    for (size_t k = 1; k < total; k++) {
        size_t before = fx.rec.n, whole = 0;
        for (size_t i = 0; i < 5; i++)
            whole += ends[i] <= k;
        write_all(fx.peer, stream, k);
        PUMP_UNTIL(&fx, fx.rec.n == before + whole);
        assert_int_equal(ovl_loop_turn(fx.loop, 0) >= 0, 1); /* nothing more comes out of a partial frame */
        assert_int_equal(fx.rec.n, before + whole);
        write_all(fx.peer, stream + k, total - k);
        PUMP_UNTIL(&fx, fx.rec.n == before + 5);
        for (size_t i = 0; i < 5; i++) {
            assert_int_equal(fx.rec.len[before + i], sizes[i]);
            assert_int_equal(fx.rec.sum[before + i], sums[i]);
        }
        fx.rec.n = 0;
    }
    assert_int_equal(fx.rec.path_id, 0x7cc0001);
    assert_int_equal(fx.rec.closed, 0);
    fixture_close(&fx);
}

/* Many frames in one segment come out of one read, in order; zero-length frames are skipped. */
static void test_tcp_several_frames_per_read(void **state)
{
    (void)state;
    fixture_t fx;
    fixture_open(&fx, NULL, false, 0);
    uint8_t stream[8192], payload[256];
    size_t total = 0;
    for (uint32_t i = 0; i < 60; i++) {
        size_t len = i == 30 ? 0 : 40 + i;
        make_payload(payload, 0x80, i, len);
        total += frame(stream + total, payload, len);
    }
    assert_true(total < sizeof(stream));
    write_all(fx.peer, stream, total);
    PUMP_UNTIL(&fx, fx.rec.n == 59);
    for (uint32_t i = 0, j = 0; i < 60; i++) {
        if (i == 30)
            continue;
        make_payload(payload, 0x80, i, 40 + i);
        assert_int_equal(fx.rec.len[j], 40 + i);
        assert_int_equal(fx.rec.sum[j], checksum(payload, 40 + i));
        j++;
    }
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(st.rx_frames, 59);
    assert_int_equal(st.rx_empty, 1);
    fixture_close(&fx);
}

/* A length above max_frame cannot be resynchronised: the connection closes (and the peer sees EOF). */
static void test_tcp_oversize_frame_closes(void **state)
{
    (void)state;
    ovl_tcp_config_t cfg = {.max_frame = 500};
    fixture_t fx;
    fixture_open(&fx, &cfg, false, 0);
    uint8_t payload[600], buf[700];
    size_t n = frame(buf, payload, make_payload(payload, 0x80, 1, 500)); /* exactly max_frame: fine */
    write_all(fx.peer, buf, n);
    PUMP_UNTIL(&fx, fx.rec.n == 1);
    n = frame(buf, payload, make_payload(payload, 0x80, 2, 501));
    write_all(fx.peer, buf, 2); /* the length alone is enough to know */
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_FRAME_TOO_BIG);
    assert_int_equal(fx.rec.n, 1);
    char c;
    assert_int_equal(read(fx.peer, &c, 1), 0); /* closed */
    ovl_tcp_set_stats_t st;
    ovl_tcp_set_stats(fx.set, &st);
    assert_int_equal(st.closed[OVL_TCP_CLOSE_FRAME_TOO_BIG], 1);
    fixture_close(&fx);

    /* RFC 4571 allows 65535; with the default limit (the pool's buffer) 0xffff is refused. */
    fixture_open(&fx, NULL, false, 0);
    write_all(fx.peer, (const uint8_t *)"\xff\xff", 2);
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_FRAME_TOO_BIG);
    fixture_close(&fx);
}

/* Bytes the hand-off already read are handled first, then the socket's. */
static void test_tcp_initial_bytes(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    ovl_pool_t *pool;
    ovl_tcp_set_t *set;
    rec_t rec = {.echo_prio = -1};
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    assert_int_equal(ovl_pool_new(&pool, 64), 0);
    assert_int_equal(ovl_tcp_set_new(&set, loop, pool, NULL), 0);
    int server, peer = tcp_pair(&server, 0);
    uint8_t stream[512], payload[128];
    size_t total = 0, cut = 0;
    for (uint32_t i = 0; i < 3; i++) {
        total += frame(stream + total, payload, make_payload(payload, 0x80, i, 100));
        if (i == 1)
            cut = total - 30; /* inside the second frame */
    }
    ovl_tcp_conn_params_t p = {
        .path_id = 9, .initial = stream, .initial_len = cut, .on_frame = on_frame, .on_close = on_close, .ctx = &rec};
    assert_int_equal(ovl_tcp_conn_new(&rec.conn, set, server, &p, ovl_loop_now(loop)), 0);
    for (int i = 0; i < 5 && rec.n < 1; i++)
        ovl_loop_turn(loop, OVL_MS(20));
    assert_int_equal(rec.n, 1); /* the first frame, from the initial bytes alone */
    write_all(peer, stream + cut, total - cut);
    for (int i = 0; i < 50 && rec.n < 3; i++)
        ovl_loop_turn(loop, OVL_MS(20));
    assert_int_equal(rec.n, 3);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(rec.sum[i], checksum(payload, make_payload(payload, 0x80, i, 100)));

    p.initial_len = 99999; /* more than the read buffer */
    int s2, p2 = tcp_pair(&s2, 0);
    ovl_tcp_conn_t *c2;
    assert_int_equal(ovl_tcp_conn_new(&c2, set, s2, &p, 0), OVL_ERR_ARG); /* and s2 is closed */
    char c;
    assert_int_equal(read(p2, &c, 1), 0);
    close(p2);
    ovl_tcp_set_free(set); /* frees rec.conn */
    ovl_pool_free(pool);
    ovl_loop_free(loop);
    close(peer);
}

/* ---- send --------------------------------------------------------------------------------------- */

/* Reads everything the peer can get within a short while and parses it as RFC 4571 frames; fails
 * on any desynchronisation (a frame must start with 0x80 audio / 0x90 video / STUN and carry the
 * pattern make_payload wrote). Returns the number of frames, their first bytes and sequences. */
typedef struct seen {
    size_t n;
    uint8_t kind[MAX_FRAMES];
    uint32_t seq[MAX_FRAMES];
    uint8_t buf[1 << 20];
    size_t len;
} seen_t;

static void parse_seen(seen_t *s)
{
    size_t off = 0;
    while (s->len - off >= 2) {
        size_t len = (size_t)s->buf[off] << 8 | s->buf[off + 1];
        assert_true(len >= 5 && len <= 2048);
        if (s->len - off < 2 + len)
            break;
        const uint8_t *p = s->buf + off + 2;
        uint32_t seq = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
        uint8_t want[2048];
        make_payload(want, p[0], seq, len);
        assert_memory_equal(p, want, len); /* whole frame, intact */
        assert_true(s->n < MAX_FRAMES);
        s->kind[s->n] = p[0];
        s->seq[s->n] = seq;
        s->n++;
        off += 2 + len;
    }
    memmove(s->buf, s->buf + off, s->len - off);
    s->len -= off;
}

/* Lets the loop write and the peer read until `want` frames arrived (0: until the connection's
 * queue is empty and nothing more comes), then checks that nothing else follows. */
static void drain_to_peer(fixture_t *fx, seen_t *s, size_t want)
{
    int quiet = 0;
    for (int i = 0; i < 4000 && quiet < 3; i++) {
        ovl_loop_turn(fx->loop, OVL_MS(2));
        ssize_t n = recv(fx->peer, s->buf + s->len, sizeof(s->buf) - s->len, MSG_DONTWAIT);
        if (n > 0) {
            s->len += (size_t)n;
            parse_seen(s);
        }
        ovl_tcp_conn_stats_t st;
        ovl_tcp_conn_stats(fx->conn, &st);
        bool done = want > 0 ? s->n >= want : st.queued_frames == 0;
        quiet = done && n <= 0 ? quiet + 1 : 0;
    }
    assert_int_equal(quiet, 3);
}

static ovl_pkt_t *make_pkt(ovl_pool_t *pool, uint8_t first, uint32_t seq, size_t len)
{
    ovl_pkt_t *pkt = ovl_pool_get(pool);
    assert_non_null(pkt);
    pkt->len = make_payload(pkt->data, first, seq, len);
    return pkt;
}

/*
 * A receiver that stops reading (its socket buffers fill, then ours): every call returns at once,
 * video is dropped and audio is not, the queue stays within its caps, and when the reader resumes
 * every audio frame arrives in order, with whole video frames in order between them.
 */
static void test_tcp_slow_reader_drops_video_first(void **state)
{
    (void)state;
    static seen_t s;
    memset(&s, 0, sizeof(s));
    ovl_tcp_config_t cfg = {.sndbuf = 4096,
                            .queue_bytes = 64 * 1024,
                            .video_queue_bytes = 32 * 1024,
                            .queue_frames = 512,
                            .first_frame_timeout = OVL_TIME_NEVER}; /* it receives nothing */
    fixture_t fx;
    fixture_open(&fx, &cfg, false, 4096);
    uint32_t audio_seq = 0, video_seq = 0;
    for (int turn = 0; turn < 300; turn++) {
        ovl_pkt_t *a = make_pkt(fx.pool, 0x80, audio_seq++, 120);
        assert_int_equal(ovl_tcp_conn_send(fx.conn, a, OVL_TCP_PRIO_AUDIO), 0); /* never refused */
        ovl_pkt_unref(a);
        for (int v = 0; v < 4; v++) {
            ovl_pkt_t *p = make_pkt(fx.pool, 0x90, video_seq++, 1100);
            int r = ovl_tcp_conn_send(fx.conn, p, OVL_TCP_PRIO_VIDEO);
            assert_true(r == 0 || r == OVL_ERR_LIMIT);
            ovl_pkt_unref(p);
        }
        assert_true(ovl_loop_turn(fx.loop, 0) >= 0); /* the flush never waits for the reader */
        ovl_tcp_conn_stats_t st;
        ovl_tcp_conn_stats(fx.conn, &st);
        assert_true(st.queued_bytes <= cfg.queue_bytes);
    }
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_true(st.tx_blocked > 0);
    assert_true(st.drops[OVL_TCP_PRIO_VIDEO] > 0);
    assert_int_equal(st.drops[OVL_TCP_PRIO_AUDIO], 0);
    assert_true(st.queue_high_water <= cfg.queue_bytes);
    assert_true(st.queue_high_water > cfg.video_queue_bytes); /* audio used its headroom */
    ovl_pool_stats_t ps;
    ovl_pool_stats(fx.pool, &ps);
    assert_true(ps.in_use <= cfg.queue_frames + 1); /* only queued frames hold packets */

    drain_to_peer(&fx, &s, 0); /* the reader resumes */
    assert_int_equal(s.len, 0);
    uint32_t next_audio = 0;
    int64_t last_video = -1;
    size_t videos = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.kind[i] == 0x80) {
            assert_int_equal(s.seq[i], next_audio++); /* every audio frame, in order */
        } else {
            assert_int_equal(s.kind[i], 0x90);
            assert_true((int64_t)s.seq[i] > last_video); /* whole video frames, in order, some missing */
            last_video = s.seq[i];
            videos++;
        }
    }
    assert_int_equal(next_audio, 300);
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(videos + st.drops[OVL_TCP_PRIO_VIDEO], video_seq);
    assert_int_equal(st.queued_frames, 0);
    fixture_close(&fx);
}

/* Audio queued after video leaves first; a video frame already half written is finished first. */
typedef struct cut_sys {
    size_t budget; /* bytes the next sendmsg may write; then EAGAIN until refilled */
    size_t refill; /* budget given back after each EAGAIN (0: unlimited) */
    size_t calls;
} cut_sys_t;

static ssize_t cut_recv(int fd, void *buf, size_t len, void *ctx)
{
    (void)ctx;
    return recv(fd, buf, len, MSG_DONTWAIT);
}

static ssize_t cut_sendmsg(int fd, const struct msghdr *m, void *ctx)
{
    cut_sys_t *cs = ctx;
    cs->calls++;
    if (cs->budget == 0) {
        cs->budget = cs->refill != 0 ? cs->refill : SIZE_MAX;
        errno = EAGAIN;
        return -1;
    }
    struct iovec iov[2 * OVL_TCP_WRITE_FRAMES];
    size_t n = 0, total = 0;
    for (size_t i = 0; i < (size_t)m->msg_iovlen && total < cs->budget; i++) {
        size_t take = m->msg_iov[i].iov_len;
        if (take > cs->budget - total)
            take = cs->budget - total;
        iov[n++] = (struct iovec){.iov_base = m->msg_iov[i].iov_base, .iov_len = take};
        total += take;
    }
    struct msghdr mm = {.msg_iov = iov, .msg_iovlen = n};
    ssize_t w = sendmsg(fd, &mm, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w > 0 && cs->budget != SIZE_MAX)
        cs->budget -= (size_t)w;
    return w;
}

static void test_tcp_priority_and_inflight(void **state)
{
    (void)state;
    static seen_t s;
    memset(&s, 0, sizeof(s));
    cut_sys_t cs = {.budget = 2 + 1000 + 2 + 300}; /* the first write stops inside video frame 1 */
    ovl_tcp_sys_t sys = {.recv = cut_recv, .sendmsg = cut_sendmsg, .ctx = &cs};
    ovl_tcp_config_t cfg = {.sys = &sys, .first_frame_timeout = OVL_TIME_NEVER};
    fixture_t fx;
    fixture_open(&fx, &cfg, false, 0);
    for (uint32_t v = 0; v < 3; v++) {
        ovl_pkt_t *p = make_pkt(fx.pool, 0x90, v, 1000);
        assert_int_equal(ovl_tcp_conn_send(fx.conn, p, OVL_TCP_PRIO_VIDEO), 0);
        ovl_pkt_unref(p);
    }
    assert_int_equal(ovl_tcp_conn_flush(fx.conn), OVL_ERR_AGAIN);
    for (uint32_t a = 0; a < 2; a++) {
        ovl_pkt_t *p = make_pkt(fx.pool, 0x80, a, 100);
        assert_int_equal(ovl_tcp_conn_send(fx.conn, p, OVL_TCP_PRIO_AUDIO), 0);
        ovl_pkt_unref(p);
    }
    drain_to_peer(&fx, &s, 5);
    static const uint8_t kinds[] = {0x90, 0x90, 0x80, 0x80, 0x90};
    static const uint32_t seqs[] = {0, 1, 0, 1, 2};
    assert_int_equal(s.n, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(s.kind[i], kinds[i]);
        assert_int_equal(s.seq[i], seqs[i]);
    }
    fixture_close(&fx);
}

/* A write cut at every byte of a batch resumes exactly there: the peer sees the same frames. */
static void test_tcp_short_write_at_every_byte(void **state)
{
    (void)state;
    static seen_t s;
    cut_sys_t cs = {0};
    ovl_tcp_sys_t sys = {.recv = cut_recv, .sendmsg = cut_sendmsg, .ctx = &cs};
    ovl_tcp_config_t cfg = {.sys = &sys, .first_frame_timeout = OVL_TIME_NEVER};
    fixture_t fx;
    fixture_open(&fx, &cfg, false, 0);
    static const size_t sizes[] = {5, 37, 200};
    size_t total = 0;
    for (size_t i = 0; i < 3; i++)
        total += 2 + sizes[i];
    for (size_t k = 1; k < total; k++) {
        memset(&s, 0, sizeof(s));
        cs.budget = k;
        cs.refill = k % 7 + 1; /* then dribble out a few bytes per write */
        for (size_t i = 0; i < 3; i++) {
            ovl_pkt_t *p = make_pkt(fx.pool, i == 1 ? 0x90 : 0x80, (uint32_t)(k * 3 + i), sizes[i]);
            assert_int_equal(ovl_tcp_conn_send(fx.conn, p, i == 1 ? OVL_TCP_PRIO_VIDEO : OVL_TCP_PRIO_AUDIO), 0);
            ovl_pkt_unref(p);
        }
        drain_to_peer(&fx, &s, 3);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.len, 0);
        /* audio (frames 0 and 2) goes before video (frame 1) */
        assert_int_equal(s.seq[0], k * 3);
        assert_int_equal(s.seq[1], k * 3 + 2);
        assert_int_equal(s.seq[2], k * 3 + 1);
    }
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_true(st.tx_short >= total - 1);
    assert_int_equal(st.tx_frames, 3 * (total - 1));
    assert_int_equal(st.drops[0] + st.drops[1], 0);
    fixture_close(&fx);
}

/* Hard caps: frames and bytes. A frame that cannot fit even after evicting all video is dropped. */
static void test_tcp_queue_caps(void **state)
{
    (void)state;
    cut_sys_t cs = {.budget = 0, .refill = 0}; /* the socket is always "full" */
    ovl_tcp_sys_t sys = {.recv = cut_recv, .sendmsg = cut_sendmsg, .ctx = &cs};
    ovl_tcp_config_t cfg = {.sys = &sys, .queue_frames = 8, .queue_bytes = 10000, .video_queue_bytes = 5000};
    fixture_t fx;
    fixture_open(&fx, &cfg, false, 0);
    cs.budget = 0;
    cs.refill = 0;
    ovl_pkt_t *v = make_pkt(fx.pool, 0x90, 0, 998); /* 1000 bytes framed */
    ovl_pkt_t *a = make_pkt(fx.pool, 0x80, 0, 98);  /* 100 bytes framed */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ovl_tcp_conn_send(fx.conn, v, OVL_TCP_PRIO_VIDEO), 0);
    assert_int_equal(ovl_tcp_conn_send(fx.conn, v, OVL_TCP_PRIO_VIDEO), OVL_ERR_LIMIT); /* video soft cap */
    for (int i = 0; i < 3; i++)
        assert_int_equal(ovl_tcp_conn_send(fx.conn, a, OVL_TCP_PRIO_AUDIO), 0);
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(st.queued_frames, 8);
    assert_int_equal(st.drops[OVL_TCP_PRIO_VIDEO], 1);
    /* 8 frames: the next audio evicts the newest video */
    assert_int_equal(ovl_tcp_conn_send(fx.conn, a, OVL_TCP_PRIO_AUDIO), 0);
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(st.queued_frames, 8);
    assert_int_equal(st.queued_bytes, 4 * 1000 + 4 * 100);
    assert_int_equal(st.drops[OVL_TCP_PRIO_VIDEO], 2);
    for (int i = 0; i < 4; i++)
        assert_int_equal(ovl_tcp_conn_send(fx.conn, a, OVL_TCP_PRIO_AUDIO), 0);
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(st.queued_bytes, 8 * 100); /* every video frame evicted */
    assert_int_equal(st.drops[OVL_TCP_PRIO_VIDEO], 6);
    assert_int_equal(ovl_tcp_conn_send(fx.conn, a, OVL_TCP_PRIO_AUDIO), OVL_ERR_LIMIT); /* nothing left to evict */
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(st.drops[OVL_TCP_PRIO_AUDIO], 1);
    assert_int_equal(st.drop_bytes[OVL_TCP_PRIO_AUDIO], 98);
    assert_int_equal(st.drop_bytes[OVL_TCP_PRIO_VIDEO], 6 * 998);
    /* bad frames */
    a->len = 0;
    assert_int_equal(ovl_tcp_conn_send(fx.conn, a, OVL_TCP_PRIO_AUDIO), OVL_ERR_ARG);
    assert_int_equal(ovl_tcp_conn_send(fx.conn, a, (ovl_tcp_prio_t)7), OVL_ERR_ARG);
    ovl_pkt_unref(v);
    ovl_pkt_unref(a);
    fixture_close(&fx);
}

/* ---- STUN gate, timeouts, closing ----------------------------------------------------------------- */

/* A STUN Binding request (RFC 8489 §5) with USERNAME, optionally framed (RFC 4571). */
static size_t build_check(uint8_t *out, size_t cap, const char *username, bool framed, bool fingerprint)
{
    static const uint8_t txid[OVL_STUN_TXID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    ovl_wbuf_t w;
    ovl_wbuf_init(&w, out, cap);
    if (framed)
        assert_int_equal(ovl_put_u16(&w, 0), 0);
    ovl_stun_builder_t b;
    assert_int_equal(ovl_stun_build_start(&b, &w, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid), 0);
    assert_int_equal(ovl_stun_add_username(&b, username, strlen(username)), 0);
    assert_int_equal(ovl_stun_add_priority(&b, 1845501695u), 0);
    assert_int_equal(ovl_stun_add_ice_controlling(&b, 0x1122334455667788ull), 0);
    static const uint8_t key[] = "0123456789abcdefghijkl";
    if (fingerprint) {
        assert_int_equal(ovl_stun_build_finish(&b, key, sizeof(key) - 1), 0);
    } else {
        assert_int_equal(ovl_stun_add_integrity(&b, key, sizeof(key) - 1), 0);
    }
    if (framed)
        ovl_store_u16(out, (uint16_t)(w.len - 2));
    return w.len;
}

/* Chromium drops an ICE-TCP connection that gets non-STUN before its binding completes: until
 * validated, only STUN is queued. */
static void test_tcp_stun_gate(void **state)
{
    (void)state;
    static seen_t s;
    memset(&s, 0, sizeof(s));
    fixture_t fx;
    fixture_open(&fx, NULL, true, 0);
    assert_false(ovl_tcp_conn_validated(fx.conn));
    uint8_t rtp[100], stun[256];
    make_payload(rtp, 0x80, 1, sizeof(rtp));
    size_t slen = build_check(stun, sizeof(stun), "relay:peer", false, true);
    assert_int_equal(ovl_tcp_conn_send_copy(fx.conn, rtp, sizeof(rtp), OVL_TCP_PRIO_AUDIO), OVL_ERR_STATE);
    rtp[0] = 0x16; /* DTLS */
    assert_int_equal(ovl_tcp_conn_send_copy(fx.conn, rtp, sizeof(rtp), OVL_TCP_PRIO_AUDIO), OVL_ERR_STATE);
    uint8_t fake[20] = {0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef}; /* no magic cookie */
    assert_int_equal(ovl_tcp_conn_send_copy(fx.conn, fake, sizeof(fake), OVL_TCP_PRIO_AUDIO), OVL_ERR_STATE);
    assert_int_equal(ovl_tcp_conn_send_copy(fx.conn, stun, slen, OVL_TCP_PRIO_AUDIO), 0);
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(fx.conn, &st);
    assert_int_equal(st.tx_gated, 3);
    assert_int_equal(st.queued_frames, 1);
    ovl_tcp_conn_validate(fx.conn);
    assert_true(ovl_tcp_conn_validated(fx.conn));
    rtp[0] = 0x80;
    assert_int_equal(ovl_tcp_conn_send_copy(fx.conn, rtp, sizeof(rtp), OVL_TCP_PRIO_AUDIO), 0);
    uint8_t buf[512];
    size_t got = 0;
    for (int i = 0; i < 50 && got < 2 + slen + 2 + sizeof(rtp); i++) {
        ovl_loop_turn(fx.loop, OVL_MS(10));
        ssize_t n = recv(fx.peer, buf + got, sizeof(buf) - got, MSG_DONTWAIT);
        if (n > 0)
            got += (size_t)n;
    }
    assert_int_equal(got, 2 + slen + 2 + sizeof(rtp));
    assert_int_equal(buf[0] << 8 | buf[1], slen);
    assert_memory_equal(buf + 2, stun, slen); /* the STUN first, exactly */
    assert_memory_equal(buf + 4 + slen, rtp, sizeof(rtp));
    fixture_close(&fx);
}

static void test_tcp_timeouts(void **state)
{
    (void)state;
    fixture_t fx;
    uint8_t buf[64], payload[16];
    size_t n = frame(buf, payload, make_payload(payload, 0x80, 0, 10));

    /* no whole frame in time (half a frame does not count) */
    ovl_tcp_config_t cfg = {.first_frame_timeout = OVL_MS(60), .idle_timeout = OVL_TIME_NEVER};
    fixture_open(&fx, &cfg, false, 0);
    write_all(fx.peer, buf, 5);
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_FIRST_TIMEOUT);
    fixture_close(&fx);

    /* idle: frames keep it open, silence closes it */
    cfg = (ovl_tcp_config_t){.first_frame_timeout = OVL_TIME_NEVER, .idle_timeout = OVL_MS(400)};
    fixture_open(&fx, &cfg, false, 0);
    for (int i = 0; i < 6; i++) {
        write_all(fx.peer, buf, n);
        PUMP_UNTIL(&fx, fx.rec.n == (size_t)i + 1);
        for (int t = 0; t < 2; t++)
            ovl_loop_turn(fx.loop, OVL_MS(20));
        assert_int_equal(fx.rec.closed, 0);
    }
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_IDLE_TIMEOUT);
    fixture_close(&fx);

    /* validation: STUN keeps arriving, but nobody validates the path */
    cfg = (ovl_tcp_config_t){.validate_timeout = OVL_MS(100)};
    fixture_open(&fx, &cfg, true, 0);
    write_all(fx.peer, buf, n);
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_VALIDATE_TIMEOUT);
    assert_int_equal(fx.rec.n, 1);
    fixture_close(&fx);

    /* validated in time: no validation timeout */
    cfg = (ovl_tcp_config_t){.validate_timeout = OVL_MS(60), .idle_timeout = OVL_MS(300)};
    fixture_open(&fx, &cfg, true, 0);
    ovl_tcp_conn_validate(fx.conn);
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_IDLE_TIMEOUT);
    fixture_close(&fx);
}

static void test_tcp_peer_closes(void **state)
{
    (void)state;
    fixture_t fx;
    uint8_t buf[64], payload[16];
    size_t n = frame(buf, payload, make_payload(payload, 0x80, 0, 10));

    /* EOF after two frames and half of a third: the whole ones are delivered, then on_close once */
    fixture_open(&fx, NULL, false, 0);
    write_all(fx.peer, buf, n);
    write_all(fx.peer, buf, n);
    write_all(fx.peer, buf, 3);
    shutdown(fx.peer, SHUT_WR);
    PUMP_UNTIL(&fx, fx.rec.closed == 1);
    assert_int_equal(fx.rec.reason, OVL_TCP_CLOSE_EOF);
    assert_int_equal(fx.rec.n, 2);
    for (int i = 0; i < 3; i++)
        ovl_loop_turn(fx.loop, 0);
    assert_int_equal(fx.rec.closed, 1);
    fixture_close(&fx);

    /* reset while we still have frames queued for it: error (or EOF), queued packets released */
    fixture_open(&fx, NULL, false, 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(fx.peer, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    write_all(fx.peer, buf, n);
    PUMP_UNTIL(&fx, fx.rec.n == 1);
    uint8_t tx[100];
    close(fx.peer); /* SO_LINGER 0: an RST */
    fx.peer = -1;
    for (int i = 0; i < 200 && fx.rec.closed == 0; i++) {
        ovl_tcp_conn_send_copy(fx.conn, tx, make_payload(tx, 0x80, (uint32_t)i, sizeof(tx)), OVL_TCP_PRIO_AUDIO);
        ovl_loop_turn(fx.loop, OVL_MS(5));
    }
    assert_int_equal(fx.rec.closed, 1);
    assert_true(fx.rec.reason == OVL_TCP_CLOSE_ERROR || fx.rec.reason == OVL_TCP_CLOSE_EOF);
    if (fx.rec.reason == OVL_TCP_CLOSE_ERROR)
        assert_true(fx.rec.err == ECONNRESET || fx.rec.err == EPIPE);
    fixture_close(&fx); /* pool: every queued packet went back */
}

/* The owner frees the connection inside on_frame: later frames of the same read are not delivered,
 * nothing is touched after (ASan), and no on_close follows. */
static void test_tcp_free_inside_callback(void **state)
{
    (void)state;
    fixture_t fx;
    fixture_open(&fx, NULL, false, 0);
    fx.rec.free_after = 2;
    fx.rec.echo_prio = OVL_TCP_PRIO_AUDIO; /* and it had queued an answer to each */
    uint8_t stream[512], payload[64];
    size_t total = 0;
    for (uint32_t i = 0; i < 5; i++)
        total += frame(stream + total, payload, make_payload(payload, 0x80, i, 50));
    write_all(fx.peer, stream, total);
    PUMP_UNTIL(&fx, fx.rec.n == 2);
    for (int i = 0; i < 3; i++)
        ovl_loop_turn(fx.loop, OVL_MS(5));
    assert_int_equal(fx.rec.n, 2);
    assert_int_equal(fx.rec.closed, 0);
    ovl_tcp_set_stats_t st;
    ovl_tcp_set_stats(fx.set, &st);
    assert_int_equal(st.freed, 1);
    assert_int_equal(st.conns, 0);
    fixture_close(&fx);
}

/* Echo: frames handed up go back out on the same connection (the UDP-like use). */
static void test_tcp_echo_round_trip(void **state)
{
    (void)state;
    static seen_t s;
    memset(&s, 0, sizeof(s));
    fixture_t fx;
    fixture_open(&fx, NULL, false, 0);
    fx.rec.echo_prio = OVL_TCP_PRIO_VIDEO;
    uint8_t stream[65536], payload[1500];
    size_t total = 0;
    for (uint32_t i = 0; i < 40; i++)
        total += frame(stream + total, payload, make_payload(payload, 0x90, i, 100 + i * 30));
    write_all(fx.peer, stream, total);
    PUMP_UNTIL(&fx, fx.rec.n == 40);
    drain_to_peer(&fx, &s, 40);
    assert_int_equal(s.n, 40);
    for (uint32_t i = 0; i < 40; i++)
        assert_int_equal(s.seq[i], i);
    assert_true(ovl_tcp_conn_peer(fx.conn)->family == OVL_ADDR_IPV4);
    assert_true(ovl_tcp_conn_local(fx.conn)->port != 0);
    assert_true(ovl_tcp_conn_fd(fx.conn) >= 0);
    fixture_close(&fx);
}

static void test_tcp_config_errors(void **state)
{
    (void)state;
    ovl_loop_t *loop;
    ovl_pool_t *pool;
    ovl_tcp_set_t *set = (ovl_tcp_set_t *)1;
    assert_int_equal(ovl_loop_new(&loop, 0), 0);
    assert_int_equal(ovl_pool_new(&pool, 4), 0);
    ovl_tcp_config_t bad[] = {
        {.max_frame = OVL_POOL_DATA + 1},
        {.max_frame = 100, .rx_buffer = 101},
        {.queue_bytes = 1000, .video_queue_bytes = 1001},
        {.sndbuf = -1},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(ovl_tcp_set_new(&set, loop, pool, &bad[i]), OVL_ERR_ARG);
        assert_null(set);
    }
    assert_int_equal(ovl_tcp_set_new(&set, NULL, pool, NULL), OVL_ERR_ARG);
    assert_int_equal(ovl_tcp_set_new(&set, loop, pool, NULL), 0);
    ovl_tcp_conn_t *c;
    ovl_tcp_conn_params_t p = {.on_frame = NULL};
    int server, peer = tcp_pair(&server, 0);
    assert_int_equal(ovl_tcp_conn_new(&c, set, server, &p, 0), OVL_ERR_ARG); /* closes server */
    assert_null(c);
    close(peer);
    ovl_tcp_set_free(set);
    assert_string_equal(ovl_tcp_close_reason_name(OVL_TCP_CLOSE_FRAME_TOO_BIG), "frame-too-big");
    assert_string_equal(ovl_tcp_close_reason_name((ovl_tcp_close_reason_t)99), "unknown");
    ovl_pool_free(pool);
    ovl_loop_free(loop);
}

/* ---- hand-off ------------------------------------------------------------------------------------ */

/* RFC 6544 §3 + RFC 4571: the first frame of an ICE-TCP connection is a Binding request whose
 * USERNAME (RFC 8445 §7.2.2) starts with the relay's ufrag, which names the worker. */
static void test_tcp_first_frame_ufrag(void **state)
{
    (void)state;
    uint8_t rnd[OVL_MEDIA_UFRAG_RAND_LEN] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 22, 33, 44};
    char relay[OVL_MEDIA_UFRAG_LEN + 1], username[64];
    assert_int_equal(ovl_media_ufrag_make(relay, sizeof(relay), 77, rnd), 0);
    snprintf(username, sizeof(username), "%s:Xy9z", relay);
    uint8_t f[1200];
    size_t flen = build_check(f, sizeof(f), username, true, true);

    ovl_stun_text_t u;
    size_t got_len = 1;
    for (size_t k = 0; k < flen; k++) /* every prefix: wait for more */
        assert_int_equal(ovl_tcp_first_frame_ufrag(f, k, &u, &got_len), OVL_ERR_AGAIN);
    assert_int_equal(got_len, 0);
    uint8_t more[1300];
    memcpy(more, f, flen);
    memset(more + flen, 0xab, 100); /* whatever follows (DTLS, the next check) is not looked at */
    assert_int_equal(ovl_tcp_first_frame_ufrag(more, flen + 100, &u, &got_len), 0);
    assert_int_equal(got_len, flen);
    assert_int_equal(u.len, OVL_MEDIA_UFRAG_LEN);
    assert_memory_equal(u.s, relay, u.len);
    unsigned w;
    assert_int_equal(ovl_media_ufrag_worker(u.s, u.len, &w), 0);
    assert_int_equal(w, 77);

    /* refusals: not STUN (a TLS ClientHello, RTP), no FINGERPRINT, bad FINGERPRINT, not a Binding
     * request, no ':' in USERNAME, a frame too short or too long */
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x07, 0x9d, 0x01};
    assert_int_equal(ovl_tcp_first_frame_ufrag(tls, sizeof(tls), &u, NULL), OVL_ERR_PARSE);
    uint8_t rtp[] = {0x00, 0x30, 0x80, 0x60};
    assert_int_equal(ovl_tcp_first_frame_ufrag(rtp, sizeof(rtp), &u, NULL), OVL_ERR_PARSE);
    size_t nofp = build_check(f, sizeof(f), username, true, false);
    assert_int_equal(ovl_tcp_first_frame_ufrag(f, nofp, &u, NULL), OVL_ERR_PARSE);
    flen = build_check(f, sizeof(f), username, true, true);
    f[flen - 1] ^= 1;
    assert_int_equal(ovl_tcp_first_frame_ufrag(f, flen, &u, NULL), OVL_ERR_PARSE);
    assert_null(u.s);
    flen = build_check(f, sizeof(f), username, true, true);
    f[3] = 0x11; /* class bits: a Binding indication, not a request (the fingerprint is now wrong too) */
    assert_int_equal(ovl_tcp_first_frame_ufrag(f, flen, &u, NULL), OVL_ERR_PARSE);
    flen = build_check(f, sizeof(f), "nocolon", true, true);
    assert_int_equal(ovl_tcp_first_frame_ufrag(f, flen, &u, NULL), OVL_ERR_PARSE);
    static const uint8_t tiny[] = {0x00, 0x13, 0x00, 0x01};
    assert_int_equal(ovl_tcp_first_frame_ufrag(tiny, sizeof(tiny), &u, NULL), OVL_ERR_PARSE);
    static const uint8_t huge[] = {0x04, 0x01, 0x00, 0x01};
    assert_int_equal(ovl_tcp_first_frame_ufrag(huge, sizeof(huge), &u, NULL), OVL_ERR_PARSE);
    assert_int_equal(ovl_tcp_first_frame_ufrag(NULL, 0, &u, NULL), OVL_ERR_PARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tcp_split_at_every_byte),
        cmocka_unit_test(test_tcp_several_frames_per_read),
        cmocka_unit_test(test_tcp_oversize_frame_closes),
        cmocka_unit_test(test_tcp_initial_bytes),
        cmocka_unit_test(test_tcp_slow_reader_drops_video_first),
        cmocka_unit_test(test_tcp_priority_and_inflight),
        cmocka_unit_test(test_tcp_short_write_at_every_byte),
        cmocka_unit_test(test_tcp_queue_caps),
        cmocka_unit_test(test_tcp_stun_gate),
        cmocka_unit_test(test_tcp_timeouts),
        cmocka_unit_test(test_tcp_peer_closes),
        cmocka_unit_test(test_tcp_free_inside_callback),
        cmocka_unit_test(test_tcp_echo_round_trip),
        cmocka_unit_test(test_tcp_config_errors),
        cmocka_unit_test(test_tcp_first_frame_ufrag),
    };
    return cmocka_run_group_tests_name("io tcp_conn", tests, NULL, NULL);
}
