/*
 * The DTLS certificate of a process and SDP certificate fingerprints (RFC 8122, RFC 8827 §6.5).
 *
 * WebRTC authenticates a DTLS peer by the hash of its certificate, carried in the SDP
 * (a=fingerprint:sha-256 AB:CD:...), never by a CA. So a relay process generates one throwaway
 * self-signed ECDSA P-256 certificate at start (ovl_dtls_cert_generate) and announces its SHA-256
 * fingerprint in every answer; fixed PEM certificates can be loaded instead (tests, pinning).
 * A certificate is immutable after creation and may be shared by every media worker thread.
 */
#ifndef OVL_DTLS_CERT_H
#define OVL_DTLS_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "relay/proto/base.h"

typedef enum ovl_dtls_hash {
    OVL_DTLS_HASH_NONE = 0,
    OVL_DTLS_HASH_SHA1,
    OVL_DTLS_HASH_SHA224,
    OVL_DTLS_HASH_SHA256,
    OVL_DTLS_HASH_SHA384,
    OVL_DTLS_HASH_SHA512,
} ovl_dtls_hash_t;

#define OVL_DTLS_FINGERPRINT_MAX 64 /* SHA-512 */
/* Longest text form: "sha-512 " + 64 "XX" + 63 ":" + NUL. */
#define OVL_DTLS_FINGERPRINT_TEXT_MAX (8 + 64 * 3)

typedef struct ovl_dtls_fingerprint {
    ovl_dtls_hash_t hash;
    size_t len; /* digest length of `hash` */
    uint8_t bytes[OVL_DTLS_FINGERPRINT_MAX];
} ovl_dtls_fingerprint_t;

typedef struct ovl_dtls_cert ovl_dtls_cert_t;

/* OpenSSL's types, for dtls.c; callers need not include OpenSSL. */
struct x509_st;
struct evp_pkey_st;

/**
 * Parses an a=fingerprint value, "sha-256 AB:CD:..." (RFC 8122 §5), into *out (cleared first).
 * `text` need not be NUL-terminated; surrounding blanks are ignored, the hash name is matched
 * without regard to case and lower-case hex is accepted. Errors: OVL_ERR_PARSE (malformed, or a
 * digest of the wrong length for its hash), OVL_ERR_UNSUPPORTED (md5, md2 or an unknown hash).
 */
int ovl_dtls_fingerprint_parse(const char *text, size_t len, ovl_dtls_fingerprint_t *out);

/**
 * Writes `fp` as SDP text ("sha-256 AB:CD:...", upper-case hex) and a NUL into buf[0..cap).
 * OVL_ERR_LIMIT if cap is too small (OVL_DTLS_FINGERPRINT_TEXT_MAX always suffices), OVL_ERR_ARG
 * for an unknown hash.
 */
int ovl_dtls_fingerprint_format(const ovl_dtls_fingerprint_t *fp, char *buf, size_t cap);

/** Stable lower-case SDP name of a hash ("sha-256"), or NULL. */
const char *ovl_dtls_hash_name(ovl_dtls_hash_t hash);

/**
 * Generates a self-signed ECDSA P-256 certificate: random 128-bit serial, random 8-character CN,
 * valid from one day ago for 30 days, signed with SHA-256. Once per process; *out owns it.
 * Errors: OVL_ERR_CRYPTO, OVL_ERR_NOMEM.
 */
int ovl_dtls_cert_generate(ovl_dtls_cert_t **out);

/**
 * Loads a certificate and its private key from PEM text (each `len` bytes; need not be
 * NUL-terminated). The key must match the certificate. Errors: OVL_ERR_PARSE, OVL_ERR_AUTH (key
 * does not match), OVL_ERR_NOMEM.
 */
int ovl_dtls_cert_from_pem(const char *cert_pem, size_t cert_len, const char *key_pem, size_t key_len,
                           ovl_dtls_cert_t **out);

/** Like ovl_dtls_cert_from_pem, reading two PEM files. OVL_ERR_IO if a file cannot be read. */
int ovl_dtls_cert_load_pem_files(const char *cert_path, const char *key_path, ovl_dtls_cert_t **out);

/** Frees a certificate. Transports made from it hold their own references and stay valid. */
void ovl_dtls_cert_free(ovl_dtls_cert_t *c);

/** The certificate's SHA-256 fingerprint as bytes. Owned by `c`. */
const ovl_dtls_fingerprint_t *ovl_dtls_cert_fingerprint(const ovl_dtls_cert_t *c);

/** The same as SDP text, "sha-256 AB:CD:...". Owned by `c`. */
const char *ovl_dtls_cert_fingerprint_text(const ovl_dtls_cert_t *c);

/** Borrowed OpenSSL objects of `c` (for dtls.c; take your own reference to keep them). */
struct x509_st *ovl_dtls_cert_x509(const ovl_dtls_cert_t *c);
struct evp_pkey_st *ovl_dtls_cert_key(const ovl_dtls_cert_t *c);

#endif
