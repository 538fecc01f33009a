/*
 * SRTP/SRTCP wrapper over libsrtp2.
 *
 * RFC vectors: libsrtp's API takes master keys only, and RFC 7714's §16/§17 vectors are stated
 * with session keys. So the chain is: (1) a small reference implementation here, on OpenSSL's
 * AES-CTR, AES-GCM and HMAC-SHA1, reproduces RFC 3711 B.2 (AES-CM keystream), B.3 (key derivation)
 * and RFC 7714 §16.1.1 / §17.1 (AEAD_AES_128_GCM SRTP and SRTCP) byte for byte; (2) libsrtp's output
 * through ovl_srtp must then equal that reference, byte for byte, for packets protected with a
 * master key (for AES-CM the session keys are RFC 3711 B.3's own numbers, not re-derived).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "relay/proto/srtp.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = hex; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        unsigned v;
        assert_true(p[1] != '\0');
        assert_int_equal(sscanf(p, "%2x", &v), 1);
        assert_true(n < cap);
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static void assert_hex_equal(const uint8_t *got, size_t got_len, const char *want_hex)
{
    uint8_t want[2048];
    size_t want_len = unhex(want_hex, want, sizeof(want));
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
}

static ovl_srtp_session_t *session(ovl_srtp_profile_t profile, ovl_srtp_direction_t dir, const uint8_t *master,
                                   bool repeat)
{
    const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(profile);
    ovl_srtp_config_t cfg = {.profile = profile,
                             .direction = dir,
                             .master = master,
                             .master_len = info->key_len + info->salt_len,
                             .allow_repeat_tx = repeat};
    ovl_srtp_session_t *s = NULL;
    assert_int_equal(ovl_srtp_new(&cfg, &s), 0);
    assert_non_null(s);
    return s;
}

static size_t make_rtp(uint8_t *buf, uint32_t ssrc, uint16_t seq, size_t payload_len)
{
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    memcpy(buf + 4, "\x00\x01\xe2\x40", 4);
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload_len; i++)
        buf[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload_len;
}

/* RTCP receiver report with one report block (RFC 3550 §6.4.2), 32 octets. */
static size_t make_rtcp(uint8_t *buf, uint32_t ssrc)
{
    memset(buf, 0, 32);
    buf[0] = 0x81;
    buf[1] = 201;
    buf[3] = 7;
    buf[4] = (uint8_t)(ssrc >> 24);
    buf[5] = (uint8_t)(ssrc >> 16);
    buf[6] = (uint8_t)(ssrc >> 8);
    buf[7] = (uint8_t)ssrc;
    for (int i = 8; i < 32; i++)
        buf[i] = (uint8_t)(0x30 + i);
    return 32;
}

static const ovl_srtp_profile_t both[] = {OVL_SRTP_AEAD_AES_128_GCM, OVL_SRTP_AES128_CM_SHA1_80};

static const uint8_t test_master[30] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
                                        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};

/* ---- reference transforms (OpenSSL) ------------------------------------------------------------ */

static void ref_aes_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, uint8_t *out, size_t len)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, key, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(c, out, &n, in, (int)len), 1);
    assert_int_equal((size_t)n, len);
    EVP_CIPHER_CTX_free(c);
}

/* RFC 3711 §4.3.1/§4.3.3 with key_derivation_rate 0: x = label << 48 XOR master_salt (112 bits; a
 * 96-bit AEAD master salt is left-aligned, i.e. padded with two zero octets), IV = x * 2^16. */
static void ref_kdf(const uint8_t *master_key, const uint8_t *master_salt, size_t salt_len, uint8_t label, uint8_t *out,
                    size_t out_len)
{
    uint8_t iv[16] = {0}, zeros[64] = {0};
    memcpy(iv, master_salt, salt_len);
    iv[7] ^= label;
    assert_true(out_len <= sizeof(zeros));
    ref_aes_ctr(master_key, iv, zeros, out, out_len);
}

/* RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16). */
static void ref_cm_iv(const uint8_t salt[14], uint32_t ssrc, uint64_t index, uint8_t iv[16])
{
    memset(iv, 0, 16);
    memcpy(iv, salt, 14);
    for (int i = 0; i < 4; i++)
        iv[4 + i] ^= (uint8_t)(ssrc >> (24 - 8 * i));
    for (int i = 0; i < 6; i++)
        iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

static void ref_hmac_sha1_80(const uint8_t key[20], const uint8_t *data, size_t len, uint8_t tag[10])
{
    uint8_t md[20];
    unsigned int md_len = 0;
    assert_non_null(HMAC(EVP_sha1(), key, 20, data, len, md, &md_len));
    memcpy(tag, md, 10);
}

static void ref_gcm(const uint8_t key[16], const uint8_t iv[12], const uint8_t *aad, size_t aad_len, const uint8_t *pt,
                    size_t len, uint8_t *ct, uint8_t tag[16])
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n = 0;
    assert_non_null(c);
    assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
    assert_int_equal(EVP_EncryptInit_ex(c, NULL, NULL, key, iv), 1);
    assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len), 1);
    if (len)
        assert_int_equal(EVP_EncryptUpdate(c, ct, &n, pt, (int)len), 1);
    assert_int_equal(EVP_EncryptFinal_ex(c, ct + len, &n), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(c);
}

/* RFC 7714 §8.1 (SRTP): IV = (0x0000 || SSRC || ROC || SEQ) XOR salt. */
static void ref_gcm_rtp_iv(const uint8_t salt[12], uint32_t ssrc, uint32_t roc, uint16_t seq, uint8_t iv[12])
{
    uint8_t x[12] = {0,
                     0,
                     (uint8_t)(ssrc >> 24),
                     (uint8_t)(ssrc >> 16),
                     (uint8_t)(ssrc >> 8),
                     (uint8_t)ssrc,
                     (uint8_t)(roc >> 24),
                     (uint8_t)(roc >> 16),
                     (uint8_t)(roc >> 8),
                     (uint8_t)roc,
                     (uint8_t)(seq >> 8),
                     (uint8_t)seq};
    for (int i = 0; i < 12; i++)
        iv[i] = x[i] ^ salt[i];
}

/* RFC 7714 §9.1 (SRTCP): IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt. */
static void ref_gcm_rtcp_iv(const uint8_t salt[12], uint32_t ssrc, uint32_t index, uint8_t iv[12])
{
    uint8_t x[12] = {
        0, 0, (uint8_t)(ssrc >> 24),         (uint8_t)(ssrc >> 16),  (uint8_t)(ssrc >> 8),  (uint8_t)ssrc,
        0, 0, (uint8_t)(index >> 24 & 0x7f), (uint8_t)(index >> 16), (uint8_t)(index >> 8), (uint8_t)index};
    for (int i = 0; i < 12; i++)
        iv[i] = x[i] ^ salt[i];
}

/* ---- RFC vectors through the reference ---------------------------------------------------------- */

/* RFC 3711 Appendix B.2: AES-CM keystream for session key 2B7E..., salt F0F1...FD, SSRC 0, index 0. */
static void test_rfc3711_b2_keystream(void **state)
{
    (void)state;
    uint8_t key[16], salt[14], iv[16], zeros[48] = {0}, ks[48];
    unhex("2B7E151628AED2A6ABF7158809CF4F3C", key, sizeof(key));
    unhex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD", salt, sizeof(salt));
    ref_cm_iv(salt, 0, 0, iv);
    assert_hex_equal(iv, 16, "F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000");
    ref_aes_ctr(key, iv, zeros, ks, sizeof(ks));
    assert_hex_equal(ks, 48,
                     "E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB"
                     " 41E95B3BB0A2E8DD477901E4FCA894C0");
    /* The segment's end: counter blocks FEFF, FF00, FF01. */
    iv[14] = 0xfe;
    iv[15] = 0xff;
    ref_aes_ctr(key, iv, zeros, ks, sizeof(ks));
    assert_hex_equal(ks, 48,
                     "EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE"
                     " 6A2CC3787889374FBEB4C81B17BA6C44");
}

/* RFC 3711 Appendix B.3: key derivation from master key E1F9..., master salt 0EC6... */
static void test_rfc3711_b3_key_derivation(void **state)
{
    (void)state;
    uint8_t mk[16], ms[14], out[20];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mk, sizeof(mk));
    unhex("0EC675AD498AFEEBB6960B3AABE6", ms, sizeof(ms));
    ref_kdf(mk, ms, 14, 0x00, out, 16);
    assert_hex_equal(out, 16, "C61E7A93744F39EE10734AFE3FF7A087");
    ref_kdf(mk, ms, 14, 0x02, out, 14);
    assert_hex_equal(out, 14, "30CBBC08863D8C85D49DB34A9AE1");
    ref_kdf(mk, ms, 14, 0x01, out, 20);
    assert_hex_equal(out, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
}

static const char rfc7714_key[] = "000102030405060708090a0b0c0d0e0f";
static const char rfc7714_salt[] = "517569642070726f2071756f";
/* RFC 7714 §16.1: "Gallia est omnis divisa in partes tres" behind header 8040f17b 8041f8d3 5501a0b2. */
static const char rfc7714_rtp[] = "8040f17b8041f8d35501a0b2"
                                  "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573";

/* RFC 7714 §16.1.1: SRTP AEAD_AES_128_GCM encryption, ROC 0, IV 51753c6580c2726f20718414. */
static void test_rfc7714_16_1_1_reference(void **state)
{
    (void)state;
    uint8_t key[16], salt[12], pkt[128], iv[12], out[128], tag[16];
    unhex(rfc7714_key, key, sizeof(key));
    unhex(rfc7714_salt, salt, sizeof(salt));
    size_t len = unhex(rfc7714_rtp, pkt, sizeof(pkt));
    ref_gcm_rtp_iv(salt, 0x5501a0b2, 0, 0xf17b, iv);
    assert_hex_equal(iv, 12, "51753c6580c2726f20718414");
    ref_gcm(key, iv, pkt, 12, pkt + 12, len - 12, out, tag);
    assert_hex_equal(out, len - 12, "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833");
    assert_hex_equal(tag, 16, "899d7f27beb16a9152cf765ee4390cce");
}

/* RFC 7714 §17.1: SRTCP AEAD_AES_128_GCM encryption, index 0x5d4, E=1, IV 517524055203726f207170bb. */
static void test_rfc7714_17_1_reference(void **state)
{
    (void)state;
    uint8_t key[16], salt[12], pkt[128], iv[12], aad[12], out[128], tag[16];
    unhex(rfc7714_key, key, sizeof(key));
    unhex(rfc7714_salt, salt, sizeof(salt));
    size_t len = unhex("81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61"
                       "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
                       pkt, sizeof(pkt));
    ref_gcm_rtcp_iv(salt, 0x4d617273, 0x5d4, iv);
    assert_hex_equal(iv, 12, "517524055203726f207170bb");
    memcpy(aad, pkt, 8);
    memcpy(aad + 8, "\x80\x00\x05\xd4", 4);
    ref_gcm(key, iv, aad, 12, pkt + 8, len - 8, out, tag);
    assert_hex_equal(out, len - 8,
                     "63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275b");
    assert_hex_equal(tag, 16, "c84aa45896cf4d2fc5abf87245d9eade");
}

/* ---- libsrtp against the reference ----------------------------------------------------------------- */

/*
 * AES_CM_128_HMAC_SHA1_80 through libsrtp with RFC 3711 B.3's master key and salt: the packet must be
 * header || (payload XOR keystream under B.3's session key and salt) || HMAC-SHA1-80 under B.3's auth
 * key over header || ciphertext || ROC (RFC 3711 §4.1.1, §4.2). The packet is libsrtp's own
 * validation packet (srtp_driver), whose ciphertext is also checked literally.
 */
static void test_cm_rtp_matches_rfc3711(void **state)
{
    (void)state;
    uint8_t master[30], k_e[16], k_s[14], k_a[20], buf[256], want[256], iv[16];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6", master, sizeof(master));
    unhex("C61E7A93744F39EE10734AFE3FF7A087", k_e, sizeof(k_e));
    unhex("30CBBC08863D8C85D49DB34A9AE1", k_s, sizeof(k_s));
    unhex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4", k_a, sizeof(k_a));
    size_t len = unhex("800f1234decafbadcafebabe abababababababababababababababab", buf, sizeof(buf));

    /* Reference: ROC 0, SEQ 0x1234, SSRC 0xcafebabe. */
    ref_cm_iv(k_s, 0xcafebabe, 0x1234, iv);
    memcpy(want, buf, 12);
    ref_aes_ctr(k_e, iv, buf + 12, want + 12, len - 12);
    uint8_t auth_in[256];
    memcpy(auth_in, want, len);
    memset(auth_in + len, 0, 4); /* ROC */
    ref_hmac_sha1_80(k_a, auth_in, len + 4, want + len);

    ovl_srtp_session_t *tx = session(OVL_SRTP_AES128_CM_SHA1_80, OVL_SRTP_OUTBOUND, master, false);
    assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    assert_int_equal(len, 28 + 10);
    assert_memory_equal(buf, want, len);
    assert_hex_equal(buf, len, "800f1234decafbadcafebabe4e55dc4ce79978d88ca4d215949d2402b78d6acc99ea179b8dbb");
    ovl_srtp_free(tx);
}

/* SRTCP with AES_CM_128_HMAC_SHA1_80 (RFC 3711 §3.4, §4.3.2 labels 3/4/5): header || encrypted body ||
 * E=1|index || HMAC-SHA1-80 over everything before the tag. Session keys from the reference KDF. */
static void test_cm_rtcp_matches_reference(void **state)
{
    (void)state;
    uint8_t master[30], k_e[16], k_s[14], k_a[20], buf[256], want[256], iv[16];
    unhex("E1F97A0D3E018BE0D64FA32C06DE4139 0EC675AD498AFEEBB6960B3AABE6", master, sizeof(master));
    ref_kdf(master, master + 16, 14, 0x03, k_e, 16);
    ref_kdf(master, master + 16, 14, 0x04, k_a, 20);
    ref_kdf(master, master + 16, 14, 0x05, k_s, 14);
    size_t len = make_rtcp(buf, 0x11223344);
    memcpy(want, buf, len);

    ovl_srtp_session_t *tx = session(OVL_SRTP_AES128_CM_SHA1_80, OVL_SRTP_OUTBOUND, master, false);
    assert_int_equal(ovl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
    assert_int_equal(len, 32 + 4 + 10);
    uint32_t e_index = (uint32_t)buf[32] << 24 | (uint32_t)buf[33] << 16 | (uint32_t)buf[34] << 8 | buf[35];
    assert_true(e_index & 0x80000000u); /* E flag: encrypted */
    ref_cm_iv(k_s, 0x11223344, e_index & 0x7fffffffu, iv);
    ref_aes_ctr(k_e, iv, want + 8, want + 8, 24);
    memcpy(want + 32, buf + 32, 4);
    ref_hmac_sha1_80(k_a, want, 36, want + 36);
    assert_memory_equal(buf, want, len);
    ovl_srtp_free(tx);
}

/*
 * AEAD_AES_128_GCM through libsrtp, with RFC 7714's key and salt used as the MASTER key and salt (libsrtp
 * derives session keys; RFC 7714 §11 keeps RFC 3711's KDF). The RFC 7714 §16.1 packet must come out as
 * header || GCM(ciphertext || tag) with the §8.1 IV and the header as AAD, under the derived keys.
 */
static void test_gcm_rtp_matches_reference(void **state)
{
    (void)state;
    uint8_t master[28], k_e[16], k_s[12], buf[256], want[256], iv[12];
    unhex(rfc7714_key, master, 16);
    unhex(rfc7714_salt, master + 16, 12);
    ref_kdf(master, master + 16, 12, 0x00, k_e, 16);
    ref_kdf(master, master + 16, 12, 0x02, k_s, 12);
    size_t len = unhex(rfc7714_rtp, buf, sizeof(buf));
    ref_gcm_rtp_iv(k_s, 0x5501a0b2, 0, 0xf17b, iv);
    memcpy(want, buf, 12);
    ref_gcm(k_e, iv, buf, 12, buf + 12, len - 12, want + 12, want + len);

    ovl_srtp_session_t *tx = session(OVL_SRTP_AEAD_AES_128_GCM, OVL_SRTP_OUTBOUND, master, false);
    assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    assert_int_equal(len, 50 + 16);
    assert_memory_equal(buf, want, len);
    ovl_srtp_free(tx);
}

/* RFC 7714 §9: SRTCP with AEAD_AES_128_GCM: header || ciphertext || tag || E|index, AAD = header || E|index. */
static void test_gcm_rtcp_matches_reference(void **state)
{
    (void)state;
    uint8_t master[28], k_e[16], k_s[12], buf[256], want[256], iv[12], aad[12];
    unhex(rfc7714_key, master, 16);
    unhex(rfc7714_salt, master + 16, 12);
    ref_kdf(master, master + 16, 12, 0x03, k_e, 16);
    ref_kdf(master, master + 16, 12, 0x05, k_s, 12);
    size_t len = unhex("81c8000d4d617273 4e5450314e545032525450200000042a0000e9304c756e61"
                       "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef",
                       buf, sizeof(buf));
    size_t plain_len = len;
    memcpy(want, buf, len);

    ovl_srtp_session_t *tx = session(OVL_SRTP_AEAD_AES_128_GCM, OVL_SRTP_OUTBOUND, master, false);
    assert_int_equal(ovl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
    assert_int_equal(len, plain_len + 16 + 4);
    const uint8_t *trailer = buf + plain_len + 16;
    uint32_t e_index = (uint32_t)trailer[0] << 24 | (uint32_t)trailer[1] << 16 | (uint32_t)trailer[2] << 8 | trailer[3];
    assert_true(e_index & 0x80000000u);
    ref_gcm_rtcp_iv(k_s, 0x4d617273, e_index & 0x7fffffffu, iv);
    memcpy(aad, want, 8);
    memcpy(aad + 8, trailer, 4);
    ref_gcm(k_e, iv, aad, 12, want + 8, plain_len - 8, want + 8, want + plain_len);
    memcpy(want + plain_len + 16, trailer, 4);
    assert_memory_equal(buf, want, len);
    ovl_srtp_free(tx);
}

/* ---- behaviour ------------------------------------------------------------------------------- */

static void test_profile_table(void **state)
{
    (void)state;
    const ovl_srtp_profile_info_t *gcm = ovl_srtp_profile_info(OVL_SRTP_AEAD_AES_128_GCM);
    const ovl_srtp_profile_info_t *cm = ovl_srtp_profile_info(OVL_SRTP_AES128_CM_SHA1_80);
    assert_non_null(gcm);
    assert_non_null(cm);
    assert_int_equal(gcm->key_len + gcm->salt_len, 28);
    assert_int_equal(cm->key_len + cm->salt_len, 30);
    assert_int_equal(gcm->rtp_overhead, 16);
    assert_int_equal(cm->rtp_overhead, 10);
    assert_ptr_equal(ovl_srtp_profile_by_name("SRTP_AEAD_AES_128_GCM"), gcm);
    assert_ptr_equal(ovl_srtp_profile_by_name("AES_CM_128_HMAC_SHA1_80"), cm);
    assert_null(ovl_srtp_profile_by_name("SRTP_AES128_CM_SHA1_32"));
    assert_null(ovl_srtp_profile_info(OVL_SRTP_PROFILE_NONE));
}

/* The SFU case: one outbound session protects several SSRCs, one inbound session unprotects them all. */
static void test_round_trip_many_ssrcs(void **state)
{
    (void)state;
    static const uint32_t ssrcs[] = {0x11111111, 0x22222222, 0x33333333};
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        const ovl_srtp_profile_info_t *info = ovl_srtp_profile_info(both[p]);
        ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, false);
        ovl_srtp_session_t *rx = session(both[p], OVL_SRTP_INBOUND, test_master, false);
        for (uint16_t seq = 65530; seq != 10; seq++) { /* crosses the 16-bit wrap: ROC 0 -> 1 */
            for (size_t i = 0; i < OVL_ARRAY_LEN(ssrcs); i++) {
                uint8_t buf[1500], plain[1500];
                size_t len = make_rtp(buf, ssrcs[i], seq, 100 + i), plain_len = len;
                memcpy(plain, buf, len);
                assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
                assert_int_equal(len, plain_len + info->rtp_overhead);
                assert_memory_not_equal(buf + 12, plain + 12, plain_len - 12);
                assert_int_equal(ovl_srtp_unprotect_rtp(rx, buf, &len), 0);
                assert_int_equal(len, plain_len);
                assert_memory_equal(buf, plain, len);

                len = make_rtcp(buf, ssrcs[i]);
                memcpy(plain, buf, len);
                assert_int_equal(ovl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), 0);
                assert_int_equal(len, 32 + info->rtcp_overhead);
                assert_int_equal(ovl_srtp_unprotect_rtcp(rx, buf, &len), 0);
                assert_int_equal(len, 32);
                assert_memory_equal(buf, plain, len);
            }
        }
        assert_int_equal(ovl_srtp_session_profile(tx), both[p]);
        ovl_srtp_free(tx);
        ovl_srtp_free(rx);
    }
}

/* RFC 3711 §3.3 / RFC 7714 §5: the whole packet is authenticated; any flipped bit must fail. */
static void test_flipped_bit_fails_auth(void **state)
{
    (void)state;
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        for (int rtcp = 0; rtcp < 2; rtcp++) {
            uint8_t pkt[256], buf[256];
            size_t len = rtcp ? make_rtcp(pkt, 0xabcdef01) : make_rtp(pkt, 0xabcdef01, 4242, 40);
            ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, false);
            assert_int_equal((rtcp ? ovl_srtp_protect_rtcp : ovl_srtp_protect_rtp)(tx, pkt, &len, sizeof(pkt)), 0);
            ovl_srtp_free(tx);
            for (size_t byte = 0; byte < len; byte++) {
                for (int bit = 0; bit < 8; bit += 3) {
                    ovl_srtp_session_t *rx = session(both[p], OVL_SRTP_INBOUND, test_master, false);
                    size_t n = len;
                    memcpy(buf, pkt, len);
                    buf[byte] ^= (uint8_t)(1u << bit);
                    int ret = (rtcp ? ovl_srtp_unprotect_rtcp : ovl_srtp_unprotect_rtp)(rx, buf, &n);
                    /* Byte 0 holds the version and header-shape bits: a flip there may not even parse. */
                    if (ret != OVL_ERR_AUTH && !(ret == OVL_ERR_PARSE && byte == 0))
                        fail_msg("profile %d rtcp %d byte %zu bit %d: got %s", both[p], rtcp, byte, bit,
                                 ovl_strerror(ret));
                    ovl_srtp_free(rx);
                }
            }
        }
    }
}

static void test_wrong_key_fails_auth(void **state)
{
    (void)state;
    uint8_t other[30];
    memcpy(other, test_master, sizeof(other));
    other[0] ^= 1;
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        uint8_t buf[256];
        size_t len = make_rtp(buf, 1, 1, 50);
        ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, false);
        ovl_srtp_session_t *rx = session(both[p], OVL_SRTP_INBOUND, other, false);
        assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
        assert_int_equal(ovl_srtp_unprotect_rtp(rx, buf, &len), OVL_ERR_AUTH);
        ovl_srtp_free(tx);
        ovl_srtp_free(rx);
    }
}

/* RFC 3711 §3.3.2: a replayed packet, and one older than the window, are rejected. */
static void test_replay(void **state)
{
    (void)state;
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, false);
        ovl_srtp_session_t *rx = session(both[p], OVL_SRTP_INBOUND, test_master, false);
        uint8_t a[256], copy[256], old[256], b[256];
        size_t alen = make_rtp(a, 7, 100, 20), oldlen = make_rtp(old, 7, 101, 20), blen = make_rtp(b, 7, 3000, 20);
        assert_int_equal(ovl_srtp_protect_rtp(tx, a, &alen, sizeof(a)), 0);
        assert_int_equal(ovl_srtp_protect_rtp(tx, old, &oldlen, sizeof(old)), 0);
        assert_int_equal(ovl_srtp_protect_rtp(tx, b, &blen, sizeof(b)), 0);
        memcpy(copy, a, alen);
        size_t n = alen;
        assert_int_equal(ovl_srtp_unprotect_rtp(rx, a, &n), 0);
        n = alen;
        assert_int_equal(ovl_srtp_unprotect_rtp(rx, copy, &n), OVL_ERR_REPLAY);
        /* seq 3000 moves the window past 101 (window 1024): 101, never received, is now too old. */
        assert_int_equal(ovl_srtp_unprotect_rtp(rx, b, &blen), 0);
        assert_int_equal(ovl_srtp_unprotect_rtp(rx, old, &oldlen), OVL_ERR_REPLAY);

        uint8_t r[256], rcopy[256];
        size_t rlen = make_rtcp(r, 7);
        assert_int_equal(ovl_srtp_protect_rtcp(tx, r, &rlen, sizeof(r)), 0);
        memcpy(rcopy, r, rlen);
        n = rlen;
        assert_int_equal(ovl_srtp_unprotect_rtcp(rx, r, &n), 0);
        n = rlen;
        assert_int_equal(ovl_srtp_unprotect_rtcp(rx, rcopy, &n), OVL_ERR_REPLAY);
        ovl_srtp_free(tx);
        ovl_srtp_free(rx);
    }
}

/* Outbound: the same (SSRC, seq) is not protected twice unless allow_repeat_tx; then the bytes repeat. */
static void test_repeat_tx(void **state)
{
    (void)state;
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        for (int allow = 0; allow < 2; allow++) {
            ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, allow);
            uint8_t first[256], again[256];
            size_t l1 = make_rtp(first, 9, 500, 30), l2 = make_rtp(again, 9, 500, 30);
            assert_int_equal(ovl_srtp_protect_rtp(tx, first, &l1, sizeof(first)), 0);
            if (allow) {
                assert_int_equal(ovl_srtp_protect_rtp(tx, again, &l2, sizeof(again)), 0);
                assert_int_equal(l1, l2);
                assert_memory_equal(first, again, l1);
            } else {
                assert_int_equal(ovl_srtp_protect_rtp(tx, again, &l2, sizeof(again)), OVL_ERR_REPLAY);
            }
            ovl_srtp_free(tx);
        }
    }
}

/* The wrapper owns libsrtp's trailer rule: too little room is OVL_ERR_LIMIT and nothing is written. */
static void test_cap_too_small(void **state)
{
    (void)state;
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, false);
        uint8_t buf[512], before[512];
        for (int rtcp = 0; rtcp < 2; rtcp++) {
            memset(buf, 0xa5, sizeof(buf));
            size_t len = rtcp ? make_rtcp(buf, 5) : make_rtp(buf, 5, 77, 60), orig = len;
            memcpy(before, buf, sizeof(buf));
            size_t cap = len + OVL_SRTP_MAX_OVERHEAD - 1;
            int (*protect)(ovl_srtp_session_t *, uint8_t *, size_t *, size_t) =
                rtcp ? ovl_srtp_protect_rtcp : ovl_srtp_protect_rtp;
            assert_int_equal(protect(tx, buf, &len, cap), OVL_ERR_LIMIT);
            assert_int_equal(len, orig);
            assert_memory_equal(buf, before, sizeof(buf));
            assert_int_equal(protect(tx, buf, &len, len - 1), OVL_ERR_LIMIT); /* cap below len */
            assert_int_equal(protect(tx, buf, &len, cap + 1), 0);
            /* Nothing past the reported length was touched beyond libsrtp's trailer. */
            assert_memory_equal(buf + orig + OVL_SRTP_MAX_OVERHEAD, before + orig + OVL_SRTP_MAX_OVERHEAD,
                                sizeof(buf) - orig - OVL_SRTP_MAX_OVERHEAD);
        }
        ovl_srtp_free(tx);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    for (size_t p = 0; p < OVL_ARRAY_LEN(both); p++) {
        ovl_srtp_session_t *tx = session(both[p], OVL_SRTP_OUTBOUND, test_master, false);
        ovl_srtp_session_t *rx = session(both[p], OVL_SRTP_INBOUND, test_master, false);
        uint8_t buf[256];
        size_t len = make_rtp(buf, 1, 1, 0);
        /* Wrong direction. */
        assert_int_equal(ovl_srtp_unprotect_rtp(tx, buf, &len), OVL_ERR_STATE);
        assert_int_equal(ovl_srtp_protect_rtp(rx, buf, &len, sizeof(buf)), OVL_ERR_STATE);
        assert_int_equal(ovl_srtp_protect_rtp(tx, NULL, &len, sizeof(buf)), OVL_ERR_ARG);
        /* Shorter than a header; wrong version; CSRCs or extension running past the end. */
        len = 11;
        assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), OVL_ERR_PARSE);
        len = make_rtp(buf, 1, 1, 8);
        buf[0] = 0x40;
        assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), OVL_ERR_PARSE);
        buf[0] = 0x83; /* 3 CSRCs = 12 octets, only 8 follow */
        assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), OVL_ERR_PARSE);
        buf[0] = 0x90; /* extension of 0x0102 words */
        buf[12] = 0xbe, buf[13] = 0xde, buf[14] = 0x01, buf[15] = 0x02;
        assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), OVL_ERR_PARSE);
        len = 7;
        assert_int_equal(ovl_srtp_protect_rtcp(tx, buf, &len, sizeof(buf)), OVL_ERR_PARSE);
        /* A header with no room for a tag cannot be SRTP. */
        len = make_rtp(buf, 1, 1, 0);
        assert_int_equal(ovl_srtp_unprotect_rtp(rx, buf, &len), OVL_ERR_PARSE);
        len = make_rtcp(buf, 1);
        len = 8;
        assert_int_equal(ovl_srtp_unprotect_rtcp(rx, buf, &len), OVL_ERR_PARSE);
        ovl_srtp_free(tx);
        ovl_srtp_free(rx);
    }
}

static void test_config_errors(void **state)
{
    (void)state;
    ovl_srtp_session_t *s = (ovl_srtp_session_t *)1;
    ovl_srtp_config_t cfg = {
        .profile = OVL_SRTP_AEAD_AES_128_GCM, .direction = OVL_SRTP_INBOUND, .master = test_master, .master_len = 30};
    assert_int_equal(ovl_srtp_new(&cfg, &s), OVL_ERR_ARG); /* GCM takes 28 */
    assert_null(s);
    cfg.master_len = 28;
    cfg.replay_window = 32;
    assert_int_equal(ovl_srtp_new(&cfg, &s), OVL_ERR_ARG);
    cfg.replay_window = 0;
    cfg.direction = 0;
    assert_int_equal(ovl_srtp_new(&cfg, &s), OVL_ERR_ARG);
    cfg.direction = OVL_SRTP_OUTBOUND;
    cfg.profile = 2;
    assert_int_equal(ovl_srtp_new(&cfg, &s), OVL_ERR_ARG);
    assert_int_equal(ovl_srtp_new(NULL, &s), OVL_ERR_ARG);
    ovl_srtp_free(NULL);
}

static void test_remove_stream(void **state)
{
    (void)state;
    ovl_srtp_session_t *tx = session(OVL_SRTP_AEAD_AES_128_GCM, OVL_SRTP_OUTBOUND, test_master, false);
    uint8_t buf[256];
    size_t len = make_rtp(buf, 0x01020304, 10, 10);
    assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    assert_int_equal(ovl_srtp_remove_stream(tx, 0x01020304), 0);
    assert_int_equal(ovl_srtp_remove_stream(tx, 0x01020304), OVL_ERR_NOTFOUND);
    /* A fresh stream for the same SSRC starts over: seq 10 may be protected again. */
    len = make_rtp(buf, 0x01020304, 10, 10);
    assert_int_equal(ovl_srtp_protect_rtp(tx, buf, &len, sizeof(buf)), 0);
    ovl_srtp_free(tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3711_b2_keystream),
        cmocka_unit_test(test_rfc3711_b3_key_derivation),
        cmocka_unit_test(test_rfc7714_16_1_1_reference),
        cmocka_unit_test(test_rfc7714_17_1_reference),
        cmocka_unit_test(test_cm_rtp_matches_rfc3711),
        cmocka_unit_test(test_cm_rtcp_matches_reference),
        cmocka_unit_test(test_gcm_rtp_matches_reference),
        cmocka_unit_test(test_gcm_rtcp_matches_reference),
        cmocka_unit_test(test_profile_table),
        cmocka_unit_test(test_round_trip_many_ssrcs),
        cmocka_unit_test(test_flipped_bit_fails_auth),
        cmocka_unit_test(test_wrong_key_fails_auth),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_repeat_tx),
        cmocka_unit_test(test_cap_too_small),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_remove_stream),
    };
    return cmocka_run_group_tests_name("srtp (RFC 3711, RFC 7714, libsrtp2)", tests, NULL, NULL);
}
