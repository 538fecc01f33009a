/*
 * Transport-wide cc arrival recorder and feedback. See twcc.h.
 */
#include <string.h>

#include "relay/proto/rtcp.h"
#include "relay/route/twcc.h"

#define MASK (OVL_ROUTE_TWCC_WINDOW - 1)

void ovl_route_twcc_init(ovl_route_twcc_t *t)
{
    memset(t, 0, sizeof(*t));
    ovl_rtp_unwrap_init(&t->unwrap);
}

static void forget(ovl_route_twcc_t *t, int64_t upto)
{
    for (; t->next < upto; t->next++)
        t->got[t->next & MASK] = 0;
}

void ovl_route_twcc_record(ovl_route_twcc_t *t, uint16_t seq, ovl_time_t now)
{
    int64_t x = ovl_rtp_unwrap_seq(&t->unwrap, seq);
    if (!t->started) {
        t->started = true;
        t->next = x;
        t->highest = x;
    }
    if (x < t->next) {
        t->late++;
        return;
    }
    if (x - t->next >= OVL_ROUTE_TWCC_WINDOW) /* the window is full: what falls out was never reported */
        forget(t, x - OVL_ROUTE_TWCC_WINDOW + 1);
    t->arrival[x & MASK] = now;
    t->got[x & MASK] = 1;
    if (x > t->highest)
        t->highest = x;
    t->recorded++;
}

bool ovl_route_twcc_pending(const ovl_route_twcc_t *t)
{
    return t->started && t->highest >= t->next;
}

int ovl_route_twcc_build(ovl_route_twcc_t *t, ovl_wbuf_t *b, uint32_t sender, uint32_t media)
{
    ovl_rtcp_twcc_arrival_t pkts[OVL_ROUTE_TWCC_MAX_FB];
    bool wrote = false;
    while (ovl_route_twcc_pending(t)) {
        size_t n = 0, used = 0;
        int64_t last = t->next;
        /* The base sequence number goes first, received or not; then every received packet. */
        for (int64_t x = t->next; x <= t->highest && n < OVL_ROUTE_TWCC_MAX_FB; x++) {
            bool got = t->got[x & MASK] != 0;
            if (!got && x != t->next)
                continue;
            pkts[n].seq = (uint16_t)x;
            pkts[n].received = got;
            pkts[n].arrival_us = got ? t->arrival[x & MASK] : 0;
            n++;
            last = x;
        }
        int ret = ovl_rtcp_build_twcc(b, sender, media, t->fb_count, pkts, n, &used);
        if (ret != 0)
            return wrote ? 0 : ret;
        wrote = true;
        t->fb_count++;
        /* Everything up to the last entry that went in has been described. */
        if (used < n)
            last = (int64_t)(t->next + (uint16_t)(pkts[used - 1].seq - (uint16_t)t->next));
        forget(t, last + 1);
    }
    return 0;
}
