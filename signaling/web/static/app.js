// Overleg web client: opening a meeting link is the whole join (signaling/PROTOCOL.md).
//
// Flow: read the link (token from the fragment, then the fragment leaves the address bar) → start
// camera and microphone at once (one permission prompt) → a name from the link, from this device,
// or one field → WebSocket join → lobby or welcome → the call (call.js negotiates the media). Every
// way this can fail ends on a screen that says what happened and what to do (strings.js).
//
// Staying connected: a lost WebSocket (or end {reason: "shutdown"}) is followed by a fresh join
// with back-off; lost media by an ICE restart (`ice-restart`, the relay re-offers), and by a fresh
// join when that does not bring it back. A banner says what is being done.

import { readLink, forgetToken } from './link.js';
import { Signal } from './signal.js';
import { LocalMedia } from './localmedia.js';
import { Call } from './call.js';
import { Levels } from './levels.js';
import { summarize } from './stats.js';
import { Adapt, reducedReasons } from './adapt.js';
import * as S from './strings.js';
import { $, announce } from './ui/dom.js';
import { showCard, hideScreen, namePrompt, lobbyScreen } from './ui/screens.js';
import { Grid } from './ui/grid.js';
import { Side } from './ui/side.js';
import { initMenu, openMenu } from './ui/menu.js';
import { banner, clearBanner, clearBanners, toast } from './ui/notices.js';
import { confirmDialog, initSettings, renderConnection } from './ui/dialogs.js';
import { initControls, renderControls, renderQuality, renderReduced, renderClock } from './ui/controls.js';

const NAME_KEY = 'overleg.name';
const CONNECT_STUCK_MS = 15000; // ICE not connected this long after the answer: say what to try
const RESTART_AFTER_MS = 2500; // 'disconnected' this long: ask for an ICE restart
const RESTART_GIVEUP_MS = 10000; // an ICE restart that has not reconnected by then: join afresh
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const MAX_RECONNECTS = 12;
const AUTO_RETRY = ['unreachable', 'draining'];
const SUGGEST_AGAIN_MS = 10 * 60 * 1000; // "Not now" on the audio-only suggestion: quiet this long

const app = {
  link: null,
  media: new LocalMedia(),
  levels: new Levels(),
  grid: null,
  side: null,
  settings: null,
  name: '',
  sig: null,
  call: null,
  phase: 'start', // start | prompt | joining | lobby | call | reconnecting | over
  me: null,
  meeting: null,
  locked: false,
  people: new Map(),
  waiting: [],
  tracks: new Map(), // pid -> {audio, video, screen}
  mediaState: 'none', // none | negotiating | connecting | connected | restarting | stuck | unavailable
  reconnects: 0,
  restarts: 0,
  timers: {},
  joinedAt: 0,
  stats: { prev: null, summary: null },
  endedByMe: false,
  audioOnly: false, // the person's choice: no camera out, no camera video in (screen shares stay)
  adapt: new Adapt(),
  reduced: [],
  suggestQuietUntil: 0,
  simulated: null, // window.overleg.simulate(): stats overrides for trying the UI on a good link
};

const wsUrl = () => (location.protocol === 'http:' ? 'ws://' : 'wss://') + location.host + '/ws';

function timer(name, ms, fn) {
  clearTimeout(app.timers[name]);
  app.timers[name] = ms == null ? 0 : setTimeout(() => {
    app.timers[name] = 0;
    fn();
  }, ms);
}

function storedName() {
  try {
    return localStorage.getItem(NAME_KEY) || '';
  } catch {
    return '';
  }
}

function saveName(name) {
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    /* private mode */
  }
}

// ---- screens ---------------------------------------------------------------------------------

function actionsFor(ids) {
  return ids.map((id) => ({ label: S.actionLabel[id], primary: true, onClick: () => restart() }));
}

/** Ends the current attempt on screen `id` (strings.js). */
function finish(id, { keepToken = true } = {}) {
  app.phase = 'over';
  teardown();
  // Camera and microphone go off, except while the page retries by itself (they are needed again).
  if (!AUTO_RETRY.includes(id)) {
    app.media.stopAll();
    app.levels.setMic(null);
  }
  if (!keepToken) forgetToken(app.link.meeting, sessionStorage);
  const spec = S.screens[id] || S.screens.internal;
  const card = showCard({ ...spec, id, tone: ['left', 'ended', 'ended-by-you'].includes(id) ? 'neutral' : 'bad', actions: actionsFor(spec.actions) });
  if (AUTO_RETRY.includes(id)) autoRetry(card);
  document.title = 'Overleg';
}

/** On "server unreachable": try again by itself, saying when. */
function autoRetry(card) {
  let left = Math.min(30, 5 * 2 ** Math.min(app.reconnects, 3));
  app.reconnects++;
  const line = document.createElement('p');
  line.className = 'hint';
  line.setAttribute('role', 'status');
  card.querySelector('.lead').after(line);
  const tick = () => {
    if (app.phase !== 'over' || !card.isConnected) return;
    if (left <= 0) {
      restart();
      return;
    }
    line.textContent = `Trying again in ${left} s.`;
    left--;
    timer('retry', 1000, tick);
  };
  tick();
}

function joiningCard(text) {
  app.phase = 'joining';
  showCard({ id: 'joining', busy: true, title: text || 'Joining the meeting…', body: 'Connecting securely to the meeting server.' });
}

// ---- joining ---------------------------------------------------------------------------------

async function start() {
  initMenu();
  initCallView();
  app.link = readLink(location, history, sessionStorage);
  if (!app.link.meeting) return showCard({ ...S.screens['no-link'], id: 'no-link' });
  if (!app.link.token) return showCard({ ...S.screens['token-missing'], id: 'token-missing', tone: 'bad' });
  if (!app.link.claims) return finish('token-invalid', { keepToken: false });
  const ready = app.media.acquire(); // the browser's one permission prompt, while the page goes on
  const name = app.link.claims.name || storedName();
  if (name) {
    joiningCard();
    await ready;
    join(name);
    return;
  }
  app.phase = 'prompt';
  namePrompt({
    initial: '',
    media: app.media,
    onMic: (muted) => app.media.setMicMuted(muted),
    onCam: (off) => app.media.setCamOff(off),
    onSubmit: async (n) => {
      saveName(n);
      joiningCard();
      await ready;
      join(n);
    },
  });
}

/** Joins (again): the same link, the same name, a fresh WebSocket. */
async function join(name) {
  app.name = name;
  const sig = new Signal(wsUrl());
  app.sig = sig;
  sig.addEventListener('message', (ev) => {
    if (sig === app.sig) onMessage(ev.detail);
  });
  sig.addEventListener('close', (ev) => {
    if (sig === app.sig) onClose(ev.detail);
  });
  try {
    await sig.open();
  } catch {
    if (sig !== app.sig) return;
    app.sig = null;
    if (app.phase === 'reconnecting') reconnect();
    else finish('unreachable');
    return;
  }
  sig.send({ type: 'join', meeting: app.link.meeting, token: app.link.token, name });
}

/** A "Try again" / "Rejoin" button: the whole join again, camera and microphone included. */
async function restart() {
  timer('retry', null);
  app.endedByMe = false;
  joiningCard();
  await app.media.acquire();
  join(app.name || app.link.claims.name || storedName() || 'Guest');
}

function onClose({ opened }) {
  if (!opened) return; // join() handles a socket that never opened
  app.sig = null;
  if (app.phase === 'over') return;
  if (app.phase === 'call' || app.phase === 'lobby' || app.phase === 'reconnecting') reconnect('The connection to the server was lost.');
  else finish('unreachable');
}

/** Leaves the current session and joins afresh after a back-off, keeping the call on screen. */
function reconnect(why) {
  if (app.phase === 'over') return;
  const wasLobby = app.phase === 'lobby';
  app.phase = 'reconnecting';
  if (app.sig) {
    const s = app.sig;
    app.sig = null;
    s.send({ type: 'leave' });
    s.closeNow(1000, 'reconnecting');
  }
  teardownCall();
  if (app.reconnects >= MAX_RECONNECTS) return finish('reconnect-failed');
  const wait = BACKOFF_MS[Math.min(app.reconnects, BACKOFF_MS.length - 1)];
  app.reconnects++;
  if (why) app.why = why;
  if (wasLobby || $('call').hidden) joiningCard('Reconnecting…');
  else {
    banner('reconnect', { tone: 'warn', busy: true, text: `${app.why || ''} Reconnecting… (attempt ${app.reconnects})`.trim(),
      actions: [{ label: 'Leave', onClick: () => leave() }] });
  }
  timer('reconnect', wait, () => join(app.name));
}

window.addEventListener('online', () => {
  if (app.phase === 'reconnecting' && app.timers.reconnect) timer('reconnect', 0, () => join(app.name));
  if (app.phase === 'over' && app.timers.retry) restart();
});
// A meeting link pasted into this tab's address bar changes only the fragment: start over with it.
window.addEventListener('hashchange', () => {
  if (new URLSearchParams(location.hash.slice(1)).get('t')) location.reload();
});
window.addEventListener('pagehide', () => {
  if (app.sig) app.sig.send({ type: 'leave' });
});

// ---- messages from the server -----------------------------------------------------------------

function onMessage(m) {
  switch (m.type) {
    case 'welcome': return onWelcome(m);
    case 'lobby-wait': return onLobbyWait(m);
    case 'lobby': return onLobby(m.waiting || []);
    case 'participant-joined': return onJoined(m.participant);
    case 'participant-left': return onLeft(m.participant, m.reason);
    case 'mute': return onMute(m);
    case 'chat': return onChat(m);
    case 'locked': return onLocked(m.locked);
    case 'end': return onEnd(m.reason);
    case 'offer': return app.call && app.call.applyOffer(m.sdp);
    case 'answer':
      if (app.call) app.call.applyAnswer(m.sdp);
      app.mediaState = 'connecting';
      return undefined;
    case 'active-speaker': return app.levels.setServerSpeaker(m.participant);
    case 'error': return onError(m);
    default: return undefined;
  }
}

function onLobbyWait(m) {
  app.phase = 'lobby';
  app.reconnects = 0;
  const title = m.meeting && m.meeting.title;
  lobbyScreen({ title, name: app.name, media: app.media,
    onMic: (muted) => app.media.setMicMuted(muted), onCam: (off) => app.media.setCamOff(off), onLeave: () => leave() });
}

function onWelcome(m) {
  const rejoined = app.phase === 'reconnecting';
  app.phase = 'call';
  app.reconnects = 0;
  app.restarts = 0;
  app.meeting = m.meeting || { id: app.link.meeting, title: 'Meeting' };
  app.locked = !!m.locked;
  app.me = { id: m.you, name: app.link.claims.name || app.name, role: m.role, self: true,
    audio_muted: false, video_muted: false, sharing: false };
  app.people = new Map((m.participants || []).map((p) => [p.id, p]));
  app.waiting = m.waiting || [];
  app.tracks.clear();
  if (!rejoined) app.joinedAt = Date.now();
  hideScreen();
  $('call').hidden = false;
  $('title').textContent = app.meeting.title;
  document.title = `${app.meeting.title} · Overleg`;
  app.grid.clear();
  app.grid.upsert(app.me);
  for (const p of app.people.values()) app.grid.upsert(p);
  clearBanner('reconnect');
  if (rejoined) toast('You are back in the meeting.');
  else announce(`You are in the meeting ${app.meeting.title}.`);
  onLocked(app.locked, true);
  onLobby(app.waiting);
  syncLocal(); // sends our mute state: the server starts everyone unmuted
  if (app.audioOnly) syncReceive(); // the server starts every connection with all video forwarded
  startCall(m.turn || []);
  renderAll();
}

function onJoined(p) {
  app.people.set(p.id, p);
  app.grid.upsert(p);
  const t = app.tracks.get(p.id);
  if (t) for (const kind of ['audio', 'video', 'screen']) if (t[kind]) showTrack(p.id, kind);
  toast(`${p.name} joined.`, { ms: 2500 }); // toasts are a live region: screen readers hear them
  renderAll();
}

function onLeft(pid, reason) {
  const p = app.people.get(pid);
  app.people.delete(pid);
  app.tracks.delete(pid);
  app.grid.remove(pid);
  app.levels.forget(pid);
  if (p) {
    const why = reason === 'removed' ? ' (removed by a host)' : reason === 'media-failed' ? ' (connection lost)' : '';
    toast(`${p.name} left${why}.`, { ms: 2500 });
  }
  renderAll();
}

function onMute(m) {
  const byName = m.by ? (m.by === app.me.id ? 'You' : (app.people.get(m.by) || {}).name || 'A host') : null;
  const setState = (p) => {
    if (m.kind === 'audio') p.audio_muted = m.muted;
    else if (m.kind === 'video') p.video_muted = m.muted;
    else if (m.kind === 'screen') p.sharing = !m.muted;
  };
  if (m.participant === app.me.id) {
    setState(app.me);
    if (m.by && m.muted) {
      if (m.kind === 'audio') app.media.setMicMuted(true);
      else if (m.kind === 'video') app.media.setCamOff(true);
      else if (m.kind === 'screen') app.media.stopScreen();
      const what = { audio: 'microphone', video: 'camera', screen: 'screen sharing' }[m.kind] || m.kind;
      toast(`${byName} turned off your ${what}.`, { tone: 'warn', ms: 6000 });
    }
    app.grid.upsert(app.me);
  } else {
    const p = app.people.get(m.participant);
    if (!p) return;
    const wasSharing = !!p.sharing;
    setState(p);
    app.grid.upsert(p);
    // The share's state comes only from here (PROTOCOL.md "mute"): a stopped share sends nothing.
    if (m.kind === 'screen') {
      showTrack(p.id, 'screen');
      if (p.sharing && !wasSharing) toast(`${p.name} is sharing their screen.`, { ms: 3000 });
    }
  }
  renderAll();
}

function onChat(m) {
  const mine = app.me && m.from === app.me.id;
  if (app.side.addChat(m, mine)) {
    toast(`${m.name}: ${m.text.length > 80 ? m.text.slice(0, 80) + '…' : m.text}`, { ms: 4000,
      action: { label: 'Open chat', onClick: () => openSide('chat') } });
  }
}

function onLocked(locked, quiet) {
  app.locked = !!locked;
  $('lock-badge').hidden = !app.locked;
  const btn = $('lock-btn');
  btn.setAttribute('aria-pressed', String(app.locked));
  btn.querySelector('span').textContent = app.locked ? 'Unlock meeting' : 'Lock meeting';
  btn.querySelector('use').setAttribute('href', app.locked ? '#i-unlock' : '#i-lock');
  if (!quiet) toast(app.locked ? 'Meeting locked: nobody new can join.' : 'Meeting unlocked.', { ms: 3000 });
}

function onLobby(waiting) {
  app.waiting = waiting;
  if (!app.me || app.me.role !== 'host') return;
  app.side.renderWaiting(app.me, waiting);
  renderAll();
  if (!waiting.length) return clearBanner('lobby');
  const one = waiting.length === 1 ? waiting[0] : null;
  banner('lobby', {
    tone: 'info', icon: 'people',
    text: one ? `${one.name} is waiting to join.` : `${waiting.length} people are waiting to join.`,
    actions: one
      ? [{ label: 'Deny', onClick: () => send({ type: 'deny', participant: one.id }) },
          { label: 'Admit', primary: true, onClick: () => send({ type: 'admit', participant: one.id }) }]
      : [{ label: 'Show', primary: true, onClick: () => openSide('people') }],
  });
}

function onEnd(reason) {
  if (reason === 'shutdown') return reconnect('The server is restarting.');
  if (reason === 'media-failed' && app.reconnects < 2) return reconnect('Audio and video failed.');
  if (reason === 'ended' && app.endedByMe) return finish('ended-by-you');
  const id = S.endScreen[reason] || 'ended';
  finish(id, { keepToken: !['revoked', 'expired'].includes(reason) });
}

function onError(m) {
  const joining = app.phase === 'joining' || app.phase === 'reconnecting' || (m.ref === 'join' && app.phase !== 'call');
  if (joining && m.ref === 'join') {
    if (m.code === 'name-invalid') return askNameAgain(m.message);
    if ((m.code === 'draining' || m.code === 'internal') && app.phase === 'reconnecting') return reconnect('The server is restarting.');
    const id = S.joinErrorScreen[m.code] || 'internal';
    const final = ['token-invalid', 'token-expired', 'meeting-expired', 'meeting-revoked', 'meeting-not-found'].includes(id);
    return finish(id, { keepToken: !final });
  }
  if (m.code === 'media-unavailable') {
    app.mediaState = 'unavailable';
    timer('stuck', null);
    banner('media', { tone: 'info', icon: 'alert', text: S.mediaUnavailable });
    renderQuality('unknown', 'No media', 'audio and video are not available on this server');
    return undefined;
  }
  if (m.code === 'rate-limited') return toast('Slow down: the server is receiving too many messages from you.', { tone: 'warn' });
  if (m.code === 'negotiation-state') return console.warn('overleg: negotiation out of order', m.ref);
  if (m.message) toast(m.message, { tone: 'warn' });
  return undefined;
}

function askNameAgain(message) {
  app.phase = 'prompt';
  if (app.sig) app.sig.closeNow();
  app.sig = null;
  const p = namePrompt({ initial: app.name, media: app.media,
    onMic: (muted) => app.media.setMicMuted(muted), onCam: (off) => app.media.setCamOff(off),
    onSubmit: (n) => {
      saveName(n);
      joiningCard();
      join(n);
    } });
  p.setError(message || 'Please use another name.');
}

function send(msg) {
  return !!(app.sig && app.sig.send(msg));
}

// ---- media -----------------------------------------------------------------------------------

/**
 * Puts pid's received `kind` track on its tile, or takes it off: a screen only while its owner
 * says it shares (the relay keeps the screen section open after a share stops).
 */
function showTrack(pid, kind) {
  const p = app.people.get(pid);
  if (!p) return;
  const t = app.tracks.get(pid) || {};
  const track = kind === 'screen' && !p.sharing ? null : t[kind] || null;
  app.grid.setTrack(pid, kind, track, p);
}

function startCall(iceServers) {
  const call = new Call({ send: (msg) => send(msg), iceServers });
  app.call = call;
  app.mediaState = 'negotiating';
  call.addEventListener('track', (ev) => {
    const { pid, kind, track } = ev.detail;
    const t = app.tracks.get(pid) || {};
    t[kind] = track;
    app.tracks.set(pid, t);
    if (kind === 'video') track.enabled = !app.audioOnly;
    showTrack(pid, kind);
  });
  call.addEventListener('untrack', (ev) => {
    const { pid, kind, track } = ev.detail;
    const t = app.tracks.get(pid);
    if (!t || t[kind] !== track) return;
    delete t[kind];
    if (app.people.has(pid)) showTrack(pid, kind);
  });
  call.addEventListener('ice', (ev) => onIce(call, ev.detail.state));
  call.addEventListener('error', (ev) => {
    console.warn('overleg: media negotiation failed', ev.detail.error);
    if (app.mediaState !== 'unavailable') mediaStuck();
  });
  call.start({ mic: app.media.audioOn ? app.media.mic : null, cam: app.media.videoOn ? app.media.cam : null, screen: app.media.screen });
}

function onIce(call, state) {
  if (call !== app.call) return;
  if (state === 'checking' && app.mediaState !== 'restarting') {
    if (!app.timers.stuck) timer('stuck', CONNECT_STUCK_MS, mediaStuck);
  } else if (state === 'connected' || state === 'completed') {
    timer('stuck', null);
    timer('restart', null);
    timer('giveup', null);
    if (app.mediaState === 'restarting' || app.mediaState === 'stuck') toast('Audio and video are back.');
    app.mediaState = 'connected';
    app.restarts = 0;
    clearBanner('media');
  } else if (state === 'disconnected') {
    banner('media', { tone: 'warn', busy: true, text: 'Audio and video were interrupted. Reconnecting…' });
    timer('restart', RESTART_AFTER_MS, iceRestart);
  } else if (state === 'failed') {
    iceRestart();
  }
}

/** Asks the relay for fresh ICE credentials; after two tries (or 10 s) joins afresh. */
function iceRestart() {
  if (!app.call || app.mediaState === 'unavailable') return;
  if (app.restarts >= 2) return reconnect('Audio and video could not be restored.');
  app.restarts++;
  app.mediaState = 'restarting';
  banner('media', { tone: 'warn', busy: true, text: 'Audio and video were interrupted. Restoring the connection…' });
  send({ type: 'ice-restart' });
  timer('giveup', RESTART_GIVEUP_MS, () => {
    if (app.mediaState !== 'connected') reconnect('Audio and video could not be restored.');
  });
  return undefined;
}

function mediaStuck() {
  app.mediaState = 'stuck';
  banner('media', { tone: 'bad', icon: 'wifi-off', text: S.mediaStuck.title + '. You are still in the meeting and can chat.',
    detail: S.mediaStuck.tips, actions: [{ label: 'Try again', primary: true, onClick: () => {
      app.reconnects = 0;
      reconnect('');
    } }] });
}

function teardownCall() {
  for (const n of ['stuck', 'restart', 'giveup']) timer(n, null);
  if (app.call) app.call.close();
  app.call = null;
  app.mediaState = 'none';
  app.stats = { prev: null, summary: null };
  app.adapt.reset();
  clearBanner('audio-only');
  for (const pid of app.people.keys()) app.grid.remove(pid);
  app.tracks.clear();
}

function teardown() {
  for (const n of Object.keys(app.timers)) timer(n, null);
  if (app.sig) {
    const s = app.sig;
    app.sig = null;
    s.closeNow();
  }
  teardownCall();
  app.grid.clear();
  app.people.clear();
  clearBanners();
  app.side.clearChat();
  $('side').hidden = true;
}

/** Brings senders, the self-view and our announced mute state in line with the local devices. */
function syncLocal() {
  const m = app.media;
  if (app.call) {
    app.call.replace('audio', m.audioOn ? m.mic : null);
    app.call.replace('video', m.videoOn && !app.audioOnly ? m.cam : null);
    app.call.replace('screen', m.screen);
  }
  app.levels.setMic(m.audioOn ? m.mic : null);
  if (app.me && app.phase === 'call') {
    app.grid.setTrack(app.me.id, 'video', m.videoOn && !app.audioOnly ? m.cam : null, app.me);
    app.grid.setTrack(app.me.id, 'screen', m.screen, app.me);
    const a = !m.audioOn;
    const v = !m.videoOn || app.audioOnly;
    if (app.me.audio_muted !== a && send({ type: 'mute', kind: 'audio', muted: a })) app.me.audio_muted = a;
    if (app.me.video_muted !== v && send({ type: 'mute', kind: 'video', muted: v })) app.me.video_muted = v;
    const sharing = !!m.screen;
    if (app.me.sharing !== sharing && send({ type: 'mute', kind: 'screen', muted: !sharing })) app.me.sharing = sharing;
    app.grid.upsert(app.me);
    deviceBanner();
  }
  renderAll();
}

function deviceBanner() {
  const pa = app.media.problems.audio;
  const pv = app.media.problems.video;
  if (!pa && !pv) return clearBanner('devices');
  const text = pa && pv ? 'You are in the meeting without camera and microphone: the others cannot see or hear you, but you can see, hear and chat.'
    : pa ? 'You are in the meeting without a microphone: the others cannot hear you.'
      : 'You are in the meeting without a camera: the others hear you but cannot see you.';
  const detail = [];
  if (pa && pa === pv) detail.push(S.deviceProblem[pa]('camera and microphone'));
  else {
    if (pa) detail.push(S.deviceProblem[pa]('microphone'));
    if (pv) detail.push(S.deviceProblem[pv]('camera'));
  }
  banner('devices', { tone: 'warn', icon: pv ? 'cam-off' : 'mic-off', text, detail,
    actions: [{ label: 'Try again', primary: true, onClick: () => app.media.acquire() },
      { label: 'Dismiss', onClick: () => clearBanner('devices') }] });
  return undefined;
}

// ---- the call view ----------------------------------------------------------------------------

function openSide(tab) {
  app.side.show(tab);
  renderAll();
}

function renderAll() {
  if (!app.me) return;
  const people = [app.me, ...[...app.people.values()].sort((a, b) => (b.role === 'host') - (a.role === 'host'))];
  app.side.renderPeople(app.me, people);
  renderControls({ media: app.media, audioOnly: app.audioOnly, sideOpen: app.side.open, sideTab: app.side.tab, peopleCount: people.length,
    waitingCount: app.waiting.length, isHost: app.me.role === 'host' });
}

async function leave() {
  send({ type: 'leave' });
  finish('left');
}

async function endForAll() {
  const ok = await confirmDialog({ title: 'End the meeting for everyone?', text: 'Everyone will be disconnected at once.', ok: 'End meeting' });
  if (!ok) return;
  app.endedByMe = true;
  send({ type: 'end' });
}

async function removePerson(pid) {
  const p = app.people.get(pid);
  if (!p) return;
  const ok = await confirmDialog({ title: `Remove ${p.name}?`, text: `${p.name} will leave the meeting at once. Lock the meeting to keep them from joining again with their link.`, ok: 'Remove' });
  if (ok) send({ type: 'remove', participant: pid });
}

/**
 * Audio-only mode (issue 6): the camera stops being sent (the sender's track goes, the others see
 * "camera off") and received camera video is switched off here (track.enabled = false) and not
 * shown. Screen shares stay: they are the meeting's content. `receive {video:false}` asks the
 * relay to stop forwarding camera video to this browser at all (PROTOCOL.md, "receive"); it is
 * sent again after every (re)join, since a new connection starts with everything forwarded.
 */
function setAudioOnly(on) {
  on = !!on;
  if (app.audioOnly === on) return;
  app.audioOnly = on;
  syncReceive();
  if (app.call) {
    for (const o of app.call.owners.values()) if (o.kind === 'video') o.track.enabled = !on;
  }
  app.grid.setAudioOnly(on);
  clearBanner('audio-only');
  syncLocal();
  toast(on ? 'Audio only: video is off in both directions. Screen shares still show.' : 'Video is back on.', { ms: 3500 });
  renderReducedNow();
}

/** Tells the relay which camera video to forward to us: none in audio-only mode. */
function syncReceive() {
  if (app.phase === 'call') send({ type: 'receive', video: !app.audioOnly });
}

function suggestAudioOnly(why) {
  if (Date.now() < app.suggestQuietUntil) return;
  banner('audio-only', { tone: 'warn', icon: 'wifi-off',
    text: `Video cannot keep up with your connection (${why}). Switch to audio only to keep the sound clear?`,
    actions: [{ label: 'Switch to audio only', primary: true, onClick: () => setAudioOnly(true) },
      { label: 'Not now', onClick: () => {
        app.suggestQuietUntil = Date.now() + SUGGEST_AGAIN_MS;
        clearBanner('audio-only');
      } }] });
}

/** Redraws the reduced-mode indicator at once (not waiting for the next stats reading). */
function renderReducedNow() {
  const s = app.stats.summary ? app.stats.summary.self : null;
  app.reduced = reducedReasons(s, { audioOnly: app.audioOnly, lowReadings: app.adapt.low });
  renderReduced(app.reduced);
  if ($('conn').open) renderConnection(app.stats.summary, names(), app.mediaState, app.reduced);
}

async function toggleShare() {
  if (app.media.screen) return app.media.stopScreen();
  try {
    const t = await app.media.startScreen();
    if (t) toast('You are sharing your screen. The others see it large.', { ms: 3500 });
  } catch {
    toast('Screen sharing is not available in this browser.', { tone: 'warn' });
  }
  return undefined;
}

async function toggleCam() {
  const m = app.media;
  if (!m.cam && !m.camOff) {
    await m.acquire({ audio: false, video: true });
    if (!m.cam) {
      toast(S.deviceProblem[m.problems.video || 'missing']('camera'), { tone: 'warn', ms: 7000 });
      return;
    }
  } else await m.setCamOff(m.videoOn);
}

async function toggleMic() {
  const m = app.media;
  if (!m.mic) {
    await m.acquire({ audio: true, video: false });
    if (!m.mic) toast(S.deviceProblem[m.problems.audio || 'missing']('microphone'), { tone: 'warn', ms: 7000 });
    return;
  }
  m.setMicMuted(!m.micMuted);
}

function initCallView() {
  app.grid = new Grid($('grid'), $('strip'), $('stage'));
  app.grid.onAudioBlocked = () => banner('sound', { tone: 'info', icon: 'speaker', text: 'Your browser paused the sound of this call.',
    actions: [{ label: 'Turn sound on', primary: true, onClick: () => {
      app.grid.resumeAudio();
      clearBanner('sound');
    } }] });
  app.side = new Side({
    admit: (pid) => send({ type: 'admit', participant: pid }),
    deny: (pid) => send({ type: 'deny', participant: pid }),
    mute: (pid, kind) => send({ type: 'mute', kind, muted: true, participant: pid }),
    remove: (pid) => removePerson(pid),
    sendChat: (text) => send({ type: 'chat', text }),
  });
  app.side.onToggle = () => {
    renderAll();
    app.grid.layout();
  };
  app.settings = initSettings({
    media: app.media, levels: app.levels,
    onDevice: (kind, id) => app.media.useDevice(kind, id),
    onSpeaker: (id) => {
      app.media.setSpeaker(id);
      app.grid.setSpeakerDevice(id);
    },
    onRetry: () => app.media.acquire(),
  });
  if (app.media.prefs.speaker) app.grid.setSpeakerDevice(app.media.prefs.speaker);
  initControls({
    mic: () => toggleMic(),
    cam: () => toggleCam(),
    share: () => toggleShare(),
    audioOnly: () => setAudioOnly(!app.audioOnly),
    people: () => {
      app.side.toggle('people');
    },
    chat: () => {
      app.side.toggle('chat');
    },
    settings: () => app.settings.open(),
    leave: (btn) => {
      if (app.me && app.me.role === 'host') {
        openMenu(btn, [{ label: 'Leave meeting', icon: 'leave', onSelect: () => leave() },
          { label: 'End meeting for everyone', icon: 'close', danger: true, onSelect: () => endForAll() }], 'Leave');
      } else leave();
    },
    quality: () => {
      renderConnection(app.stats.summary, names(), app.mediaState, app.reduced);
      $('conn').showModal();
    },
  });
  $('lock-btn').addEventListener('click', () => send({ type: 'lock', locked: !app.locked }));
  $('end-btn').addEventListener('click', () => endForAll());
  app.media.addEventListener('change', () => syncLocal());
  setInterval(tickLevels, 200);
  setInterval(tickStats, 2000);
  setInterval(() => {
    if (app.phase === 'call' || app.phase === 'reconnecting') renderClock(Date.now() - app.joinedAt);
  }, 1000);
}

function names() {
  return new Map([...app.people.values()].map((p) => [p.id, p.name]));
}

function tickLevels() {
  if (app.phase !== 'call' || !app.me) return;
  const { speaking, active } = app.levels.tick(app.me.id, app.call ? app.call.audioReceivers() : []);
  app.grid.setLevels(speaking, active);
}

async function tickStats() {
  const call = app.call;
  if (!call || app.phase !== 'call' || app.mediaState === 'unavailable') return;
  let report;
  try {
    report = await call.getStats();
  } catch {
    return;
  }
  if (call !== app.call) return;
  const owners = new Map([...call.owners.values()].map((o) => [o.track.id, o.pid]));
  const sum = summarize(report, app.stats.prev, owners);
  app.stats = { prev: report, summary: sum };
  if (app.simulated) simulate(sum.self, app.simulated);
  const s = sum.self;
  const adapt = app.adapt.feed(s, app.audioOnly);
  app.reduced = adapt.reduced;
  renderReduced(app.reduced);
  if (adapt.suggest) suggestAudioOnly(adapt.suggest);
  const words = { good: 'good', fair: 'fair', poor: 'poor', unknown: 'measuring' };
  const label = s.path ? s.path.label : app.mediaState === 'connected' ? '…' : 'Connecting';
  renderQuality(s.grade, label, `${words[s.grade]}${s.path ? ', ' + s.path.detail : ''}`);
  app.grid.setQuality(app.me.id, s.grade);
  for (const [pid, p] of sum.peers) app.grid.setQuality(pid, p.grade);
  if ($('conn').open) renderConnection(sum, names(), app.mediaState, app.reduced);
}

/** Applies window.overleg.simulate() overrides to a stats summary (labelled as simulated). */
function simulate(self, o) {
  if (o.path) self.path = { label: o.path, detail: 'simulated path (window.overleg.simulate)' };
  for (const k of ['availableOutBps', 'loss', 'videoLoss', 'framesDropped', 'framesReceived', 'rtt']) if (k in o) self[k] = o[k];
}

// Read-only handles for tests and for people diagnosing a call from the console.
window.overleg = Object.freeze({
  get pc() {
    return app.call ? app.call.pc : null;
  },
  get state() {
    return { phase: app.phase, me: app.me, mediaState: app.mediaState, audioOnly: app.audioOnly, reduced: [...app.reduced],
      people: [...app.people.values()],
      waiting: app.waiting, tracks: [...app.tracks].map(([pid, t]) => [pid, Object.keys(t)]) };
  },
  /** Received tracks: [{pid, kind, trackId}] (trackId is getStats' inbound-rtp trackIdentifier). */
  get receivers() {
    return app.call ? [...app.call.owners.values()].map((o) => ({ pid: o.pid, kind: o.kind, trackId: o.track.id, enabled: o.track.enabled })) : [];
  },
  /**
   * Tries the client's reaction to a bad link on a good one: `o` overrides what the next stats
   * readings say ({path: 'TCP' | 'TURN/TLS' | ..., availableOutBps, loss, videoLoss, framesDropped,
   * framesReceived, rtt}); null stops. Only what is shown changes; no media is touched.
   */
  simulate(o) {
    app.simulated = o ? { ...o } : null;
    app.adapt.strained = 0;
    app.adapt.low = 0;
  },
});

start();
