/*
 * Microseconds per SRTP protect and unprotect of a 1200-byte RTP packet, per profile, through
 * ovl_srtp (libsrtp2 as Debian builds it). Not part of `make test`; `make bench` runs it.
 *
 * Each packet gets a fresh sequence number (the replay windows would refuse repeats); the unprotect
 * loop replays the packets protected in the protect loop, in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay/proto/srtp.h"

#define PACKETS 20000
#define PAYLOAD 1188 /* + 12-byte header = 1200 */
#define SLOT    (12 + PAYLOAD + OVL_SRTP_MAX_OVERHEAD)

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int bench(ovl_srtp_profile_t profile, uint8_t *slots, size_t *lens)
{
    static const uint8_t master[OVL_SRTP_MAX_MASTER_LEN] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(profile);
    ovl_srtp_config_t cfg = {.profile = profile, .master = master, .master_len = info->key_len + info->salt_len};
    ovl_srtp_session_t *tx = NULL, *rx = NULL;

    cfg.direction = OVL_SRTP_OUTBOUND;
    if (ovl_srtp_new(&cfg, &tx))
        return 1;
    cfg.direction = OVL_SRTP_INBOUND;
    if (ovl_srtp_new(&cfg, &rx))
        return 1;
    for (size_t i = 0; i < PACKETS; i++) {
        uint8_t *p = slots + i * SLOT;
        memset(p, 0x5a, 12 + PAYLOAD);
        p[0] = 0x80, p[1] = 96, p[2] = (uint8_t)(i >> 8), p[3] = (uint8_t)i;
        p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
        lens[i] = 12 + PAYLOAD;
    }
    double t0 = now_us();
    for (size_t i = 0; i < PACKETS; i++)
        if (ovl_srtp_protect_rtp(tx, slots + i * SLOT, &lens[i], SLOT))
            return 1;
    double t1 = now_us();
    for (size_t i = 0; i < PACKETS; i++)
        if (ovl_srtp_unprotect_rtp(rx, slots + i * SLOT, &lens[i]))
            return 1;
    double t2 = now_us();
    printf("%-24s protect %6.2f us   unprotect %6.2f us   (1200-byte RTP, %d packets)\n", info->name,
           (t1 - t0) / PACKETS, (t2 - t1) / PACKETS, PACKETS);
    ovl_srtp_free(tx);
    ovl_srtp_free(rx);
    return 0;
}

int main(void)
{
    uint8_t *slots = malloc((size_t)PACKETS * SLOT);
    size_t *lens = malloc(sizeof(size_t) * PACKETS);
    int ret = 0;
    if (!slots || !lens)
        return 1;
    ret |= bench(OVL_SRTP_AEAD_AES_128_GCM, slots, lens);
    ret |= bench(OVL_SRTP_AES128_CM_SHA1_80, slots, lens);
    free(slots);
    free(lens);
    if (ret)
        fprintf(stderr, "bench_srtp: a transform failed\n");
    return ret;
}
