/* SPSC ring with eventfd wakeups (see spsc.h). */
#include "relay/io/spsc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define CACHE_LINE 64

struct ovl_spsc {
    /* consumer's line */
    _Alignas(CACHE_LINE) atomic_size_t head; /* next message to take */
    size_t tail_cache;                       /* consumer's last view of tail */
    uint64_t pops, kicks;
    /* producer's line */
    _Alignas(CACHE_LINE) atomic_size_t tail; /* next free slot */
    size_t head_cache;                       /* producer's last view of head */
    uint64_t pushes, full, signals;
    /* written by both: 1 while the consumer may be asleep */
    _Alignas(CACHE_LINE) atomic_int waiting;
    /* read-only after creation */
    _Alignas(CACHE_LINE) size_t mask, msg_size, stride;
    uint8_t *slots; /* owned */
    int efd;        /* owned eventfd */
};

static uint8_t *slot(const ovl_spsc_t *q, size_t i)
{
    return q->slots + (i & q->mask) * q->stride;
}

static void signal_fd(int efd)
{
    uint64_t one = 1;
    /* EAGAIN: the counter is already non-zero, the consumer will wake anyway. */
    ssize_t n = write(efd, &one, sizeof(one));
    (void)n;
}

int ovl_spsc_new(ovl_spsc_t **out, size_t capacity, size_t msg_size)
{
    int ret = 0;
    ovl_spsc_t *q = NULL;

    *out = NULL;
    if (capacity < 2 || (capacity & (capacity - 1)) || msg_size == 0 || msg_size > SIZE_MAX / 2 / capacity)
        return OVL_ERR_ARG;
    if (!(q = aligned_alloc(CACHE_LINE, sizeof(*q))))
        return OVL_ERR_NOMEM;
    memset(q, 0, sizeof(*q));
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    atomic_init(&q->waiting, 1); /* the consumer has not looked yet: the first push signals */
    q->efd = -1;
    q->mask = capacity - 1;
    q->msg_size = msg_size;
    q->stride = (msg_size + 7u) & ~(size_t)7u;
    if (!(q->slots = aligned_alloc(CACHE_LINE, (capacity * q->stride + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE))) {
        ret = OVL_ERR_NOMEM;
        goto Exit;
    }
    if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        ret = OVL_ERR_IO;
        goto Exit;
    }
    *out = q;
    q = NULL;
Exit:
    ovl_spsc_free(q, NULL, NULL);
    return ret;
}

void ovl_spsc_free(ovl_spsc_t *q, ovl_spsc_msg_cb dispose, void *ctx)
{
    if (!q)
        return;
    if (dispose && q->slots) {
        size_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
        for (size_t i = atomic_load_explicit(&q->head, memory_order_relaxed); i != tail; i++)
            dispose(slot(q, i), ctx);
    }
    if (q->efd >= 0)
        close(q->efd);
    free(q->slots);
    free(q);
}

int ovl_spsc_push(ovl_spsc_t *q, const void *msg)
{
    size_t tail = atomic_load_explicit(&q->tail, memory_order_relaxed);
    if (tail - q->head_cache > q->mask) {
        q->head_cache = atomic_load_explicit(&q->head, memory_order_acquire);
        if (tail - q->head_cache > q->mask) {
            q->full++;
            return OVL_ERR_AGAIN;
        }
    }
    memcpy(slot(q, tail), msg, q->msg_size);
    atomic_store_explicit(&q->tail, tail + 1, memory_order_release);
    q->pushes++;
    /* Publish tail before reading `waiting`; pairs with the fence in ovl_spsc_prepare_wait. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&q->waiting, memory_order_relaxed) &&
        atomic_exchange_explicit(&q->waiting, 0, memory_order_relaxed)) {
        q->signals++;
        signal_fd(q->efd);
    }
    return 0;
}

/* Consumer: the oldest message in place, or NULL if the ring is empty. */
static void *peek(ovl_spsc_t *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    if (head == q->tail_cache) {
        q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
        if (head == q->tail_cache)
            return NULL;
    }
    return slot(q, head);
}

static void advance(ovl_spsc_t *q)
{
    size_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head, head + 1, memory_order_release);
    q->pops++;
}

int ovl_spsc_pop(ovl_spsc_t *q, void *msg)
{
    void *m = peek(q);
    if (!m)
        return OVL_ERR_AGAIN;
    memcpy(msg, m, q->msg_size);
    advance(q);
    return 0;
}

bool ovl_spsc_prepare_wait(ovl_spsc_t *q)
{
    atomic_store_explicit(&q->waiting, 1, memory_order_relaxed);
    /* Announce before looking at tail; pairs with the fence in ovl_spsc_push. */
    atomic_thread_fence(memory_order_seq_cst);
    q->tail_cache = atomic_load_explicit(&q->tail, memory_order_acquire);
    return atomic_load_explicit(&q->head, memory_order_relaxed) == q->tail_cache;
}

size_t ovl_spsc_consume(ovl_spsc_t *q, size_t budget, ovl_spsc_msg_cb fn, void *ctx)
{
    uint64_t count;
    /* Reset first: a signal after this read leaves the eventfd readable for the next turn. */
    ssize_t r = read(q->efd, &count, sizeof(count));
    (void)r;
    size_t n = 0;
    while (n < budget) {
        void *m = peek(q);
        if (!m) {
            if (ovl_spsc_prepare_wait(q))
                return n;
            continue;
        }
        fn(m, ctx);
        advance(q);
        n++;
    }
    /* Budget spent: the producer may not signal (we never said we would sleep), so do it. */
    q->kicks++;
    signal_fd(q->efd);
    return n;
}

int ovl_spsc_fd(const ovl_spsc_t *q)
{
    return q->efd;
}

void ovl_spsc_stats(const ovl_spsc_t *q, ovl_spsc_stats_t *out)
{
    *out = (ovl_spsc_stats_t){
        .pushes = q->pushes,
        .full = q->full,
        .signals = q->signals,
        .pops = q->pops,
        .kicks = q->kicks,
    };
}
