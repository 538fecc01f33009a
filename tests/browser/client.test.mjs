// The web client end to end: real `overleg serve`, meetings from `overleg meeting create`, one
// headless Chromium whose contexts are the participants (each its own storage, as separate
// people). Joining, the lobby, failures, chat, mute, leave, host actions, reconnection, keyboard.
// Audio and video between the pages need the media relay (issue 4): see media.test.mjs.
//
// Artifacts (screenshots): build/browser-artifacts/.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, cleanup, screenshot, waitScreen } from './harness.mjs';

let srv;
let br;
let expiredMeeting;

before(async () => {
  srv = await startServer();
  // Made first so that it has expired by the time its test runs.
  expiredMeeting = await srv.createMeeting({ title: 'Oud overleg', expires: '1s' });
  br = await startBrowser();
});
afterEach(async () => {
  await br.closeAll();
});
after(async () => {
  if (br && br.errors.length) console.log('page errors:\n' + br.errors.join('\n'));
  await cleanup();
});

const T = 10000;

/** Names on the people tiles of `page`, sorted. */
function tileNames(page) {
  return page.$$eval('#stage .tile[data-kind="camera"] .name', (els) => els.map((e) => e.textContent).sort());
}

async function waitTiles(page, names) {
  const want = [...names].sort();
  try {
    await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('#stage .tile[data-kind="camera"] .name')]
      .map((e) => e.textContent).sort()) === JSON.stringify(w), want, { timeout: T });
  } catch {
    assert.deepEqual(await tileNames(page), want, 'tiles');
  }
}

/** The tile of the participant called `name` on `page`. */
const tile = (page, name) => page.locator('#stage .tile[data-kind="camera"]').filter({ has: page.locator('.name', { hasText: new RegExp(`^${name}$`) }) });

async function textOf(page, sel) {
  return (await page.locator(sel).first().textContent()) || '';
}

test('three people join from their links and see each other (screenshot)', async () => {
  const m = await srv.createMeeting({ title: 'Kabinetsoverleg', name: 'Ann de Wit' });
  const ann = await br.person(m.host_link); // name bound into the host link
  const bob = await br.person(m.guest_link, { name: 'Bob Jansen' }); // name used last on this device
  const carla = await br.person(m.guest_link, { expect: 'name' }); // no name: the one-field prompt
  await carla.fill('#name-input', 'Carla Smit');
  await carla.keyboard.press('Enter');
  await waitScreen(carla, 'call');
  await waitTiles(ann, ['Ann de Wit (you)', 'Bob Jansen', 'Carla Smit']);
  await waitTiles(bob, ['Ann de Wit', 'Bob Jansen (you)', 'Carla Smit']);
  await waitTiles(carla, ['Ann de Wit', 'Bob Jansen', 'Carla Smit (you)']);
  assert.equal(await textOf(ann, '#title'), 'Kabinetsoverleg');
  assert.equal(await tile(bob, 'Ann de Wit').locator('.tag').textContent(), 'Host');
  // The media state is shown: today the server has no relay and says so (media-unavailable).
  await ann.waitForFunction(() => ['unavailable', 'connected'].includes(window.overleg.state.mediaState), null, { timeout: T });
  if ((await ann.evaluate(() => window.overleg.state.mediaState)) === 'unavailable') {
    const banner = ann.locator('[data-banner="media"]');
    await banner.waitFor({ timeout: T });
    assert.match(await banner.textContent(), /Audio and video are not available on this server/);
    assert.equal(await textOf(ann, '#path-label'), 'No media');
  }
  await ann.locator('.toast').first().waitFor({ state: 'detached', timeout: T }); // "Bob joined." etc. fade
  await bob.locator('.toast').first().waitFor({ state: 'detached', timeout: T });
  const file = await screenshot(ann, 'three-person-call.png');
  await bob.setViewportSize({ width: 390, height: 780 });
  await bob.waitForTimeout(400);
  await screenshot(bob, 'three-person-call-phone.png');
  assert.ok(file.endsWith('three-person-call.png'));
});

test('the token leaves the address bar; a reload rejoins from this tab', async () => {
  const m = await srv.createMeeting({ title: 'Reload' });
  const page = await br.person(m.guest_link, { name: 'Eva' });
  assert.equal(new URL(page.url()).hash, '', 'no fragment in the address bar');
  assert.ok(!page.url().includes('t='));
  await page.reload();
  await waitScreen(page, 'call');
  await waitTiles(page, ['Eva (you)']);
});

test('chat arrives in the other pages', async () => {
  const m = await srv.createMeeting({ title: 'Chat' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob' });
  await waitTiles(ann, ['Ann (you)', 'Bob']);
  await bob.getByRole('button', { name: 'Chat' }).click();
  await bob.getByLabel('Message to everyone').fill('Goedemorgen, ik ben er.');
  await bob.keyboard.press('Enter');
  const msg = ann.locator('#chat-log .msg-text', { hasText: 'Goedemorgen, ik ben er.' });
  await msg.waitFor({ state: 'attached', timeout: T });
  assert.equal(await textOf(ann, '#chat-badge'), '1', 'an unread count while the chat is closed');
  assert.equal(await textOf(ann, '#chat-log .msg-name'), 'Bob');
  await bob.locator('#chat-log .msg-text', { hasText: 'Goedemorgen' }).waitFor({ timeout: T });
  await ann.getByRole('button', { name: /^Chat/ }).click();
  await ann.locator('#chat-badge').waitFor({ state: 'hidden', timeout: T });
});

test('mute states show in the others; a host can mute a guest', async () => {
  const m = await srv.createMeeting({ title: 'Mute' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob' });
  const carla = await br.person(m.guest_link, { name: 'Carla' });
  await waitTiles(ann, ['Ann (you)', 'Bob', 'Carla']);
  await bob.getByRole('button', { name: 'Mute' }).click();
  assert.equal(await bob.locator('#mic-btn').getAttribute('aria-pressed'), 'true');
  for (const page of [ann, carla]) {
    await tile(page, 'Bob').locator('.mic-state').waitFor({ state: 'visible', timeout: T });
    assert.match(await tile(page, 'Bob').getAttribute('aria-label'), /microphone off/);
  }
  // Keyboard shortcut V turns Carla's camera off; the others see it.
  await carla.locator('#stage').click();
  await carla.keyboard.press('v');
  await carla.waitForFunction(() => document.querySelector('#cam-btn').getAttribute('aria-pressed') === 'true', null, { timeout: T });
  await ann.waitForFunction(() => [...document.querySelectorAll('#stage .tile[data-kind="camera"]')]
    .some((t) => /^Carla, .*camera off/.test(t.getAttribute('aria-label'))), null, { timeout: T });
  // The host mutes Carla from the people list; Carla's microphone goes off and she is told.
  await ann.getByRole('button', { name: /^People/ }).click();
  await ann.getByRole('button', { name: 'Actions for Carla' }).click();
  await ann.getByRole('menuitem', { name: 'Mute microphone' }).click();
  await carla.waitForFunction(() => document.querySelector('#mic-btn').getAttribute('aria-pressed') === 'true', null, { timeout: T });
  await carla.locator('.toast', { hasText: 'Ann turned off your microphone' }).waitFor({ timeout: T });
  assert.equal(await carla.evaluate(() => window.overleg.state.me.audio_muted), true);
  await tile(bob, 'Carla').locator('.mic-state').waitFor({ state: 'visible', timeout: T });
  // Carla unmutes herself: everyone sees it.
  await carla.getByRole('button', { name: 'Unmute' }).click();
  await tile(ann, 'Carla').locator('.mic-state').waitFor({ state: 'hidden', timeout: T });
});

test('leave removes the tile everywhere', async () => {
  const m = await srv.createMeeting({ title: 'Leave' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob' });
  const carla = await br.person(m.guest_link, { name: 'Carla' });
  await waitTiles(bob, ['Ann', 'Bob (you)', 'Carla']);
  await carla.getByRole('button', { name: 'Leave meeting' }).click();
  await waitScreen(carla, 'left');
  await waitTiles(ann, ['Ann (you)', 'Bob']);
  await waitTiles(bob, ['Ann', 'Bob (you)']);
  // Rejoin from the left screen.
  await carla.getByRole('button', { name: 'Rejoin' }).click();
  await waitScreen(carla, 'call');
  await waitTiles(ann, ['Ann (you)', 'Bob', 'Carla']);
});

test('a lobby guest waits until the host admits them; a denied guest is told', async () => {
  const m = await srv.createMeeting({ title: 'Crisisoverleg', lobby: true });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const dana = await br.person(m.guest_link, { name: 'Dana', expect: 'lobby' });
  assert.match(await textOf(dana, '#screen h1'), /Waiting to be let in/);
  const banner = ann.locator('[data-banner="lobby"]');
  await banner.waitFor({ timeout: T });
  assert.match(await banner.textContent(), /Dana is waiting to join/);
  await dana.waitForTimeout(300);
  assert.equal(await dana.locator('#call').isVisible(), false, 'still waiting');
  await banner.getByRole('button', { name: 'Admit' }).click();
  await waitScreen(dana, 'call');
  await waitTiles(ann, ['Ann (you)', 'Dana']);
  await waitTiles(dana, ['Ann', 'Dana (you)']);
  await banner.waitFor({ state: 'detached', timeout: T });
  // A second guest is denied from the people panel.
  const eve = await br.person(m.guest_link, { name: 'Eve', expect: 'lobby' });
  await ann.getByRole('button', { name: /^People/ }).click();
  await ann.getByRole('button', { name: 'Deny Eve' }).click();
  await waitScreen(eve, 'denied');
  assert.match(await textOf(eve, '#screen h1'), /not let in/);
  await waitTiles(ann, ['Ann (you)', 'Dana']);
});

test('a host removes a guest, locks the meeting and ends it for everyone', async () => {
  const m = await srv.createMeeting({ title: 'Host' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob' });
  const carla = await br.person(m.guest_link, { name: 'Carla' });
  await waitTiles(ann, ['Ann (you)', 'Bob', 'Carla']);
  await ann.getByRole('button', { name: /^People/ }).click();
  await ann.getByRole('button', { name: 'Actions for Bob' }).click();
  await ann.getByRole('menuitem', { name: 'Remove from meeting' }).click();
  await ann.getByRole('dialog').getByRole('button', { name: 'Remove' }).click();
  await waitScreen(bob, 'removed');
  await waitTiles(ann, ['Ann (you)', 'Carla']);
  await waitTiles(carla, ['Ann', 'Carla (you)']);
  // Lock: a new guest is refused with the locked screen; everyone sees the badge.
  await ann.getByRole('button', { name: 'Lock meeting' }).click();
  await carla.locator('#lock-badge').waitFor({ state: 'visible', timeout: T });
  const late = await br.person(m.guest_link, { name: 'Late', expect: 'meeting-locked' });
  assert.match(await textOf(late, '#screen h1'), /locked/);
  await ann.getByRole('button', { name: 'Unlock meeting' }).click();
  await carla.locator('#lock-badge').waitFor({ state: 'hidden', timeout: T });
  // End for everyone (from the leave menu), confirmed.
  await ann.getByRole('button', { name: 'Leave meeting' }).click();
  await ann.getByRole('menuitem', { name: 'End meeting for everyone' }).click();
  await ann.getByRole('dialog').getByRole('button', { name: 'End meeting' }).click();
  await waitScreen(carla, 'ended');
  await waitScreen(ann, 'ended-by-you');
});

test('an expired link shows the expired screen', async () => {
  const page = await br.person(expiredMeeting.guest_link, { name: 'Ann', expect: 'token-expired' });
  assert.equal(await textOf(page, '#screen h1'), 'This meeting link has expired');
  assert.match(await textOf(page, '#screen .tips'), /Ask the organiser for a new link/);
  await screenshot(page, 'expired-link.png');
});

test('a revoked meeting disconnects the people in it, and its link shows the cancelled screen', async () => {
  const m = await srv.createMeeting({ title: 'Ingetrokken' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  await srv.revoke(m.id);
  await waitScreen(ann, 'revoked');
  const again = await br.person(m.guest_link, { name: 'Bob', expect: 'meeting-revoked' });
  assert.equal(await textOf(again, '#screen h1'), 'This meeting has been cancelled');
});

test('a forged or incomplete link says so', async () => {
  const m = await srv.createMeeting({ title: 'Links' });
  const i = m.guest_link.indexOf('#t=') + 10;
  const forged = m.guest_link.slice(0, i) + (m.guest_link[i] === 'A' ? 'B' : 'A') + m.guest_link.slice(i + 1);
  await br.person(forged, { name: 'Ann', expect: 'token-invalid' }); // refused by the server
  await br.person(m.guest_link.split('#')[0] + '#t=not-a-token', { name: 'Ann', expect: 'token-invalid' }); // by the page
  await br.person(m.guest_link.split('#')[0], { name: 'Ann', expect: 'token-missing' });
  await br.person(srv.base + '/', { expect: 'no-link' });
});

test('camera and microphone denied: the guest joins receive-only and is told how to fix it', async () => {
  const m = await srv.createMeeting({ title: 'Geen camera' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob', init: () => {
    if (!navigator.mediaDevices) return; // about:blank before the meeting page
    navigator.mediaDevices.getUserMedia = async () => {
      throw new DOMException('Permission denied', 'NotAllowedError');
    };
  } });
  const banner = bob.locator('[data-banner="devices"]');
  await banner.waitFor({ timeout: T });
  assert.match(await banner.textContent(), /without camera and microphone/);
  assert.match(await banner.textContent(), /blocked the camera and microphone/);
  assert.equal(await bob.locator('#mic-btn').getAttribute('aria-label'), 'No microphone');
  await ann.waitForFunction(() => [...document.querySelectorAll('#stage .tile[data-kind="camera"]')]
    .some((t) => /^Bob, microphone off, camera off/.test(t.getAttribute('aria-label'))), null, { timeout: T });
  await screenshot(bob, 'devices-denied.png');
});

test('keyboard: every control has a name, M toggles the microphone, Escape closes the panel', async () => {
  const m = await srv.createMeeting({ title: 'Toetsenbord' });
  const page = await br.person(m.host_link, { name: 'Ann' });
  const unnamed = await page.$$eval('#call button:not([hidden])', (bs) => bs.filter((b) => b.offsetParent !== null)
    .filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).map((b) => b.id || b.outerHTML.slice(0, 60)));
  assert.deepEqual(unnamed, [], 'buttons without an accessible name');
  await page.locator('#stage').click();
  await page.keyboard.press('m');
  await page.waitForFunction(() => document.querySelector('#mic-btn').getAttribute('aria-pressed') === 'true', null, { timeout: T });
  await page.keyboard.press('m');
  await page.waitForFunction(() => document.querySelector('#mic-btn').getAttribute('aria-pressed') === 'false', null, { timeout: T });
  await page.locator('#people-btn').focus();
  await page.keyboard.press('Enter');
  await page.locator('#side').waitFor({ state: 'visible', timeout: T });
  await page.locator('#tab-people').focus();
  await page.keyboard.press('Escape');
  await page.locator('#side').waitFor({ state: 'hidden', timeout: T });
  // Tab order reaches the call controls.
  let reached = false;
  for (let i = 0; i < 25 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'leave-btn');
  }
  assert.ok(reached, 'Tab reaches the Leave button');
});

test('device settings list the devices; the connection details say what is known', async () => {
  const m = await srv.createMeeting({ title: 'Apparaten' });
  const page = await br.person(m.host_link, { name: 'Ann' });
  await page.getByRole('button', { name: 'Settings' }).click();
  const dialog = page.getByRole('dialog', { name: 'Audio and video' });
  await dialog.waitFor({ timeout: T });
  await page.waitForFunction(() => document.querySelector('#cam-select').options.length > 0
    && document.querySelector('#mic-select').options.length > 0, null, { timeout: T });
  assert.ok(!(await page.locator('#cam-select').isDisabled()), 'a camera to choose');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden', timeout: T });
  await page.waitForFunction(() => ['unavailable', 'connected'].includes(window.overleg.state.mediaState), null, { timeout: T });
  await page.locator('#quality').click();
  const conn = page.getByRole('dialog', { name: 'Connection' });
  await conn.waitFor({ timeout: T });
  if ((await page.evaluate(() => window.overleg.state.mediaState)) === 'unavailable') {
    assert.match(await conn.textContent(), /not available on this server/);
  } else {
    // The details are measured every two seconds: the path shows once the first measurement is in.
    for (const t0 = Date.now(); !/Path(UDP|TCP|TURN)/.test(await conn.textContent()) && Date.now() - t0 < T;) {
      await page.waitForTimeout(250);
    }
    assert.match(await conn.textContent(), /Path(UDP|TCP|TURN)/);
  }
});

// Last: it restarts the server.
test('the server restarts: pages reconnect on their own; a page that cannot reach it says so and retries', async () => {
  const m = await srv.createMeeting({ title: 'Herstart' });
  const ann = await br.person(m.host_link, { name: 'Ann' });
  const bob = await br.person(m.guest_link, { name: 'Bob' });
  await waitTiles(ann, ['Ann (you)', 'Bob']);
  // Carla's network blocks the WebSocket (as some proxies do) until the test lifts it.
  const carla = await br.person(m.guest_link, { name: 'Carla', expect: 'unreachable', init: () => {
    const Real = window.WebSocket;
    window.blockWs = true;
    window.WebSocket = class extends Real {
      constructor(url, protocols) {
        super(window.blockWs ? url.replace(/\/ws$/, '/blocked-by-proxy') : url, protocols);
      }
    };
  } });
  assert.match(await textOf(carla, '#screen h1'), /Cannot reach the meeting server/);
  assert.match(await textOf(carla, '#screen [role="status"]'), /Trying again in \d+ s/);
  await srv.stop();
  await ann.locator('[data-banner="reconnect"]').waitFor({ timeout: T });
  assert.match(await ann.locator('[data-banner="reconnect"]').textContent(), /Reconnecting/);
  await srv.start();
  await ann.locator('[data-banner="reconnect"]').waitFor({ state: 'detached', timeout: 30000 });
  await waitTiles(ann, ['Ann (you)', 'Bob']);
  await waitTiles(bob, ['Ann', 'Bob (you)']);
  await carla.evaluate(() => {
    window.blockWs = false;
  });
  await waitScreen(carla, 'call', 30000);
  await waitTiles(ann, ['Ann (you)', 'Bob', 'Carla']);
});
