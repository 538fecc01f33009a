// Audio and video between real browser pages through the relay (`overleg serve`): three pages
// decode each other (getStats: framesDecoded and totalSamplesReceived grow within 10 s), mute stops
// outbound audio, a screen share appears large in the others and goes away when it stops (the
// share's state travels as `mute {kind: "screen"}`, PROTOCOL.md), the media path is shown.
// The browser <-> overleg-peer test is in peer.test.mjs.
// Run by hand: cd tests/browser && OVERLEG_BIN=../../build/overleg node --test media.test.mjs
//
// Waits are bounded and generous (a loaded 2-core machine runs three Chromium pages here); no
// sleep is an assertion except the "no audio leaves while muted" window, which measures a counter.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, cleanup, screenshot } from './harness.mjs';
import { decodes } from './mediastats.mjs';

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

function outboundAudioPackets(page) {
  return page.evaluate(async () => {
    let n = 0;
    (await window.overleg.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'audio') n += s.packetsSent || 0;
    });
    return n;
  });
}

async function threePeople(title) {
  const m = await srv.createMeeting({ title });
  const pages = [await br.person(m.host_link, { name: 'Ann' }), await br.person(m.guest_link, { name: 'Bob' }),
    await br.person(m.guest_link, { name: 'Carla' })];
  const ids = [];
  for (const p of pages) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  return { m, pages, ids };
}

test('three pages decode each other\'s video and audio (bounded at 20 s per page)', async () => {
  const { pages, ids } = await threePeople('Media');
  for (const [i, page] of pages.entries()) {
    const others = ids.filter((_, j) => j !== i);
    await decodes(page, others, ['video', 'audio'], 20000);
    await page.waitForFunction(() => document.querySelectorAll('#stage .tile[data-kind="camera"].has-video').length === 3, null, { timeout: 20000 });
  }
  await screenshot(pages[0], 'three-person-call-media.png');
});

test('the media path and connection quality are shown', async () => {
  const { pages } = await threePeople('Pad');
  await pages[0].waitForFunction(() => /^(UDP|TCP|TURN\/(UDP|TCP|TLS))$/.test(document.querySelector('#path-label').textContent), null, { timeout: 20000 });
  const grade = await pages[0].locator('#quality .bars').getAttribute('data-grade');
  assert.ok(['good', 'fair', 'poor'].includes(grade), grade);
});

test('mute stops outbound audio and shows in the others', async () => {
  const { pages, ids } = await threePeople('Mute media');
  const [ann, bob] = pages;
  await decodes(bob, [ids[0]], ['audio'], 20000);
  await ann.getByRole('button', { name: 'Mute' }).click();
  await ann.waitForTimeout(800);
  const a = await outboundAudioPackets(ann);
  await ann.waitForTimeout(1500);
  const b = await outboundAudioPackets(ann);
  assert.equal(b, a, `no audio packets leave while muted (${a} -> ${b})`);
  await bob.locator('#stage .tile[data-kind="camera"]', { hasText: 'Ann' }).locator('.mic-state').waitFor({ state: 'visible', timeout: 15000 });
  await ann.getByRole('button', { name: 'Unmute' }).click();
  await ann.waitForTimeout(1200);
  assert.ok((await outboundAudioPackets(ann)) > b, 'audio flows again after unmuting');
});

test('a screen share appears large in the others and goes away when it stops', async () => {
  const { pages, ids } = await threePeople('Scherm');
  const [ann, bob, carla] = pages;
  await ann.getByRole('button', { name: 'Share screen' }).click();
  for (const page of [bob, carla]) {
    await decodes(page, [ids[0]], ['screen'], 20000);
    await page.locator('#grid .tile.screen.main.has-video').waitFor({ timeout: 20000 });
  }
  await screenshot(bob, 'screen-share.png');
  // Stopping sends nothing on the media path (replaceTrack(null)); the share's state travels as
  // mute {kind: "screen", muted: true} and the others take the tile away at once.
  await ann.getByRole('button', { name: 'Stop sharing' }).click();
  for (const page of [bob, carla]) {
    await page.locator('#stage .tile.screen').waitFor({ state: 'detached', timeout: 15000 });
    await page.waitForFunction(() => document.querySelectorAll('#grid .tile.main[data-kind="camera"]').length >= 2, null, { timeout: 10000 });
  }
  // Sharing again brings it back (the relay reuses the same section).
  await ann.getByRole('button', { name: 'Share screen' }).click();
  await bob.locator('#grid .tile.screen.main.has-video').waitFor({ timeout: 20000 });
});
