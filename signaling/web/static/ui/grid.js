// The video stage: a tile per participant (name, microphone state, connection bars, the active
// speaker ringed), audio played through hidden <audio> elements, and the layout:
//   - alone: your own tile, large, with a note that the others have not arrived;
//   - two people: the other person fills the stage, your self-view floats in a corner;
//   - more: an even grid whose tile size is computed for the window (16:9 tiles, as large as fit);
//   - someone shares a screen: the screen fills the stage and the people move to a strip.

import { h, icon, initials, hue } from './dom.js';

const GAP = 8;
const ASPECT = 16 / 9;
const MIN_ASPECT = 3 / 4;
const MAX_ASPECT = 2;

/** Columns and tile size that make n 16:9 tiles as large as possible in w x h. */
export function bestFit(n, w, hgt) {
  let best = { cols: 1, rows: n, tw: 0, th: 0 };
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols);
    let tw = (w - GAP * (cols - 1)) / cols;
    let th = tw / ASPECT;
    if (th * rows + GAP * (rows - 1) > hgt) {
      th = (hgt - GAP * (rows - 1)) / rows;
      tw = th * ASPECT;
    }
    if (tw > best.tw) best = { cols, rows, tw, th };
  }
  // Then let the tiles take the whole cell (video is cropped to fit), within sane proportions,
  // so that a portrait phone or a wide window is not left mostly empty.
  const cellW = (w - GAP * (best.cols - 1)) / best.cols;
  const cellH = (hgt - GAP * (best.rows - 1)) / best.rows;
  let tw = cellW;
  let th = cellH;
  if (tw / th > MAX_ASPECT) tw = th * MAX_ASPECT;
  if (tw / th < MIN_ASPECT) th = tw / MIN_ASPECT;
  return { cols: best.cols, tw: Math.floor(Math.max(tw, best.tw)), th: Math.floor(Math.max(th, best.th)) };
}

export class Grid {
  constructor(gridEl, stripEl, stageEl) {
    this.grid = gridEl;
    this.strip = stripEl;
    this.stage = stageEl;
    this.tiles = new Map(); // key (pid or pid:screen) -> tile record
    this.audio = h('div', { class: 'audio-sinks', hidden: true });
    document.body.append(this.audio);
    this.audioEls = new Map(); // pid -> <audio>
    this.speaker = '';
    this.active = null;
    this.selfId = null;
    this.alone = h('div', { class: 'alone-note', role: 'status' }, 'You are the only one here. The others will appear when they join.');
    this.onAudioBlocked = null;
    new ResizeObserver(() => this.layout()).observe(stageEl);
  }

  tile(key, p, screen) {
    let t = this.tiles.get(key);
    if (t) return t;
    const video = h('video', { autoplay: true, playsInline: true, muted: true });
    const avatar = h('div', { class: 'avatar' }, h('span', {}));
    const mic = h('span', { class: 'mic-state' }, icon('mic-off'));
    const name = h('span', { class: 'name' });
    const tag = h('span', { class: 'tag' });
    const bars = h('span', { class: 'bars', 'data-grade': 'unknown', 'aria-hidden': 'true' }, h('i'), h('i'), h('i'));
    const el = h('div', { class: 'tile' + (screen ? ' screen' : ''), role: 'group', dataset: { pid: p.id, kind: screen ? 'screen' : 'camera' } },
      video, avatar, h('div', { class: 'tile-foot' }, mic, name, tag, bars));
    t = { key, el, video, avatar, mic, name, tag, bars, track: null, screen, pid: p.id };
    video.addEventListener('loadedmetadata', () => video.play().catch(() => {}));
    this.tiles.set(key, t);
    return t;
  }

  /** Adds or updates a participant: {id, name, role, audio_muted, video_muted, self}. */
  upsert(p) {
    if (p.self) this.selfId = p.id;
    const t = this.tile(p.id, p, false);
    t.p = p;
    this.paint(t);
    this.layout();
  }

  paint(t) {
    const p = t.p || {};
    const self = p.id === this.selfId;
    const who = self ? `${p.name} (you)` : p.name;
    t.name.textContent = t.screen ? (self ? 'Your screen' : `${p.name}’s screen`) : who;
    t.tag.textContent = !t.screen && p.role === 'host' ? 'Host' : '';
    t.tag.hidden = !t.tag.textContent;
    t.avatar.firstChild.textContent = initials(p.name);
    t.avatar.className = 'avatar ' + hue(p.name || '');
    const videoLive = !!t.track && t.track.readyState === 'live' && (t.screen || !p.video_muted) && !(t.remoteMuted && !self)
      && !(this.audioOnly && !t.screen);
    t.el.classList.toggle('has-video', videoLive);
    t.el.classList.toggle('mirror', self && !t.screen);
    t.mic.hidden = t.screen || !p.audio_muted;
    const states = [];
    if (!t.screen && p.audio_muted) states.push('microphone off');
    if (!t.screen && p.video_muted) states.push('camera off');
    if (t.quality) states.push('connection ' + t.quality);
    t.el.setAttribute('aria-label', t.name.textContent + (states.length ? ', ' + states.join(', ') : ''));
    t.el.classList.toggle('speaking', !t.screen && this.speaking && this.speaking.has(p.id));
    t.el.classList.toggle('active', !t.screen && this.active === p.id && this.tiles.size > 1);
  }

  /** Shows `track` (or nothing) as the camera ('video') or screen ('screen') of `pid`; audio plays. */
  setTrack(pid, kind, track, p) {
    if (kind === 'audio') return this.setAudio(pid, track);
    const key = kind === 'screen' ? pid + ':screen' : pid;
    if (!track) {
      const t = this.tiles.get(key);
      if (!t) return;
      t.track = null;
      t.video.srcObject = null;
      if (kind === 'screen') {
        t.el.remove();
        this.tiles.delete(key);
      } else this.paint(t);
      this.layout();
      return;
    }
    const t = this.tile(key, p || { id: pid, name: '' }, kind === 'screen');
    t.p = p || t.p || { id: pid, name: '' };
    t.track = track;
    t.remoteMuted = track.muted && pid !== this.selfId;
    track.onmute = () => {
      t.remoteMuted = pid !== this.selfId;
      if (t.screen) this.layout();
      else this.paint(t);
    };
    track.onunmute = () => {
      t.remoteMuted = false;
      if (t.screen) this.layout();
      else this.paint(t);
    };
    track.addEventListener('ended', () => this.paint(t));
    if (!t.video.srcObject || t.video.srcObject.getVideoTracks()[0] !== track) t.video.srcObject = new MediaStream([track]);
    this.paint(t);
    this.layout();
  }

  setAudio(pid, track) {
    let a = this.audioEls.get(pid);
    if (!track) {
      if (a) {
        a.srcObject = null;
        a.remove();
        this.audioEls.delete(pid);
      }
      return;
    }
    if (!a) {
      a = h('audio', { autoplay: true });
      this.audio.append(a);
      this.audioEls.set(pid, a);
    }
    a.srcObject = new MediaStream([track]);
    if (this.speaker && a.setSinkId) a.setSinkId(this.speaker).catch(() => {});
    a.play().catch(() => this.onAudioBlocked && this.onAudioBlocked());
  }

  /** Plays every remote audio again (after a click, when the browser blocked autoplay). */
  resumeAudio() {
    for (const a of this.audioEls.values()) a.play().catch(() => {});
  }

  setSpeakerDevice(deviceId) {
    this.speaker = deviceId || '';
    for (const a of this.audioEls.values()) if (a.setSinkId) a.setSinkId(this.speaker).catch(() => {});
  }

  remove(pid) {
    for (const key of [pid, pid + ':screen']) {
      const t = this.tiles.get(key);
      if (!t) continue;
      t.video.srcObject = null;
      t.el.remove();
      this.tiles.delete(key);
    }
    this.setAudio(pid, null);
    this.layout();
  }

  clear() {
    for (const pid of [...this.tiles.values()].map((t) => t.pid)) this.remove(pid);
  }

  setLevels(speaking, active) {
    this.speaking = speaking;
    this.active = active;
    for (const t of this.tiles.values()) {
      if (t.screen) continue;
      t.el.classList.toggle('speaking', speaking.has(t.pid));
      t.el.classList.toggle('active', active === t.pid && this.people() > 1);
    }
  }

  /** Audio-only mode: camera tiles show the person's initials instead of video (screens stay). */
  setAudioOnly(on) {
    this.audioOnly = !!on;
    for (const t of this.tiles.values()) this.paint(t);
  }

  setQuality(pid, grade) {
    const t = this.tiles.get(pid);
    if (!t || t.quality === grade) return;
    t.quality = grade;
    t.bars.dataset.grade = grade;
    this.paint(t);
  }

  people() {
    let n = 0;
    for (const t of this.tiles.values()) if (!t.screen) n++;
    return n;
  }

  /** Places every tile (see the layouts at the top of this file). */
  layout() {
    const all = [...this.tiles.values()];
    // A received screen takes the stage as soon as its owner announces the share (app.js gives a
    // screen tile a track only while the owner's `sharing` is true); until its first frames arrive
    // the tile shows the owner's initials.
    const screens = all.filter((t) => t.screen && t.pid !== this.selfId);
    const ownScreen = all.find((t) => t.screen && t.pid === this.selfId);
    const people = all.filter((t) => !t.screen).sort((a, b) => (a.pid === this.selfId) - (b.pid === this.selfId));
    const self = people.find((t) => t.pid === this.selfId);
    let main = people;
    let strip = [];
    let pip = null;
    if (screens.length) {
      main = [screens[screens.length - 1]];
      strip = [...screens.slice(0, -1), ...people, ...(ownScreen ? [ownScreen] : [])];
    } else if (people.length === 2 && self && !ownScreen) {
      main = people.filter((t) => t !== self);
      pip = self;
    } else if (ownScreen) {
      main = [...people, ownScreen];
    }
    for (const t of all) t.el.classList.remove('pip', 'in-strip', 'main');
    this.stage.classList.toggle('with-strip', strip.length > 0);
    this.strip.hidden = strip.length === 0;
    this.grid.replaceChildren(...main.map((t) => t.el));
    if (pip) {
      pip.el.classList.add('pip');
      this.grid.append(pip.el);
    }
    if (people.length === 1 && !screens.length && !ownScreen) this.grid.append(this.alone);
    this.strip.replaceChildren(...strip.map((t) => t.el));
    for (const t of strip) t.el.classList.add('in-strip');
    for (const t of main) t.el.classList.add('main');
    const w = this.grid.clientWidth;
    const hgt = this.grid.clientHeight;
    if (w > 0 && hgt > 0 && main.length) {
      const fit = main.length === 1 ? { tw: w, th: hgt, cols: 1 } : bestFit(main.length, w, hgt);
      this.grid.style.setProperty('--tile-w', fit.tw + 'px');
      this.grid.style.setProperty('--tile-h', fit.th + 'px');
      this.grid.dataset.count = String(main.length);
    }
    for (const t of all) this.paint(t);
  }
}

