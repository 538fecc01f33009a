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
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodes } from './mediastats.mjs';

const root = process.getuid && process.getuid() === 0;
const tag = String(process.pid % 100000);
const NS_SRV = `ovl-ts${tag}`;
const NS_CLI = `ovl-tc${tag}`;
const SRV_IF = `osrv${tag}`;
const CLI_IF = `ocli${tag}`;
const SRV_IP = '10.211.0.1';
const CLI_IP = '10.211.0.2';
const here = path.dirname(fileURLToPath(import.meta.url));
let h; // the harness, imported once the wrappers are in place
let dir;
let srv;
let br;

const sh = (cmd, ...args) => execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });

function teardownNet() {
  for (const ns of [NS_CLI, NS_SRV]) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {
      /* not made */
    }
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  dir = null;
}
process.on('exit', teardownNet);

function setupNet() {
  sh('ip', 'netns', 'add', NS_SRV);
  sh('ip', 'netns', 'add', NS_CLI);
  sh('ip', 'link', 'add', SRV_IF, 'netns', NS_SRV, 'type', 'veth', 'peer', 'name', CLI_IF, 'netns', NS_CLI);
  for (const [ns, ifc, ip] of [[NS_SRV, SRV_IF, SRV_IP], [NS_CLI, CLI_IF, CLI_IP]]) {
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', ifc);
    sh('ip', '-n', ns, 'link', 'set', ifc, 'up');
  }
  // UDP blocked for the client, both ways (its own loopback too: nothing but TCP leaves or arrives).
  sh('ip', 'netns', 'exec', NS_CLI, 'iptables', '-A', 'OUTPUT', '-p', 'udp', '-j', 'DROP');
  sh('ip', 'netns', 'exec', NS_CLI, 'iptables', '-A', 'INPUT', '-p', 'udp', '-j', 'DROP');
  // The programs the harness starts, each inside its namespace (ip netns exec execs: same pid).
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovl-netns-'));
  const bin = process.env.OVERLEG_BIN || path.join(here, '../../build/overleg');
  const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
  const wrap = (name, ns, target) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, `#!/bin/sh\nexec ip netns exec ${ns} ${target} "$@"\n`, { mode: 0o755 });
    return p;
  };
  process.env.OVERLEG_BIN = wrap('overleg', NS_SRV, path.resolve(bin));
  process.env.CHROMIUM = wrap('chromium', NS_CLI, chromium);
}

before(async () => {
  if (!root) return;
  setupNet();
  h = await import('./harness.mjs');
  srv = await h.startServer({ OVERLEG_PUBLIC_IP: SRV_IP, OVERLEG_PUBLIC_HOST: SRV_IP }, { listenHost: '0.0.0.0' });
  br = await h.startBrowser();
});
after(async () => {
  if (h) await h.cleanup();
  teardownNet();
});

test('UDP dropped in a network namespace: two pages decode each other over ICE-TCP on the HTTPS port', async (t) => {
  if (!root) {
    t.skip('SKIPPED browser.tcp_netns "UDP dropped in a network namespace": needs root (network namespaces, iptables)');
    return;
  }
  const m = await srv.createMeeting({ title: 'UDP dicht' });
  const pages = [await br.person(m.host_link, { name: 'Ann', init: h.withoutTurn }), await br.person(m.guest_link, { name: 'Bob', init: h.withoutTurn })];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) {
    await decodes(page, ids.filter((_, j) => j !== i), ['video', 'audio'], 30000);
    await page.waitForFunction(() => document.querySelector('#path-label').textContent === 'TCP', null, { timeout: 15000 });
  }
  await h.screenshot(pages[0], 'tcp-netns-call.png');
});
