/*
 * Video thinning on thin paths: the level controller, the sequence-number map and the VP8 frame
 * gate (thin.h). Pure functions of their inputs and `now`.
 */
#include <string.h>

#include "relay/proto/rtp.h"
#include "relay/route/thin.h"

/* ---- level controller ---- */

static ovl_thin_level_t floor_of(const ovl_thin_ctl_t *ctl)
{
    return ctl->path == OVL_THIN_PATH_UDP ? OVL_THIN_ALL : OVL_THIN_BASE;
}

void ovl_thin_ctl_init(ovl_thin_ctl_t *ctl)
{
    memset(ctl, 0, sizeof(*ctl));
}

void ovl_thin_ctl_set_path(ovl_thin_ctl_t *ctl, ovl_thin_path_t path)
{
    if (path != ctl->path)
        ctl->have_tcp = false; /* a new connection counts its drops from zero */
    ctl->path = path;
}

ovl_thin_level_t ovl_thin_ctl_level(const ovl_thin_ctl_t *ctl, ovl_time_t now)
{
    ovl_thin_level_t lo = floor_of(ctl);
    if (ctl->raised <= lo)
        return lo;
    uint64_t steps = now > ctl->trouble_at ? (now - ctl->trouble_at) / OVL_THIN_CALM : 0;
    if (steps >= (uint64_t)(ctl->raised - lo))
        return lo;
    return (ovl_thin_level_t)(ctl->raised - (int)steps);
}

/* Trouble asking for level `want`: raised at once; trouble at the current level holds it. */
static void trouble(ovl_thin_ctl_t *ctl, ovl_thin_level_t want, ovl_time_t now)
{
    ovl_thin_level_t cur = ovl_thin_ctl_level(ctl, now);
    if (want > OVL_THIN_PAUSED)
        want = OVL_THIN_PAUSED;
    if (want < cur || want <= floor_of(ctl))
        return;
    if (want > cur)
        ctl->raises++;
    ctl->raised = want;
    ctl->trouble_at = now;
}

void ovl_thin_ctl_loss(ovl_thin_ctl_t *ctl, uint8_t fraction_lost, ovl_time_t now)
{
    bool udp = ctl->path == OVL_THIN_PATH_UDP;
    if (fraction_lost >= OVL_THIN_LOSS_SLIDES)
        trouble(ctl, OVL_THIN_SLIDES, now);
    else if (fraction_lost >= (udp ? OVL_THIN_LOSS_BASE : OVL_THIN_TCP_LOSS_BASE))
        trouble(ctl, OVL_THIN_BASE, now);
}

void ovl_thin_ctl_tcp(ovl_thin_ctl_t *ctl, size_t queued_bytes, uint64_t video_drops, ovl_time_t now)
{
    bool more_drops = ctl->have_tcp && video_drops > ctl->tcp_drops;
    ctl->have_tcp = true;
    ctl->tcp_drops = video_drops;
    if (more_drops) /* the queue already cut frames out of the middle of the stream: one step more */
        trouble(ctl, (ovl_thin_level_t)(ovl_thin_ctl_level(ctl, now) + 1), now);
    if (queued_bytes >= OVL_THIN_TCP_BACKLOG_HI)
        trouble(ctl, OVL_THIN_SLIDES, now);
    else if (queued_bytes >= OVL_THIN_TCP_BACKLOG)
        trouble(ctl, OVL_THIN_BASE, now);
}

/* ---- sequence-number map ---- */

void ovl_thin_seq_reset(ovl_thin_seq_t *m, int64_t ext, uint16_t out)
{
    memset(m, 0, sizeof(*m));
    m->n = 1;
    m->seg[0].start = ext;
    m->seg[0].end = ext - 1;
    m->seg[0].off = (uint16_t)(out - (uint16_t)ext);
}

void ovl_thin_seq_rebase(ovl_thin_seq_t *m, int64_t ext)
{
    if (m->n == 0)
        return;
    uint16_t out = (uint16_t)((uint16_t)m->seg[0].end + m->seg[0].off + 1);
    if (m->seg[0].end < m->seg[0].start) { /* nothing sent in the newest segment: replace it */
        out = (uint16_t)((uint16_t)m->seg[0].start + m->seg[0].off);
    } else {
        memmove(&m->seg[1], &m->seg[0], (OVL_THIN_SEGMENTS - 1) * sizeof(m->seg[0]));
        if (m->n < OVL_THIN_SEGMENTS)
            m->n++;
    }
    m->seg[0].start = ext;
    m->seg[0].end = ext - 1;
    m->seg[0].off = (uint16_t)(out - (uint16_t)ext);
    m->gap = false;
}

void ovl_thin_seq_sent(ovl_thin_seq_t *m, int64_t ext)
{
    if (m->n && !m->gap && ext > m->seg[0].end)
        m->seg[0].end = ext;
}

bool ovl_thin_seq_out(const ovl_thin_seq_t *m, int64_t ext, uint16_t *out)
{
    for (size_t k = 0; k < m->n; k++) {
        if (ext < m->seg[k].start)
            continue;
        if ((k > 0 || m->gap) && ext > m->seg[k].end)
            return false; /* in a dropped stretch */
        *out = (uint16_t)((uint16_t)ext + m->seg[k].off);
        return true;
    }
    return false;
}

bool ovl_thin_seq_in(const ovl_thin_seq_t *m, uint16_t out, int64_t highest, int64_t *ext)
{
    for (size_t k = 0; k < m->n; k++) {
        uint16_t seq = (uint16_t)(out - m->seg[k].off);
        int64_t e = highest + (int16_t)(uint16_t)(seq - (uint16_t)highest);
        if (e >= m->seg[k].start && e <= m->seg[k].end) {
            *ext = e;
            return true;
        }
    }
    return false;
}

/* ---- frame gate ---- */

void ovl_thin_gate_init(ovl_thin_gate_t *g)
{
    memset(g, 0, sizeof(*g));
}

void ovl_thin_gate_restart(ovl_thin_gate_t *g)
{
    g->have_frame = false;
    g->need_sync = false;
    g->drop_hi = 0;
}

static bool ask(ovl_thin_gate_t *g, ovl_time_t every, ovl_time_t now)
{
    if (now < g->next_kf)
        return false;
    g->next_kf = now + every;
    return true;
}

/* The decision for a new frame (its first packet seen). */
static bool decide(ovl_thin_gate_t *g, ovl_thin_level_t level, bool by_receiver, const ovl_thin_pkt_t *pkt,
                   ovl_time_t now, ovl_thin_verdict_t *v)
{
    bool key = pkt->frame_start && pkt->keyframe;
    if (level >= OVL_THIN_PAUSED) {
        g->need_key = true;
        g->next_kf = 0; /* resuming asks at once */
        v->why = by_receiver ? OVL_THIN_R_RECEIVER : OVL_THIN_R_PAUSED;
        return false;
    }
    if (key) {
        g->need_key = g->need_sync = false;
        if (level == OVL_THIN_SLIDES)
            g->next_kf = now + OVL_THIN_SLIDE_EVERY;
        return true;
    }
    if (g->need_key || level == OVL_THIN_SLIDES) {
        v->why = g->need_key ? OVL_THIN_R_KEYFRAME : OVL_THIN_R_SLIDES;
        g->need_key = true;
        v->want_keyframe = ask(g, level == OVL_THIN_SLIDES ? OVL_THIN_SLIDE_EVERY : OVL_THIN_KF_EVERY, now);
        return false;
    }
    bool upper = pkt->has_tid && pkt->tid > 0;
    if (level == OVL_THIN_BASE && (upper || pkt->non_reference)) {
        g->need_sync = g->need_sync || upper;
        v->why = OVL_THIN_R_LAYER;
        return false;
    }
    if (upper && g->need_sync) { /* a TID > 0 frame may reference upper-layer frames that were dropped */
        if (!pkt->layer_sync) {
            v->why = OVL_THIN_R_LAYER;
            return false;
        }
        g->need_sync = false;
    }
    return true;
}

void ovl_thin_gate_packet(ovl_thin_gate_t *g, ovl_thin_seq_t *m, ovl_thin_level_t level, bool by_receiver,
                          const ovl_thin_pkt_t *pkt, ovl_time_t now, ovl_thin_verdict_t *v)
{
    uint16_t unused;
    memset(v, 0, sizeof(*v));
    if (!g->have_frame || ovl_rtp_ts_diff(pkt->ts, g->frame_ts) > 0) {
        g->have_frame = true;
        g->frame_ts = pkt->ts;
        g->level = level;
        g->frame_fwd = decide(g, level, by_receiver, pkt, now, v);
        v->new_frame = true;
        v->frame_dropped = !g->frame_fwd;
        g->frame_why = v->why;
    } else if (pkt->ts != g->frame_ts) {
        /* A late packet of an older frame: it goes only where its frame went (a mapped number), and
         * nothing goes to a paused receiver. */
        v->forward = level < OVL_THIN_PAUSED && ovl_thin_seq_out(m, pkt->ext_seq, &unused);
        if (!v->forward)
            v->why = OVL_THIN_R_KEYFRAME;
        return;
    }
    if (!g->frame_fwd) {
        v->why = g->frame_why;
        if (pkt->ext_seq > g->drop_hi)
            g->drop_hi = pkt->ext_seq;
        if (m->n && m->seg[0].end >= m->seg[0].start)
            m->gap = true;
        if (v->frame_dropped)
            g->dropped[v->why]++;
        return;
    }
    v->forward = true;
    if (m->gap) {
        /* The first packet forwarded after dropped frames continues the numbering. When it does not
         * start its frame, earlier packets of the frame were lost upstream: they keep their gap. */
        int64_t from = pkt->ext_seq;
        if (!pkt->frame_start && g->drop_hi + 1 < from && g->drop_hi >= m->seg[0].end)
            from = g->drop_hi + 1;
        ovl_thin_seq_rebase(m, from);
    }
    ovl_thin_seq_sent(m, pkt->ext_seq);
}

const char *ovl_thin_level_name(ovl_thin_level_t level)
{
    static const char *const names[] = {"all", "base", "slides", "paused"};
    return (unsigned)level < OVL_THIN_LEVELS ? names[level] : "?";
}

const char *ovl_thin_reason_name(ovl_thin_reason_t why)
{
    static const char *const names[] = {"layer", "slides", "paused", "receiver", "keyframe"};
    return (unsigned)why < OVL_THIN_REASONS ? names[why] : "?";
}
