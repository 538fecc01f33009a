/*
 * ICE lite agent (RFC 8445 §2.5, §7.3): answers, nomination, trust, consent freshness (RFC 7675), ICE
 * restart (RFC 8445 §9), role conflict (§7.3.1.1), talking to the controlling client in memory.
 */
#include "ice_world.h"

/* RFC 8445 §7.2, §7.3: the client's check, the lite answer, nomination on both sides. */
static void test_check_answer_nominate(void **state)
{
    (void)state;
    struct world w;
    uint8_t pkt[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_path_t to, sel;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;
    ovl_addr_t mapped;

    world_init(&w);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), OVL_ERR_NOTFOUND);

    /* The client's request carries what RFC 8445 §7.1 asks of a controlling agent. */
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_true(ovl_addr_equal(&to.addr, &w.relay_addr));
    assert_int_equal(to.path_id, PEER_PATH);
    assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);
    assert_int_equal(m.cls, OVL_STUN_REQUEST);
    assert_int_equal(m.username.len, strlen(RELAY_UFRAG ":" PEER_UFRAG));
    assert_memory_equal(m.username.s, RELAY_UFRAG ":" PEER_UFRAG, m.username.len);
    assert_true(m.has & OVL_STUN_HAS_PRIORITY);
    assert_true(m.has & OVL_STUN_HAS_ICE_CONTROLLING);
    assert_true(m.has & OVL_STUN_HAS_USE_CANDIDATE);
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), OVL_ERR_AGAIN);

    /* The lite agent answers and selects the pair. */
    size_t req_len = out.len;
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, pkt, req_len, &w.peer_addr, RELAY_PATH_UDP, w.now, &out, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(ovl_addr_equal(&ev.path.addr, &w.peer_addr));
    assert_int_equal(ev.path.path_id, RELAY_PATH_UDP);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_int_equal(sel.path_id, RELAY_PATH_UDP);

    assert_int_equal(ovl_stun_parse(ans, out.len, &m), 0);
    assert_int_equal(m.cls, OVL_STUN_SUCCESS);
    assert_true(ovl_addr_equal(&m.xor_mapped, &w.peer_addr));
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    assert_int_equal(ovl_stun_check_fingerprint(&m), 0);

    /* The client takes the answer and selects the relay's candidate. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, w.now, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(ovl_addr_equal(&ev.path.addr, &w.relay_addr));
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_client_selected(&w.peer, &sel, &mapped), 0);
    assert_true(ovl_addr_equal(&mapped, &w.peer_addr));
    /* The same answer again is no longer an outstanding transaction. */
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, w.now, &ev),
                     OVL_ERR_NOTFOUND);

    /* Trusted: exactly the checked address on the checked path. */
    ovl_addr_t other = w.peer_addr;
    other.port++;
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_TCP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &other, RELAY_PATH_UDP));
    world_dispose(&w);
}

/* RFC 8489 §9.1.3: a forged MESSAGE-INTEGRITY gets a bare 401 and teaches the agent nothing. */
static void test_forged_integrity_refused(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;

    world_init(&w);
    struct req_opts forged = {
        .username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = "not-the-relay-password-000", .use_candidate = true};
    assert_int_equal(poke(&w, &forged, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 401, NULL);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CHECKING);

    /* No MESSAGE-INTEGRITY, or no USERNAME: 400. */
    struct req_opts bare = {.username = RELAY_UFRAG ":" PEER_UFRAG, .use_candidate = true};
    assert_int_equal(poke(&w, &bare, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 400, NULL);
    struct req_opts anon = {.pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &anon, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 400, NULL);

    /* Without FINGERPRINT it is not ICE's STUN: dropped without an answer. */
    struct req_opts nofp = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .no_fingerprint = true};
    assert_int_equal(poke(&w, &nofp, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_PARSE);
    assert_int_equal(n, 0);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* The genuine request still works afterwards. */
    struct req_opts good = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &good, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    world_dispose(&w);
}

/* RFC 8445 §7.2.2: USERNAME must be "<relay ufrag>:<peer ufrag>"; the peer's part is free until known. */
static void test_wrong_username_refused(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    static const char *const wrong[] = {
        "xLy1:" PEER_UFRAG,
        RELAY_UFRAG "x:" PEER_UFRAG,
        RELAY_UFRAG ":" PEER_UFRAG "x",
        RELAY_UFRAG ":pEe",
        RELAY_UFRAG PEER_UFRAG,
        RELAY_UFRAG,
        "",
    };

    world_init(&w);
    for (size_t i = 0; i < OVL_ARRAY_LEN(wrong); i++) {
        struct req_opts o = {.username = wrong[i], .pwd = RELAY_PWD, .use_candidate = true};
        int r = poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev);
        if (r != OVL_ERR_AUTH)
            fail_msg("USERNAME \"%s\" was accepted (%d)", wrong[i], r);
        assert_error_answer(ans, n, 401, NULL);
    }
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* Before the remote ufrag is known, any remote part is accepted (RFC 8445 §7.3). */
    ovl_ice_lite_t early;
    assert_int_equal(ovl_ice_lite_init(&early, NULL, RELAY_UFRAG, RELAY_PWD, 0), 0);
    uint8_t req[512], buf[512];
    ovl_wbuf_t out;
    struct req_opts any = {.username = RELAY_UFRAG ":whoever", .pwd = RELAY_PWD};
    size_t len = make_request(req, sizeof(req), &any);
    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_ice_lite_on_stun(&early, req, len, &w.peer_addr, 1, 0, &out, &ev), 0);
    assert_true(ovl_ice_lite_is_trusted(&early, &w.peer_addr, 1));
    ovl_ice_lite_set_remote(&early, PEER_UFRAG);
    ovl_wbuf_init(&out, buf, sizeof(buf));
    assert_int_equal(ovl_ice_lite_on_stun(&early, req, len, &w.peer_addr, 1, 0, &out, &ev), OVL_ERR_AUTH);
    ovl_ice_lite_dispose(&early);
    world_dispose(&w);
}

/* Only addresses that passed a check are trusted; the table is bounded and evicts the oldest. */
static void test_untrusted_addresses_and_eviction(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_addr_t a[OVL_ICE_LITE_MAX_PAIRS + 2];
    struct req_opts nominate = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    struct req_opts check = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD};

    world_init(&w);
    for (size_t i = 0; i < OVL_ARRAY_LEN(a); i++) {
        a[i] = w.peer_addr;
        a[i].port = (uint16_t)(40000 + i);
    }
    /* a[0] is nominated first; the rest only pass checks, one second apart. */
    assert_int_equal(poke(&w, &nominate, &a[0], RELAY_PATH_UDP, ans, &n, &ev), 0);
    for (size_t i = 1; i < OVL_ARRAY_LEN(a); i++) {
        w.now += OVL_SEC(1);
        assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP));
        assert_int_equal(poke(&w, &check, &a[i], RELAY_PATH_UDP, ans, &n, &ev), 0);
        assert_int_equal(ev.type, OVL_ICE_EVENT_NONE); /* no USE-CANDIDATE: no change of pair */
        assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP));
    }
    /* Ten pairs passed, eight fit: the selected one stays, a[1] and a[2] (the oldest) went. */
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[0], RELAY_PATH_UDP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[1], RELAY_PATH_UDP));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[2], RELAY_PATH_UDP));
    for (size_t i = 3; i < OVL_ARRAY_LEN(a); i++)
        assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP));
    ovl_ice_path_t sel;
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_true(ovl_addr_equal(&sel.addr, &a[0]));

    /* A later USE-CANDIDATE (a browser renominating, e.g. after a network change) switches the pair. */
    assert_int_equal(poke(&w, &nominate, &a[5], RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(ovl_addr_equal(&ev.path.addr, &a[5]));
    /* Nominating the selected pair again is not a change. */
    assert_int_equal(poke(&w, &nominate, &a[5], RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);

    /* A non-selected pair that stops sending checks is forgotten after consent_timeout. */
    w.now += OVL_SEC(29); /* t = 38 s; a[0] was last checked at 0 s, a[3] at 3 s, a[9] at 9 s */
    assert_int_equal(poke(&w, &check, &a[5], RELAY_PATH_UDP, ans, &n, &ev), 0);
    assert_true(ovl_ice_lite_next_timeout(&w.relay) == OVL_SEC(30));
    ovl_ice_lite_on_timeout(&w.relay, OVL_SEC(30), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &a[0], RELAY_PATH_UDP));
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &a[3], RELAY_PATH_UDP));
    ovl_ice_lite_on_timeout(&w.relay, OVL_SEC(40), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    for (size_t i = 3; i < OVL_ARRAY_LEN(a); i++)
        assert_int_equal(ovl_ice_lite_is_trusted(&w.relay, &a[i], RELAY_PATH_UDP), i == 5);
    assert_true(ovl_ice_lite_next_timeout(&w.relay) == OVL_SEC(68)); /* the selected pair's consent */
    world_dispose(&w);
}

/* RFC 7675 §5.1 on the relay: 30 s without a valid check on the selected pair loses consent. */
static void test_lite_consent_timeout(void **state)
{
    (void)state;
    struct world w;
    ovl_ice_event_t ev;

    world_init(&w);
    run_until(&w, OVL_SEC(60));
    assert_int_equal(w.relay_ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(w.peer_ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    /* 60 s of consent checks about every 5 s (4..6 s each), plus the first check. */
    assert_in_range(w.sent, 1 + 60 / 6, 1 + 60 / 4);

    /* The peer goes silent. */
    w.drop_to_relay = true;
    ovl_time_t silent_from = w.now;
    ovl_time_t deadline = ovl_ice_lite_next_timeout(&w.relay);
    assert_true(deadline <= silent_from + OVL_SEC(30));
    assert_true(deadline > silent_from + OVL_SEC(30) - OVL_SEC(7));
    ovl_ice_lite_on_timeout(&w.relay, deadline - 1, &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    ovl_ice_lite_on_timeout(&w.relay, deadline, &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_CONSENT_LOST);
    assert_true(ovl_addr_equal(&ev.path.addr, &w.peer_addr));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_FAILED);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_int_equal(ovl_ice_lite_next_timeout(&w.relay), OVL_TIME_NEVER);

    /* A failed agent answers nothing. */
    uint8_t ans[512];
    size_t n;
    struct req_opts good = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &good, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_STATE);
    assert_int_equal(n, 0);
    world_dispose(&w);
}

/* RFC 6544 §4.1 / RFC 7675 §5.1: a pair on an ICE-TCP connection lives with the connection. When the
 * connection closes the pair is forgotten at once; media moves to another validated pair, and with none left
 * the agent fails as on consent expiry, without waiting consent_timeout. */
static void test_lite_tcp_path_closed(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_ice_path_t sel;
    ovl_addr_t udp_addr, tcp_addr;
    struct req_opts nominate = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    struct req_opts check = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD};

    world_init(&w);
    udp_addr = tcp_addr = w.peer_addr;
    tcp_addr.port = 50001;
    /* The peer checks over UDP, then nominates its TCP pair. */
    assert_int_equal(poke(&w, &check, &udp_addr, RELAY_PATH_UDP, ans, &n, &ev), 0);
    w.now += OVL_SEC(1);
    assert_int_equal(poke(&w, &nominate, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ev.path.path_id, RELAY_PATH_TCP);

    /* Another path closing changes nothing. */
    ovl_ice_lite_path_closed(&w.relay, 99, w.now, &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &tcp_addr, RELAY_PATH_TCP));

    /* The TCP connection closes: the UDP pair, checked 1 s ago, takes the media at once. */
    w.now += OVL_SEC(1);
    ovl_ice_lite_path_closed(&w.relay, RELAY_PATH_TCP, w.now, &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ev.path.path_id, RELAY_PATH_UDP);
    assert_true(ovl_addr_equal(&ev.path.addr, &udp_addr));
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &tcp_addr, RELAY_PATH_TCP));
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_int_equal(sel.path_id, RELAY_PATH_UDP);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    /* Its consent runs from its own last check (t = 0), not from now. */
    assert_true(ovl_ice_lite_next_timeout(&w.relay) == OVL_SEC(30));

    /* The peer moves back to a new TCP connection; that one closes too, and the UDP pair has gone silent. */
    w.now += OVL_SEC(29);
    assert_int_equal(poke(&w, &nominate, &tcp_addr, RELAY_PATH_TCP + 1, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    ovl_ice_lite_on_timeout(&w.relay, OVL_SEC(30), &ev); /* the UDP pair is forgotten */
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &udp_addr, RELAY_PATH_UDP));
    ovl_ice_lite_path_closed(&w.relay, RELAY_PATH_TCP + 1, OVL_SEC(31), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_CONSENT_LOST); /* no path left: at once, as on consent expiry */
    assert_int_equal(ev.path.path_id, RELAY_PATH_TCP + 1);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_FAILED);
    assert_int_equal(ovl_ice_lite_next_timeout(&w.relay), OVL_TIME_NEVER);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), OVL_ERR_NOTFOUND);
    /* Once failed, nothing more happens. */
    ovl_ice_lite_path_closed(&w.relay, RELAY_PATH_UDP, OVL_SEC(32), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    world_dispose(&w);
}

/* A lite agent nobody nominates gives up after connect_timeout. */
static void test_connect_timeout(void **state)
{
    (void)state;
    ovl_ice_lite_t agent;
    ovl_ice_lite_config_t cfg;
    ovl_ice_event_t ev;

    ovl_ice_lite_config_default(&cfg);
    assert_true(cfg.connect_timeout == OVL_SEC(30));
    cfg.connect_timeout = OVL_SEC(10);
    assert_int_equal(ovl_ice_lite_init(&agent, &cfg, RELAY_UFRAG, RELAY_PWD, OVL_SEC(100)), 0);
    assert_true(ovl_ice_lite_next_timeout(&agent) == OVL_SEC(110));
    ovl_ice_lite_on_timeout(&agent, OVL_SEC(105), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    ovl_ice_lite_on_timeout(&agent, OVL_SEC(110), &ev);
    assert_int_equal(ev.type, OVL_ICE_EVENT_CONNECT_TIMEOUT);
    assert_string_equal(ovl_ice_event_name(ev.type), "connect-timeout");
    assert_int_equal(ovl_ice_lite_state(&agent), OVL_ICE_FAILED);

    /* A restart brings a failed agent back to checking with a fresh timer. */
    assert_int_equal(ovl_ice_lite_restart(&agent, "nEw1", "new-relay-password-0123456", NULL, OVL_SEC(200)), 0);
    assert_int_equal(ovl_ice_lite_state(&agent), OVL_ICE_CHECKING);
    assert_true(ovl_ice_lite_next_timeout(&agent) == OVL_SEC(210));
    ovl_ice_lite_dispose(&agent);

    assert_int_equal(ovl_ice_lite_init(&agent, NULL, "", RELAY_PWD, 0), OVL_ERR_ARG);
    char longer[OVL_ICE_PWD_MAX + 2];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(ovl_ice_lite_init(&agent, NULL, RELAY_UFRAG, longer, 0), OVL_ERR_ARG);
}

/* RFC 8445 §9: after a restart the old pair keeps media (and consent) until the new credentials nominate. */
static void test_restart_keeps_pair_until_renomination(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_ice_path_t sel;

    world_init(&w);
    run_until(&w, OVL_SEC(10));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);

    assert_int_equal(ovl_ice_lite_restart(&w.relay, "rLy2", "relay-password-second-gen", "pEe2", w.now), 0);
    /* The old session goes on: the old client's consent checks are still answered, the pair stays. */
    run_until(&w, OVL_SEC(50));
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_true(ovl_addr_equal(&sel.addr, &w.peer_addr));
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* Old credentials cannot nominate a new pair while the restart is pending. */
    ovl_addr_t tcp_addr = w.peer_addr;
    tcp_addr.port = 50001;
    struct req_opts old_nom = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    assert_int_equal(poke(&w, &old_nom, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    /* A check with the new credentials but no USE-CANDIDATE does not either. */
    struct req_opts new_check = {.username = "rLy2:pEe2", .pwd = "relay-password-second-gen"};
    assert_int_equal(poke(&w, &new_check, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_int_equal(ovl_ice_lite_selected(&w.relay, &sel), 0);
    assert_int_equal(sel.path_id, RELAY_PATH_UDP);

    /* The new session nominates over ICE-TCP: the pair switches, the old credentials die. */
    struct req_opts new_nom = {.username = "rLy2:pEe2", .pwd = "relay-password-second-gen", .use_candidate = true};
    assert_int_equal(poke(&w, &new_nom, &tcp_addr, RELAY_PATH_TCP, ans, &n, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(ev.path.path_id, RELAY_PATH_TCP);
    assert_true(ovl_addr_equal(&ev.path.addr, &tcp_addr));
    assert_int_equal(poke(&w, &old_nom, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 401, NULL);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &tcp_addr, RELAY_PATH_TCP));
    world_dispose(&w);
}

/* RFC 8445 §7.3.1.1: a peer that also claims the controlled role gets 487, with integrity. */
static void test_role_conflict_487(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;

    world_init(&w);
    struct req_opts o = {
        .username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true, .controlled = true};
    assert_int_equal(poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_STATE);
    assert_error_answer(ans, n, 487, RELAY_PWD);
    assert_int_equal(ev.type, OVL_ICE_EVENT_NONE);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* The same 487 fails the client's check (it has the matching transaction id). */
    uint8_t pkt[512];
    ovl_wbuf_t out;
    ovl_ice_path_t to;
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
    ovl_stun_msg_t m;
    assert_int_equal(ovl_stun_parse(pkt, out.len, &m), 0);
    ovl_stun_builder_t b;
    ovl_wbuf_init(&out, ans, sizeof(ans));
    ovl_stun_build_start(&b, &out, OVL_STUN_ERROR, OVL_STUN_BINDING, m.txid);
    ovl_stun_add_error_code(&b, 487, "Role Conflict");
    assert_int_equal(ovl_stun_build_finish(&b, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    assert_int_equal(ovl_ice_client_on_stun(&w.peer, ans, out.len, &w.relay_addr, PEER_PATH, w.now, &ev),
                     OVL_ERR_STATE);
    /* Its only check failed: the client reports failure at the next poll. */
    ovl_wbuf_init(&out, pkt, sizeof(pkt));
    assert_int_equal(ovl_ice_client_poll(&w.peer, w.now, &out, &to, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_FAILED);
    assert_int_equal(out.len, 0);
    world_dispose(&w);
}

/* RFC 8489 §6.3.1.1: unknown required attributes get 420 -- but only after authentication. */
static void test_unknown_attribute_420(void **state)
{
    (void)state;
    struct world w;
    uint8_t ans[512];
    size_t n;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;

    world_init(&w);
    struct req_opts o = {
        .username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true, .unknown_attr = true};
    assert_int_equal(poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_UNSUPPORTED);
    assert_error_answer(ans, n, 420, RELAY_PWD);
    assert_int_equal(ovl_stun_parse(ans, n, &m), 0);
    assert_true(m.has & OVL_STUN_HAS_UNKNOWN_ATTRIBUTES);
    /* UNKNOWN-ATTRIBUTES follows ERROR-CODE (4 + 4 + 17 bytes of "Unknown Attribute" + 3 of padding). */
    assert_int_equal(ovl_load_u16(ans + 20 + 4 + 24), OVL_STUN_ATTR_UNKNOWN_ATTRIBUTES);
    assert_int_equal(ovl_load_u16(ans + 20 + 4 + 24 + 2), 2);
    assert_int_equal(ovl_load_u16(ans + 20 + 4 + 24 + 4), 0x7f01);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    o.pwd = "wrong-password-0123456789";
    assert_int_equal(poke(&w, &o, &w.peer_addr, RELAY_PATH_UDP, ans, &n, &ev), OVL_ERR_AUTH);
    assert_error_answer(ans, n, 401, NULL);
    world_dispose(&w);
}

/* ICE-TCP (RFC 6544): the answer lands after the caller's 2-byte RFC 4571 prefix; indications are keepalives. */
static void test_lite_framing_and_indications(void **state)
{
    (void)state;
    struct world w;
    uint8_t req[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;

    world_init(&w);
    struct req_opts o = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    size_t n = make_request(req, sizeof(req), &o);
    ovl_wbuf_init(&out, ans, sizeof(ans));
    out.len = 2;
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, req, n, &w.peer_addr, RELAY_PATH_TCP, 0, &out, &ev), 0);
    assert_int_equal(ovl_stun_parse(ans + 2, out.len - 2, &m), 0);
    assert_int_equal(ovl_stun_check_integrity(&m, (const uint8_t *)RELAY_PWD, strlen(RELAY_PWD)), 0);
    uint8_t answer[512];
    size_t answer_len = m.len;
    memcpy(answer, ans + 2, answer_len);

    /* Too small for the answer: nothing written, but the check counted. */
    ovl_wbuf_init(&out, ans, 40);
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, req, n, &w.peer_addr, RELAY_PATH_UDP, 0, &out, &ev), OVL_ERR_LIMIT);
    assert_int_equal(out.len, 0);
    assert_true(ovl_ice_lite_is_trusted(&w.relay, &w.peer_addr, RELAY_PATH_UDP));

    /* A Binding indication (RFC 8445 §11 keepalive): nothing to answer, proves nothing. */
    ovl_stun_builder_t b;
    uint8_t ind[64], txid[12] = {0};
    ovl_wbuf_t iw;
    ovl_wbuf_init(&iw, ind, sizeof(ind));
    ovl_stun_build_start(&b, &iw, OVL_STUN_INDICATION, OVL_STUN_BINDING, txid);
    ovl_stun_build_finish(&b, NULL, 0);
    ovl_addr_t stranger;
    ovl_addr_parse(&stranger, "203.0.113.9", 9);
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, ind, iw.len, &stranger, RELAY_PATH_UDP, 0, &out, &ev), 0);
    assert_int_equal(out.len, 0);
    assert_false(ovl_ice_lite_is_trusted(&w.relay, &stranger, RELAY_PATH_UDP));

    /* Garbage and answers are dropped silently. */
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, req, n - 1, &stranger, RELAY_PATH_UDP, 0, &out, &ev),
                     OVL_ERR_PARSE);
    assert_int_equal(ovl_ice_lite_on_stun(&w.relay, answer, answer_len, &stranger, RELAY_PATH_UDP, 0, &out, &ev),
                     OVL_ERR_UNSUPPORTED);
    assert_int_equal(out.len, 0);
    world_dispose(&w);
}

/* Two minutes of calm: consent keeps both sides connected, the relay never times out. */
static void test_long_call_stays_up(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    run_until(&w, OVL_SEC(120));
    assert_int_equal(ovl_ice_lite_state(&w.relay), OVL_ICE_CONNECTED);
    assert_int_equal(ovl_ice_client_state(&w.peer), OVL_ICE_CONNECTED);
    assert_int_equal(w.relay_ev.type, OVL_ICE_EVENT_SELECTED);
    assert_int_equal(w.relay_ret, 0);
    assert_true(ovl_ice_lite_next_timeout(&w.relay) > OVL_SEC(120));
    world_dispose(&w);
}

/* A shared relay port: find the agent by the USERNAME's local ufrag, then hand it the parsed message. */
static void test_route_by_ufrag(void **state)
{
    (void)state;
    struct world w;
    uint8_t req[512], ans[512];
    ovl_wbuf_t out;
    ovl_ice_event_t ev;
    ovl_stun_msg_t m;
    ovl_stun_text_t ufrag;

    world_init(&w);
    struct req_opts o = {.username = RELAY_UFRAG ":" PEER_UFRAG, .pwd = RELAY_PWD, .use_candidate = true};
    size_t n = make_request(req, sizeof(req), &o);
    assert_int_equal(ovl_stun_parse(req, n, &m), 0);
    assert_int_equal(ovl_ice_username_local_ufrag(&m, &ufrag), 0);
    assert_int_equal(ufrag.len, strlen(RELAY_UFRAG));
    assert_memory_equal(ufrag.s, RELAY_UFRAG, ufrag.len);
    ovl_wbuf_init(&out, ans, sizeof(ans));
    assert_int_equal(ovl_ice_lite_on_stun_msg(&w.relay, &m, &w.peer_addr, RELAY_PATH_UDP, 0, &out, &ev), 0);
    assert_int_equal(ev.type, OVL_ICE_EVENT_SELECTED);
    assert_true(out.len > 0);

    struct req_opts nocolon = {.username = "rLy1pEer", .pwd = RELAY_PWD};
    n = make_request(req, sizeof(req), &nocolon);
    assert_int_equal(ovl_stun_parse(req, n, &m), 0);
    assert_int_equal(ovl_ice_username_local_ufrag(&m, &ufrag), OVL_ERR_NOTFOUND);
    struct req_opts anon = {.pwd = RELAY_PWD};
    n = make_request(req, sizeof(req), &anon);
    assert_int_equal(ovl_stun_parse(req, n, &m), 0);
    assert_int_equal(ovl_ice_username_local_ufrag(&m, &ufrag), OVL_ERR_NOTFOUND);
    world_dispose(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_answer_nominate),
        cmocka_unit_test(test_forged_integrity_refused),
        cmocka_unit_test(test_wrong_username_refused),
        cmocka_unit_test(test_untrusted_addresses_and_eviction),
        cmocka_unit_test(test_lite_consent_timeout),
        cmocka_unit_test(test_lite_tcp_path_closed),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_restart_keeps_pair_until_renomination),
        cmocka_unit_test(test_role_conflict_487),
        cmocka_unit_test(test_unknown_attribute_420),
        cmocka_unit_test(test_lite_framing_and_indications),
        cmocka_unit_test(test_long_call_stays_up),
        cmocka_unit_test(test_route_by_ufrag),
    };
    return cmocka_run_group_tests_name("ice lite (RFC 8445 §2.5, RFC 7675 consent)", tests, NULL, NULL);
}
