/* Meeting creation, links and their JSON. See meetings.h. */
#include "signaling/meetings.h"

#include <stdio.h>
#include <string.h>

#include "relay/proto/base.h"

int ovl_meetings_create(ovl_store_t *store, const char *title, int64_t lifetime, int lobby, int64_t now,
                        ovl_meeting_t *out)
{
    size_t n = title ? strlen(title) : 0;
    int ret;

    memset(out, 0, sizeof(*out));
    if (n == 0 || n > OVL_TITLE_MAX || lifetime <= 0 || lifetime > 3650LL * 86400)
        return OVL_ERR_ARG;
    for (const unsigned char *c = (const unsigned char *)title; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return OVL_ERR_ARG;
    if ((ret = ovl_meeting_id_new(out->id)) != 0)
        return ret;
    memcpy(out->title, title, n + 1);
    out->created = now;
    out->expires = now + lifetime;
    out->lobby = lobby ? 1 : 0;
    return ovl_store_create(store, out);
}

int ovl_meetings_link(const uint8_t *secret, const char *host, uint16_t port, const ovl_meeting_t *m, ovl_role_t role,
                      const char *name, char *out, size_t cap)
{
    ovl_token_claims_t c = {.role = role, .expires = m->expires};
    char token[OVL_TOKEN_MAX_LEN + 1], portpart[8] = "";
    int ret, v6 = strchr(host, ':') != NULL && host[0] != '[';

    if (cap > 0)
        out[0] = '\0';
    if (name && strlen(name) > OVL_TOKEN_NAME_MAX)
        return OVL_ERR_ARG;
    memcpy(c.meeting, m->id, sizeof(c.meeting));
    snprintf(c.name, sizeof(c.name), "%s", name ? name : "");
    if ((ret = ovl_token_issue(secret, OVL_SECRET_BYTES, &c, token, sizeof(token))) != 0)
        return ret;
    if (port != 443)
        snprintf(portpart, sizeof(portpart), ":%u", port);
    int n =
        snprintf(out, cap, "https://%s%s%s%s/m/%s#t=%s", v6 ? "[" : "", host, v6 ? "]" : "", portpart, m->id, token);
    return n > 0 && (size_t)n < cap ? 0 : OVL_ERR_LIMIT;
}

json_t *ovl_meetings_json(const ovl_meeting_t *m, const char *host_link, const char *guest_link)
{
    json_t *j =
        json_pack("{s:s, s:s, s:I, s:I, s:b, s:b}", "id", m->id, "title", m->title, "created", (json_int_t)m->created,
                  "expires", (json_int_t)m->expires, "lobby", m->lobby, "revoked", m->revoked != 0);
    if (j && host_link)
        json_object_set_new(j, "host_link", json_string(host_link));
    if (j && guest_link)
        json_object_set_new(j, "guest_link", json_string(guest_link));
    return j;
}
