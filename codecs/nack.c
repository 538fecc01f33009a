/* Receiver-side NACK generation (RFC 4585 §6.2.1). See nack.h. */
#include "codecs/nack.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    int64_t seq;      /* extended sequence number */
    ovl_time_t since; /* found missing */
    ovl_time_t next;  /* next request due */
    unsigned sent;    /* requests so far */
} entry_t;

struct ovl_nack {
    ovl_nack_cfg_t cfg;
    entry_t *list; /* owned: cfg.capacity entries, ascending by seq, [0, len) used */
    size_t len;
    ovl_rtp_unwrap_t unwrap;
    int64_t highest;
    bool started;
    ovl_nack_stats_t stats;
};

int ovl_nack_new(const ovl_nack_cfg_t *cfg, ovl_nack_t **out)
{
    ovl_nack_t *n = NULL;
    int ret = OVL_ERR_NOMEM;
    *out = NULL;
    if ((n = calloc(1, sizeof(*n))) == NULL)
        goto Exit;
    if (cfg)
        n->cfg = *cfg;
    if (!n->cfg.retry)
        n->cfg.retry = OVL_MS(30);
    if (!n->cfg.max_retries)
        n->cfg.max_retries = 10;
    if (!n->cfg.max_age)
        n->cfg.max_age = OVL_SEC(1);
    if (!n->cfg.capacity)
        n->cfg.capacity = 256;
    ret = OVL_ERR_ARG;
    if (n->cfg.capacity > 4096)
        goto Exit;
    ret = OVL_ERR_NOMEM;
    if ((n->list = calloc(n->cfg.capacity, sizeof(*n->list))) == NULL)
        goto Exit;
    ovl_rtp_unwrap_init(&n->unwrap);
    *out = n;
    n = NULL;
    ret = 0;
Exit:
    ovl_nack_free(n);
    return ret;
}

void ovl_nack_free(ovl_nack_t *n)
{
    if (!n)
        return;
    free(n->list);
    free(n);
}

static void remove_at(ovl_nack_t *n, size_t i)
{
    memmove(&n->list[i], &n->list[i + 1], (n->len - i - 1) * sizeof(*n->list));
    n->len--;
}

void ovl_nack_on_packet(ovl_nack_t *n, uint16_t seq, ovl_time_t now, ovl_nack_result_t *res)
{
    ovl_nack_result_t r = {0};
    int64_t ext = ovl_rtp_unwrap_seq(&n->unwrap, seq);
    if (!n->started) {
        n->started = true;
        n->highest = ext;
    } else if (ext > n->highest) {
        int64_t gap = ext - n->highest - 1;
        if (gap > 0 && (size_t)gap > n->cfg.capacity - n->len) {
            /* Too many to ask for one by one: the receiver needs a key frame rather than retransmissions. */
            r.overflow = true;
            n->stats.overflows++;
            n->stats.missing += (uint64_t)gap;
            n->stats.lost += (uint64_t)gap;
        } else {
            for (int64_t s = n->highest + 1; s < ext; s++)
                n->list[n->len++] = (entry_t){.seq = s, .since = now, .next = now};
            r.added = (size_t)gap;
            n->stats.missing += (uint64_t)gap;
        }
        n->highest = ext;
    } else {
        r.late = true;
        for (size_t i = 0; i < n->len; i++)
            if (n->list[i].seq == ext) {
                remove_at(n, i);
                r.recovered = true;
                r.late = false;
                n->stats.recovered++;
                break;
            }
        if (r.late)
            n->stats.late++;
    }
    if (res)
        *res = r;
}

void ovl_nack_poll(ovl_nack_t *n, ovl_time_t now, uint16_t *nack, size_t nack_cap, size_t *n_nack, uint16_t *lost,
                   size_t lost_cap, size_t *n_lost)
{
    *n_nack = 0;
    *n_lost = 0;
    for (size_t i = 0; i < n->len;) {
        entry_t *e = &n->list[i];
        /* Given up after the last request has had its `retry` to be answered, or once too old. */
        bool expired = (e->sent >= n->cfg.max_retries && e->next <= now) || now >= e->since + n->cfg.max_age;
        if (expired) {
            if (*n_lost == lost_cap) {
                i++;
                continue;
            }
            lost[(*n_lost)++] = (uint16_t)e->seq;
            n->stats.lost++;
            remove_at(n, i);
            continue;
        }
        if (e->next <= now && *n_nack < nack_cap) {
            nack[(*n_nack)++] = (uint16_t)e->seq;
            e->sent++;
            e->next = now + n->cfg.retry;
            n->stats.requests++;
        }
        i++;
    }
}

void ovl_nack_reset(ovl_nack_t *n)
{
    n->len = 0;
    n->started = false;
    ovl_rtp_unwrap_init(&n->unwrap);
}

ovl_time_t ovl_nack_next_timeout(const ovl_nack_t *n)
{
    ovl_time_t t = OVL_TIME_NEVER;
    for (size_t i = 0; i < n->len; i++) {
        const entry_t *e = &n->list[i];
        ovl_time_t due = e->next;
        /* The last request waits its `retry` too before the number is given up; age may cut that short. */
        if (e->since + n->cfg.max_age < due)
            due = e->since + n->cfg.max_age;
        if (due < t)
            t = due;
    }
    return t;
}

size_t ovl_nack_pending(const ovl_nack_t *n)
{
    return n->len;
}

void ovl_nack_stats(const ovl_nack_t *n, ovl_nack_stats_t *out)
{
    *out = n->stats;
}
