// Thin and slow links, the client's part (issue 6): the audio-only mode a person switches on (no
// camera out, received camera video off; audio keeps flowing both ways; back on restores video),
// the reduced-mode indicator (media over TCP or TURN, low bandwidth, audio only), and the client
// proposing audio-only by itself when video cannot keep up. A loopback call is a good link, so the
// bad path and bad readings are forced through the client's own hook, window.overleg.simulate(),
// which overrides what the next stats readings say (only what is shown; no media is touched).
// Every wait is bounded and generous (a loaded 2-core machine).

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, cleanup, screenshot } from './harness.mjs';
import { decodes, inbound } from './mediastats.mjs';

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

async function twoPeople(title) {
  const m = await srv.createMeeting({ title });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob' });
  const ids = [];
  for (const p of [ann, bob]) ids.push(await p.evaluate(() => window.overleg.state.me.id));
  return { ann, bob, ids };
}

function outboundVideoFrames(page) {
  return page.evaluate(async () => {
    let n = 0;
    (await window.overleg.pc.getStats()).forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') n += s.framesEncoded || 0;
    });
    return n;
  });
}

test('audio only stops video both ways, keeps audio, and comes back', async () => {
  const { ann, bob, ids } = await twoPeople('Audio only');
  await decodes(ann, [ids[1]], ['video', 'audio'], 20000);
  await decodes(bob, [ids[0]], ['video', 'audio'], 20000);
  await ann.getByRole('button', { name: 'Audio only' }).click();
  assert.equal(await ann.evaluate(() => window.overleg.state.audioOnly), true);
  // Outbound: the camera sender carries no track, so no frame is encoded any more.
  await ann.waitForFunction(() => window.overleg.pc.getTransceivers().filter((t) => t.sender.track && t.sender.track.kind === 'video').length === 0,
    null, { timeout: 10000 });
  // Inbound: every received camera track is switched off and not shown.
  const recv = await ann.evaluate(() => window.overleg.receivers.filter((r) => r.kind === 'video'));
  assert.ok(recv.length >= 1 && recv.every((r) => !r.enabled), `received camera tracks disabled: ${JSON.stringify(recv)}`);
  await ann.waitForFunction(() => document.querySelectorAll('#stage .tile[data-kind="camera"].has-video').length === 0, null, { timeout: 10000 });
  // The others see Ann's camera off (signaled, not guessed).
  await bob.waitForFunction((pid) => window.overleg.state.people.some((p) => p.id === pid && p.video_muted), ids[0], { timeout: 10000 });
  await bob.waitForFunction((pid) => {
    const t = document.querySelector(`#stage .tile[data-kind="camera"][data-pid="${pid}"]`);
    return t && !t.classList.contains('has-video');
  }, ids[0], { timeout: 10000 });
  const f1 = await outboundVideoFrames(ann);
  // Audio goes on both ways, and the mode shows.
  await decodes(ann, [ids[1]], ['audio'], 20000);
  await decodes(bob, [ids[0]], ['audio'], 20000);
  assert.equal(await outboundVideoFrames(ann), f1, 'no camera frames encoded in audio-only mode');
  await ann.locator('#reduced').waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await ann.locator('#reduced').getAttribute('aria-label'), /audio only/);
  assert.equal(await ann.getByRole('button', { name: 'Turn video on' }).getAttribute('aria-pressed'), 'true');
  await screenshot(ann, 'audio-only.png');
  // Back on: video flows again both ways.
  await ann.getByRole('button', { name: 'Turn video on' }).click();
  await decodes(bob, [ids[0]], ['video'], 20000);
  await decodes(ann, [ids[1]], ['video'], 20000);
  await ann.waitForFunction(() => document.querySelectorAll('#stage .tile[data-kind="camera"].has-video').length === 2, null, { timeout: 15000 });
  await bob.waitForFunction((pid) => window.overleg.state.people.some((p) => p.id === pid && !p.video_muted), ids[0], { timeout: 10000 });
  await ann.locator('#reduced').waitFor({ state: 'hidden', timeout: 15000 });
});

test('the reduced-mode indicator shows a TCP or TURN path and low bandwidth', async () => {
  const { ann } = await twoPeople('Reduced');
  await ann.waitForFunction(() => /^UDP$/.test(document.querySelector('#path-label').textContent), null, { timeout: 20000 });
  assert.equal(await ann.locator('#reduced').isHidden(), true, 'a UDP path on a good link is not reduced');
  await ann.evaluate(() => window.overleg.simulate({ path: 'TCP' }));
  await ann.locator('#reduced').waitFor({ state: 'visible', timeout: 10000 });
  assert.match(await ann.locator('#reduced').getAttribute('aria-label'), /media over TCP/);
  assert.equal(await ann.locator('#path-label').textContent(), 'TCP');
  await ann.evaluate(() => window.overleg.simulate({ path: 'TURN/TLS' }));
  await ann.waitForFunction(() => /TURN \(TLS\)/.test(document.querySelector('#reduced').getAttribute('aria-label')), null, { timeout: 10000 });
  await ann.evaluate(() => window.overleg.simulate({ availableOutBps: 120000 }));
  await ann.waitForFunction(() => /low bandwidth/.test(document.querySelector('#reduced').getAttribute('aria-label') || ''), null, { timeout: 40000 });
  await ann.evaluate(() => window.overleg.simulate(null));
  await ann.locator('#reduced').waitFor({ state: 'hidden', timeout: 10000 });
});

test('the client proposes audio only when video cannot keep up, and the proposal can be dismissed', async () => {
  const { ann, bob } = await twoPeople('Dun lijntje');
  for (const page of [ann, bob]) await page.evaluate(() => window.overleg.simulate({ loss: 0.25 }));
  const bannerOf = (page) => page.locator('[data-banner="audio-only"]');
  // Dismissed: the banner goes and the mode stays as it was.
  await bannerOf(ann).waitFor({ state: 'visible', timeout: 20000 });
  assert.match(await bannerOf(ann).textContent(), /Video cannot keep up/);
  await bannerOf(ann).getByRole('button', { name: 'Not now' }).click();
  await bannerOf(ann).waitFor({ state: 'detached', timeout: 5000 });
  assert.equal(await ann.evaluate(() => window.overleg.state.audioOnly), false);
  // Accepted: audio-only is on.
  await bannerOf(bob).waitFor({ state: 'visible', timeout: 20000 });
  await bannerOf(bob).getByRole('button', { name: 'Switch to audio only' }).click();
  await bob.waitForFunction(() => window.overleg.state.audioOnly === true, null, { timeout: 5000 });
  await bannerOf(bob).waitFor({ state: 'detached', timeout: 5000 });
  assert.ok(await inbound(bob), 'stats still readable');
});
