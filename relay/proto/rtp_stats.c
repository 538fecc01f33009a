/* RTP receive statistics: RFC 3550 App. A.1 (sequence), A.3 (loss), A.8 (jitter). */
#include "relay/proto/rtp_stats.h"

#include <string.h>

#define SEQ_MOD (1u << 16)

void ovl_rtp_stats_init(ovl_rtp_stats_t *s, uint32_t clock_rate)
{
    memset(s, 0, sizeof(*s));
    s->clock_rate = clock_rate;
}

/* A.1 init_seq: (re)start counting at `seq`. */
static void init_seq(ovl_rtp_stats_t *s, uint16_t seq)
{
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = SEQ_MOD + 1; /* so seq == bad_seq is false */
    s->cycles = 0;
    s->received = 0;
    s->received_prior = 0;
    s->expected_prior = 0;
    s->have_transit = false;
}

/*
 * A.8: transit = arrival - timestamp, both in timestamp units; d = |transit - previous transit|;
 * J += (d - J) / 16, kept as 16 * J in integers ("jitter += d - ((jitter + 8) >> 4)").
 */
static void update_jitter(ovl_rtp_stats_t *s, uint32_t rtp_ts, ovl_time_t arrival)
{
    int64_t since = (int64_t)(arrival - s->first_arrival);
    uint32_t arrival_ts = (uint32_t)(since * (int64_t)s->clock_rate / 1000000);
    int64_t transit = (int32_t)(arrival_ts - rtp_ts);
    if (s->have_transit && rtp_ts != s->last_ts) {
        int64_t d = transit - s->transit;
        if (d < 0)
            d = -d;
        s->jitter16 = s->jitter16 + (uint64_t)d - ((s->jitter16 + 8) >> 4);
    }
    if (!s->have_transit || rtp_ts != s->last_ts) {
        s->transit = transit;
        s->last_ts = rtp_ts;
        s->have_transit = true;
    }
}

int ovl_rtp_stats_update(ovl_rtp_stats_t *s, uint16_t seq, uint32_t rtp_ts, ovl_time_t arrival)
{
    bool in_order = false;
    if (!s->started) {
        s->started = true;
        s->first_arrival = arrival;
        init_seq(s, seq);
        s->received = 1;
        update_jitter(s, rtp_ts, arrival);
        return 0;
    }
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    if (udelta < OVL_RTP_STATS_MAX_DROPOUT) {
        /* in order, with a permissible gap */
        if (seq < s->max_seq)
            s->cycles += SEQ_MOD;
        s->max_seq = seq;
        in_order = udelta > 0;
    } else if (udelta <= SEQ_MOD - OVL_RTP_STATS_MAX_MISORDER) {
        /* the sequence number made a very large jump */
        if (seq != s->bad_seq) {
            s->bad_seq = (seq + 1u) & (SEQ_MOD - 1);
            return OVL_ERR_AGAIN;
        }
        /* two sequential packets: the sender restarted without telling us; re-sync */
        init_seq(s, seq);
        in_order = true;
    }
    /* else: duplicate or reordered packet */
    s->received++;
    if (in_order)
        update_jitter(s, rtp_ts, arrival);
    return 0;
}

uint32_t ovl_rtp_stats_ext_max(const ovl_rtp_stats_t *s)
{
    return (uint32_t)(s->cycles + s->max_seq);
}

uint64_t ovl_rtp_stats_expected(const ovl_rtp_stats_t *s)
{
    if (!s->started)
        return 0;
    return s->cycles + s->max_seq - s->base_seq + 1;
}

int64_t ovl_rtp_stats_lost(const ovl_rtp_stats_t *s)
{
    return (int64_t)ovl_rtp_stats_expected(s) - (int64_t)s->received;
}

uint32_t ovl_rtp_stats_jitter(const ovl_rtp_stats_t *s)
{
    uint64_t j = s->jitter16 >> 4;
    return j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
}

/* A.3: fraction = (expected_interval - received_interval) * 256 / expected_interval, or 0. */
void ovl_rtp_stats_fill_report(ovl_rtp_stats_t *s, ovl_rtcp_rb_t *rb)
{
    uint64_t expected = ovl_rtp_stats_expected(s);
    int64_t expected_interval = (int64_t)(expected - s->expected_prior);
    int64_t received_interval = (int64_t)(s->received - s->received_prior);
    int64_t lost_interval = expected_interval - received_interval;
    int64_t lost = ovl_rtp_stats_lost(s);

    s->expected_prior = expected;
    s->received_prior = s->received;
    int64_t fraction = (expected_interval == 0 || lost_interval <= 0) ? 0 : (lost_interval << 8) / expected_interval;
    rb->fraction_lost = fraction > 255 ? 255 : (uint8_t)fraction;
    rb->cumulative_lost = lost > 0x7fffff ? 0x7fffff : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    rb->highest_seq = ovl_rtp_stats_ext_max(s);
    rb->jitter = ovl_rtp_stats_jitter(s);
}
