// Who is speaking. Remote levels come from each audio receiver's getSynchronizationSources()
// (the RFC 6464 level the sender put in every packet, cheap to read); this device's level from a
// Web Audio analyser on the microphone. The active speaker is the server's `active-speaker` once
// the server has sent one (it sends them on changes), otherwise the loudest voice here, held for a
// moment so that it does not flicker.

const SPEAKING = 0.03; // linear audio level (1.0 = 0 dBov); about -30 dBov, clear speech
const HOLD_MS = 700;   // a speaker stays "speaking" this long after the last loud sample
const SWITCH_MS = 1200; // the active speaker changes only after someone else led this long

export class Levels {
  constructor() {
    this.ctx = null;
    this.analyser = null;
    this.source = null;
    this.micTrack = null;
    this.buf = null;
    this.lastLoud = new Map(); // pid -> time
    this.level = new Map(); // pid -> 0..1
    this.active = null;
    this.candidate = null;
    this.candidateSince = 0;
    this.serverSpeaker = null;
  }

  /** Measures this device's microphone (null to stop). */
  setMic(track) {
    if (track === this.micTrack) return;
    this.micTrack = track;
    if (this.source) this.source.disconnect();
    this.source = null;
    if (!track) return;
    try {
      if (!this.ctx) this.ctx = new AudioContext();
      this.analyser = this.analyser || this.ctx.createAnalyser();
      this.analyser.fftSize = 512;
      this.buf = new Float32Array(this.analyser.fftSize);
      this.source = this.ctx.createMediaStreamSource(new MediaStream([track]));
      this.source.connect(this.analyser);
      if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    } catch {
      this.source = null;
    }
  }

  micLevel() {
    if (!this.source || !this.micTrack || !this.micTrack.enabled) return 0;
    this.analyser.getFloatTimeDomainData(this.buf);
    let sum = 0;
    for (const v of this.buf) sum += v * v;
    return Math.min(1, Math.sqrt(sum / this.buf.length) * 2);
  }

  setServerSpeaker(pid) {
    this.serverSpeaker = pid;
  }

  /**
   * One measurement: `me` is this participant's id, `receivers` [{pid, receiver}]. Returns
   * {levels: Map pid -> 0..1, speaking: Set pid, active: pid|null}.
   */
  tick(me, receivers, now = Date.now()) {
    this.level.clear();
    if (me) this.level.set(me, this.micLevel());
    for (const { pid, receiver } of receivers) {
      let v = 0;
      try {
        for (const s of receiver.getSynchronizationSources()) if (now - s.timestamp < 1000) v = Math.max(v, s.audioLevel || 0);
      } catch {
        v = 0;
      }
      this.level.set(pid, Math.max(this.level.get(pid) || 0, v));
    }
    const speaking = new Set();
    let loudest = null;
    let loudestLevel = SPEAKING;
    for (const [pid, v] of this.level) {
      if (v >= SPEAKING) this.lastLoud.set(pid, now);
      if (now - (this.lastLoud.get(pid) || 0) < HOLD_MS) speaking.add(pid);
      if (v > loudestLevel) {
        loudest = pid;
        loudestLevel = v;
      }
    }
    if (this.serverSpeaker) {
      this.active = this.serverSpeaker;
    } else if (loudest && loudest !== this.active) {
      if (loudest !== this.candidate) {
        this.candidate = loudest;
        this.candidateSince = now;
      } else if (now - this.candidateSince >= SWITCH_MS || !this.active || !speaking.has(this.active)) {
        this.active = loudest;
      }
    }
    return { levels: this.level, speaking, active: this.active };
  }

  forget(pid) {
    this.lastLoud.delete(pid);
    if (this.active === pid) this.active = null;
    if (this.serverSpeaker === pid) this.serverSpeaker = null;
  }

  close() {
    this.setMic(null);
    if (this.ctx) this.ctx.close().catch(() => {});
    this.ctx = null;
    this.analyser = null;
  }
}
