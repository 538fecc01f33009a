/* Shared vocabulary of every Overleg module: the one error space and the clock type. */
#ifndef OVL_BASE_H
#define OVL_BASE_H

#include <stddef.h>
#include <stdint.h>

/* Functions return 0 on success or one of these negative codes. */
enum {
    OVL_OK = 0,
    OVL_ERR_PARSE = -1,       /* malformed input */
    OVL_ERR_AUTH = -2,        /* integrity, signature or credential check failed */
    OVL_ERR_STATE = -3,       /* call not valid in the current state */
    OVL_ERR_NOMEM = -4,       /* allocation failed */
    OVL_ERR_LIMIT = -5,       /* a size, count or rate limit was reached; output buffer too small */
    OVL_ERR_AGAIN = -6,       /* nothing to do now; try again later */
    OVL_ERR_UNSUPPORTED = -7, /* valid but not supported (unknown required attribute, profile, ...) */
    OVL_ERR_NOTFOUND = -8,    /* no such object */
    OVL_ERR_IO = -9,          /* operating-system call failed (only in io/ and signaling/) */
    OVL_ERR_CRYPTO = -10,     /* crypto library failed */
    OVL_ERR_ARG = -11,        /* caller passed an invalid argument */
    OVL_ERR_REPLAY = -12,     /* packet already seen */
};

/** Stable, lower-case name of an error code ("parse", "auth", ...); "unknown" for anything else. */
const char *ovl_strerror(int err);

/* Monotonic time in microseconds. Sans-IO cores receive it from the caller and never read a clock. */
typedef uint64_t ovl_time_t;
#define OVL_TIME_NEVER UINT64_MAX
#define OVL_MS(x)      ((ovl_time_t)(x)*1000u)
#define OVL_SEC(x)     ((ovl_time_t)(x)*1000000u)

#define OVL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
