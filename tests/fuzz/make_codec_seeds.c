/*
 * Writes the seed corpora of fuzz_vp8, fuzz_opus and fuzz_vp8_depacketizer: RTP payloads built
 * from the RFC 7741 / RFC 6716 diagrams and from real libvpx and libopus output. Not part of the
 * build; the checked-in seeds came from it. To regenerate (after `make build`):
 *
 *   cc -I. tests/fuzz/make_codec_seeds.c build/libovl_codecs.a build/libovl_proto.a \
 *      -lvpx -lopus -lm -o build/make_codec_seeds && ./build/make_codec_seeds tests/fuzz/corpus
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>

#include "codecs/audio.h"
#include "codecs/video.h"
#include "codecs/vp8_packetizer.h"

static const char *dir;

static void put(const char *corpus, const char *name, const uint8_t *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s/%s", dir, corpus, name);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void check(int ret, const char *what)
{
    if (ret != 0) {
        fprintf(stderr, "%s: %d\n", what, ret);
        exit(1);
    }
}

/* Hand-made payloads following RFC 7741 §4.2 Figure 2 and §4.3 Figure 3. */
static void vp8_rfc_seeds(void)
{
    const uint8_t minimal[] = {0x10, 0x71, 0x34, 0x00, 0xe4};
    const uint8_t pid7[] = {0x80, 0x80, 0x2a, 0xaa};
    const uint8_t full_key[] = {0xb0, 0xf0, 0x92, 0x34, 0x56, 0xb1, 0x10, 0x3f, 0x00,
                                0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01, 0xee};
    const uint8_t keyidx_only[] = {0x80, 0x10, 0xff, 0x01};
    const uint8_t partition3[] = {0x13, 0x10, 0x3f, 0x00};
    put("vp8", "rfc7741-minimal", minimal, sizeof(minimal));
    put("vp8", "rfc7741-pictureid7", pid7, sizeof(pid7));
    put("vp8", "rfc7741-all-fields-keyframe", full_key, sizeof(full_key));
    put("vp8", "rfc7741-keyidx-only", keyidx_only, sizeof(keyidx_only));
    put("vp8", "rfc7741-partition3", partition3, sizeof(partition3));
}

/* Real libvpx frames (176x144 pattern) packetized; also the depacketizer's record stream. */
static void vp8_libvpx_seeds(void)
{
    ovl_video_enc_cfg_t cfg = {.width = 176, .height = 144, .fps = 30, .bitrate_kbps = 100, .error_resilient = true};
    ovl_vp8_packetizer_cfg_t pcfg = {.max_payload = 200, .first_picture_id = 4242, .tl0picidx = true};
    ovl_video_enc_t *enc;
    ovl_video_image_t img;
    ovl_vp8_packetizer_t pk;
    static uint8_t stream[16384], lossy[16384];
    size_t slen = 0, llen = 0;
    unsigned total = 0;
    bool skipped = false;

    check(ovl_video_enc_new(&cfg, &enc), "encoder");
    check(ovl_video_image_init(&img, 176, 144), "image");
    check(ovl_vp8_packetizer_init(&pk, &pcfg), "packetizer");
    /* Depacketizer config octet: window 64, reorder 8, max frame 2048 (see fuzz_vp8_depacketizer.c). */
    stream[slen++] = 2 | 7 << 2 | 3 << 5;
    lossy[llen++] = 2 | 7 << 2 | 3 << 5;
    for (uint32_t n = 0; n < 6; n++) {
        ovl_video_encoded_t frame;
        uint8_t pkt[200];
        size_t len;
        bool marker;
        unsigned i = 0;
        ovl_video_pattern_draw(&img, n);
        check(ovl_video_enc_encode(enc, &img, n == 4, &frame), "encode");
        check(ovl_vp8_packetizer_frame(&pk, frame.data, frame.len, false, NULL), "frame");
        while (ovl_vp8_packetizer_next(&pk, pkt, sizeof(pkt), &len, &marker) == 0) {
            char name[64];
            if (n < 2 && i < 2) {
                snprintf(name, sizeof(name), "libvpx-%s-packet%u", frame.keyframe ? "key" : "delta", i);
                put("vp8", name, pkt, len);
            }
            uint8_t rec[3] = {1, (uint8_t)((marker ? 1 : 0) | (i == 0 && n > 0 ? 2 : 0)), (uint8_t)len};
            if (slen + 3 + len > sizeof(stream))
                break;
            memcpy(stream + slen, rec, 3);
            memcpy(stream + slen + 3, pkt, len);
            slen += 3 + len;
            if (total++ % 5 == 3) { /* the lossy stream drops every fifth packet */
                skipped = true;
            } else {
                rec[0] = skipped ? 2 : 1;
                skipped = false;
                memcpy(lossy + llen, rec, 3);
                memcpy(lossy + llen + 3, pkt, len);
                llen += 3 + len;
            }
            i++;
        }
    }
    put("vp8_depacketizer", "libvpx-176x144-6-frames", stream, slen);
    put("vp8_depacketizer", "libvpx-176x144-lossy", lossy, llen);
    ovl_video_image_dispose(&img);
    ovl_video_enc_free(enc);
}

/* Real libopus packets in each mode, plus code 3 packets made with libopus's repacketizer. */
static void opus_seeds(void)
{
    static const struct {
        const char *name;
        unsigned channels, bitrate;
        bool fec, dtx, silence;
        int keep; /* which packet to keep (libopus starts in hybrid mode, then settles) */
    } runs[] = {
        {"libopus-silk-fec-mono", 1, 24000, true, false, false, 29},
        {"libopus-silk-fec-stereo", 2, 40000, true, false, false, 29},
        {"libopus-celt-mono", 1, 64000, false, false, false, 29},
        {"libopus-hybrid-fec-mono", 1, 32000, true, false, false, 1},
        {"libopus-dtx-silence", 1, 24000, true, true, true, 29},
    };
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
        ovl_audio_enc_cfg_t cfg = {.channels = runs[r].channels,
                                   .bitrate = runs[r].bitrate,
                                   .fec = runs[r].fec,
                                   .packet_loss_perc = 10,
                                   .dtx = runs[r].dtx};
        ovl_audio_enc_t *enc;
        ovl_audio_tone_t t;
        int16_t pcm[2 * OVL_AUDIO_FRAME] = {0};
        uint8_t pkt[3][OVL_AUDIO_MAX_PACKET], kept[OVL_AUDIO_MAX_PACKET];
        size_t len[3], kept_len = 0;
        check(ovl_audio_enc_new(&cfg, &enc), "opus encoder");
        ovl_audio_tone_init(&t, 440, 0.5);
        for (int i = 0; i < 30; i++) {
            if (!runs[r].silence)
                ovl_audio_tone_fill(&t, pcm, OVL_AUDIO_FRAME, runs[r].channels);
            check(ovl_audio_enc_encode(enc, pcm, pkt[i % 3], sizeof(pkt[0]), &len[i % 3]), "opus encode");
            if (i == runs[r].keep)
                memcpy(kept, pkt[i % 3], kept_len = len[i % 3]);
        }
        put("opus", runs[r].name, kept, kept_len);
        if (r == 0) { /* three 20 ms frames in one code 3 packet, then padded */
            OpusRepacketizer *rp = opus_repacketizer_create();
            uint8_t out[4 * OVL_AUDIO_MAX_PACKET];
            for (int i = 0; i < 3; i++)
                check(opus_repacketizer_cat(rp, pkt[i], (opus_int32)len[i]), "repacketizer cat");
            opus_int32 n = opus_repacketizer_out(rp, out, sizeof(out));
            check(n <= 0, "repacketizer out");
            put("opus", "libopus-code3-three-frames", out, (size_t)n);
            check(opus_packet_pad(out, n, n + 300), "pad");
            put("opus", "libopus-code3-padded", out, (size_t)n + 300);
            opus_repacketizer_destroy(rp);
        }
        ovl_audio_enc_free(enc);
    }
    const uint8_t code2[] = {0x7a, 0x01, 0xaa, 0xbb, 0xcc};
    const uint8_t vbr_padded[] = {0x7b, 0xc2, 0x02, 0x01, 0xaa, 0xbb, 0xcc, 0x00, 0x00};
    const uint8_t level[] = {0xa1};
    put("opus", "rfc6716-code2", code2, sizeof(code2));
    put("opus", "rfc6716-code3-vbr-padding", vbr_padded, sizeof(vbr_padded));
    put("opus", "rfc6464-level", level, sizeof(level));
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    vp8_rfc_seeds();
    vp8_libvpx_seeds();
    opus_seeds();
    return 0;
}
