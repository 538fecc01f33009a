/*
 * The web client's files (signaling/web/), embedded in the binary by signaling/web/embed.sh so
 * that `make run` and the container image need no web root on disk.
 */
#ifndef OVL_WEB_ASSETS_H
#define OVL_WEB_ASSETS_H

#include <stddef.h>

typedef struct ovl_web_asset {
    const char *path;         /* "/index.html", "/static/app.js" */
    const char *content_type; /* with charset for text */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* the same bytes gzipped (gzip -9n), NULL when that is not smaller */
    size_t gz_len;
    const char *etag; /* quoted strong validator: the first 64 bits of the file's SHA-256 in hex */
} ovl_web_asset_t;

extern const ovl_web_asset_t ovl_web_assets[];
extern const size_t ovl_web_asset_count;

/** The asset at exactly `path` (no normalisation: "/static/../x" is simply not found), or NULL. */
const ovl_web_asset_t *ovl_web_asset_find(const char *path);

#endif
