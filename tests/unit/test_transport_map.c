/*
 * transport_map: SipHash-2-4 against its reference vectors, the open-addressing tables on their own
 * (fill to the limit, backward-shift deletion, ownership), and the map kept up to date by real
 * transports sharing one relay port: routing by ufrag and by source, ICE restart, paths forgotten by
 * ICE, and everything forgotten when a transport is freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/unit/test_transport_world.h"

static const uint8_t fixed_key[OVL_TRANSPORT_MAP_HASH_KEY_LEN] = {1, 2,  3,  4,  5,  6,  7,  8,
                                                                  9, 10, 11, 12, 13, 14, 15, 16};

/* SipHash paper (Aumasson, Bernstein 2012), Appendix A and the reference implementation's
 * vectors.h: key 00..0f, message 00 01 .. (n-1). */
static void test_siphash_vectors(void **state)
{
    (void)state;
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    assert_true(ovl_transport_map_siphash(key, msg, 0) == 0x726fdb47dd0e0e31ull);
    assert_true(ovl_transport_map_siphash(key, msg, 1) == 0x74f839c593dc67fdull);
    assert_true(ovl_transport_map_siphash(key, msg, 15) == 0xa129ca6149be45e5ull); /* the paper's example */
}

static ovl_ice_path_t nth_path(unsigned i)
{
    ovl_ice_path_t p;
    uint8_t ip[4] = {10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
    memset(&p, 0, sizeof(p));
    ovl_addr_set_ipv4(&p.addr, ip, (uint16_t)(40000 + i % 7));
    p.path_id = i % 3;
    return p;
}

/* The tables alone, with stand-in transport pointers (the map never dereferences them). */
static void test_tables(void **state)
{
    (void)state;
    ovl_transport_map_t *map = NULL;
    ovl_transport_map_stats_t st;
    char dummy[3];
    ovl_transport_t *t1 = (ovl_transport_t *)&dummy[0], *t2 = (ovl_transport_t *)&dummy[1];
    const size_t max_paths = 100 * OVL_TRANSPORT_MAX_PATHS;

    assert_int_equal(ovl_transport_map_new(0, fixed_key, &map), OVL_ERR_ARG);
    assert_int_equal(ovl_transport_map_new(OVL_TRANSPORT_MAP_MAX + 1, fixed_key, &map), OVL_ERR_ARG);
    assert_null(map);
    assert_int_equal(ovl_transport_map_new(100, fixed_key, &map), 0);
    for (unsigned i = 0; i < max_paths; i++) {
        ovl_ice_path_t p = nth_path(i);
        assert_int_equal(ovl_transport_map_add_path(map, i % 2 ? t1 : t2, &p), 0);
    }
    ovl_ice_path_t extra = nth_path((unsigned)max_paths);
    assert_int_equal(ovl_transport_map_add_path(map, t1, &extra), OVL_ERR_LIMIT);
    /* Remove every third; the rest must still be found across the shifted clusters. */
    for (unsigned i = 0; i < max_paths; i += 3) {
        ovl_ice_path_t p = nth_path(i);
        ovl_transport_map_remove_path(map, i % 2 ? t2 : t1, &p); /* not the owner: no-op */
        ovl_transport_map_remove_path(map, i % 2 ? t1 : t2, &p);
    }
    for (unsigned i = 0; i < max_paths; i++) {
        ovl_ice_path_t p = nth_path(i);
        ovl_transport_t *want = i % 3 == 0 ? NULL : i % 2 ? t1 : t2;
        assert_ptr_equal(ovl_transport_map_find_path(map, &p.addr, p.path_id), want);
    }
    ovl_transport_map_stats(map, &st);
    assert_int_equal(st.paths, max_paths - (max_paths + 2) / 3);
    assert_int_equal(st.refused, 1);
    /* The latest transport to validate a path owns it. */
    ovl_ice_path_t p1 = nth_path(1);
    assert_int_equal(ovl_transport_map_add_path(map, t2, &p1), 0);
    assert_ptr_equal(ovl_transport_map_find_path(map, &p1.addr, p1.path_id), t2);
    ovl_transport_map_remove_path(map, t1, &p1);
    assert_ptr_equal(ovl_transport_map_find_path(map, &p1.addr, p1.path_id), t2);

    /* ufrags: unique, idempotent for the owner, removed only by it. */
    static const char ua[] = "abcd", ub[] = "abce";
    assert_int_equal(ovl_transport_map_add_ufrag(map, t1, ua, 4), 0);
    assert_int_equal(ovl_transport_map_add_ufrag(map, t1, ua, 4), 0);
    assert_int_equal(ovl_transport_map_add_ufrag(map, t2, ua, 4), OVL_ERR_ARG);
    assert_int_equal(ovl_transport_map_add_ufrag(map, t2, ub, 4), 0);
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "abcd", 4), t1);
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "abce", 4), t2);
    assert_null(ovl_transport_map_find_ufrag(map, "abc", 3));
    ovl_transport_map_remove_ufrag(map, t2, ua, 4);
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "abcd", 4), t1);
    ovl_transport_map_remove_ufrag(map, t1, ua, 4);
    assert_null(ovl_transport_map_find_ufrag(map, "abcd", 4));
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "abce", 4), t2);

    for (int i = 0; i < 100; i++)
        assert_int_equal(ovl_transport_map_attach(map), 0);
    assert_int_equal(ovl_transport_map_attach(map), OVL_ERR_LIMIT);
    ovl_transport_map_free(map);
    ovl_transport_map_free(NULL);
}

/* ---- with transports ------------------------------------------------------------------------------------ */

struct fx {
    tw_world_t w;
    tw_peer_t s[2], c[2];
    ovl_ice_path_t cand;
};

static const char *const server_ufrag[2] = {"sRvA", "sRvB"};
static const char *const client_ufrag[2] = {"cLiA", "cLiB"};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (f == NULL || tw_init(&f->w) < 0)
        return -1;
    tw_world_t *w = &f->w;
    /* A second peer machine; the relay's node dispatches through a map. */
    w->n_nodes = 3;
    if (tw_node_add_path(w, 2, "192.0.2.20", 50000, TW_CLIENT_PATH) < 0 ||
        ovl_transport_map_new(4, fixed_key, &w->nodes[0].map) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    tw_dispose(&f->w);
    free(f);
    return 0;
}

static int start_server(struct fx *f, int i)
{
    ovl_transport_config_t c;
    tw_config(&f->w, &f->s[i], OVL_TRANSPORT_SERVER, &c);
    c.local_ufrag = server_ufrag[i];
    c.remote_ufrag = client_ufrag[i];
    c.map = f->w.nodes[0].map;
    return tw_start(&f->w, &f->s[i], 0, &c);
}

static int start_client(struct fx *f, int i)
{
    ovl_transport_config_t c;
    tw_config(&f->w, &f->c[i], OVL_TRANSPORT_CLIENT, &c);
    c.local_ufrag = client_ufrag[i];
    c.remote_ufrag = server_ufrag[i];
    return tw_start(&f->w, &f->c[i], 1 + i, &c);
}

static ovl_transport_map_stats_t map_stats(const struct fx *f)
{
    ovl_transport_map_stats_t st;
    ovl_transport_map_stats(f->w.nodes[0].map, &st);
    return st;
}

static void send_one(tw_world_t *w, tw_peer_t *from, uint16_t seq)
{
    uint8_t buf[TW_BUF_CAP];
    size_t len = tw_make_rtp(buf, seq, 0x1000u + (uint32_t)from->node, 600, (uint8_t)from->node);
    assert_int_equal(ovl_transport_send_rtp(from->t, buf, &len, sizeof(buf)), 0);
    tw_pump(w);
}

/* Two participants on one relay port: checks find their transport by USERNAME (RFC 8445 §7.2.2),
 * DTLS and SRTP by source; freeing one transport removes exactly its entries. */
static void test_two_peers_one_port(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(start_server(f, i), 0);
        assert_int_equal(start_client(f, i), 0);
    }
    tw_run(w, 0);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ovl_transport_state(f->s[i].t), OVL_TRANSPORT_CONNECTED);
        assert_int_equal(ovl_transport_state(f->c[i].t), OVL_TRANSPORT_CONNECTED);
        assert_ptr_equal(ovl_transport_map_find_ufrag(w->nodes[0].map, server_ufrag[i], 4), f->s[i].t);
        assert_ptr_equal(ovl_transport_map_find_path(w->nodes[0].map, &w->nodes[1 + i].addr[0], TW_SERVER_PATH),
                         f->s[i].t);
    }
    assert_null(ovl_transport_map_find_path(w->nodes[0].map, &w->nodes[1].addr[0], TW_SERVER_PATH + 1));
    ovl_transport_map_stats_t st = map_stats(f);
    assert_int_equal(st.transports, 2);
    assert_int_equal(st.ufrags, 2);
    assert_int_equal(st.paths, 2);
    assert_int_equal(w->nodes[0].not_found, 0);

    send_one(w, &f->c[0], 1);
    send_one(w, &f->c[1], 1);
    send_one(w, &f->c[1], 2);
    assert_int_equal(f->s[0].n_rtp, 1);
    assert_int_equal(f->s[1].n_rtp, 2);
    assert_int_equal(f->s[0].last_media[12], 1); /* payload fill = sending node */
    assert_int_equal(f->s[1].last_media[12], 2);

    tw_stop(w, &f->s[0]);
    assert_null(ovl_transport_map_find_ufrag(w->nodes[0].map, server_ufrag[0], 4));
    assert_null(ovl_transport_map_find_path(w->nodes[0].map, &w->nodes[1].addr[0], TW_SERVER_PATH));
    st = map_stats(f);
    assert_int_equal(st.transports, 1);
    assert_int_equal(st.ufrags, 1);
    assert_int_equal(st.paths, 1);
    send_one(w, &f->c[0], 2); /* to nobody now */
    assert_int_equal(w->nodes[0].not_found, 1);
    send_one(w, &f->c[1], 3);
    assert_int_equal(f->s[1].n_rtp, 3);
}

/* Registration limits: a ufrag in use, a full map. */
static void test_registration_refused(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_config_t c;
    ovl_transport_t *t = NULL;
    assert_int_equal(start_server(f, 0), 0);
    tw_config(w, &f->s[1], OVL_TRANSPORT_SERVER, &c);
    c.local_ufrag = server_ufrag[0];
    c.map = w->nodes[0].map;
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_ARG);
    assert_null(t);
    assert_int_equal(start_server(f, 1), 0);
    ovl_transport_ice_restart_t r = {.local_ufrag = server_ufrag[0], .local_pwd = "server-password-second-gen"};
    assert_int_equal(ovl_transport_restart_ice(f->s[1].t, &r, w->now), OVL_ERR_ARG); /* A's ufrag */
    assert_string_equal(ovl_transport_local_ufrag(f->s[1].t), server_ufrag[1]);

    ovl_transport_t *more[2] = {NULL, NULL};
    static const char *const more_ufrag[3] = {"m1m1", "m2m2", "m3m3"};
    for (int i = 0; i < 2; i++) { /* the map holds 4 */
        c.local_ufrag = more_ufrag[i];
        assert_int_equal(ovl_transport_new(&c, w->now, &more[i]), 0);
    }
    c.local_ufrag = more_ufrag[2];
    assert_int_equal(ovl_transport_new(&c, w->now, &t), OVL_ERR_LIMIT);
    ovl_transport_map_stats_t st = map_stats(f);
    assert_int_equal(st.transports, 4);
    assert_int_equal(st.refused, 2); /* the taken ufrag at creation, the full map (restart checks first) */
    ovl_transport_free(more[0]);
    ovl_transport_free(more[1]);
    assert_int_equal(map_stats(f).transports, 2);
}

static int drop_from_peers(void *ctx, const tw_dgram_t *d, ovl_demux_kind_t kind)
{
    bool *on = ctx;
    (void)kind;
    return *on && d->from_node != 0 ? TW_DROP : TW_PASS;
}

/* ICE restart: both ufrags route during the restart, only the new one after; the peer's new address
 * replaces the old in the map. Then pairs ICE forgets (a check that was never nominated, after 30 s;
 * every pair, once consent is lost) leave the map too. */
static void test_restart_and_forgetting(void **state)
{
    struct fx *f = *state;
    tw_world_t *w = &f->w;
    ovl_transport_map_t *map = w->nodes[0].map;
    assert_int_equal(start_server(f, 0), 0);
    assert_int_equal(start_client(f, 0), 0);
    tw_run(w, 0);
    assert_int_equal(ovl_transport_state(f->s[0].t), OVL_TRANSPORT_CONNECTED);

    assert_int_equal(tw_node_add_path(w, 1, "192.0.2.10", 50001, 2), 0);
    ovl_ice_path_t cand = {.addr = w->nodes[0].addr[0], .path_id = 2};
    ovl_transport_ice_restart_t rs = {.local_ufrag = "sRv2", .local_pwd = "server-password-second-gen"};
    ovl_transport_ice_restart_t rc = {.local_ufrag = "cLi2",
                                      .remote_ufrag = "sRv2",
                                      .remote_pwd = "server-password-second-gen",
                                      .remote_candidates = &cand,
                                      .n_remote_candidates = 1};
    assert_int_equal(ovl_transport_restart_ice(f->s[0].t, &rs, w->now), 0);
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "sRv2", 4), f->s[0].t);
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "sRvA", 4), f->s[0].t);
    assert_int_equal(map_stats(f).ufrags, 2);
    assert_int_equal(ovl_transport_restart_ice(f->c[0].t, &rc, w->now), 0);
    tw_run(w, 0);
    assert_int_equal(f->s[0].n_type[OVL_TRANSPORT_EVENT_ICE_RESTARTED], 1);
    assert_null(ovl_transport_map_find_ufrag(map, "sRvA", 4));
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "sRv2", 4), f->s[0].t);
    assert_null(ovl_transport_map_find_path(map, &w->nodes[1].addr[0], TW_SERVER_PATH));
    assert_ptr_equal(ovl_transport_map_find_path(map, &w->nodes[1].addr[1], TW_SERVER_PATH), f->s[0].t);
    assert_int_equal(map_stats(f).ufrags, 1);
    assert_int_equal(map_stats(f).paths, 1);

    /* A valid check from a third address that never nominates: trusted, mapped, then forgotten 30 s
     * later while the selected pair keeps its consent. */
    uint8_t buf[512];
    ovl_wbuf_t out;
    ovl_stun_builder_t b;
    static const uint8_t txid[OVL_STUN_TXID_LEN] = {9, 9, 9};
    ovl_wbuf_init(&out, buf, sizeof(buf));
    ovl_stun_build_start(&b, &out, OVL_STUN_REQUEST, OVL_STUN_BINDING, txid);
    ovl_stun_add_username(&b, "sRv2:cLi2", 9);
    ovl_stun_add_ice_controlling(&b, 7);
    assert_int_equal(ovl_stun_build_finish(&b, (const uint8_t *)"server-password-second-gen", 26), 0);
    ovl_addr_t third;
    ovl_transport_t *found = NULL;
    assert_int_equal(ovl_addr_parse(&third, "192.0.2.10", 50002), 0);
    assert_int_equal(ovl_transport_map_dispatch(map, TW_SERVER_PATH, &third, buf, out.len, w->now, &found), 0);
    assert_ptr_equal(found, f->s[0].t);
    assert_ptr_equal(ovl_transport_map_find_path(map, &third, TW_SERVER_PATH), f->s[0].t);
    tw_flush_queue(w);
    tw_run(w, OVL_SEC(31));
    assert_null(ovl_transport_map_find_path(map, &third, TW_SERVER_PATH));
    assert_ptr_equal(ovl_transport_map_find_path(map, &w->nodes[1].addr[1], TW_SERVER_PATH), f->s[0].t);

    /* An unknown ufrag from a source nobody trusts (any more): nobody's. */
    buf[OVL_STUN_HEADER_LEN + 4] = 'z'; /* USERNAME "zRv2:cLi2" */
    assert_int_equal(ovl_transport_map_dispatch(map, TW_SERVER_PATH, &third, buf, out.len, w->now, &found),
                     OVL_ERR_NOTFOUND);
    assert_null(found);

    bool silent = true;
    w->filter = drop_from_peers;
    w->filter_ctx = &silent;
    tw_run(w, OVL_SEC(31));
    assert_int_equal(ovl_transport_state(f->s[0].t), OVL_TRANSPORT_FAILED);
    assert_int_equal(map_stats(f).paths, 0);
    assert_ptr_equal(ovl_transport_map_find_ufrag(map, "sRv2", 4), f->s[0].t); /* a restart can still reach it */
    tw_stop(w, &f->s[0]);
    ovl_transport_map_stats_t st = map_stats(f);
    assert_int_equal(st.transports + st.ufrags + st.paths, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test(test_tables),
        cmocka_unit_test_setup_teardown(test_two_peers_one_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_and_forgetting, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
