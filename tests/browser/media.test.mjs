// NOT REGISTERED IN CTEST YET. These tests need the media relay (issue 4), which is not on main:
// today the server answers `offer` with error media-unavailable and they fail by design. The day
// the relay lands, add `media` to the foreach() in tests/browser/CMakeLists.txt. Run by hand:
//   cd tests/browser && OVERLEG_BIN=../../build/overleg node --test media.test.mjs
//
// Audio and video between real browser pages through the relay: three pages decode each other
// (getStats: framesDecoded and totalSamplesReceived grow within 10 s), mute stops outbound audio,
// a screen share appears large in the others, the media path is shown, and a browser page and
// `overleg-peer` (the C peer of issue 4) decode each other.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, startBrowser, cleanup, screenshot, within, root } from './harness.mjs';

let srv;
let br;

before(async () => {
  srv = await startServer();
  br = await startBrowser();
});
afterEach(async () => {
  await br.closeAll();
});
after(cleanup);

/** Per remote participant on `page`: {pid: {video, screen, audio}} with frames decoded / samples received. */
function inbound(page) {
  return page.evaluate(async () => {
    const pc = window.overleg.pc;
    const out = {};
    if (!pc) return out;
    const owner = new Map(window.overleg.receivers.map((r) => [r.trackId, r]));
    (await pc.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      const o = owner.get(s.trackIdentifier);
      if (!o) return;
      out[o.pid] = out[o.pid] || {};
      out[o.pid][o.kind] = s.kind === 'video' ? s.framesDecoded || 0 : s.totalSamplesReceived || 0;
    });
    return out;
  });
}

function outboundAudioPackets(page) {
  return page.evaluate(async () => {
    let n = 0;
    (await window.overleg.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'audio') n += s.packetsSent || 0;
    });
    return n;
  });
}

/** Waits until every pid in `pids` has each of `kinds` growing on `page` (two readings apart). */
async function decodes(page, pids, kinds, ms = 10000) {
  const t0 = Date.now();
  let first = null;
  let last = {};
  while (Date.now() - t0 < ms) {
    last = await inbound(page);
    const ok = (snap, base) => pids.every((pid) => kinds.every((k) => snap[pid] && snap[pid][k] > (base ? (base[pid] || {})[k] || 0 : 0)));
    if (!first && ok(last)) first = last;
    else if (first && ok(last, first)) return last;
    await page.waitForTimeout(500);
  }
  assert.fail(`decoding ${kinds.join('+')} from ${pids.join(', ')} within ${ms} ms; got ${JSON.stringify(last)}`);
  return last;
}

async function threePeople(title) {
  const m = await srv.createMeeting({ title });
  const pages = [await br.person(m.host_link, { name: 'Ann' }), await br.person(m.guest_link, { name: 'Bob' }),
    await br.person(m.guest_link, { name: 'Carla' })];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  return { m, pages, ids };
}

test('three pages decode each other\'s video and audio within 10 s', async () => {
  const { pages, ids } = await threePeople('Media');
  for (const [i, page] of pages.entries()) {
    const others = ids.filter((_, j) => j !== i);
    await decodes(page, others, ['video', 'audio']);
    await page.waitForFunction(() => document.querySelectorAll('#stage .tile[data-kind="camera"].has-video').length === 3, null, { timeout: 10000 });
  }
  await screenshot(pages[0], 'three-person-call-media.png');
});

test('the media path and connection quality are shown', async () => {
  const { pages } = await threePeople('Pad');
  await pages[0].waitForFunction(() => /^(UDP|TCP|TURN\/(UDP|TCP|TLS))$/.test(document.querySelector('#path-label').textContent), null, { timeout: 10000 });
  const grade = await pages[0].locator('#quality .bars').getAttribute('data-grade');
  assert.ok(['good', 'fair', 'poor'].includes(grade), grade);
});

test('mute stops outbound audio and shows in the others', async () => {
  const { pages, ids } = await threePeople('Mute media');
  const [ann, bob] = pages;
  await decodes(bob, [ids[0]], ['audio']);
  await ann.getByRole('button', { name: 'Mute' }).click();
  await ann.waitForTimeout(800);
  const a = await outboundAudioPackets(ann);
  await ann.waitForTimeout(1500);
  const b = await outboundAudioPackets(ann);
  assert.equal(b, a, `no audio packets leave while muted (${a} -> ${b})`);
  await bob.locator('#stage .tile[data-kind="camera"]', { hasText: 'Ann' }).locator('.mic-state').waitFor({ state: 'visible', timeout: 10000 });
  await ann.getByRole('button', { name: 'Unmute' }).click();
  await ann.waitForTimeout(1200);
  assert.ok((await outboundAudioPackets(ann)) > b, 'audio flows again after unmuting');
});

test('a screen share appears large in the others', async () => {
  const { pages, ids } = await threePeople('Scherm');
  const [ann, bob, carla] = pages;
  await ann.getByRole('button', { name: 'Share screen' }).click();
  for (const page of [bob, carla]) {
    await decodes(page, [ids[0]], ['screen']);
    await page.locator('#grid .tile.screen.main.has-video').waitFor({ timeout: 10000 });
  }
  await screenshot(bob, 'screen-share.png');
  // Stopping is replaceTrack(null): nothing tells the receivers (no RTCP BYE, the track does not
  // mute). This expects the relay to retire the screen section when the sharer's screen RTP stops
  // (or the protocol to carry the share state; see the report of issue 5).
  await ann.getByRole('button', { name: 'Stop sharing' }).click();
  await bob.locator('#stage .tile.screen').waitFor({ state: 'detached', timeout: 15000 });
});

test('a browser page and overleg-peer decode each other', async (t) => {
  const peerBin = path.join(path.dirname(process.env.OVERLEG_BIN || path.join(root, 'build/overleg')), 'overleg-peer');
  if (!fs.existsSync(peerBin)) {
    t.skip(`${peerBin} is not built`);
    return;
  }
  const m = await srv.createMeeting({ title: 'Interop' });
  const page = await br.person(m.host_link, { name: 'Ann' });
  const peer = spawn(peerBin, ['--link', m.guest_link, '--insecure', '--name', 'Peer', '--expect-peers', '1',
    '--duration', '15', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  peer.stdout.on('data', (d) => {
    out += d;
  });
  try {
    await page.waitForFunction(() => window.overleg.state.people.length === 1, null, { timeout: 10000 });
    const pid = await page.evaluate(() => window.overleg.state.people[0].id);
    await decodes(page, [pid], ['video', 'audio']);
    const code = await within(30000, new Promise((r) => peer.once('exit', r)), 'overleg-peer to finish');
    assert.equal(code, 0, `overleg-peer decoded the browser's audio and video: ${out}`);
  } finally {
    if (peer.exitCode == null) peer.kill('SIGKILL');
  }
});
