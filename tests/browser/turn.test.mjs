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
  br = await startBrowser({ extraArgs: ['--ignore-certificate-errors'] });
});
afterEach(async () => {
  await br.closeAll();
});
after(cleanup);

/** Runs in the page before the client: every RTCPeerConnection uses relayed candidates only. */
function relayOnly() {
  const Orig = window.RTCPeerConnection;
  window.RTCPeerConnection = function (cfg, ...rest) {
    return new Orig({ ...(cfg || {}), iceTransportPolicy: 'relay' }, ...rest);
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
}

test('relay-only clients decode each other through TURN over TLS on the HTTPS port', async () => {
  const m = await srv.createMeeting({ title: 'Via TURN' });
  const pages = [
    await br.person(m.host_link, { name: 'Ann', init: relayOnly }),
    await br.person(m.guest_link, { name: 'Bob', init: relayOnly }),
  ];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) {
    await decodes(page, ids.filter((_, j) => j !== i), ['video', 'audio'], 30000);
    const pathNow = await selectedPath(page);
    // 'relay', or 'prflx' learned on the TURN port: the relay sees the allocation's UDP socket.
    assert.ok(['relay', 'prflx'].includes(pathNow.localType), JSON.stringify(pathNow));
    assert.equal(pathNow.relayProtocol, 'tls', JSON.stringify(pathNow));
    assert.equal(pathNow.url, `turns:127.0.0.1:${srv.port}?transport=tcp`, 'the built-in TURN server on the HTTPS port');
    assert.equal(pathNow.remote, 'udp', 'the relay is reached from the TURN allocation over UDP');
    await page.waitForFunction(() => document.querySelector('#path-label').textContent === 'TURN/TLS', null, { timeout: 10000 });
  }
  await screenshot(pages[0], 'turn-tls-call.png');
});
