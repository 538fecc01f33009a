/*
 * Fixture of test_media.c: the real media plane (relay/io/media.h, worker threads, UDP on
 * 127.0.0.1) and in-process clients, each a CLIENT-role relay/transport with its own UDP socket,
 * joined through the media plane's API exactly as signaling would (no signaling process). The
 * test thread plays signaling (it drains the workers' events) and runs every client.
 *
 * A client offers the captured Chromium offer (tests/data/chromium-offer-av-screen.sdp) with its
 * own ICE credentials and certificate fingerprint; when the relay's answer comes it starts its
 * transport towards the answer's candidate; every relay offer is answered the way a browser
 * does (directions mirrored, setup:active, its own credentials). Include after cmocka.h.
 */
#ifndef OVL_TEST_MEDIA_WORLD_H
#define OVL_TEST_MEDIA_WORLD_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay/io/clock.h"
#include "relay/io/media.h"
#include "relay/io/tcp_accept.h"
#include "relay/proto/dtls_cert.h"
#include "relay/proto/rtp.h"
#include "relay/proto/sdp.h"
#include "relay/transport/transport.h"

#define MW_MAX_CLIENTS 12
#define MW_MAX_OFFERS  16
#define MW_PATH        1 /* the client's socket */

typedef struct mw_client {
    uint64_t id;
    char public_id[8];
    int fd;
    ovl_dtls_cert_t *cert;
    ovl_transport_t *t;
    char ufrag[16], pwd[32];
    bool silent;           /* stops reading its socket and running its timers (a killed browser) */
    bool auto_answer;      /* answers relay offers at once */
    bool tcp;              /* speaks RFC 4571 ICE-TCP to the relay's passive candidate (mw_init_tcp) */
    bool turn;             /* reaches the relay through a TURN allocation short-circuited into the plane */
    ovl_addr_t relayed;    /* turn: the allocation's relayed address */
    ovl_media_t *m;        /* turn: the plane its datagrams go to (ovl_media_turn_send) */
    unsigned turn_refused; /* turn: datagrams ovl_media_turn_send refused */
    uint8_t rx[8192];      /* tcp: bytes received, not yet a whole frame */
    size_t rx_len;
    char *answer; /* the relay's answer */
    char *offers[MW_MAX_OFFERS];
    size_t n_offers, n_answered;
    char relay_ufrag[OVL_SDP_ICE_LEN], relay_pwd[OVL_SDP_ICE_LEN];
    ovl_ice_path_t cand;
    unsigned failed, connected_events, restarted_events;
    char fail_reason[200];
    /* RTP received */
    unsigned rtp;
    uint32_t last_ssrc;
    uint8_t last_payload[64];
    size_t last_payload_len;
} mw_client_t;

typedef struct mw {
    ovl_media_t *m;
    mw_client_t *c[MW_MAX_CLIENTS];
    size_t n;
    unsigned speaker_events;
    uint64_t speaker;      /* the last active speaker */
    int tcp_lfd;           /* mw_init_tcp: the "HTTPS port" (listening TCP socket), else -1 */
    ovl_tcp_accept_t *acc; /* its first-frame wait, as signaling runs it */
} mw_t;

/* ---- the plane -------------------------------------------------------------------------------------- */

static inline void mw_init_public(mw_t *w, unsigned workers, ovl_time_t consent, bool tcp, const char *public_ips);
static inline void mw_init_ports(mw_t *w, unsigned workers, ovl_time_t consent, bool tcp)
{
    mw_init_public(w, workers, consent, tcp, "127.0.0.1");
}
static inline void mw_init(mw_t *w, unsigned workers, ovl_time_t consent)
{
    mw_init_ports(w, workers, consent, false);
}

/* What signaling does with an ICE-TCP connection whose first frame is whole. */
static inline void mw_tcp_ready(void *ctx, int fd, const ovl_stun_text_t *ufrag)
{
    mw_t *w = ctx;
    assert_int_equal(ovl_media_tcp_hand_off(w->m, fd, ufrag->s, ufrag->len), 0);
}

/* The plane on 127.0.0.1 announcing public_ips (which need not be reachable: TURN clients). */
static inline void mw_init_public(mw_t *w, unsigned workers, ovl_time_t consent, bool tcp, const char *public_ips)
{
    char err[256];
    memset(w, 0, sizeof(*w));
    w->tcp_lfd = -1;
    ovl_media_config_t cfg = {
        .workers = workers,
        .port_base = 0,
        .bind = "127.0.0.1",
        .public_ips = public_ips,
        .consent_timeout = consent,
        .pool_packets = 1024,
        .queue_capacity = 64,
        .max_transports = 64,
    };
    if (ovl_media_new(&cfg, &w->m, err, sizeof(err)) != 0)
        fail_msg("ovl_media_new: %s", err);
    if (tcp) {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sin);
        w->tcp_lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        assert_true(w->tcp_lfd >= 0);
        assert_int_equal(bind(w->tcp_lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
        assert_int_equal(listen(w->tcp_lfd, 16), 0);
        assert_int_equal(getsockname(w->tcp_lfd, (struct sockaddr *)&sin, &sl), 0);
        ovl_media_set_tcp_port(w->m, ntohs(sin.sin_port));
        assert_int_equal(ovl_tcp_accept_new(&w->acc, 16, OVL_SEC(5), mw_tcp_ready, w), 0);
    }
    assert_int_equal(ovl_media_start(w->m), 0);
}

static inline void mw_client_free(mw_client_t *c)
{
    ovl_transport_free(c->t);
    ovl_dtls_cert_free(c->cert);
    if (c->fd >= 0)
        close(c->fd);
    free(c->answer);
    for (size_t i = 0; i < c->n_offers; i++)
        free(c->offers[i]);
    free(c);
}

static inline void mw_free(mw_t *w)
{
    ovl_media_free(w->m);
    ovl_tcp_accept_free(w->acc);
    if (w->tcp_lfd >= 0)
        close(w->tcp_lfd);
    for (size_t i = 0; i < w->n; i++)
        mw_client_free(w->c[i]);
}

static inline mw_client_t *mw_by_id(mw_t *w, uint64_t id)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->c[i]->id == id)
            return w->c[i];
    return NULL;
}

/* ---- client transport callbacks --------------------------------------------------------------------- */

static inline void mw_on_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    mw_client_t *c = user;
    struct sockaddr_storage ss;
    size_t sl;
    (void)path_id;
    if (c->turn) { /* what the TURN server does with a datagram from the allocation to a relay address */
        if (ovl_media_turn_send(c->m, &c->relayed, to, data, len) != 0)
            c->turn_refused++;
        return;
    }
    if (c->tcp) { /* RFC 4571 §2: 2-byte length, then the packet; loopback takes it whole */
        uint8_t frame[2 + 2048];
        if (len > 2048)
            return;
        frame[0] = (uint8_t)(len >> 8);
        frame[1] = (uint8_t)len;
        memcpy(frame + 2, data, len);
        (void)send(c->fd, frame, len + 2, MSG_NOSIGNAL);
        return;
    }
    if (ovl_addr_to_sockaddr(to, &ss, &sl) == 0)
        sendto(c->fd, data, len, 0, (struct sockaddr *)&ss, (socklen_t)sl);
}

static inline void mw_on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    mw_client_t *c = user;
    ovl_rtp_t r;
    (void)now;
    if (ovl_rtp_parse(&r, buf, len) != 0)
        return;
    c->rtp++;
    c->last_ssrc = r.ssrc;
    c->last_payload_len = r.payload_len < sizeof(c->last_payload) ? r.payload_len : sizeof(c->last_payload);
    memcpy(c->last_payload, buf + r.payload_off, c->last_payload_len);
}

static inline void mw_on_rtcp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    (void)user, (void)buf, (void)len, (void)now;
}

static inline void mw_on_state(void *user, const ovl_transport_event_t *ev)
{
    mw_client_t *c = user;
    if (ev->type == OVL_TRANSPORT_EVENT_CONNECTED)
        c->connected_events++;
    if (ev->type == OVL_TRANSPORT_EVENT_ICE_RESTARTED)
        c->restarted_events++;
}

/* ---- SDP ---------------------------------------------------------------------------------------------- */

static inline char *mw_load(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", OVL_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, OVL_SDP_MAX_SIZE + 1);
    assert_non_null(buf);
    size_t n = fread(buf, 1, OVL_SDP_MAX_SIZE, f);
    fclose(f);
    buf[n] = '\0';
    char *p = buf;
    while (*p == '#')
        p = strchr(p, '\n') + 1;
    memmove(buf, p, strlen(p) + 1);
    return buf;
}

static inline char *mw_subst(char *s, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(s) * 2 + 1024), *o = out;
    assert_non_null(out);
    const char *p = s;
    for (const char *q = strstr(p, from); q; q = strstr(p, from)) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    free(s);
    return out;
}

/* The client's first offer: Chromium's, with this client's credentials and fingerprint. */
static inline char *mw_client_offer(const mw_client_t *c)
{
    char *o = mw_load("chromium-offer-av-screen.sdp");
    o = mw_subst(o, "a=ice-ufrag:ISzb", "a=ice-ufrag:@U@");
    o = mw_subst(o, "@U@", c->ufrag);
    o = mw_subst(o, "bXTopi0ZIafeG+ehtorQeg73", c->pwd);
    o = mw_subst(
        o, "sha-256 58:C4:CE:1D:C6:EF:AC:AD:36:EE:66:C2:3C:42:FE:84:A8:AB:89:89:7D:63:5D:2B:39:7B:36:C0:24:EF:1F:F0",
        ovl_dtls_cert_fingerprint_text(c->cert));
    return o;
}

/* What a browser answers to a relay offer: directions mirrored, setup:active, its own ICE/DTLS. */
static inline char *mw_answer_text(const mw_client_t *c, const char *offer)
{
    ovl_sdp_t *sdp = NULL;
    ovl_dtls_fingerprint_t fp = *ovl_dtls_cert_fingerprint(c->cert);
    assert_int_equal(ovl_sdp_parse(offer, strlen(offer), &sdp, NULL), 0);
    sdp->ice_lite = false;
    for (size_t i = 0; i < sdp->n_media; i++) {
        ovl_sdp_media_t *m = &sdp->media[i];
        m->dir = m->dir == OVL_SDP_DIR_SENDONLY   ? OVL_SDP_DIR_RECVONLY
                 : m->dir == OVL_SDP_DIR_RECVONLY ? OVL_SDP_DIR_SENDONLY
                                                  : m->dir;
        if (m->ice.setup != OVL_SDP_SETUP_NONE)
            m->ice.setup = OVL_SDP_SETUP_ACTIVE;
        if (m->ice.ufrag[0]) {
            snprintf(m->ice.ufrag, sizeof(m->ice.ufrag), "%s", c->ufrag);
            snprintf(m->ice.pwd, sizeof(m->ice.pwd), "%s", c->pwd);
        }
        if (m->ice.n_fingerprints) {
            memcpy(m->ice.fingerprints[0].bytes, fp.bytes, fp.len);
            m->ice.fingerprints[0].len = fp.len;
        }
        for (size_t k = 0; k < m->n_candidates; k++)
            ovl_sdp_candidate_dispose(&m->candidates[k]);
        m->n_candidates = 0;
        m->end_of_candidates = false;
    }
    uint8_t *buf = malloc(4 * OVL_SDP_MAX_SIZE + 1);
    ovl_wbuf_t wb;
    ovl_wbuf_init(&wb, buf, 4 * OVL_SDP_MAX_SIZE);
    assert_int_equal(ovl_sdp_write(sdp, &wb), 0);
    buf[wb.len] = '\0';
    ovl_sdp_free(sdp);
    return (char *)buf;
}

/* The relay's ICE credentials and first candidate from one of its descriptions. */
static inline void mw_relay_params(mw_client_t *c, const char *text)
{
    ovl_sdp_t *sdp = NULL;
    ovl_sdp_transport_t tp;
    assert_int_equal(ovl_sdp_parse(text, strlen(text), &sdp, NULL), 0);
    assert_true(sdp->n_media > 0);
    ovl_sdp_media_transport(sdp, &sdp->media[0], &tp);
    snprintf(c->relay_ufrag, sizeof(c->relay_ufrag), "%s", tp.ufrag);
    snprintf(c->relay_pwd, sizeof(c->relay_pwd), "%s", tp.pwd);
    for (size_t i = 0; i < sdp->media[0].n_candidates; i++) {
        const ovl_sdp_candidate_t *k = &sdp->media[0].candidates[i];
        if ((k->proto == OVL_SDP_CAND_TCP) != c->tcp)
            continue;
        assert_true(!c->tcp || k->tcptype == OVL_SDP_TCPTYPE_PASSIVE);
        assert_int_equal(ovl_addr_parse(&c->cand.addr, k->address, k->port), 0);
        c->cand.path_id = MW_PATH;
        break;
    }
    ovl_sdp_free(sdp);
}

/* The relay answered: start the client's transport towards its candidate (DTLS client). */
static inline void mw_start_transport(mw_client_t *c)
{
    ovl_sdp_t *sdp = NULL;
    ovl_dtls_fingerprint_t fp;
    char text[OVL_DTLS_FINGERPRINT_TEXT_MAX];
    mw_relay_params(c, c->answer);
    if (c->tcp) { /* the active side of RFC 6544: connect to the passive candidate, then check */
        struct sockaddr_storage ss;
        size_t sl;
        assert_int_equal(c->cand.addr.port != 0, 1);
        assert_int_equal(ovl_addr_to_sockaddr(&c->cand.addr, &ss, &sl), 0);
        close(c->fd);
        c->fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(c->fd >= 0);
        assert_int_equal(connect(c->fd, (struct sockaddr *)&ss, (socklen_t)sl), 0);
        assert_int_equal(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
    }
    assert_int_equal(ovl_sdp_parse(c->answer, strlen(c->answer), &sdp, NULL), 0);
    ovl_sdp_transport_t tp;
    ovl_sdp_media_transport(sdp, &sdp->media[0], &tp);
    assert_true(tp.n_fingerprints > 0);
    size_t n = (size_t)snprintf(text, sizeof(text), "%s ", tp.fingerprints[0].hash);
    for (size_t i = 0; i < tp.fingerprints[0].len; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, i ? ":%02X" : "%02X", tp.fingerprints[0].bytes[i]);
    assert_int_equal(ovl_dtls_fingerprint_parse(text, n, &fp), 0);
    ovl_sdp_free(sdp);
    ovl_ice_client_config_t ic;
    ovl_ice_client_config_default(&ic);
    ic.consent_interval = OVL_MS(300); /* the tests shorten the relay's consent timeout */
    ovl_transport_config_t cfg = {
        .role = OVL_TRANSPORT_CLIENT,
        .local_ufrag = c->ufrag,
        .local_pwd = c->pwd,
        .remote_ufrag = c->relay_ufrag,
        .remote_pwd = c->relay_pwd,
        .remote_candidates = &c->cand,
        .n_remote_candidates = 1,
        .cert = c->cert,
        .remote_fingerprint = &fp,
        .ice_client = &ic,
        .send = mw_on_send,
        .on_rtp = mw_on_rtp,
        .on_rtcp = mw_on_rtcp,
        .on_state = mw_on_state,
        .user = c,
    };
    assert_int_equal(ovl_transport_new(&cfg, ovl_clock_now(), &c->t), 0);
}

/* ---- events up (the test thread plays signaling) ---------------------------------------------------- */

static inline void mw_answer_offer(mw_t *w, mw_client_t *c)
{
    if (c->n_answered >= c->n_offers)
        return;
    char *a = mw_answer_text(c, c->offers[c->n_answered++]);
    assert_int_equal(ovl_media_answer(w->m, c->id, a), 0);
    free(a);
}

static inline void mw_on_event(const ovl_media_out_t *ev, void *ctx)
{
    mw_t *w = ctx;
    mw_client_t *c = mw_by_id(w, ev->participant);
    if (!c)
        return;
    switch (ev->type) {
    case OVL_MEDIA_OUT_ANSWER:
        assert_null(c->answer);
        c->answer = strdup(ev->sdp);
        mw_start_transport(c);
        break;
    case OVL_MEDIA_OUT_OFFER:
        assert_true(c->n_offers < MW_MAX_OFFERS);
        c->offers[c->n_offers++] = strdup(ev->sdp);
        if (c->auto_answer)
            mw_answer_offer(w, c);
        break;
    case OVL_MEDIA_OUT_FAILED:
        c->failed++;
        snprintf(c->fail_reason, sizeof(c->fail_reason), "%s", ev->reason);
        break;
    case OVL_MEDIA_OUT_ACTIVE_SPEAKER:
        w->speaker_events++;
        w->speaker = ev->participant;
        break;
    }
}

/* A TCP client's reads: whole RFC 4571 frames into its transport, from the relay's candidate. */
static inline void mw_tcp_receive(mw_client_t *c, ovl_time_t now)
{
    ssize_t r;
    while ((r = recv(c->fd, c->rx + c->rx_len, sizeof(c->rx) - c->rx_len, MSG_DONTWAIT)) > 0) {
        size_t off = 0;
        c->rx_len += (size_t)r;
        while (c->rx_len - off >= 2) {
            size_t flen = ((size_t)c->rx[off] << 8) | c->rx[off + 1];
            if (c->rx_len - off < 2 + flen)
                break;
            ovl_transport_on_datagram(c->t, MW_PATH, &c->cand.addr, c->rx + off + 2, flen, now);
            off += 2 + flen;
        }
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
    }
}

/* What the TURN server does with a worker's datagram to a relayed address: to that client. */
static inline void mw_turn_deliver(void *ctx, const ovl_addr_t *relayed, const ovl_addr_t *from, const uint8_t *data,
                                   size_t len)
{
    mw_t *w = ctx;
    for (size_t i = 0; i < w->n; i++) {
        mw_client_t *c = w->c[i];
        if (c->turn && c->t && !c->silent && ovl_addr_equal(&c->relayed, relayed)) {
            uint8_t buf[2048];
            assert_true(len <= sizeof(buf));
            memcpy(buf, data, len);
            ovl_transport_on_datagram(c->t, MW_PATH, from, buf, len, ovl_clock_now());
            return;
        }
    }
}

/* Runs everything for `ms` milliseconds: clients' sockets and timers, the workers' events. */
static inline void mw_pump(mw_t *w, int ms)
{
    ovl_time_t end = ovl_clock_now() + OVL_MS(ms);
    size_t nw = ovl_media_worker_count(w->m);
    for (;;) {
        struct pollfd pfd[MW_MAX_CLIENTS + 18];
        size_t n = 0;
        for (size_t i = 0; i < nw && i < 8; i++) {
            pfd[n++] = (struct pollfd){.fd = ovl_media_events_fd(w->m, i), .events = POLLIN};
            pfd[n++] = (struct pollfd){.fd = ovl_media_turn_fd(w->m, i), .events = POLLIN};
        }
        for (size_t i = 0; i < w->n; i++)
            pfd[n++] = (struct pollfd){.fd = w->c[i]->silent ? -1 : w->c[i]->fd, .events = POLLIN};
        if (w->acc) {
            pfd[n++] = (struct pollfd){.fd = w->tcp_lfd, .events = POLLIN};
            pfd[n++] = (struct pollfd){.fd = ovl_tcp_accept_fd(w->acc), .events = POLLIN};
        }
        ovl_time_t now = ovl_clock_now();
        if (now >= end)
            break;
        int wait = (int)((end - now) / 1000);
        poll(pfd, n, wait > 10 ? 10 : wait);
        for (size_t i = 0; i < nw; i++) {
            ovl_media_poll(w->m, i, 64, mw_on_event, w);
            ovl_media_turn_poll(w->m, i, 256, mw_turn_deliver, w);
        }
        now = ovl_clock_now();
        if (w->acc) { /* signaling's part: accept, wait for the first frame, hand off */
            int fd;
            while ((fd = accept4(w->tcp_lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
                ovl_tcp_accept_add(w->acc, fd, now);
            ovl_tcp_accept_service(w->acc, now);
        }
        for (size_t i = 0; i < w->n; i++) {
            mw_client_t *c = w->c[i];
            if (c->silent || !c->t) {
                uint8_t junk[2048];
                while (c->t == NULL && !c->silent && recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
                    ;
                continue;
            }
            if (c->tcp || c->turn) {
                if (c->tcp)
                    mw_tcp_receive(c, now);
                if (ovl_transport_next_timeout(c->t) <= now)
                    ovl_transport_on_timeout(c->t, now);
                continue;
            }
            uint8_t buf[2048];
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            ssize_t r;
            while ((r = recvfrom(c->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl)) > 0) {
                ovl_addr_t from;
                ovl_addr_from_sockaddr(&from, (struct sockaddr *)&ss);
                ovl_transport_on_datagram(c->t, MW_PATH, &from, buf, (size_t)r, now);
                sl = sizeof(ss);
            }
            if (ovl_transport_next_timeout(c->t) <= now)
                ovl_transport_on_timeout(c->t, now);
        }
    }
}

/* Pumps until cond(w, arg) holds or `ms` pass; returns whether it held. */
typedef bool (*mw_cond_fn)(mw_t *w, void *arg);
static inline bool mw_wait(mw_t *w, mw_cond_fn cond, void *arg, int ms)
{
    for (int t = 0; t < ms; t += 20) {
        if (cond(w, arg))
            return true;
        mw_pump(w, 20);
    }
    return cond(w, arg);
}

/* ---- clients ------------------------------------------------------------------------------------------ */

/* A client: its socket on 127.0.0.1, its certificate and ICE credentials; joined to `meeting`. */
static inline mw_client_t *mw_join(mw_t *w, const char *meeting, uint64_t id)
{
    mw_client_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->id = id;
    c->auto_answer = true;
    snprintf(c->public_id, sizeof(c->public_id), "p%llu", (unsigned long long)id);
    snprintf(c->ufrag, sizeof(c->ufrag), "cl%llu", (unsigned long long)id);
    snprintf(c->pwd, sizeof(c->pwd), "clientpassword%lluabcdefghij0123", (unsigned long long)id);
    assert_int_equal(ovl_dtls_cert_generate(&c->cert), 0);
    c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(c->fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_true(w->n < MW_MAX_CLIENTS);
    w->c[w->n++] = c;
    assert_int_equal(ovl_media_join(w->m, meeting, id, c->public_id), 0);
    return c;
}

static inline bool mw_cond_connected(mw_t *w, void *arg)
{
    (void)w;
    mw_client_t *c = arg;
    return c->t && ovl_transport_state(c->t) == OVL_TRANSPORT_CONNECTED;
}

/* Joins, offers, and waits until the client's transport is CONNECTED (over ICE-TCP when `tcp`). */
static inline mw_client_t *mw_connect_via(mw_t *w, const char *meeting, uint64_t id, bool tcp)
{
    mw_client_t *c = mw_join(w, meeting, id);
    c->tcp = tcp;
    char *offer = mw_client_offer(c);
    assert_int_equal(ovl_media_offer(w->m, id, offer), 0);
    free(offer);
    if (!mw_wait(w, mw_cond_connected, c, 15000))
        fail_msg("client %llu did not connect (answer %s)", (unsigned long long)id, c->answer ? "came" : "missing");
    return c;
}

static inline mw_client_t *mw_connect(mw_t *w, const char *meeting, uint64_t id)
{
    return mw_connect_via(w, meeting, id, false);
}

/* Joins, offers and connects through a TURN allocation with relayed address `relayed` (numeric IP,
 * port): every datagram goes through ovl_media_turn_send / ovl_media_turn_poll, none through a socket. */
static inline mw_client_t *mw_connect_turn(mw_t *w, const char *meeting, uint64_t id, const char *ip, uint16_t port)
{
    mw_client_t *c = mw_join(w, meeting, id);
    c->turn = true;
    c->m = w->m;
    assert_int_equal(ovl_addr_parse(&c->relayed, ip, port), 0);
    char *offer = mw_client_offer(c);
    assert_int_equal(ovl_media_offer(w->m, id, offer), 0);
    free(offer);
    if (!mw_wait(w, mw_cond_connected, c, 15000))
        fail_msg("TURN client %llu did not connect (answer %s)", (unsigned long long)id,
                 c->answer ? "came" : "missing");
    return c;
}

/* An audio RTP packet as the captured offer's sender would send it (RFC 3550 §5.1; PT 111 opus) with
 * an RFC 6464 audio level of -10 dBov (voice) in a one-byte header extension (RFC 8285 §4.2, id 1
 * as the offer's a=extmap says), and 40 payload bytes. */
static inline int mw_send_audio(mw_client_t *c, uint16_t seq)
{
    uint8_t buf[256 + OVL_SRTP_MAX_OVERHEAD];
    buf[0] = 0x90; /* V=2, X=1 */
    buf[1] = 111;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    uint32_t ts = 960u * seq, ssrc = 221197464u;
    for (int i = 0; i < 4; i++) {
        buf[4 + i] = (uint8_t)(ts >> (24 - 8 * i));
        buf[8 + i] = (uint8_t)(ssrc >> (24 - 8 * i));
    }
    const uint8_t ext[8] = {0xbe, 0xde, 0x00, 0x01, 0x10, 0x80 | 10, 0x00, 0x00};
    memcpy(buf + 12, ext, sizeof(ext));
    for (size_t i = 0; i < 40; i++)
        buf[20 + i] = (uint8_t)(0xa0 + i + (uint8_t)c->id);
    size_t len = 60;
    return ovl_transport_send_rtp(c->t, buf, &len, sizeof(buf));
}

/* mw_wait condition: audio gets through from `from` to `to`. */
typedef struct mw_audio_wait {
    mw_client_t *from, *to;
    unsigned before; /* to->rtp when the wait began */
    uint16_t seq;    /* of the next packet sent */
} mw_audio_wait_t;

/* Sends one audio packet from `from` per call; holds once `to` received more RTP than before. */
static inline bool mw_cond_audio_through(mw_t *w, void *arg)
{
    mw_audio_wait_t *r = arg;
    (void)w;
    if (r->to->rtp > r->before)
        return true;
    mw_send_audio(r->from, r->seq++);
    return false;
}

#endif
