// Media over the HTTPS port when UDP is not allowed (issue 6): Chromium with the policy that
// locked-down desktops set, `--webrtc-ip-handling-policy=disable_non_proxied_udp` (it leaves only
// TCP paths: ENVIRONMENT.md), reaches the relay's passive ICE-TCP candidate (RFC 6544) on the same
// TCP port as HTTPS/WSS. Two such pages decode each other's audio and video through the relay,
// and the client reports the TCP path.
//
// Chromium's host candidates are interface addresses, not loopback: the server listens on every
// address and announces the machine's first non-loopback IPv4 address.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, cleanup, screenshot, interfaceAddress } from './harness.mjs';
import { decodes, selectedPath } from './mediastats.mjs';

// ICE-TCP only: the built-in TURN over TLS could carry the call too (browser.turn tests it).
const NO_TURN = { iceServers: [] };

let srv;
let br;

before(async () => {
  const ip = interfaceAddress();
  assert.ok(ip, 'a non-loopback IPv4 interface address for Chromium to reach');
  srv = await startServer({ OVERLEG_PUBLIC_IP: ip }, { listenHost: '0.0.0.0' });
  br = await startBrowser({ extraArgs: ['--webrtc-ip-handling-policy=disable_non_proxied_udp'] });
});
afterEach(async () => {
  await br.closeAll();
});
after(cleanup);

test('without UDP (disable_non_proxied_udp) two pages decode each other over ICE-TCP on the HTTPS port', async () => {
  const m = await srv.createMeeting({ title: 'Alleen TCP' });
  const pages = [await br.person(m.host_link, { name: 'Ann', rtc: NO_TURN }), await br.person(m.guest_link, { name: 'Bob', rtc: NO_TURN })];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) {
    await decodes(page, ids.filter((_, j) => j !== i), ['video', 'audio'], 20000);
    const pathNow = await selectedPath(page);
    assert.equal(pathNow.local, 'tcp', JSON.stringify(pathNow));
    assert.equal(pathNow.remote, 'tcp', JSON.stringify(pathNow));
    assert.equal(pathNow.port, srv.port, 'the relay candidate is on the HTTPS port');
    await page.waitForFunction(() => document.querySelector('#path-label').textContent === 'TCP', null, { timeout: 10000 });
  }
  await screenshot(pages[0], 'tcp-only-call.png');
});
