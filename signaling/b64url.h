/* Base64url without padding (RFC 4648 §5): meeting ids and tokens travel in URLs. */
#ifndef OVL_B64URL_H
#define OVL_B64URL_H

#include <stddef.h>
#include <stdint.h>

/** Length of the base64url text (no padding, no NUL) for `n` input bytes. */
size_t ovl_b64url_len(size_t n);

/**
 * Encodes `n` bytes into `out` (capacity `cap`, NUL-terminated). Returns 0, or OVL_ERR_LIMIT when
 * `cap` < ovl_b64url_len(n) + 1 (nothing useful is written then).
 */
int ovl_b64url_encode(const uint8_t *in, size_t n, char *out, size_t cap);

/**
 * Decodes `n` characters of unpadded base64url into `out` (capacity `cap`); *outlen gets the byte
 * count. Returns 0, OVL_ERR_PARSE on a character outside the alphabet, an impossible length or
 * non-zero trailing bits (so every byte string has exactly one encoding), OVL_ERR_LIMIT if `out`
 * is too small.
 */
int ovl_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap, size_t *outlen);

#endif
