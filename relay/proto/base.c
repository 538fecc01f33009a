#include "relay/proto/base.h"

const char *ovl_strerror(int err)
{
    switch (err) {
    case OVL_OK:
        return "ok";
    case OVL_ERR_PARSE:
        return "parse";
    case OVL_ERR_AUTH:
        return "auth";
    case OVL_ERR_STATE:
        return "state";
    case OVL_ERR_NOMEM:
        return "nomem";
    case OVL_ERR_LIMIT:
        return "limit";
    case OVL_ERR_AGAIN:
        return "again";
    case OVL_ERR_UNSUPPORTED:
        return "unsupported";
    case OVL_ERR_NOTFOUND:
        return "notfound";
    case OVL_ERR_IO:
        return "io";
    case OVL_ERR_CRYPTO:
        return "crypto";
    case OVL_ERR_ARG:
        return "arg";
    case OVL_ERR_REPLAY:
        return "replay";
    default:
        return "unknown";
    }
}
