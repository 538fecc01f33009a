/* Helpers shared by the SDP files (sdp*.c); not part of the public API. */
#ifndef OVL_SDP_INTERNAL_H
#define OVL_SDP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "relay/proto/sdp.h"

/* RFC 8866 §9 token-char: %x21 / %x23-27 / %x2A-2B / %x2D-2E / %x30-39 / %x41-5A / %x5E-7E */
static inline bool ovl_sdp_is_token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e ||
           (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

/* RFC 8839 §5.1 ice-char: ALPHA / DIGIT / "+" / "/" */
static inline bool ovl_sdp_is_ice_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* RFC 8851 §10 rid-id: 1*(alpha-numeric / "-" / "_") */
static inline bool ovl_sdp_is_rid_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A visible character that may appear inside a space-separated field (addresses, cnames): %x21-7E or UTF-8. */
static inline bool ovl_sdp_is_field_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
}

/*
 * Text cursor for one SDP line, in the style of cursor.h: `p` moves forward only after a check against `end`.
 * Fields are separated by one or more spaces (RFC 8866 asks for one; extra spaces are accepted on input).
 */
typedef struct ovl_sdp_cur {
    const char *p, *end;
} ovl_sdp_cur_t;

static inline void ovl_sdp_skip_sp(ovl_sdp_cur_t *c)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
}

static inline bool ovl_sdp_eol(const ovl_sdp_cur_t *c)
{
    return c->p >= c->end;
}

/** Takes the next non-empty field up to a space or the end (*f, *n) and the spaces after it. */
static inline int ovl_sdp_field(ovl_sdp_cur_t *c, const char **f, size_t *n)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ')
        c->p++;
    if (c->p == s)
        return OVL_ERR_PARSE;
    *f = s;
    *n = (size_t)(c->p - s);
    ovl_sdp_skip_sp(c);
    return 0;
}

/** Parses s[0..n) as a decimal number (digits only, no sign) of at most `max`. */
int ovl_sdp_num(const char *s, size_t n, uint64_t max, uint64_t *v);

/** Parses the text after "a=" (name[:value]) into the session (m == NULL) or section m. *what on failure. */
int ovl_sdp_parse_attr(ovl_sdp_t *sdp, ovl_sdp_media_t *m, const char *s, size_t n, const char **what);

/** True when s[0..len) is non-empty and every byte passes `ok`. */
bool ovl_sdp_all(const char *s, size_t len, bool (*ok)(unsigned char));

/** Copies src[0..len) into dst (capacity cap, NUL-terminated). OVL_ERR_LIMIT when it does not fit. */
int ovl_sdp_copy(char *dst, size_t cap, const char *src, size_t len);

/** *dst = a new NUL-terminated copy of src[0..len) (NULL src with len 0 gives ""). */
int ovl_sdp_strndup(char **dst, const char *src, size_t len);

/** Grows the array *arr of *n elements of `size` bytes by one zeroed element (*slot). OVL_ERR_LIMIT at `max`. */
int ovl_sdp_push(void **arr, size_t *n, size_t size, size_t max, void **slot);

/** Frees what a section owns and zeroes it. */
void ovl_sdp_media_dispose(ovl_sdp_media_t *m);

/** Deep-copies a section into zeroed storage `dst`; on failure dst holds nothing to free. */
int ovl_sdp_media_copy(ovl_sdp_media_t *dst, const ovl_sdp_media_t *src);

/** Appends an empty section to sdp->media (*m_out points at it, valid until the next append). */
int ovl_sdp_add_media(ovl_sdp_t *sdp, ovl_sdp_media_t **m_out);

/** Appends a codec with this payload type to a section (apt -1). */
int ovl_sdp_add_codec(ovl_sdp_media_t *m, unsigned pt, ovl_sdp_codec_t **c_out);

/** Appends an attribute kept as text (name, optional value). */
int ovl_sdp_add_attr(ovl_sdp_attr_t **attrs, size_t *n, const char *name, size_t name_len, const char *value,
                     size_t value_len, bool has_value);

/** Appends a candidate (deep copy of `src`). */
int ovl_sdp_add_candidate(ovl_sdp_media_t *m, const ovl_sdp_candidate_t *src);

/** Appends a=ssrc:<ssrc> <attr>[:<value>] (value NULL: no value). */
int ovl_sdp_add_ssrc(ovl_sdp_media_t *m, uint32_t ssrc, const char *attr, const char *value);

/** Appends an extmap (deep copy of `src`). */
int ovl_sdp_add_extmap(ovl_sdp_media_t *m, const ovl_sdp_extmap_t *src);

/* Writer helpers (sdp_write.c): each appends to `out` or returns OVL_ERR_LIMIT leaving it unchanged. */
int ovl_sdp_put_str(ovl_wbuf_t *out, const char *s);
int ovl_sdp_put_num(ovl_wbuf_t *out, uint64_t v);
/** A non-empty field without spaces or line breaks (OVL_ERR_ARG otherwise). */
int ovl_sdp_put_field(ovl_wbuf_t *out, const char *s);
/** Text without line breaks (OVL_ERR_ARG otherwise); may be empty. */
int ovl_sdp_put_text(ovl_wbuf_t *out, const char *s);

/** Case-insensitive equality of two NUL-terminated ASCII strings. */
bool ovl_sdp_ieq(const char *a, const char *b);

#endif
