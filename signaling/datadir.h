/*
 * The data directory: created 0700 on first start; holds meetings.db, secret.key (32 random bytes,
 * 0600: the key that signs meeting links) and, when no certificate is configured, a self-signed
 * ECDSA P-256 certificate for the public host name (tls-cert.pem, tls-key.pem 0600).
 */
#ifndef OVL_DATADIR_H
#define OVL_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "signaling/token.h"

/** Creates `dir` with mode 0700 if missing (parents must exist). 0 or OVL_ERR_IO with `err`. */
int ovl_datadir_prepare(const char *dir, char *err, size_t cap);

/**
 * Loads `dir`/secret.key, creating it (RAND_bytes, 0600) when missing. A file of the wrong size
 * is an error, never silently replaced (that would invalidate every link). 0 or OVL_ERR_*.
 */
int ovl_datadir_secret(const char *dir, uint8_t secret[OVL_SECRET_BYTES], char *err, size_t cap);

/**
 * Makes `dir`/tls-cert.pem and `dir`/tls-key.pem for `host` (SAN: the name or address, 127.0.0.1
 * and ::1; valid 825 days) unless both exist. Their paths go to cert/key (capacity `pcap`).
 * *created is 1 when new files were written. 0 or OVL_ERR_IO / OVL_ERR_CRYPTO with `err`.
 */
int ovl_datadir_selfsigned(const char *dir, const char *host, char *cert, char *key, size_t pcap, int *created,
                           char *err, size_t cap);

#endif
