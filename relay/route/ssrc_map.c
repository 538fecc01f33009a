/*
 * SSRC map: linear probing, backward-shift deletion. See ssrc_map.h.
 */
#include <stdlib.h>

#include "relay/route/ssrc_map.h"

/* SSRCs are random already, but a multiplicative hash spreads hand-picked ones (1, 2, 3...) too. */
static size_t home(const ovl_route_ssrc_map_t *m, uint32_t ssrc)
{
    return (size_t)((ssrc * 2654435761u) >> 7) & m->mask;
}

int ovl_route_ssrc_map_init(ovl_route_ssrc_map_t *m, size_t max_entries)
{
    size_t n = 16;
    while (n < 2 * max_entries)
        n <<= 1;
    m->slots = calloc(n, sizeof(*m->slots));
    m->mask = n - 1;
    m->count = 0;
    m->limit = n / 2;
    return m->slots ? 0 : OVL_ERR_NOMEM;
}

void ovl_route_ssrc_map_dispose(ovl_route_ssrc_map_t *m)
{
    free(m->slots);
    m->slots = NULL;
    m->count = 0;
}

static ovl_route_ssrc_entry_t *find(const ovl_route_ssrc_map_t *m, uint32_t ssrc)
{
    for (size_t i = home(m, ssrc);; i = (i + 1) & m->mask) {
        ovl_route_ssrc_entry_t *e = &m->slots[i];
        if (!e->used)
            return NULL;
        if (e->ssrc == ssrc)
            return e;
    }
}

void *ovl_route_ssrc_map_get(const ovl_route_ssrc_map_t *m, uint32_t ssrc)
{
    ovl_route_ssrc_entry_t *e = find(m, ssrc);
    return e ? e->value : NULL;
}

int ovl_route_ssrc_map_put(ovl_route_ssrc_map_t *m, uint32_t ssrc, void *value)
{
    if (find(m, ssrc))
        return OVL_ERR_STATE;
    if (m->count >= m->limit)
        return OVL_ERR_LIMIT;
    size_t i = home(m, ssrc);
    while (m->slots[i].used)
        i = (i + 1) & m->mask;
    m->slots[i] = (ovl_route_ssrc_entry_t){.ssrc = ssrc, .used = true, .value = value};
    m->count++;
    return 0;
}

int ovl_route_ssrc_map_del(ovl_route_ssrc_map_t *m, uint32_t ssrc)
{
    ovl_route_ssrc_entry_t *e = find(m, ssrc);
    if (!e)
        return OVL_ERR_NOTFOUND;
    size_t hole = (size_t)(e - m->slots);
    /* Knuth 6.4 algorithm R: move back every later entry of the run whose home is not in (hole, j]. */
    for (size_t j = (hole + 1) & m->mask; m->slots[j].used; j = (j + 1) & m->mask) {
        size_t h = home(m, m->slots[j].ssrc);
        bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
        if (!stays) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole].used = false;
    m->slots[hole].value = NULL;
    m->count--;
    return 0;
}
