/*
 * Microseconds per packet through a connected WebRTC transport (relay/transport), 1200-byte RTP,
 * per SRTP profile: ovl_transport_send_rtp (protect in place + the send callback, here a no-op) on
 * the peer's transport, and ovl_transport_on_datagram (RFC 7983 demux + trusted-path check +
 * unprotect in place + on_rtp, here a no-op) on the relay's. For comparison the same packets through
 * ovl_srtp alone, so the transport's own cost is the difference. Median of RUNS runs of PACKETS
 * packets each. The pair is made by a real ICE + DTLS handshake in memory
 * (tests/unit/test_transport_world.h). Built with the normal build, run by `make bench`, never by
 * ctest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/proto/srtp.h"
#include "tests/unit/test_transport_world.h"

#define PACKETS 10000
#define RUNS    5
#define PAYLOAD 1188 /* + 12-byte header = 1200 */

static bool capturing;
static unsigned delivered;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* While measuring, the transports' callbacks do nothing; otherwise they are the fixture's. */
static void bench_send(void *user, uint64_t path_id, const ovl_addr_t *to, const uint8_t *data, size_t len)
{
    if (!capturing)
        tw_on_send(user, path_id, to, data, len);
}

static void bench_on_rtp(void *user, uint8_t *buf, size_t len, ovl_time_t now)
{
    (void)user, (void)buf, (void)len, (void)now;
    delivered++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, RUNS, sizeof(double), cmp_double);
    return v[RUNS / 2];
}

static void fill(uint8_t *slots, size_t *lens, unsigned run)
{
    for (unsigned i = 0; i < PACKETS; i++)
        lens[i] = tw_make_rtp(slots + (size_t)i * TW_BUF_CAP, (uint16_t)(run * PACKETS + i), 0x42424242u, PAYLOAD,
                              (uint8_t)i);
}

/* ovl_srtp alone, sessions keyed like a transport's (fresh random keys). */
static int bench_raw(ovl_srtp_profile_t profile, uint8_t *slots, size_t *lens, double *protect, double *unprotect)
{
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(profile);
    uint8_t master[OVL_SRTP_MAX_MASTER_LEN];
    uint64_t seed = 7;
    ovl_srtp_session_t *tx = NULL, *rx = NULL;
    double p[RUNS], u[RUNS];
    int ret = 1;

    tw_random(&seed, master, sizeof(master));
    ovl_srtp_config_t c = {.profile = profile, .master = master, .master_len = info->key_len + info->salt_len};
    c.direction = OVL_SRTP_OUTBOUND;
    if (ovl_srtp_new(&c, &tx) < 0)
        goto Exit;
    c.direction = OVL_SRTP_INBOUND;
    if (ovl_srtp_new(&c, &rx) < 0)
        goto Exit;
    for (unsigned r = 0; r < RUNS; r++) {
        fill(slots, lens, r);
        double t0 = now_us();
        for (unsigned i = 0; i < PACKETS; i++)
            if (ovl_srtp_protect_rtp(tx, slots + (size_t)i * TW_BUF_CAP, &lens[i], TW_BUF_CAP) < 0)
                goto Exit;
        double t1 = now_us();
        for (unsigned i = 0; i < PACKETS; i++)
            if (ovl_srtp_unprotect_rtp(rx, slots + (size_t)i * TW_BUF_CAP, &lens[i]) < 0)
                goto Exit;
        double t2 = now_us();
        p[r] = (t1 - t0) / PACKETS;
        u[r] = (t2 - t1) / PACKETS;
    }
    *protect = median(p);
    *unprotect = median(u);
    ret = 0;

Exit:
    ovl_srtp_free(tx);
    ovl_srtp_free(rx);
    return ret;
}

static int bench_profile(ovl_srtp_profile_t profile, uint8_t *slots, size_t *lens)
{
    static tw_world_t w;
    static tw_peer_t s, c;
    ovl_transport_config_t sc, cc;
    double send[RUNS], recv[RUNS], raw_p = 0, raw_u = 0;
    int ret = 1;

    if (tw_init(&w) < 0)
        goto Exit;
    tw_config(&w, &s, OVL_TRANSPORT_SERVER, &sc);
    tw_config(&w, &c, OVL_TRANSPORT_CLIENT, &cc);
    sc.send = cc.send = bench_send;
    sc.on_rtp = bench_on_rtp;
    cc.srtp_profiles = &profile; /* the peer offers only this one */
    cc.n_srtp_profiles = 1;
    if (tw_connect(&w, &s, &c, &sc, &cc) < 0 || ovl_transport_profile(s.t) != profile)
        goto Exit;
    const ovl_addr_t *peer = &w.nodes[1].addr[0];
    for (unsigned r = 0; r < RUNS; r++) {
        fill(slots, lens, r);
        capturing = true;
        delivered = 0;
        double t0 = now_us();
        for (unsigned i = 0; i < PACKETS; i++)
            if (ovl_transport_send_rtp(c.t, slots + (size_t)i * TW_BUF_CAP, &lens[i], TW_BUF_CAP) < 0)
                goto Exit;
        double t1 = now_us();
        for (unsigned i = 0; i < PACKETS; i++)
            ovl_transport_on_datagram(s.t, TW_SERVER_PATH, peer, slots + (size_t)i * TW_BUF_CAP, lens[i], w.now);
        double t2 = now_us();
        capturing = false;
        if (delivered != PACKETS)
            goto Exit;
        send[r] = (t1 - t0) / PACKETS;
        recv[r] = (t2 - t1) / PACKETS;
    }
    if (bench_raw(profile, slots, lens, &raw_p, &raw_u) != 0)
        goto Exit;
    printf("%-24s send_rtp %6.2f us   on_datagram %6.2f us   (ovl_srtp alone: protect %6.2f, unprotect %6.2f)\n",
           ovl_srtp_profile_info(profile)->name, median(send), median(recv), raw_p, raw_u);
    ret = 0;

Exit:
    capturing = false;
    tw_dispose(&w);
    return ret;
}

int main(void)
{
    uint8_t *slots = malloc((size_t)PACKETS * TW_BUF_CAP);
    size_t *lens = malloc(sizeof(size_t) * PACKETS);
    int ret = 0;
    if (!slots || !lens)
        return 1;
    printf("bench_transport: 1200-byte RTP, median of %d runs of %d packets, microseconds per packet\n", RUNS, PACKETS);
    ret |= bench_profile(OVL_SRTP_AEAD_AES_128_GCM, slots, lens);
    ret |= bench_profile(OVL_SRTP_AES128_CM_SHA1_80, slots, lens);
    free(slots);
    free(lens);
    if (ret)
        fprintf(stderr, "bench_transport: a transport or transform failed\n");
    return ret;
}
