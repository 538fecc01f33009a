// TURN over TLS on the HTTPS port (issue 6, RFC 8656): the server's welcome hands out
// `turns:PUBLIC_HOST:PORT?transport=tcp` with REST credentials; Chromium, forced to relayed
// candidates only (iceTransportPolicy 'relay', set by an init script that wraps
// RTCPeerConnection), allocates on the built-in TURN server over TLS on the same port as HTTPS/WSS
// (`--ignore-certificate-errors` accepts the self-signed certificate for TURN, as a trusted
// certificate would in production). Two such pages decode each other's audio and video through
// the relay, and the client reports the TURN/TLS path.
//
// Chromium's host candidates are interface addresses, not loopback: the server listens on every
// address and announces the machine's first non-loopback IPv4 address.
//
// The relay hands allocations' datagrams straight to the media worker that owns the address they
// are sent to (no UDP socket, no second trip through the kernel), so the relayed address Chromium
// learns (XOR-RELAYED-ADDRESS: the relay's address, a port per allocation) is the very address the
// relay's ICE sees the checks come from: the selected local candidate is 'relay', never 'prflx'.
// The second test proves that nothing goes through the network on the relay's side: the relay
// announces a TEST-NET-1 address (RFC 5737, 192.0.2.1) that exists nowhere, as a relay behind a
// NAT without hairpinning would, and relay-only clients still decode each other.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, cleanup, screenshot, interfaceAddress } from './harness.mjs';
import { decodes, selectedPath } from './mediastats.mjs';

let srv;
let br;

before(async () => {
  const ip = interfaceAddress();
  assert.ok(ip, 'a non-loopback IPv4 interface address for Chromium to reach');
  srv = await startServer({ OVERLEG_PUBLIC_IP: ip }, { listenHost: '0.0.0.0' });
  srv.ip = ip;
  br = await startBrowser({ extraArgs: ['--ignore-certificate-errors'] });
});
afterEach(async () => {
  await br.closeAll();
});
after(cleanup);

/** The selected pair's local (relayed) and remote candidate addresses. */
function pairAddresses(page) {
  return page.evaluate(async () => {
    const r = await window.overleg.pc.getStats();
    let pair = null;
    r.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = r.get(s.selectedCandidatePairId);
    });
    const l = (pair && r.get(pair.localCandidateId)) || {};
    const rem = (pair && r.get(pair.remoteCandidateId)) || {};
    return { local: l.address, localPort: l.port, remote: rem.address, remotePort: rem.port };
  });
}

/** The value of one Prometheus series in `text` (exact name and labels), or NaN. */
function metric(text, series) {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return NaN;
}

/** Relayed candidates only, in every RTCPeerConnection of a page. */
const RELAY_ONLY = { iceTransportPolicy: 'relay' };

test('relay-only clients decode each other through TURN over TLS on the HTTPS port', async () => {
  const m = await srv.createMeeting({ title: 'Via TURN' });
  const pages = [
    await br.person(m.host_link, { name: 'Ann', rtc: RELAY_ONLY }),
    await br.person(m.guest_link, { name: 'Bob', rtc: RELAY_ONLY }),
  ];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) {
    await decodes(page, ids.filter((_, j) => j !== i), ['video', 'audio'], 30000);
    const pathNow = await selectedPath(page);
    // The relay's ICE sees the checks come from the relayed address itself (no UDP hop).
    assert.equal(pathNow.localType, 'relay', JSON.stringify(pathNow));
    const addrs = await pairAddresses(page);
    assert.equal(addrs.local, srv.ip, `the relayed address is the relay's own: ${JSON.stringify(addrs)}`);
    assert.equal(pathNow.relayProtocol, 'tls', JSON.stringify(pathNow));
    assert.equal(pathNow.url, `turns:127.0.0.1:${srv.port}?transport=tcp`, 'the built-in TURN server on the HTTPS port');
    assert.equal(pathNow.remote, 'udp', 'the relay is reached from the TURN allocation over UDP');
    await page.waitForFunction(() => document.querySelector('#path-label').textContent === 'TURN/TLS', null, { timeout: 10000 });
  }
  await screenshot(pages[0], 'turn-tls-call.png');
});

test('relay-only clients decode each other when the relay announces an address it cannot reach (no hairpin)', async () => {
  // 192.0.2.1 (TEST-NET-1) is announced as the relay's media address: no UDP datagram can reach
  // it, from the browser or from the relay itself. TURN is reached at 127.0.0.1 (PUBLIC_HOST).
  const hidden = await startServer({ OVERLEG_PUBLIC_IP: '192.0.2.1', OVERLEG_MEDIA_WORKERS: '2' });
  const m = await hidden.createMeeting({ title: 'Behind a NAT without hairpin' });
  const pages = [
    await br.person(m.host_link, { name: 'Ann', rtc: RELAY_ONLY }),
    await br.person(m.guest_link, { name: 'Bob', rtc: RELAY_ONLY }),
  ];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) {
    await decodes(page, ids.filter((_, j) => j !== i), ['video', 'audio'], 30000);
    const pathNow = await selectedPath(page);
    assert.equal(pathNow.localType, 'relay', JSON.stringify(pathNow));
    assert.equal(pathNow.url, `turns:127.0.0.1:${hidden.port}?transport=tcp`);
    const addrs = await pairAddresses(page);
    assert.equal(addrs.local, '192.0.2.1', `relayed address: the announced one, ${JSON.stringify(addrs)}`);
    assert.equal(addrs.remote, '192.0.2.1', `the relay's candidate: ${JSON.stringify(addrs)}`);
  }
  // /metrics: the TURN counters moved, and the media came through the allocations, not the sockets.
  const text = await pages[0].evaluate(() => fetch('/metrics').then((r) => r.text()));
  assert.ok(metric(text, 'overleg_turn_allocations') >= 2, 'two allocations active');
  assert.ok(metric(text, 'overleg_turn_allocations_total') >= 2, 'allocations made');
  assert.ok(metric(text, 'overleg_turn_refused_total{code="401"}') >= 2, 'the first Allocate of each is challenged');
  assert.ok(metric(text, 'overleg_turn_permissions_total') + metric(text, 'overleg_turn_channel_binds_total') >= 2);
  assert.ok(metric(text, 'overleg_turn_relayed_packets_total{direction="to_relay"}') > 100, 'client to relay');
  assert.ok(metric(text, 'overleg_turn_relayed_packets_total{direction="to_client"}') > 100, 'relay to client');
  // Seconds of audio and video, not only STUN and the DTLS handshakes (a few kB per client).
  assert.ok(metric(text, 'overleg_turn_relayed_bytes_total{direction="to_client"}') > 30000, 'media bytes');
  let viaTurn = 0;
  for (const w of ['0', '1']) {
    viaTurn += metric(text, `overleg_media_turn_received_packets_total{worker="${w}"}`);
    assert.equal(metric(text, `overleg_media_udp_received_packets_total{worker="${w}"}`), 0, 'no UDP hop');
  }
  assert.ok(viaTurn > 100, 'datagrams handed straight to the worker');
  await screenshot(pages[0], 'turn-no-hairpin.png');
});
