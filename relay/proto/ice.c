/* ICE lite agent (RFC 8445 §2.5, §6.1.1, §7.3) with consent freshness (RFC 7675). Client: ice_client.c. */
#include "relay/proto/ice.h"

#include <string.h>

#include <openssl/crypto.h>

static int copy_text(char *dst, size_t *dst_len, size_t max, const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n > max)
        return OVL_ERR_ARG;
    memcpy(dst, s != NULL ? s : "", n);
    dst[n] = '\0';
    *dst_len = n;
    return 0;
}

int ovl_ice_ufrag_set(ovl_ice_ufrag_t *u, const char *s)
{
    return copy_text(u->s, &u->len, OVL_ICE_UFRAG_MAX, s);
}

int ovl_ice_pwd_set(ovl_ice_pwd_t *p, const char *s)
{
    return copy_text(p->s, &p->len, OVL_ICE_PWD_MAX, s);
}

void ovl_ice_lite_config_default(ovl_ice_lite_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->consent_timeout = OVL_SEC(30);
    cfg->connect_timeout = OVL_SEC(30);
    cfg->software = NULL;
}

const char *ovl_ice_event_name(ovl_ice_event_type_t type)
{
    switch (type) {
    case OVL_ICE_EVENT_NONE:
        return "none";
    case OVL_ICE_EVENT_SELECTED:
        return "selected";
    case OVL_ICE_EVENT_CONSENT_LOST:
        return "consent-lost";
    case OVL_ICE_EVENT_CONNECT_TIMEOUT:
        return "connect-timeout";
    case OVL_ICE_EVENT_FAILED:
        return "failed";
    }
    return "unknown";
}

int ovl_ice_lite_init(ovl_ice_lite_t *agent, const ovl_ice_lite_config_t *cfg, const char *local_ufrag,
                      const char *local_pwd, ovl_time_t now)
{
    memset(agent, 0, sizeof(*agent));
    if (cfg != NULL)
        agent->cfg = *cfg;
    else
        ovl_ice_lite_config_default(&agent->cfg);
    if (ovl_ice_ufrag_set(&agent->local_ufrag, local_ufrag) < 0 || agent->local_ufrag.len == 0 ||
        ovl_ice_pwd_set(&agent->local_pwd, local_pwd) < 0 || agent->local_pwd.len == 0) {
        ovl_ice_lite_dispose(agent);
        return OVL_ERR_ARG;
    }
    agent->state = OVL_ICE_CHECKING;
    agent->connect_deadline = now + agent->cfg.connect_timeout;
    return 0;
}

void ovl_ice_lite_dispose(ovl_ice_lite_t *agent)
{
    OPENSSL_cleanse(agent, sizeof(*agent));
}

int ovl_ice_lite_set_remote(ovl_ice_lite_t *agent, const char *remote_ufrag)
{
    return ovl_ice_ufrag_set(&agent->remote_ufrag, remote_ufrag);
}

static void forget_old_generation(ovl_ice_lite_t *agent)
{
    agent->old_valid = false;
    OPENSSL_cleanse(&agent->old_local_ufrag, sizeof(agent->old_local_ufrag));
    OPENSSL_cleanse(&agent->old_local_pwd, sizeof(agent->old_local_pwd));
    OPENSSL_cleanse(&agent->old_remote_ufrag, sizeof(agent->old_remote_ufrag));
    for (size_t i = 0; i < OVL_ICE_LITE_MAX_PAIRS; i++)
        if (agent->pairs[i].used && agent->pairs[i].generation != agent->generation)
            memset(&agent->pairs[i], 0, sizeof(agent->pairs[i]));
}

int ovl_ice_lite_restart(ovl_ice_lite_t *agent, const char *local_ufrag, const char *local_pwd,
                         const char *remote_ufrag, ovl_time_t now)
{
    ovl_ice_ufrag_t lu, ru;
    ovl_ice_pwd_t lp;
    int ret = OVL_ERR_ARG;

    if (ovl_ice_ufrag_set(&lu, local_ufrag) < 0 || lu.len == 0 || ovl_ice_pwd_set(&lp, local_pwd) < 0 || lp.len == 0 ||
        ovl_ice_ufrag_set(&ru, remote_ufrag) < 0)
        goto Exit;
    if (!agent->old_valid) { /* a second restart before the first completed keeps the credentials in use */
        agent->old_local_ufrag = agent->local_ufrag;
        agent->old_local_pwd = agent->local_pwd;
        agent->old_remote_ufrag = agent->remote_ufrag;
    }
    agent->local_ufrag = lu;
    agent->local_pwd = lp;
    agent->remote_ufrag = ru;
    agent->generation++;
    agent->old_valid = agent->has_selected;
    if (!agent->has_selected) {
        forget_old_generation(agent);
        agent->state = OVL_ICE_CHECKING;
        agent->connect_deadline = now + agent->cfg.connect_timeout;
    }
    ret = 0;

Exit:
    OPENSSL_cleanse(&lp, sizeof(lp));
    return ret;
}

static bool path_equal(const ovl_ice_path_t *p, const ovl_addr_t *addr, uint64_t path_id)
{
    return p->path_id == path_id && ovl_addr_equal(&p->addr, addr);
}

static ovl_ice_lite_pair_t *find_pair(const ovl_ice_lite_t *agent, const ovl_addr_t *addr, uint64_t path_id)
{
    for (size_t i = 0; i < OVL_ICE_LITE_MAX_PAIRS; i++) {
        const ovl_ice_lite_pair_t *p = &agent->pairs[i];
        if (p->used && path_equal(&p->path, addr, path_id))
            return (ovl_ice_lite_pair_t *)p;
    }
    return NULL;
}

/* Remembers a validated pair; when the table is full the least recently checked one that is not
 * selected makes room. */
static void remember_pair(ovl_ice_lite_t *agent, const ovl_addr_t *addr, uint64_t path_id, uint32_t generation,
                          ovl_time_t now)
{
    ovl_ice_lite_pair_t *p = find_pair(agent, addr, path_id), *victim = NULL;
    if (p == NULL) {
        for (size_t i = 0; i < OVL_ICE_LITE_MAX_PAIRS; i++) {
            ovl_ice_lite_pair_t *q = &agent->pairs[i];
            if (!q->used) {
                victim = q;
                break;
            }
            if (agent->has_selected && path_equal(&agent->selected, &q->path.addr, q->path.path_id))
                continue;
            if (victim == NULL || q->last_check < victim->last_check)
                victim = q;
        }
        p = victim;
        p->used = true;
        p->path.addr = *addr;
        p->path.path_id = path_id;
    }
    p->last_check = now;
    p->generation = generation;
}

/* RFC 8445 §7.2.2: USERNAME is "<our ufrag>:<their ufrag>"; their part is free until we know it. */
static bool username_matches(const ovl_stun_text_t *u, const ovl_ice_ufrag_t *local, const ovl_ice_ufrag_t *remote)
{
    if (u->len < local->len + 1 || memcmp(u->s, local->s, local->len) != 0 || u->s[local->len] != ':')
        return false;
    if (remote->len == 0)
        return true;
    return u->len == local->len + 1 + remote->len && memcmp(u->s + local->len + 1, remote->s, remote->len) == 0;
}

/* Error answer (RFC 8489 §6.3.1.1); MESSAGE-INTEGRITY only when the request authenticated. */
static int answer_error(const ovl_stun_msg_t *req, ovl_wbuf_t *out, uint16_t code, const char *reason,
                        const ovl_ice_pwd_t *key, const ovl_stun_msg_t *unknown_from)
{
    ovl_stun_builder_t b;
    ovl_stun_build_start(&b, out, OVL_STUN_ERROR, OVL_STUN_BINDING, req->txid);
    ovl_stun_add_error_code(&b, code, reason);
    if (unknown_from != NULL)
        ovl_stun_add_unknown_attributes(&b, unknown_from->unknown, unknown_from->unknown_count);
    return ovl_stun_build_finish(&b, key ? (const uint8_t *)key->s : NULL, key ? key->len : 0);
}

static int answer_success(const ovl_ice_lite_t *agent, const ovl_stun_msg_t *req, const ovl_addr_t *from,
                          const ovl_ice_pwd_t *key, ovl_wbuf_t *out)
{
    ovl_stun_builder_t b;
    ovl_stun_build_start(&b, out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, req->txid);
    ovl_stun_add_xor_mapped_address(&b, from);
    if (agent->cfg.software != NULL)
        ovl_stun_add_software(&b, agent->cfg.software);
    return ovl_stun_build_finish(&b, (const uint8_t *)key->s, key->len);
}

/* A valid check from (from, path_id): remember it, follow a nomination, refresh consent. */
static void accept_check(ovl_ice_lite_t *agent, const ovl_stun_msg_t *req, bool current_generation,
                         const ovl_addr_t *from, uint64_t path_id, ovl_time_t now, ovl_ice_event_t *ev)
{
    remember_pair(agent, from, path_id, current_generation ? agent->generation : agent->generation - 1u, now);
    /* RFC 8445 §7.3.2, §8.1.1: the controlling side nominates with USE-CANDIDATE. A lite agent
     * follows the latest nomination (so a browser that renominates after a network change is
     * followed). Checks still using pre-restart credentials cannot nominate. */
    if ((req->has & OVL_STUN_HAS_USE_CANDIDATE) && current_generation) {
        bool changed = !agent->has_selected || !path_equal(&agent->selected, from, path_id);
        agent->has_selected = true;
        agent->selected.addr = *from;
        agent->selected.path_id = path_id;
        agent->state = OVL_ICE_CONNECTED;
        agent->consent_at = now;
        if (agent->old_valid)
            forget_old_generation(agent);
        if (changed) {
            ev->type = OVL_ICE_EVENT_SELECTED;
            ev->path = agent->selected;
        }
    }
    /* RFC 7675 §5.1: each valid check on the selected pair renews consent. */
    if (agent->has_selected && path_equal(&agent->selected, from, path_id))
        agent->consent_at = now;
}

int ovl_ice_lite_on_stun(ovl_ice_lite_t *agent, const uint8_t *pkt, size_t len, const ovl_addr_t *from,
                         uint64_t path_id, ovl_time_t now, ovl_wbuf_t *out, ovl_ice_event_t *ev)
{
    ovl_stun_msg_t req;
    int parsed = ovl_stun_parse(pkt, len, &req);
    if (parsed < 0 && parsed != OVL_ERR_UNSUPPORTED) {
        memset(ev, 0, sizeof(*ev));
        return agent->state == OVL_ICE_FAILED ? OVL_ERR_STATE : OVL_ERR_PARSE;
    }
    return ovl_ice_lite_on_stun_msg(agent, &req, from, path_id, now, out, ev);
}

int ovl_ice_lite_on_stun_msg(ovl_ice_lite_t *agent, const ovl_stun_msg_t *req, const ovl_addr_t *from, uint64_t path_id,
                             ovl_time_t now, ovl_wbuf_t *out, ovl_ice_event_t *ev)
{
    const ovl_ice_pwd_t *key = NULL;
    bool current = false;
    int ret;

    memset(ev, 0, sizeof(*ev));
    if (agent->state == OVL_ICE_FAILED)
        return OVL_ERR_STATE;
    if (req->pkt == NULL)
        return OVL_ERR_PARSE;
    /* RFC 8445 §7: ICE's STUN always carries FINGERPRINT; without it, or wrong, this is not for us. */
    if (ovl_stun_check_fingerprint(req) < 0)
        return OVL_ERR_PARSE;
    if (req->method != OVL_STUN_BINDING || (req->cls != OVL_STUN_REQUEST && req->cls != OVL_STUN_INDICATION))
        return OVL_ERR_UNSUPPORTED;
    if (req->cls == OVL_STUN_INDICATION) /* RFC 8445 §11: keepalive; unauthenticated, proves nothing */
        return req->unknown_count == 0 ? 0 : OVL_ERR_UNSUPPORTED;

    /* RFC 8489 §9.1.3: short-term credential checks, in this order. */
    if (!(req->has & OVL_STUN_HAS_USERNAME) || !(req->has & OVL_STUN_HAS_INTEGRITY)) {
        ret = answer_error(req, out, OVL_STUN_ERR_BAD_REQUEST, "Bad Request", NULL, NULL);
        return ret < 0 ? ret : OVL_ERR_AUTH;
    }
    if (username_matches(&req->username, &agent->local_ufrag, &agent->remote_ufrag)) {
        key = &agent->local_pwd;
        current = true;
    } else if (agent->old_valid &&
               username_matches(&req->username, &agent->old_local_ufrag, &agent->old_remote_ufrag)) {
        key = &agent->old_local_pwd;
    }
    if (key == NULL || ovl_stun_check_integrity(req, (const uint8_t *)key->s, key->len) != 0) {
        ret = answer_error(req, out, OVL_STUN_ERR_UNAUTHENTICATED, "Unauthenticated", NULL, NULL);
        return ret < 0 ? ret : OVL_ERR_AUTH;
    }

    /* Authenticated from here: errors carry MESSAGE-INTEGRITY under the same key. */
    if (req->unknown_count != 0) { /* RFC 8489 §6.3.1.1 */
        ret = answer_error(req, out, OVL_STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute", key, req);
        return ret < 0 ? ret : OVL_ERR_UNSUPPORTED;
    }
    /* RFC 8445 §7.3.1.1: we are controlled, and so claims the peer. A lite agent cannot take the
     * controlling role (§6.1.1), so it always answers 487 and learns nothing from the check. */
    if (req->has & OVL_STUN_HAS_ICE_CONTROLLED) {
        ret = answer_error(req, out, OVL_STUN_ERR_ROLE_CONFLICT, "Role Conflict", key, NULL);
        return ret < 0 ? ret : OVL_ERR_STATE;
    }
    accept_check(agent, req, current, from, path_id, now, ev);
    return answer_success(agent, req, from, key, out);
}

int ovl_ice_username_local_ufrag(const ovl_stun_msg_t *msg, ovl_stun_text_t *ufrag)
{
    memset(ufrag, 0, sizeof(*ufrag));
    if (!(msg->has & OVL_STUN_HAS_USERNAME))
        return OVL_ERR_NOTFOUND;
    const char *colon = memchr(msg->username.s, ':', msg->username.len);
    if (colon == NULL)
        return OVL_ERR_NOTFOUND;
    ufrag->s = msg->username.s;
    ufrag->len = (size_t)(colon - msg->username.s);
    return 0;
}

bool ovl_ice_lite_is_trusted(const ovl_ice_lite_t *agent, const ovl_addr_t *addr, uint64_t path_id)
{
    if (agent->state == OVL_ICE_FAILED)
        return false;
    if (agent->has_selected && path_equal(&agent->selected, addr, path_id))
        return true;
    return find_pair(agent, addr, path_id) != NULL;
}

int ovl_ice_lite_selected(const ovl_ice_lite_t *agent, ovl_ice_path_t *path)
{
    memset(path, 0, sizeof(*path));
    if (!agent->has_selected || agent->state == OVL_ICE_FAILED)
        return OVL_ERR_NOTFOUND;
    *path = agent->selected;
    return 0;
}

ovl_ice_state_t ovl_ice_lite_state(const ovl_ice_lite_t *agent)
{
    return agent->state;
}

ovl_time_t ovl_ice_lite_next_timeout(const ovl_ice_lite_t *agent)
{
    ovl_time_t next = OVL_TIME_NEVER;
    if (agent->state == OVL_ICE_FAILED)
        return next;
    next = agent->has_selected ? agent->consent_at + agent->cfg.consent_timeout : agent->connect_deadline;
    for (size_t i = 0; i < OVL_ICE_LITE_MAX_PAIRS; i++) {
        const ovl_ice_lite_pair_t *p = &agent->pairs[i];
        if (p->used && p->last_check + agent->cfg.consent_timeout < next)
            next = p->last_check + agent->cfg.consent_timeout;
    }
    return next;
}

static void fail(ovl_ice_lite_t *agent, ovl_ice_event_type_t why, ovl_ice_event_t *ev)
{
    ev->type = why;
    ev->path = agent->selected;
    agent->state = OVL_ICE_FAILED;
    agent->has_selected = false;
    memset(&agent->selected, 0, sizeof(agent->selected));
    memset(agent->pairs, 0, sizeof(agent->pairs));
    forget_old_generation(agent);
}

void ovl_ice_lite_on_timeout(ovl_ice_lite_t *agent, ovl_time_t now, ovl_ice_event_t *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (agent->state == OVL_ICE_FAILED)
        return;
    for (size_t i = 0; i < OVL_ICE_LITE_MAX_PAIRS; i++) {
        ovl_ice_lite_pair_t *p = &agent->pairs[i];
        if (p->used && now >= p->last_check + agent->cfg.consent_timeout &&
            !(agent->has_selected && path_equal(&agent->selected, &p->path.addr, p->path.path_id)))
            memset(p, 0, sizeof(*p));
    }
    if (agent->has_selected && now >= agent->consent_at + agent->cfg.consent_timeout)
        fail(agent, OVL_ICE_EVENT_CONSENT_LOST, ev);
    else if (!agent->has_selected && now >= agent->connect_deadline)
        fail(agent, OVL_ICE_EVENT_CONNECT_TIMEOUT, ev);
}

void ovl_ice_lite_path_closed(ovl_ice_lite_t *agent, uint64_t path_id, ovl_time_t now, ovl_ice_event_t *ev)
{
    ovl_ice_lite_pair_t *next = NULL;
    bool was_selected = agent->has_selected && agent->selected.path_id == path_id;
    (void)now;
    memset(ev, 0, sizeof(*ev));
    if (agent->state == OVL_ICE_FAILED)
        return;
    for (size_t i = 0; i < OVL_ICE_LITE_MAX_PAIRS; i++) {
        ovl_ice_lite_pair_t *p = &agent->pairs[i];
        if (p->used && p->path.path_id == path_id)
            memset(p, 0, sizeof(*p));
        else if (p->used && (next == NULL || p->last_check > next->last_check))
            next = p;
    }
    if (!was_selected)
        return;
    if (next == NULL) { /* the only way to the peer is gone: as if consent had expired (RFC 7675 §5.1) */
        fail(agent, OVL_ICE_EVENT_CONSENT_LOST, ev);
        return;
    }
    /* Another pair passed a check within the consent timeout: media goes there until the peer nominates
     * (RFC 8445 §8.1.1 leaves the choice to the controlling side; the browser renominates after a failure). */
    agent->selected = next->path;
    agent->consent_at = next->last_check;
    ev->type = OVL_ICE_EVENT_SELECTED;
    ev->path = agent->selected;
}
