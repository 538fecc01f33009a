// This device's camera, microphone and screen.
//
// Capture asks once for both; when that fails it finds out which one works (a missing camera must
// not cost the microphone), so the call goes on with what works: audio and video, audio only, video
// only, or receive-only. Problems are kept per kind ('denied', 'missing', 'busy', 'insecure',
// 'error') for the notice the page shows. A muted microphone keeps its track (unmuting is instant);
// a camera that is switched off is stopped, so its light goes out.

const PREFS = 'overleg.devices';

const AUDIO = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
// Modest by default: remote desktops and thin links are the norm (DESIGN.md "works inside Citrix").
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24, max: 30 } };

function classify(err) {
  switch (err && err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'error';
  }
}

function loadPrefs() {
  try {
    return JSON.parse(localStorage.getItem(PREFS)) || {};
  } catch {
    return {};
  }
}

export class LocalMedia extends EventTarget {
  constructor() {
    super();
    this.mic = null;
    this.cam = null;
    this.screen = null;
    this.micMuted = false;
    this.camOff = false;
    this.problems = { audio: null, video: null };
    this.prefs = loadPrefs();
  }

  savePrefs() {
    try {
      localStorage.setItem(PREFS, JSON.stringify(this.prefs));
    } catch {
      /* private mode */
    }
  }

  constraint(kind) {
    const id = kind === 'audio' ? this.prefs.mic : this.prefs.cam;
    const base = kind === 'audio' ? AUDIO : VIDEO;
    return id ? { ...base, deviceId: { ideal: id } } : base;
  }

  /** Starts what it can. Resolves always; see this.problems for what did not start. */
  async acquire({ audio = true, video = true } = {}) {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      this.problems = { audio: 'insecure', video: 'insecure' };
      return;
    }
    const want = { audio: audio && !this.mic, video: video && !this.cam && !this.camOff };
    if (!want.audio && !want.video) return;
    try {
      const s = await navigator.mediaDevices.getUserMedia({
        audio: want.audio ? this.constraint('audio') : false,
        video: want.video ? this.constraint('video') : false,
      });
      this.take(s);
      if (want.audio) this.problems.audio = null;
      if (want.video) this.problems.video = null;
    } catch {
      // One of the two may work alone: ask for each separately.
      for (const kind of ['audio', 'video']) {
        if (!want[kind]) continue;
        try {
          const s = await navigator.mediaDevices.getUserMedia({ [kind]: this.constraint(kind) });
          this.take(s);
          this.problems[kind] = null;
        } catch (e) {
          this.problems[kind] = classify(e);
        }
      }
    }
    this.emit();
  }

  take(stream) {
    for (const t of stream.getTracks()) {
      if (t.kind === 'audio') {
        if (this.mic) this.mic.stop();
        this.mic = t;
        t.enabled = !this.micMuted;
      } else {
        if (this.cam) this.cam.stop();
        this.cam = t;
      }
      t.addEventListener('ended', () => this.lost(t));
    }
  }

  /** A device was unplugged or taken away: forget the track and tell the page. */
  lost(track) {
    if (track === this.mic) {
      this.mic = null;
      this.problems.audio = 'missing';
    } else if (track === this.cam) {
      this.cam = null;
      this.problems.video = 'missing';
    } else return;
    this.emit();
  }

  emit() {
    this.dispatchEvent(new Event('change'));
  }

  /** True when the microphone is on and sending. */
  get audioOn() {
    return !!this.mic && !this.micMuted;
  }

  get videoOn() {
    return !!this.cam && !this.camOff;
  }

  setMicMuted(muted) {
    this.micMuted = muted;
    if (this.mic) this.mic.enabled = !muted;
    this.emit();
  }

  /** Switches the camera off (stops the track) or on again (captures it anew). */
  async setCamOff(off) {
    this.camOff = off;
    if (off && this.cam) {
      const t = this.cam;
      this.cam = null;
      t.stop();
    }
    if (!off && !this.cam) await this.acquire({ audio: false, video: true });
    this.emit();
  }

  /** Uses another microphone or camera (deviceId from listDevices); remembered on this device. */
  async useDevice(kind, deviceId) {
    if (kind === 'audio') this.prefs.mic = deviceId;
    else this.prefs.cam = deviceId;
    this.savePrefs();
    if (kind === 'video' && this.camOff) return;
    const c = { ...(kind === 'audio' ? AUDIO : VIDEO), deviceId: { exact: deviceId } };
    try {
      const s = await navigator.mediaDevices.getUserMedia({ [kind]: c });
      this.take(s);
      this.problems[kind] = null;
    } catch (e) {
      this.problems[kind] = classify(e);
    }
    this.emit();
  }

  setSpeaker(deviceId) {
    this.prefs.speaker = deviceId;
    this.savePrefs();
    this.emit();
  }

  /** {audioinput: [], videoinput: [], audiooutput: []} of {deviceId, label}. */
  async listDevices() {
    const out = { audioinput: [], videoinput: [], audiooutput: [] };
    if (!navigator.mediaDevices || !navigator.mediaDevices.enumerateDevices) return out;
    const all = await navigator.mediaDevices.enumerateDevices();
    for (const d of all) {
      if (!out[d.kind] || !d.deviceId) continue;
      out[d.kind].push({ deviceId: d.deviceId, label: d.label || `${d.kind} ${out[d.kind].length + 1}` });
    }
    return out;
  }

  /** Current device ids, for the settings dialog. */
  current() {
    const id = (t) => (t && t.getSettings ? t.getSettings().deviceId : undefined);
    return { audioinput: id(this.mic) || this.prefs.mic, videoinput: id(this.cam) || this.prefs.cam,
      audiooutput: this.prefs.speaker };
  }

  /** Asks the person which screen or window to share. Resolves to the track or null (cancelled). */
  async startScreen() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getDisplayMedia) throw new Error('unsupported');
    let s;
    try {
      s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    } catch (e) {
      if (e && e.name === 'NotAllowedError') return null;
      throw e;
    }
    const t = s.getVideoTracks()[0];
    if ('contentHint' in t) t.contentHint = 'detail';
    this.screen = t;
    t.addEventListener('ended', () => this.stopScreen());
    this.emit();
    return t;
  }

  stopScreen() {
    if (!this.screen) return;
    const t = this.screen;
    this.screen = null;
    t.stop();
    this.emit();
  }

  /** Stops everything (leaving the meeting). */
  stopAll() {
    for (const t of [this.mic, this.cam, this.screen]) if (t) t.stop();
    this.mic = this.cam = this.screen = null;
    this.emit();
  }
}
