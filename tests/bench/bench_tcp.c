/*
 * bench_tcp: what media over TCP costs the worker.
 *
 * 1. ICE-TCP echo (relay/io/tcp_conn): a client thread keeps WINDOW frames of PAYLOAD bytes in
 *    flight over loopback TCP (RFC 4571 framing, written 32 frames per write); the worker's loop
 *    hands each frame up and queues it back (AUDIO class), and the end-of-turn flush writes the
 *    turn's frames with one gather write. Printed: the worker thread's CPU time per echoed frame
 *    (median of RUNS), to compare with bench_io's UDP echo.
 * 2. TURN core (relay/proto/turn): ChannelData client -> peer and peer -> client for a 1200-byte
 *    payload, and one authenticated Allocate (REST password HMAC, MD5 key, MESSAGE-INTEGRITY).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "relay/io/loop.h"
#include "relay/io/pool.h"
#include "relay/io/tcp_conn.h"
#include "relay/proto/cursor.h"
#include "relay/proto/turn.h"

#define RUNS    5
#define FRAMES  60000
#define WINDOW  256
#define PAYLOAD 1200
#define BATCH   32

static double now_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct client {
    int fd;
    volatile long echoed;
};

/* Writes FRAMES frames, never more than WINDOW ahead of the echoes, and reads the echoes back. */
static void *client_main(void *arg)
{
    struct client *c = arg;
    static uint8_t out[BATCH * (PAYLOAD + 2)], in[1 << 16];
    size_t in_len = 0;
    long sent = 0, got = 0;
    for (int i = 0; i < BATCH; i++) {
        ovl_store_u16(out + i * (PAYLOAD + 2), PAYLOAD);
        memset(out + i * (PAYLOAD + 2) + 2, 0x80, PAYLOAD);
    }
    while (got < FRAMES) {
        if (sent < FRAMES && sent - got + BATCH <= WINDOW) {
            ssize_t w = write(c->fd, out, sizeof(out));
            if (w != (ssize_t)sizeof(out))
                abort();
            sent += BATCH;
        }
        ssize_t n = recv(c->fd, in + in_len, sizeof(in) - in_len, sent - got >= WINDOW ? 0 : MSG_DONTWAIT);
        if (n > 0) {
            in_len += (size_t)n;
            size_t off = 0;
            while (in_len - off >= 2 && in_len - off >= 2u + ovl_load_u16(in + off)) {
                off += 2u + ovl_load_u16(in + off);
                got++;
            }
            memmove(in, in + off, in_len - off);
            in_len -= off;
        }
    }
    __atomic_store_n(&c->echoed, got, __ATOMIC_RELEASE);
    return NULL;
}

static void echo(ovl_tcp_conn_t *c, ovl_pkt_t *pkt, ovl_time_t now, void *ctx)
{
    (void)now;
    (*(long *)ctx)++;
    ovl_tcp_conn_send(c, pkt, OVL_TCP_PRIO_AUDIO);
}

static double tcp_echo_run(void)
{
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &alen))
        abort();
    struct client cl = {.fd = socket(AF_INET, SOCK_STREAM, 0)};
    setsockopt(cl.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(cl.fd, (struct sockaddr *)&a, sizeof(a)))
        abort();
    int fd = accept(l, NULL, NULL);
    close(l);
    ovl_loop_t *loop;
    ovl_pool_t *pool;
    ovl_tcp_set_t *set;
    ovl_tcp_conn_t *conn;
    long frames = 0;
    if (ovl_loop_new(&loop, 0) || ovl_pool_new(&pool, 4096) || ovl_tcp_set_new(&set, loop, pool, NULL))
        abort();
    ovl_tcp_conn_params_t p = {.path_id = 1, .on_frame = echo, .ctx = &frames};
    if (ovl_tcp_conn_new(&conn, set, fd, &p, ovl_loop_now(loop)))
        abort();
    pthread_t t;
    pthread_create(&t, NULL, client_main, &cl);
    double cpu0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    while (__atomic_load_n(&cl.echoed, __ATOMIC_ACQUIRE) == 0 && frames < FRAMES)
        ovl_loop_turn(loop, OVL_MS(10));
    while (__atomic_load_n(&cl.echoed, __ATOMIC_ACQUIRE) == 0)
        ovl_loop_turn(loop, OVL_MS(1));
    double cpu = now_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    pthread_join(t, NULL);
    ovl_tcp_conn_stats_t st;
    ovl_tcp_conn_stats(conn, &st);
    static int printed;
    if (!printed++)
        printf("  (first run: %llu frames echoed in %llu gather writes, %.1f frames per write)\n",
               (unsigned long long)st.tx_frames, (unsigned long long)st.tx_calls,
               (double)st.tx_frames / (double)st.tx_calls);
    ovl_tcp_set_free(set);
    ovl_pool_free(pool);
    ovl_loop_free(loop);
    close(cl.fd);
    return cpu / (double)frames * 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- TURN --------------------------------------------------------------------------------------- */

static uint8_t last_out[2048];
static size_t last_len;
static long peer_packets;

static void to_client(void *u, ovl_turn_session_t *s, void *ctx, const uint8_t *d, size_t n)
{
    (void)u, (void)s, (void)ctx;
    if (n <= sizeof(last_out)) {
        memcpy(last_out, d, n);
        last_len = n;
    }
}

static void to_peer(void *u, const ovl_addr_t *r, const ovl_addr_t *p, const uint8_t *d, size_t n)
{
    (void)u, (void)r, (void)p, (void)d, (void)n;
    peer_packets++;
}

static size_t request(uint8_t *buf, uint16_t method, const char *nonce, const uint8_t *key, uint8_t seq)
{
    static const char user[] = "9999999999:bench";
    uint8_t txid[12] = {seq};
    ovl_wbuf_t w;
    ovl_stun_builder_t b;
    ovl_wbuf_init(&w, buf, 512);
    ovl_stun_build_start(&b, &w, OVL_STUN_REQUEST, method, txid);
    if (method == OVL_TURN_ALLOCATE) {
        uint8_t udp[4] = {OVL_TURN_PROTO_UDP};
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_REQUESTED_TRANSPORT, udp, 4);
    } else {
        uint8_t ch[4] = {0x40, 0x00, 0, 0},
                peer[8] = {0, 1, 0x06 ^ 0x21, 0x10 ^ 0x12, 10 ^ 0x21, 0 ^ 0x12, 0 ^ 0xa4, 2 ^ 0x42};
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_CHANNEL_NUMBER, ch, 4);
        ovl_stun_add_attr(&b, OVL_TURN_ATTR_XOR_PEER_ADDRESS, peer, 8);
    }
    ovl_stun_add_username(&b, user, strlen(user));
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_REALM, "bench", 5);
    ovl_stun_add_attr(&b, OVL_STUN_ATTR_NONCE, nonce, strlen(nonce));
    ovl_stun_build_finish(&b, key, key ? 16 : 0);
    return w.len;
}

static void turn_bench(void)
{
    ovl_addr_t relay, peer;
    ovl_addr_parse(&relay, "10.0.0.1", 0);
    ovl_addr_parse(&peer, "10.0.0.2", 0x0610); /* the port request() encodes */
    ovl_turn_config_t cfg = {.realm = "bench",
                             .secret = (const uint8_t *)"k",
                             .secret_len = 1,
                             .relay_ip = relay,
                             .port_min = 40000,
                             .port_max = 40100,
                             .peers = &peer,
                             .n_peers = 1,
                             .unix_time = 1700000000};
    ovl_turn_callbacks_t cb = {.to_client = to_client, .to_peer = to_peer};
    ovl_turn_server_t *srv;
    ovl_turn_session_t *s;
    if (ovl_turn_server_new(&srv, &cfg, &cb, OVL_SEC(1)) || ovl_turn_session_open(srv, &peer, NULL, OVL_SEC(1), &s))
        abort();
    uint8_t buf[512], key[16];
    char pwd[64], nonce[64] = "";
    ovl_turn_rest_password((const uint8_t *)"k", 1, "9999999999:bench", 16, pwd, sizeof(pwd));
    ovl_stun_long_term_key("9999999999:bench", 16, "bench", 5, pwd, strlen(pwd), key);
    ovl_turn_session_feed(s, buf, request(buf, OVL_TURN_ALLOCATE, nonce, NULL, 1), OVL_SEC(1));
    ovl_stun_msg_t m;
    ovl_stun_parse(last_out, last_len, &m);
    memcpy(nonce, m.nonce.s, m.nonce.len);
    double t0 = now_s(CLOCK_MONOTONIC);
    ovl_turn_session_feed(s, buf, request(buf, OVL_TURN_ALLOCATE, nonce, key, 2), OVL_SEC(1));
    double alloc_us = (now_s(CLOCK_MONOTONIC) - t0) * 1e6;
    ovl_turn_session_feed(s, buf, request(buf, OVL_TURN_CHANNEL_BIND, nonce, key, 3), OVL_SEC(1));
    ovl_addr_t relayed = ovl_turn_session_relayed(s);

    enum { N = 200000, PER_FEED = 32 };
    static uint8_t stream[PER_FEED * (4 + PAYLOAD)], payload[PAYLOAD];
    for (int i = 0; i < PER_FEED; i++) {
        ovl_store_u16(stream + i * (4 + PAYLOAD), 0x4000);
        ovl_store_u16(stream + i * (4 + PAYLOAD) + 2, PAYLOAD);
    }
    t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < N / PER_FEED; i++)
        ovl_turn_session_feed(s, stream, sizeof(stream), OVL_SEC(2));
    double in_ns = (now_s(CLOCK_THREAD_CPUTIME_ID) - t0) / N * 1e9;
    long relayed_in = peer_packets;
    t0 = now_s(CLOCK_THREAD_CPUTIME_ID);
    for (int i = 0; i < N; i++)
        ovl_turn_server_from_peer(srv, &relayed, &peer, payload, PAYLOAD, OVL_SEC(2));
    double out_ns = (now_s(CLOCK_THREAD_CPUTIME_ID) - t0) / N * 1e9;
    printf("turn: authenticated Allocate %.0f us; ChannelData client->peer %.0f ns (%ld relayed), "
           "peer->client %.0f ns per %d-byte packet\n",
           alloc_us, in_ns, relayed_in, out_ns, PAYLOAD);
    ovl_turn_server_free(srv);
}

int main(void)
{
    double us[RUNS];
    printf("tcp_conn echo over loopback, %d-byte frames, window %d:\n", PAYLOAD, WINDOW);
    for (int i = 0; i < RUNS; i++)
        us[i] = tcp_echo_run();
    qsort(us, RUNS, sizeof(us[0]), cmp);
    printf("tcp_conn: worker CPU per echoed frame %.2f us (median of %d; min %.2f, max %.2f)\n", us[RUNS / 2], RUNS,
           us[0], us[RUNS - 1]);
    turn_bench();
    return 0;
}
