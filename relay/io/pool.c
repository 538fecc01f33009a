/* Fixed-size packet buffers with reference counts, one pool per worker thread (see pool.h). */
#include "relay/io/pool.h"

#include <assert.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define OVL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OVL_ASAN 1
#endif
#endif

#ifdef OVL_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

struct ovl_pool {
    ovl_pkt_t *pkts; /* owned: `capacity` packets in one aligned block */
    ovl_pkt_t *free; /* free list through ovl_pkt_t.next */
    size_t capacity, in_use, high_water;
    uint64_t exhausted;
};

int ovl_pool_new(ovl_pool_t **out, size_t count)
{
    int ret = 0;
    ovl_pool_t *pool = NULL;

    *out = NULL;
    if (count == 0 || count > SIZE_MAX / sizeof(ovl_pkt_t))
        return OVL_ERR_ARG;
    if (!(pool = calloc(1, sizeof(*pool)))) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    if (!(pool->pkts = aligned_alloc(_Alignof(ovl_pkt_t), count * sizeof(ovl_pkt_t)))) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    pool->capacity = count;
    /* Build the free list so that packets are handed out in address order. */
    for (size_t i = count; i-- > 0;) {
        ovl_pkt_t *pkt = &pool->pkts[i];
        *pkt = (ovl_pkt_t){.pool = pool, .next = pool->free};
        POISON(pkt->buf, sizeof(pkt->buf));
        pool->free = pkt;
    }
    *out = pool;
    pool = NULL;
Exit:
    ovl_pool_free(pool);
    return ret;
}

void ovl_pool_free(ovl_pool_t *pool)
{
    if (!pool)
        return;
    if (pool->pkts) {
        UNPOISON(pool->pkts, pool->capacity * sizeof(ovl_pkt_t));
        free(pool->pkts);
    }
    free(pool);
}

ovl_pkt_t *ovl_pool_get(ovl_pool_t *pool)
{
    ovl_pkt_t *pkt = pool->free;
    if (!pkt) {
        pool->exhausted++;
        return NULL;
    }
    pool->free = pkt->next;
    pkt->next = NULL;
    pkt->refs = 1;
    UNPOISON(pkt->buf, sizeof(pkt->buf));
    pkt->data = pkt->buf + OVL_POOL_HEADROOM;
    pkt->len = 0;
    if (++pool->in_use > pool->high_water)
        pool->high_water = pool->in_use;
    return pkt;
}

void ovl_pool_stats(const ovl_pool_t *pool, ovl_pool_stats_t *out)
{
    *out = (ovl_pool_stats_t){
        .capacity = pool->capacity,
        .in_use = pool->in_use,
        .high_water = pool->high_water,
        .exhausted = pool->exhausted,
    };
}

ovl_pkt_t *ovl_pkt_ref(ovl_pkt_t *pkt)
{
    assert(pkt->refs > 0 && "ovl_pkt_ref on a packet already returned to its pool");
    pkt->refs++;
    return pkt;
}

void ovl_pkt_unref(ovl_pkt_t *pkt)
{
    assert(pkt->refs > 0 && "ovl_pkt_unref on a packet already returned to its pool");
    if (pkt->refs == 0 || --pkt->refs > 0)
        return; /* refs == 0: a double unref in a build without assertions; keep the list sane */
    ovl_pool_t *pool = pkt->pool;
    pkt->data = NULL;
    pkt->len = 0;
    POISON(pkt->buf, sizeof(pkt->buf));
    pkt->next = pool->free;
    pool->free = pkt;
    pool->in_use--;
}

uint32_t ovl_pkt_refs(const ovl_pkt_t *pkt)
{
    return pkt->refs;
}

size_t ovl_pkt_headroom(const ovl_pkt_t *pkt)
{
    return (size_t)(pkt->data - pkt->buf);
}

size_t ovl_pkt_tailroom(const ovl_pkt_t *pkt)
{
    return sizeof(pkt->buf) - ovl_pkt_headroom(pkt) - pkt->len;
}

int ovl_pkt_push(ovl_pkt_t *pkt, size_t n)
{
    if (n > ovl_pkt_headroom(pkt))
        return OVL_ERR_LIMIT;
    pkt->data -= n;
    pkt->len += n;
    return 0;
}

int ovl_pkt_pull(ovl_pkt_t *pkt, size_t n)
{
    if (n > pkt->len)
        return OVL_ERR_LIMIT;
    pkt->data += n;
    pkt->len -= n;
    return 0;
}

int ovl_pkt_put(ovl_pkt_t *pkt, size_t n)
{
    if (n > ovl_pkt_tailroom(pkt))
        return OVL_ERR_LIMIT;
    pkt->len += n;
    return 0;
}
