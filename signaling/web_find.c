/* Lookup of embedded web files. */
#include <string.h>

#include "signaling/web_assets.h"

const ovl_web_asset_t *ovl_web_asset_find(const char *path)
{
    for (size_t i = 0; path && i < ovl_web_asset_count; i++)
        if (strcmp(ovl_web_assets[i].path, path) == 0)
            return &ovl_web_assets[i];
    return NULL;
}
