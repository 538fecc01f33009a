/*
 * libFuzzer target: the SRTP wrapper's header checks and libsrtp behind them.
 *
 * Input byte 0 picks the case (bits 0-1) and the profile (bit 2); the rest is the packet:
 *   0, 1: unprotect it as SRTP / SRTCP (must fail cleanly or succeed without growing);
 *   2, 3: protect it as RTP / RTCP and, if that worked, unprotect it again: the round trip must give
 *         back the exact input, and protection must never write past OVL_SRTP_MAX_OVERHEAD.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/proto/srtp.h"

#define CAP 2048

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t master[OVL_SRTP_MAX_MASTER_LEN] = {7, 6, 5, 4, 3, 2, 1};
    uint8_t buf[CAP + 64];
    if (size < 1 || size - 1 > CAP - OVL_SRTP_MAX_OVERHEAD)
        return 0;
    int mode = data[0] & 3;
    int which = data[0] & 4 ? 1 : 0;
    ovl_srtp_profile_t profile = which ? OVL_SRTP_AES128_CM_SHA1_80 : OVL_SRTP_AEAD_AES_128_GCM;
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(profile);
    /* Sessions live for the whole run (made once: libsrtp session setup is slow); the per-SSRC state
     * an input creates is removed after it, so every input starts from the same state. */
    static ovl_srtp_session_t *sessions[2][2];
    if (!sessions[which][0]) {
        ovl_srtp_config_t cfg = {.profile = profile, .master = master, .master_len = info->key_len + info->salt_len};
        cfg.direction = OVL_SRTP_OUTBOUND;
        if (ovl_srtp_new(&cfg, &sessions[which][0]))
            abort();
        cfg.direction = OVL_SRTP_INBOUND;
        if (ovl_srtp_new(&cfg, &sessions[which][1]))
            abort();
    }
    ovl_srtp_session_t *tx = sessions[which][0], *rx = sessions[which][1];
    uint32_t ssrc = 0;
    size_t at = mode & 1 ? 5 : 9; /* SSRC offset in the RTCP / RTP header, after the mode byte */
    if (size >= at + 4)
        ssrc = (uint32_t)data[at] << 24 | (uint32_t)data[at + 1] << 16 | (uint32_t)data[at + 2] << 8 | data[at + 3];

    size_t len = size - 1, cap = len + OVL_SRTP_MAX_OVERHEAD;
    memcpy(buf, data + 1, len);
    memset(buf + len, 0xcc, sizeof(buf) - len);
    if (mode < 2) {
        int ret = mode ? ovl_srtp_unprotect_rtcp(rx, buf, &len) : ovl_srtp_unprotect_rtp(rx, buf, &len);
        if (len > size - 1 || (ret && len != size - 1))
            abort();
    } else {
        bool rtcp = mode == 3;
        int ret = rtcp ? ovl_srtp_protect_rtcp(tx, buf, &len, cap) : ovl_srtp_protect_rtp(tx, buf, &len, cap);
        for (size_t i = cap; i < sizeof(buf); i++)
            if (buf[i] != 0xcc)
                abort();
        if (ret == 0) {
            if (len != size - 1 + (rtcp ? info->rtcp_overhead : info->rtp_overhead))
                abort();
            ret = rtcp ? ovl_srtp_unprotect_rtcp(rx, buf, &len) : ovl_srtp_unprotect_rtp(rx, buf, &len);
            if (ret != 0 || len != size - 1 || memcmp(buf, data + 1, len) != 0)
                abort();
        } else if (len != size - 1) {
            abort();
        }
    }
    ovl_srtp_remove_stream(tx, ssrc);
    ovl_srtp_remove_stream(rx, ssrc);
    return 0;
}
