/* DTLS certificate generation/loading and the a=fingerprint parser; see dtls_cert.h. */
#include "relay/proto/dtls_cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "relay/proto/cursor.h"

struct ovl_dtls_cert {
    X509 *x509;    /* owned */
    EVP_PKEY *key; /* owned */
    ovl_dtls_fingerprint_t fp;
    char fp_text[OVL_DTLS_FINGERPRINT_TEXT_MAX];
};

static const struct {
    ovl_dtls_hash_t hash;
    const char *name;
    size_t len;
} hashes[] = {
    {OVL_DTLS_HASH_SHA1, "sha-1", 20},     {OVL_DTLS_HASH_SHA224, "sha-224", 28}, {OVL_DTLS_HASH_SHA256, "sha-256", 32},
    {OVL_DTLS_HASH_SHA384, "sha-384", 48}, {OVL_DTLS_HASH_SHA512, "sha-512", 64},
};

const char *ovl_dtls_hash_name(ovl_dtls_hash_t hash)
{
    for (size_t i = 0; i < OVL_ARRAY_LEN(hashes); i++)
        if (hashes[i].hash == hash)
            return hashes[i].name;
    return NULL;
}

static int hex_digit(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * RFC 8122 §5 (ABNF), the value after "a=fingerprint:":
 *
 *   fingerprint-attribute  =  "fingerprint" ":" hash-func SP fingerprint
 *   hash-func              =  "sha-1" / "sha-224" / "sha-256" /
 *                             "sha-384" / "sha-512" /
 *                             "md5" / "md2" / token
 *   fingerprint            =  2UHEX *(":" 2UHEX)
 *                             ; Each byte in upper-case hex, separated by colons.
 *   UHEX                   =  DIGIT / %x41-46 ; A-F uppercase
 */
int ovl_dtls_fingerprint_parse(const char *text, size_t len, ovl_dtls_fingerprint_t *out)
{
    if (!out)
        return OVL_ERR_ARG;
    memset(out, 0, sizeof(*out));
    if (!text)
        return OVL_ERR_ARG;
    const uint8_t *p = (const uint8_t *)text, *end = p + len, *name;
    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;

    /* hash-func: a token up to the first blank. */
    name = p;
    while (p < end && !is_blank(*p))
        p++;
    size_t name_len = (size_t)(p - name);
    if (name_len == 0 || p == end)
        return OVL_ERR_PARSE;
    size_t want = 0;
    for (size_t i = 0; i < OVL_ARRAY_LEN(hashes); i++) {
        if (strlen(hashes[i].name) == name_len && strncasecmp(hashes[i].name, (const char *)name, name_len) == 0) {
            out->hash = hashes[i].hash;
            want = hashes[i].len;
        }
    }
    while (p < end && is_blank(*p))
        p++;

    /* fingerprint: 2HEX *(":" 2HEX), exactly `want` octets (any count parses before the hash is judged). */
    size_t n = 0;
    for (;;) {
        uint8_t hi, lo, colon;
        if (ovl_get_u8(&p, end, &hi) || ovl_get_u8(&p, end, &lo) || hex_digit(hi) < 0 || hex_digit(lo) < 0)
            goto Malformed;
        if (n < OVL_DTLS_FINGERPRINT_MAX)
            out->bytes[n] = (uint8_t)(hex_digit(hi) << 4 | hex_digit(lo));
        n++;
        if (p == end)
            break;
        if (ovl_get_u8(&p, end, &colon) || colon != ':' || p == end)
            goto Malformed;
    }
    if (out->hash == OVL_DTLS_HASH_NONE) {
        memset(out, 0, sizeof(*out));
        return OVL_ERR_UNSUPPORTED;
    }
    if (n != want)
        goto Malformed;
    out->len = n;
    return 0;

Malformed:
    memset(out, 0, sizeof(*out));
    return OVL_ERR_PARSE;
}

int ovl_dtls_fingerprint_format(const ovl_dtls_fingerprint_t *fp, char *buf, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    const char *name = fp ? ovl_dtls_hash_name(fp->hash) : NULL;
    if (!name || !buf || fp->len == 0 || fp->len > OVL_DTLS_FINGERPRINT_MAX)
        return OVL_ERR_ARG;
    size_t need = strlen(name) + 1 + fp->len * 3; /* name, space, "XX:" per octet with the last ':' as NUL */
    if (cap < need)
        return OVL_ERR_LIMIT;
    size_t o = (size_t)snprintf(buf, cap, "%s ", name);
    for (size_t i = 0; i < fp->len; i++) {
        buf[o++] = digits[fp->bytes[i] >> 4];
        buf[o++] = digits[fp->bytes[i] & 15];
        buf[o++] = i + 1 < fp->len ? ':' : '\0';
    }
    return 0;
}

/* Fills the SHA-256 fingerprint of c->x509 and takes ownership of x509/key; frees them on error. */
static int cert_finish(X509 *x509, EVP_PKEY *key, ovl_dtls_cert_t **out)
{
    int ret;
    unsigned int n = 0;
    ovl_dtls_cert_t *c = calloc(1, sizeof(*c));
    if (!c) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    c->x509 = x509;
    c->key = key;
    x509 = NULL;
    key = NULL;
    c->fp.hash = OVL_DTLS_HASH_SHA256;
    if (X509_digest(c->x509, EVP_sha256(), c->fp.bytes, &n) != 1 || n != 32) {
        ret = OVL_ERR_CRYPTO;
        goto Exit;
    }
    c->fp.len = n;
    if ((ret = ovl_dtls_fingerprint_format(&c->fp, c->fp_text, sizeof(c->fp_text))) != 0)
        goto Exit;
    *out = c;
    c = NULL;

Exit:
    X509_free(x509);
    EVP_PKEY_free(key);
    ovl_dtls_cert_free(c);
    return ret;
}

int ovl_dtls_cert_generate(ovl_dtls_cert_t **out)
{
    int ret = OVL_ERR_CRYPTO;
    EVP_PKEY *key = NULL;
    X509 *x509 = NULL;
    BIGNUM *serial = NULL;
    uint8_t rnd[16 + 4];
    char cn[9];

    if (!out)
        return OVL_ERR_ARG;
    *out = NULL;
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        goto Exit;
    rnd[0] &= 0x7f; /* a positive serial (RFC 5280 §4.1.2.2) */
    rnd[0] |= 0x40; /* of full length */
    snprintf(cn, sizeof(cn), "%02x%02x%02x%02x", rnd[16], rnd[17], rnd[18], rnd[19]);
    if ((key = EVP_EC_gen("P-256")) == NULL || (x509 = X509_new()) == NULL ||
        (serial = BN_bin2bn(rnd, 16, NULL)) == NULL)
        goto Exit;
    X509_NAME *name = X509_get_subject_name(x509);
    if (X509_set_version(x509, X509_VERSION_3) != 1 || !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x509)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x509), -24L * 3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x509), 30L * 24 * 3600) || X509_set_pubkey(x509, key) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_issuer_name(x509, name) != 1 || X509_sign(x509, key, EVP_sha256()) <= 0)
        goto Exit;
    ret = cert_finish(x509, key, out);
    x509 = NULL;
    key = NULL;

Exit:
    BN_free(serial);
    X509_free(x509);
    EVP_PKEY_free(key);
    return ret;
}

static int cert_from_bios(BIO *cert_bio, BIO *key_bio, ovl_dtls_cert_t **out)
{
    int ret;
    X509 *x509 = NULL;
    EVP_PKEY *key = NULL;

    if ((x509 = PEM_read_bio_X509(cert_bio, NULL, NULL, NULL)) == NULL ||
        (key = PEM_read_bio_PrivateKey(key_bio, NULL, NULL, NULL)) == NULL) {
        ret = OVL_ERR_PARSE;
        goto Exit;
    }
    if (X509_check_private_key(x509, key) != 1) {
        ret = OVL_ERR_AUTH;
        goto Exit;
    }
    ret = cert_finish(x509, key, out);
    x509 = NULL;
    key = NULL;

Exit:
    X509_free(x509);
    EVP_PKEY_free(key);
    return ret;
}

int ovl_dtls_cert_from_pem(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                           ovl_dtls_cert_t **out)
{
    int ret;
    BIO *cb = NULL, *kb = NULL;

    if (!out)
        return OVL_ERR_ARG;
    *out = NULL;
    if (!cert_pem || !key_pem || cert_len > INT32_MAX || key_len > INT32_MAX)
        return OVL_ERR_ARG;
    if ((cb = BIO_new_mem_buf(cert_pem, (int)cert_len)) == NULL ||
        (kb = BIO_new_mem_buf(key_pem, (int)key_len)) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    ret = cert_from_bios(cb, kb, out);

Exit:
    BIO_free(cb);
    BIO_free(kb);
    return ret;
}

int ovl_dtls_cert_load_pem_files(const char *cert_path, const char *key_path, ovl_dtls_cert_t **out)
{
    int ret;
    BIO *cb = NULL, *kb = NULL;

    if (!out)
        return OVL_ERR_ARG;
    *out = NULL;
    if (!cert_path || !key_path)
        return OVL_ERR_ARG;
    if ((cb = BIO_new_file(cert_path, "r")) == NULL || (kb = BIO_new_file(key_path, "r")) == NULL) {
        ret = OVL_ERR_IO;
        goto Exit;
    }
    ret = cert_from_bios(cb, kb, out);

Exit:
    BIO_free(cb);
    BIO_free(kb);
    return ret;
}

void ovl_dtls_cert_free(ovl_dtls_cert_t *c)
{
    if (!c)
        return;
    X509_free(c->x509);
    EVP_PKEY_free(c->key);
    free(c);
}

const ovl_dtls_fingerprint_t *ovl_dtls_cert_fingerprint(const ovl_dtls_cert_t *c)
{
    return &c->fp;
}

const char *ovl_dtls_cert_fingerprint_text(const ovl_dtls_cert_t *c)
{
    return c->fp_text;
}

struct x509_st *ovl_dtls_cert_x509(const ovl_dtls_cert_t *c)
{
    return c->x509;
}

struct evp_pkey_st *ovl_dtls_cert_key(const ovl_dtls_cert_t *c)
{
    return c->key;
}
