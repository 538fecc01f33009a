/* Controlling ICE client: retransmissions (RFC 8489 §6.2.1), pacing, answer checks, consent (RFC 7675). */
#include "ice_world.h"

/* RFC 7675 §5.1 on the client: consent checks 5 s apart (0.8..1.2), consent lost 30 s after the last answer. */
static void test_client_consent_timeout(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    run_until(&w, OVL_SEC(1));
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    ovl_time_t last_ok = w.now;

    /* Relay unreachable from now on; count the consent checks the client keeps sending. */
    w.drop_to_relay = true;
    unsigned before = w.sent;
    ovl_time_t prev = w.now;
    while (w.peer_ev.type != OVL_ICE_EVENT_CONSENT_LOST) {
        ovl_time_t next = ovl_ice_client_next_timeout(&w.peer);
        assert_true(next != OVL_TIME_NEVER);
        unsigned sent = w.sent;
        run_until(&w, next);
        if (w.sent != sent) {
            /* Randomised interval (RFC 7675 §5.1): within 0.8..1.2 of 5 s of the previous check. */
            assert_true(w.now - prev <= OVL_SEC(6));
            prev = w.now;
        }
    }
    assert_true(w.now >= last_ok + OVL_SEC(29)); /* the last answered check was at most 1 s before last_ok */
    assert_true(w.now <= last_ok + OVL_SEC(30));
    assert_in_range(w.sent - before, 30 / 6, 30 / 4 + 1);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_FAILED);
    assert_int_equal(ovl_ice_client_next_timeout(&w.peer), OVL_TIME_NEVER);
    world_dispose(&w);
}

/* RFC 8489 §6.2.1: RTO 500 ms doubling, Rc = 7 transmissions, then Rm * RTO = 8 s: fails at 39.5 s. */
static void test_client_retransmissions(void **state)
{
    (void)state;
    static const ovl_time_t want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
    struct world w;
    uint8_t pkt[512], first_txid[12];
    ovl_wbuf_t out;
    ovl_ice_path_t to;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;

    world_init(&w);
    for (size_t i = 0; i < OVL_ARRAY_LEN(want); i++) {
        assert_true(ovl_ice_client_next_timeout(&w.peer) == OVL_MS(want[i]));
        w.now = OVL_MS(want[i]);
        ovl_wbuf_init(&out, pkt, sizeof(pkt));
        assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
        assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);
        if (i == 0)
            memcpy(first_txid, m.txid, 12);
        assert_memory_equal(m.txid, first_txid, 12); /* a retransmission, same transaction */
        ovl_wbuf_init(&out, pkt, sizeof(pkt));
        assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), OVL_ERR_AGAIN);
    }
    assert_true(ovl_ice_client_next_timeout(&w.peer) == OVL_MS(39500));
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(39499), &out, &to, &ev), OVL_ERR_AGAIN);
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(39500), &out, &to, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_FAILED);
    assert_int_equal(out.len, 0);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_FAILED);

    /* A late answer to the abandoned transaction changes nothing. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, pkt, 0, &w.relay_addr, PEER_PATH, w.now, &ev), OVL_ERR_STATE);
    world_dispose(&w);
}

/* Two relay candidates: first checks Ta apart (RFC 8445 §14.2); the first success wins, the other stops. */
static void test_client_two_candidates(void **state)
{
    (void)state;
    struct world w;
    ovl_addr_t tcp;
    uint8_t p1[512], p2[512], ans[512];
    ovl_wbuf_t o1, o2, out;
    ovl_ice_path_t t1, t2, sel;
    ovl_ice_event_t ev;

    world_init(&w);
    ovl_addr_parse(&tcp, "198.51.100.1", 443);
    assert_int_equal(ovl_ice_client_add_remote(&w.peer, &tcp, 2), 0);
    ovl_wbuf_init(&o1, p1, sizeof(p1));
    assert_int_equal(ovl_ice_client_poll(&w.peer, 0, &o1, &t1, &ev), 0);
    assert_int_equal(t1.path_id, PEER_PATH);
    ovl_wbuf_init(&o2, p2, sizeof(p2));
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(49), &o2, &t2, &ev), OVL_ERR_AGAIN);
    assert_true(ovl_ice_client_next_timeout(&w.peer) == OVL_MS(50));
    assert_int_equal(ovl_ice_client_poll(&w.peer, OVL_MS(50), &o2, &t2, &ev), 0);
    assert_int_equal(t2.path_id, 2);
    assert_true(ovl_addr_equal(&t2.addr, &tcp));

    /* The second candidate answers first. An answer arriving on the wrong path is ignored. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, p2, o2.len, &w.peer_addr, RELAY_PATH_TCP, OVL_MS(60), &out, &ev),
                     0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &tcp, PEER_PATH, OVL_MS(60), &ev), OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, 2, OVL_MS(60), &ev),
                     OVL_ERR_NOTFOUND);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &tcp, 2, OVL_MS(60), &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ovl_ice_client_selected(&w.peer, &sel, NULL), 0);
    assert_int_equal(sel.path_id, 2);

    /* The first candidate's check is abandoned: no retransmission, its answer is not awaited. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, p1, o1.len, &w.peer_addr, RELAY_PATH_UDP, OVL_MS(70), &out, &ev),
                     0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, OVL_MS(70), &ev),
                     OVL_ERR_NOTFOUND);
    assert_true(ovl_ice_client_next_timeout(&w.peer) >= OVL_MS(60) + OVL_SEC(4));
    assert_int_equal(ovl_ice_client_add_remote(&w.peer, &tcp, 3), OVL_ERR_STATE);
    world_dispose(&w);
}

/* The client drops answers it cannot authenticate or that are not STUN. */
static void test_client_rejects_bad_answers(void **state)
{
    (void)state;
    struct world w;
    uint8_t pkt[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_path_t to;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;
    ovl_stun_builder_t b;

    world_init(&w);
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, 0, &out, &to, &ev), 0);
    assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);

    /* Signed with the wrong key. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m.txid);
    ovl_stun_add_xor_mapped_address(&b, &w.peer_addr);
    ovl_stun_build_finish(&b, (const uint8_t *)"guess", 5);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_AUTH);
    /* Unsigned. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m.txid);
    ovl_stun_build_finish(&b, NULL, 0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_AUTH);
    /* Another transaction. */
    uint8_t other[12];
    memset(other, 0x11, sizeof(other));
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, other);
    ovl_stun_build_finish(&b, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD));
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_NOTFOUND);
    /* Right answer, damaged FINGERPRINT. */
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_SUCCESS, OVL_STUN_BINDING, m.txid);
    ovl_stun_build_finish(&b, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD));
    ans[out.len - 1] ^= 1;
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), OVL_ERR_PARSE);
    /* A request is not an answer. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, pkt, m.len, &w.relay_addr, PEER_PATH, 0, &ev),
                     OVL_ERR_UNSUPPORTED);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CHECKING);
    ans[out.len - 1] ^= 1;
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, 0, &ev), 0);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    world_dispose(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_consent_timeout),
        cmocka_unit_test(test_client_retransmissions),
        cmocka_unit_test(test_client_two_candidates),
        cmocka_unit_test(test_client_rejects_bad_answers),
    };
    return cmocka_run_group_tests_name("ice client (RFC 8489 §6.2.1, RFC 7675)", tests, NULL, NULL);
}
