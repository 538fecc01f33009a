// A thin and lossy link (issue 6): the server runs in one network namespace, Chromium in another,
// joined by a veth pair (ends not named veth*: ENVIRONMENT.md). Each direction is shaped to
// 300 kbit/s by a tbf qdisc on the sending end's egress, and each receiving end drops 2 % of what
// arrives at random (nftables `numgen random mod 100 < 2` in an input hook; this kernel has no
// netem). Two pages (two persons of one browser, both in the client's namespace, so they share
// the link) join one meeting and stay in the call for 60 s. Every few seconds the test reads
// getStats() on both pages and prints a table, then asserts:
//   - audio: each page keeps receiving the other's audio in every interval, and less than 5 % of
//     it is concealed loss over the window;
//   - video: it may decode at a lower rate or pause (not asserted; the rate is printed);
//   - nobody is disconnected: both pages show the call view all the time, never reconnect or
//     rejoin, keep seeing each other, and the server logs exactly one join per person.
// Whether the client switched on its "Reduced mode" badge or proposed audio-only is printed.
//
// Needs root (namespaces, tc, nft): without it the test is reported as skipped, by name. The
// qdiscs, nft tables and namespaces are deleted when the suite ends, also when it fails or the
// process exits or is interrupted.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodes, linkSample } from './mediastats.mjs';
import { isRoot as root, netPair, sh, quiet } from './netns.mjs';

const net = netPair('l', '10.212.0');
const RATE = '300kbit'; // each direction
// Tokens for about 3 full-size packets at once; at most 80 ms of queue (about 3 KB at 300 kbit/s).
const BURST = '5kb';
const LATENCY = '80ms';
const LOSS_PCT = 2;
const CALL_MS = 60000;
const SAMPLE_MS = 5000;
const MAX_CONCEALED = 0.05;
const NFT_TABLE = 'ovl_thin';
let h; // the harness, imported once the wrappers are in place
let srv;
let br;

/** One end of the link: 300 kbit/s out of it, 2 % of what arrives on it lost. */
function shape(end) {
  // 300 kbit/s out of this end: the other end receives at most that.
  sh('tc', '-n', end.ns, 'qdisc', 'add', 'dev', end.ifc, 'root', 'tbf', 'rate', RATE, 'burst', BURST, 'latency', LATENCY);
  // 2 % of what arrives on this end is lost, every protocol (media, signaling, page load). On the
  // input hook: dropping on output makes sendto fail with EPERM instead of losing the packet.
  const rules = `table inet ${NFT_TABLE} {
    chain input {
      type filter hook input priority 0; policy accept;
      iifname "${end.ifc}" numgen random mod 100 < ${LOSS_PCT} counter drop
    }
  }`;
  const f = path.join(net.dir, `${end.ns}.nft`);
  fs.writeFileSync(f, rules);
  sh('ip', 'netns', 'exec', end.ns, 'nft', '-f', f);
}

/** What the link did: per end, packets nft dropped on arrival and the tbf's sent/dropped/overlimits. */
function linkCounters() {
  const out = {};
  for (const { ns, ifc } of net.ends) {
    const nft = quiet(() => sh('ip', 'netns', 'exec', ns, 'nft', 'list', 'table', 'inet', NFT_TABLE)) || '';
    const tc = quiet(() => sh('tc', '-s', '-n', ns, 'qdisc', 'show', 'dev', ifc)) || '';
    const m = nft.match(/counter packets (\d+)/);
    const s = tc.match(/Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/);
    out[ifc] = { lostOnArrival: m ? Number(m[1]) : null,
      tbf: s ? { bytes: Number(s[1]), pkts: Number(s[2]), dropped: Number(s[3]), overlimits: Number(s[4]) } : null };
  }
  return out;
}

// In the page: every 250 ms, note what the client went through (a 5-second sample could miss a
// short reconnect): phases, media states, ICE states, own ids, readings without the other person
// in the participant list or without the call view, the reduced-mode reasons and the banners shown.
function watch(other) {
  const w = { phases: {}, media: {}, ice: {}, ids: {}, otherMissing: 0, callHidden: 0, reduced: {}, badge: false, banners: {} };
  window.__thin = w;
  const bump = (o, k) => {
    o[k] = (o[k] || 0) + 1;
  };
  setInterval(() => {
    const s = window.overleg.state;
    bump(w.phases, s.phase);
    bump(w.media, s.mediaState);
    if (window.overleg.pc) bump(w.ice, window.overleg.pc.iceConnectionState);
    if (s.me) bump(w.ids, s.me.id);
    if (!s.people.some((p) => p.id === other)) w.otherMissing++;
    const call = document.querySelector('#call');
    if (call.hidden || !call.getClientRects().length) w.callHidden++;
    for (const r of s.reduced) bump(w.reduced, r);
    if (!document.querySelector('#reduced').hidden) w.badge = true;
    for (const b of document.querySelectorAll('[data-banner]')) bump(w.banners, b.dataset.banner);
  }, 250);
}

const pct = (x) => (x == null ? '–' : `${(x * 100).toFixed(1)}%`);
const kbps = (bytes, ms) => Math.round((bytes * 8) / ms);

/** The fraction of audio packets lost between readings `a` and `b` (before FEC and concealment). */
function lossOf(a, b) {
  const lost = b.audioLost - a.audioLost;
  const all = lost + b.audioPkts - a.audioPkts;
  return all > 0 ? lost / all : null;
}

/** One table row for a page between readings `a` and `b`. */
function row(name, t0, a, b) {
  const ms = b.t - a.t;
  const n = b.samples - a.samples;
  const lossy = b.concealed - b.silent - (a.concealed - a.silent);
  return [
    `${((b.t - t0) / 1000).toFixed(0).padStart(3)}s`, name.padEnd(3),
    `aud ${pct(n > 0 ? lossy / n : null).padStart(6)}`,
    `silent ${pct(n > 0 ? (b.silent - a.silent) / n : null).padStart(6)}`,
    `lost ${pct(lossOf(a, b)).padStart(6)}`,
    `vid ${((1000 * (b.frames - a.frames)) / ms).toFixed(1).padStart(4)} fps ${`${b.width}x${b.height}`.padEnd(7)}`,
    `in ${String(kbps(b.bytesIn - a.bytesIn, ms)).padStart(3)} out ${String(kbps(b.bytesOut - a.bytesOut, ms)).padStart(3)} kbit/s`,
    `est ${b.availOut == null ? '–' : Math.round(b.availOut / 1000)}`,
    `rtt ${b.rtt == null ? '–' : Math.round(b.rtt * 1000)} ms`, b.path || '–',
  ].join('  ');
}

before(async () => {
  if (!root) return;
  net.setup(shape);
  h = await import('./harness.mjs');
  const ip = net.srv.ip;
  srv = await h.startServer({ OVERLEG_PUBLIC_IP: ip, OVERLEG_PUBLIC_HOST: ip }, { listenHost: '0.0.0.0' });
  br = await h.startBrowser();
});
after(async () => {
  if (h) await h.cleanup();
  net.teardown(); // the qdiscs and nft tables go with the namespaces
});

test('300 kbit/s each way with 2 % loss for 60 s: audio stays clear, nobody is disconnected', async (t) => {
  if (!root) {
    t.skip('SKIPPED browser.thin_link "300 kbit/s with 2 % loss for 60 s": needs root (network namespaces, tc, nft)');
    return;
  }
  const tStart = Date.now();
  const m = await srv.createMeeting({ title: 'Dunne lijn' });
  const names = ['Ann', 'Bob'];
  // The page, the TLS handshakes and the join cross the thin, lossy link too: a minute each.
  const pages = [
    await br.person(m.host_link, { name: names[0], timeout: 60000 }),
    await br.person(m.guest_link, { name: names[1], timeout: 60000 }),
  ];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  for (const [i, page] of pages.entries()) await decodes(page, [ids[1 - i]], ['audio'], 30000);
  for (const [i, page] of pages.entries()) await page.evaluate(watch, ids[1 - i]);
  console.log(`THIN-LINK both pages in the call and hearing each other after ${((Date.now() - tStart) / 1000).toFixed(1)} s`);

  // The call: a reading of both pages every SAMPLE_MS, the call view checked each time.
  const first = [];
  for (const p of pages) first.push(await linkSample(p));
  const t0 = first[0].t;
  const rows = [];
  const stalls = [];
  let prev = first;
  for (let k = 1; k <= CALL_MS / SAMPLE_MS; k++) {
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + k * SAMPLE_MS - Date.now())));
    const cur = [];
    for (const [i, p] of pages.entries()) {
      // Generous: on a loaded machine Playwright itself can take seconds; the watcher below checks
      // the call view every 250 ms inside the page.
      await h.waitScreen(p, 'call', 10000);
      cur.push(await linkSample(p));
      rows.push(row(names[i], t0, prev[i], cur[i]));
      console.log(rows[rows.length - 1]);
      if (!(cur[i].samples > prev[i].samples)) stalls.push(`${names[i]} at ${Math.round((cur[i].t - t0) / 1000)} s`);
    }
    prev = cur;
  }

  // Summary per page over the whole window.
  const seen = [];
  for (const p of pages) seen.push(await p.evaluate(() => window.__thin));
  const result = pages.map((_, i) => {
    const a = first[i];
    const b = prev[i];
    const ms = b.t - a.t;
    const n = b.samples - a.samples;
    // Concealment that stands for lost audio. concealedSamples also counts the comfort noise
    // NetEq plays while the sender is in DTX (Opus discontinuous transmission: during silence
    // the sender stops sending packets, on purpose); webrtc-stats counts those in
    // silentConcealedSamples. That is no loss, so it is subtracted. What is left follows the
    // packets lost end to end: two lossy hops (sender -> relay, relay -> receiver) lose about
    // 4 % together, less what Opus in-band FEC restores; the relay does not repair audio.
    const lossy = b.concealed - b.silent - (a.concealed - a.silent);
    return { page: names[i], ms, concealed: n > 0 ? lossy / n : 1, silent: n > 0 ? (b.silent - a.silent) / n : 0,
      audioLost: lossOf(a, b),
      fps: (1000 * (b.frames - a.frames)) / ms, frame: `${b.width}x${b.height}`,
      inKbps: kbps(b.bytesIn - a.bytesIn, ms), outKbps: kbps(b.bytesOut - a.bytesOut, ms), path: b.path,
      ...seen[i] };
  });
  const link = linkCounters();
  console.log(`THIN-LINK summary ${JSON.stringify(result)}`);
  console.log(`THIN-LINK link ${JSON.stringify(link)}`);
  console.log(`THIN-LINK server log:\n${srv.log().trim()}`);
  for (const r of result) {
    console.log(`THIN-LINK ${r.page}: audio concealed ${pct(r.concealed)} (silent ${pct(r.silent)}, packets lost ${pct(r.audioLost)}), video ${r.fps.toFixed(1)} fps ` +
      `${r.frame}, in ${r.inKbps} out ${r.outKbps} kbit/s, path ${r.path}, reduced-mode badge ${r.badge ? 'shown' : 'not shown'} ` +
      `${JSON.stringify(r.reduced)}, banners ${JSON.stringify(r.banners)}`);
  }
  await h.screenshot(pages[0], 'thin-link-call.png');

  // The link really was thin and lossy (else the test proves nothing).
  for (const [ifc, c] of Object.entries(link)) {
    assert.ok(c.lostOnArrival > 0, `nft dropped packets arriving on ${ifc}: ${JSON.stringify(c)}`);
    assert.ok(c.tbf && c.tbf.overlimits > 0, `the tbf on ${ifc} limited the rate: ${JSON.stringify(c)}`);
  }
  // Nobody was disconnected: always in the call, never reconnecting, one id, both seen.
  for (const r of result) {
    assert.deepEqual(Object.keys(r.phases), ['call'], `${r.page} stayed in the call: ${JSON.stringify(r.phases)}`);
    assert.equal(Object.keys(r.ids).length, 1, `${r.page} kept one participant id: ${JSON.stringify(r.ids)}`);
    assert.equal(r.otherMissing, 0, `${r.page} saw the other person all the time`);
    assert.equal(r.callHidden, 0, `${r.page} showed the call view all the time`);
    assert.ok(!r.banners.reconnect, `${r.page} never showed the reconnect banner: ${JSON.stringify(r.banners)}`);
  }
  // The server saw each person join once (a drop and rejoin would log a second join) and logged
  // nobody leaving, failing or being refused.
  const log = srv.log().split('\n').filter((l) => l.trim());
  const joins = log.filter((l) => /\sjoin\s/.test(l));
  assert.equal(joins.length, 2, `two joins in the server log:\n${log.join('\n')}`);
  const gone = log.filter((l) => /\b(leave|left|media-failed|join-refused|ws-refused)\b/.test(l));
  assert.deepEqual(gone, [], 'nobody left, failed or was refused (server log)');
  // Audio: received in every interval, and concealed (lossy) below the bound.
  assert.deepEqual(stalls, [], 'audio samples grew in every interval');
  for (const r of result) {
    assert.ok(r.concealed < MAX_CONCEALED,
      `${r.page}: ${pct(r.concealed)} of received audio concealed over ${Math.round(r.ms / 1000)} s (bound ${pct(MAX_CONCEALED)})`);
  }
});
