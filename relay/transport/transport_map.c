/* ufrag -> transport and (address, path_id) -> transport for a shared relay port; see transport_map.h. */
#include "relay/transport/transport_map.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "relay/proto/demux.h"
#include "relay/proto/stun.h"

/* One slot of either table; t == NULL marks it empty. */
typedef struct slot {
    ovl_transport_t *t;
    uint64_t hash;
    const char *ufrag; /* ufrag table: borrowed from t */
    size_t ufrag_len;
    ovl_ice_path_t path; /* path table */
} slot_t;

typedef struct table {
    slot_t *slots; /* owned; a power of two of them, at least twice `max` */
    size_t mask;
    size_t count, max;
} table_t;

struct ovl_transport_map {
    uint8_t key[OVL_TRANSPORT_MAP_HASH_KEY_LEN];
    size_t transports, max_transports;
    table_t ufrags, paths;
    uint64_t refused;
};

/* ---- SipHash-2-4 ------------------------------------------------------------------------------------ */

static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                                                       \
    do {                                                                                                               \
        v0 += v1, v1 = rotl(v1, 13), v1 ^= v0, v0 = rotl(v0, 32);                                                      \
        v2 += v3, v3 = rotl(v3, 16), v3 ^= v2;                                                                         \
        v0 += v3, v3 = rotl(v3, 21), v3 ^= v0;                                                                         \
        v2 += v1, v1 = rotl(v1, 17), v1 ^= v2, v2 = rotl(v2, 32);                                                      \
    } while (0)

uint64_t ovl_transport_map_siphash(const uint8_t key[OVL_TRANSPORT_MAP_HASH_KEY_LEN], const uint8_t *data, size_t len)
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t full = len & ~(size_t)7;
    uint64_t m;

    for (size_t i = 0; i < full; i += 8) {
        m = load_le64(data + i);
        v3 ^= m;
        SIPROUND(v0, v1, v2, v3);
        SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    m = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        m |= (uint64_t)data[full + i] << (8 * i);
    v3 ^= m;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= m;
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

static uint64_t hash_path(const ovl_transport_map_t *map, const ovl_addr_t *addr, uint64_t path_id)
{
    uint8_t k[1 + 2 + 16 + 8];
    k[0] = addr->family;
    k[1] = (uint8_t)(addr->port >> 8);
    k[2] = (uint8_t)addr->port;
    memcpy(k + 3, addr->ip, 16);
    for (unsigned i = 0; i < 8; i++)
        k[19 + i] = (uint8_t)(path_id >> (56 - 8 * i));
    return ovl_transport_map_siphash(map->key, k, sizeof(k));
}

static uint64_t hash_ufrag(const ovl_transport_map_t *map, const char *s, size_t len)
{
    return ovl_transport_map_siphash(map->key, (const uint8_t *)s, len);
}

/* ---- open addressing ------------------------------------------------------------------------------- */

static int table_init(table_t *tb, size_t max)
{
    size_t cap = 8;
    while (cap < 2 * max)
        cap *= 2;
    tb->slots = calloc(cap, sizeof(slot_t));
    if (tb->slots == NULL)
        return OVL_ERR_NOMEM;
    tb->mask = cap - 1;
    tb->max = max;
    tb->count = 0;
    return 0;
}

static bool ufrag_eq(const slot_t *s, uint64_t h, const char *u, size_t len)
{
    return s->hash == h && s->ufrag_len == len && memcmp(s->ufrag, u, len) == 0;
}

static bool path_eq(const slot_t *s, uint64_t h, const ovl_addr_t *addr, uint64_t path_id)
{
    return s->hash == h && s->path.path_id == path_id && ovl_addr_equal(&s->path.addr, addr);
}

/* Index of the slot holding the key, or of the empty slot ending its probe sequence. */
static size_t find_ufrag_slot(const table_t *tb, uint64_t h, const char *u, size_t len)
{
    size_t i = h & tb->mask;
    while (tb->slots[i].t != NULL && !ufrag_eq(&tb->slots[i], h, u, len))
        i = (i + 1) & tb->mask;
    return i;
}

static size_t find_path_slot(const table_t *tb, uint64_t h, const ovl_addr_t *addr, uint64_t path_id)
{
    size_t i = h & tb->mask;
    while (tb->slots[i].t != NULL && !path_eq(&tb->slots[i], h, addr, path_id))
        i = (i + 1) & tb->mask;
    return i;
}

/* Empties slot i and shifts back the entries after it that would no longer be found (Knuth 6.4,
 * Algorithm R): no tombstones, so probe sequences stay as short as the load allows. */
static void table_erase(table_t *tb, size_t i)
{
    size_t j = i;
    memset(&tb->slots[i], 0, sizeof(slot_t));
    tb->count--;
    for (;;) {
        j = (j + 1) & tb->mask;
        if (tb->slots[j].t == NULL)
            return;
        size_t home = tb->slots[j].hash & tb->mask;
        /* The entry at j may stay if its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (stays)
            continue;
        tb->slots[i] = tb->slots[j];
        memset(&tb->slots[j], 0, sizeof(slot_t));
        i = j;
    }
}

/* ---- public --------------------------------------------------------------------------------------- */

int ovl_transport_map_new(size_t max_transports, const uint8_t *hash_key, ovl_transport_map_t **out)
{
    ovl_transport_map_t *map = NULL;
    int ret;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || max_transports == 0 || max_transports > OVL_TRANSPORT_MAP_MAX) {
        ret = OVL_ERR_ARG;
        goto Exit;
    }
    if ((map = calloc(1, sizeof(*map))) == NULL) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    if (hash_key != NULL) {
        memcpy(map->key, hash_key, sizeof(map->key));
    } else if (RAND_bytes(map->key, sizeof(map->key)) != 1) {
        ret = OVL_ERR_CRYPTO;
        goto Exit;
    }
    map->max_transports = max_transports;
    if ((ret = table_init(&map->ufrags, 2 * max_transports)) < 0 ||
        (ret = table_init(&map->paths, OVL_TRANSPORT_MAX_PATHS * max_transports)) < 0)
        goto Exit;
    *out = map;
    map = NULL;

Exit:
    ovl_transport_map_free(map);
    return ret;
}

void ovl_transport_map_free(ovl_transport_map_t *map)
{
    if (map == NULL)
        return;
    free(map->ufrags.slots);
    free(map->paths.slots);
    OPENSSL_cleanse(map->key, sizeof(map->key));
    free(map);
}

ovl_transport_t *ovl_transport_map_find_ufrag(const ovl_transport_map_t *map, const char *ufrag, size_t len)
{
    if (map == NULL || (ufrag == NULL && len != 0))
        return NULL;
    uint64_t h = hash_ufrag(map, ufrag, len);
    return map->ufrags.slots[find_ufrag_slot(&map->ufrags, h, ufrag, len)].t;
}

ovl_transport_t *ovl_transport_map_find_path(const ovl_transport_map_t *map, const ovl_addr_t *addr, uint64_t path_id)
{
    if (map == NULL || addr == NULL)
        return NULL;
    uint64_t h = hash_path(map, addr, path_id);
    return map->paths.slots[find_path_slot(&map->paths, h, addr, path_id)].t;
}

int ovl_transport_map_dispatch(ovl_transport_map_t *map, uint64_t path_id, const ovl_addr_t *from, uint8_t *buf,
                               size_t len, ovl_time_t now, ovl_transport_t **found)
{
    ovl_transport_t *t;

    if (found != NULL)
        *found = NULL;
    if (map == NULL || from == NULL || (buf == NULL && len != 0))
        return OVL_ERR_ARG;
    if (ovl_demux_classify(buf, len) == OVL_DEMUX_STUN) {
        ovl_stun_msg_t msg;
        ovl_stun_text_t u;
        int r = ovl_stun_parse(buf, len, &msg);
        if ((r == 0 || r == OVL_ERR_UNSUPPORTED) && ovl_ice_username_local_ufrag(&msg, &u) == 0 &&
            (t = ovl_transport_map_find_ufrag(map, u.s, u.len)) != NULL) {
            if (found != NULL)
                *found = t;
            return ovl_transport_on_stun(t, &msg, path_id, from, now);
        }
        /* No USERNAME (an indication, an answer), or not one of ours: its source may still be known. */
    }
    if ((t = ovl_transport_map_find_path(map, from, path_id)) == NULL)
        return OVL_ERR_NOTFOUND;
    if (found != NULL)
        *found = t;
    return ovl_transport_on_datagram(t, path_id, from, buf, len, now);
}

void ovl_transport_map_stats(const ovl_transport_map_t *map, ovl_transport_map_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->transports = map->transports;
    out->ufrags = map->ufrags.count;
    out->paths = map->paths.count;
    out->refused = map->refused;
}

/* ---- registration (transport.c) -------------------------------------------------------------------- */

int ovl_transport_map_attach(ovl_transport_map_t *map)
{
    if (map->transports == map->max_transports) {
        map->refused++;
        return OVL_ERR_LIMIT;
    }
    map->transports++;
    return 0;
}

void ovl_transport_map_detach(ovl_transport_map_t *map)
{
    if (map->transports > 0)
        map->transports--;
}

int ovl_transport_map_add_ufrag(ovl_transport_map_t *map, ovl_transport_t *t, const char *ufrag, size_t len)
{
    uint64_t h = hash_ufrag(map, ufrag, len);
    size_t i = find_ufrag_slot(&map->ufrags, h, ufrag, len);
    slot_t *s = &map->ufrags.slots[i];
    if (s->t == t)
        return 0;
    if (s->t != NULL || map->ufrags.count == map->ufrags.max) {
        map->refused++;
        return s->t != NULL ? OVL_ERR_ARG : OVL_ERR_LIMIT;
    }
    s->t = t;
    s->hash = h;
    s->ufrag = ufrag;
    s->ufrag_len = len;
    map->ufrags.count++;
    return 0;
}

void ovl_transport_map_remove_ufrag(ovl_transport_map_t *map, const ovl_transport_t *t, const char *ufrag, size_t len)
{
    uint64_t h = hash_ufrag(map, ufrag, len);
    size_t i = find_ufrag_slot(&map->ufrags, h, ufrag, len);
    if (map->ufrags.slots[i].t != NULL && map->ufrags.slots[i].t == t)
        table_erase(&map->ufrags, i);
}

int ovl_transport_map_add_path(ovl_transport_map_t *map, ovl_transport_t *t, const ovl_ice_path_t *path)
{
    uint64_t h = hash_path(map, &path->addr, path->path_id);
    size_t i = find_path_slot(&map->paths, h, &path->addr, path->path_id);
    slot_t *s = &map->paths.slots[i];
    if (s->t != NULL) { /* the latest transport to validate a path owns it */
        s->t = t;
        return 0;
    }
    if (map->paths.count == map->paths.max) {
        map->refused++;
        return OVL_ERR_LIMIT;
    }
    s->t = t;
    s->hash = h;
    s->path = *path;
    map->paths.count++;
    return 0;
}

void ovl_transport_map_remove_path(ovl_transport_map_t *map, const ovl_transport_t *t, const ovl_ice_path_t *path)
{
    uint64_t h = hash_path(map, &path->addr, path->path_id);
    size_t i = find_path_slot(&map->paths, h, &path->addr, path->path_id);
    if (map->paths.slots[i].t != NULL && map->paths.slots[i].t == t)
        table_erase(&map->paths, i);
}
