// Media over the HTTPS port when the network drops UDP (issue 6): the server runs in one network
// namespace, Chromium (no special flags) in another, joined by a veth pair (ends not named veth*:
// ENVIRONMENT.md), with every UDP packet dropped by iptables in the client's namespace. Two pages
// decode each other's audio and video through the relay's passive ICE-TCP candidate on the HTTPS
// port, and the client reports the TCP path.
//
// Needs root (namespaces, iptables): without it the test is reported as skipped, by name. The
// namespaces (and with them the veth pair and the rules) are deleted when the suite ends, also
// when it fails or the process exits.

import { test, before, after } from 'node:test';
import { decodes } from './mediastats.mjs';
import { isRoot as root, netPair, sh } from './netns.mjs';

// ICE-TCP only: the built-in TURN over TLS could carry the call too (browser.turn tests it).
const NO_TURN = { iceServers: [] };

const net = netPair('o', '10.211.0');
let h; // the harness, imported once the wrappers are in place
let srv;
let br;

before(async () => {
  if (!root) return;
  net.setup();
  // UDP blocked for the client, both ways (its own loopback too: nothing but TCP leaves or arrives).
  sh('ip', 'netns', 'exec', net.cli.ns, 'iptables', '-A', 'OUTPUT', '-p', 'udp', '-j', 'DROP');
  sh('ip', 'netns', 'exec', net.cli.ns, 'iptables', '-A', 'INPUT', '-p', 'udp', '-j', 'DROP');
  h = await import('./harness.mjs');
  const ip = net.srv.ip;
  srv = await h.startServer({ OVERLEG_PUBLIC_IP: ip, OVERLEG_PUBLIC_HOST: ip }, { listenHost: '0.0.0.0' });
  br = await h.startBrowser();
});
after(async () => {
  if (h) await h.cleanup();
  net.teardown();
});

test('UDP dropped in a network namespace: two pages decode each other over ICE-TCP on the HTTPS port', async (t) => {
  if (!root) {
    t.skip('SKIPPED browser.tcp_netns "UDP dropped in a network namespace": needs root (network namespaces, iptables)');
    return;
  }
  const m = await srv.createMeeting({ title: 'UDP dicht' });
  const pages = [await br.person(m.host_link, { name: 'Ann', rtc: NO_TURN }), await br.person(m.guest_link, { name: 'Bob', rtc: NO_TURN })];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) {
    await decodes(page, ids.filter((_, j) => j !== i), ['video', 'audio'], 30000);
    await page.waitForFunction(() => document.querySelector('#path-label').textContent === 'TCP', null, { timeout: 15000 });
  }
  await h.screenshot(pages[0], 'tcp-netns-call.png');
});
