// The media connection: one RTCPeerConnection to the relay, everything BUNDLEd
// (DESIGN.md "Negotiation", signaling/PROTOCOL.md "Media negotiation").
//
//  1. start(): three sending transceivers (microphone, camera, and a screen slot reserved up front
//     and filled later with replaceTrack), one offer, sent without waiting for candidates: the
//     relay is ICE-lite and learns this browser's address from its connectivity checks.
//  2. The relay's answer is applied; from then on only the relay offers (someone joined or left, an
//     ICE restart) and this side answers. Operations are queued, so two offers never overlap.
//
// Which participant a received track belongs to: the relay announces it in the SDP with
// a=msid:<stream id> <track id> (RFC 8830) on each section it sends. Rule: the stream id is the
// publishing participant's id (an "ovl-" prefix is tolerated); the track id says the source, and a
// track id that contains "screen" is a screen share (otherwise the second video of a participant
// is). See ownerOf().
//
// Events: 'track' {pid, kind ('audio'|'video'|'screen'), track}, 'untrack' {pid, kind, track},
// 'ice' {state} (iceConnectionState), 'error' {error}.

export function participantOfStream(streamId) {
  if (!streamId) return null;
  return streamId.startsWith('ovl-') ? streamId.slice(4) : streamId;
}

export class Call extends EventTarget {
  constructor({ send, iceServers = [] }) {
    super();
    this.send = send;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.tx = {};
    this.queue = Promise.resolve();
    this.owners = new Map(); // track id -> {pid, kind, track}
    this.closed = false;
    this.answered = false;
    this.pc.addEventListener('track', (ev) => this.onTrack(ev));
    this.pc.addEventListener('iceconnectionstatechange', () =>
      this.fire('ice', { state: this.pc.iceConnectionState }));
  }

  fire(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** Runs `fn` after every earlier operation; errors are reported, never thrown at the caller. */
  enqueue(fn) {
    this.queue = this.queue.then(() => (this.closed ? undefined : fn())).catch((error) => {
      if (!this.closed) this.fire('error', { error });
    });
    return this.queue;
  }

  /** Adds the three sending transceivers and sends the first offer. */
  start({ mic, cam, screen }) {
    return this.enqueue(async () => {
      const send = (track, kind, maxBitrate) =>
        this.pc.addTransceiver(track || kind, {
          direction: 'sendonly',
          sendEncodings: maxBitrate ? [{ maxBitrate }] : undefined,
        });
      this.tx.audio = send(mic, 'audio', 0);
      this.tx.video = send(cam, 'video', 600000);
      this.tx.screen = send(screen, 'video', 1500000);
      const offer = await this.pc.createOffer();
      await this.pc.setLocalDescription(offer);
      this.send({ type: 'offer', sdp: this.pc.localDescription.sdp });
    });
  }

  /** The relay's answer to the first offer. */
  applyAnswer(sdp) {
    return this.enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'answer', sdp });
      this.answered = true;
    });
  }

  /** A relay offer (renegotiation or ICE restart): apply it and answer. */
  applyOffer(sdp) {
    return this.enqueue(async () => {
      await this.pc.setRemoteDescription({ type: 'offer', sdp });
      const answer = await this.pc.createAnswer();
      await this.pc.setLocalDescription(answer);
      this.send({ type: 'answer', sdp: this.pc.localDescription.sdp });
      this.answered = true;
    });
  }

  /** Puts `track` (or nothing) on the 'audio', 'video' or 'screen' sender without renegotiating. */
  replace(slot, track) {
    const t = this.tx[slot];
    if (!t || this.closed || t.sender.track === (track || null)) return Promise.resolve();
    return t.sender.replaceTrack(track || null).catch((error) => this.fire('error', { error }));
  }

  /** The a=msid of the section with `mid` in the current remote description: [stream, track]. */
  msidOf(mid) {
    const sdp = (this.pc.remoteDescription && this.pc.remoteDescription.sdp) || '';
    for (const section of sdp.split(/\r?\nm=/).slice(1)) {
      if (!new RegExp('\\r?\\na=mid:' + mid.replace(/[^A-Za-z0-9_-]/g, '') + '\\r?(\\n|$)').test('\n' + section)) continue;
      const m = section.match(/\na=msid:(\S+)(?: (\S+))?/);
      if (m) return [m[1], m[2] || ''];
    }
    return [null, null];
  }

  /** Which participant and source a received track is (see the rule at the top). */
  ownerOf(ev) {
    // The SDP is the truth: a receiver (and its track object) is reused when the relay refills a
    // retired section for someone else, so the track's own id may be stale.
    let [streamId, trackId] = ev.transceiver && ev.transceiver.mid ? this.msidOf(ev.transceiver.mid) : [null, null];
    if (!streamId && ev.streams && ev.streams[0]) streamId = ev.streams[0].id;
    if (!trackId) trackId = ev.track.id;
    const pid = participantOfStream(streamId);
    if (!pid) return null;
    let kind = ev.track.kind;
    if (kind === 'video') {
      const hasCamera = [...this.owners.values()].some((o) => o.pid === pid && o.kind === 'video' && o.track !== ev.track);
      kind = /screen/i.test(trackId || '') || (hasCamera && !/camera|video/i.test(trackId || '')) ? 'screen' : 'video';
    }
    return { pid, kind };
  }

  onTrack(ev) {
    const owner = this.ownerOf(ev);
    if (!owner) return;
    const { track } = ev;
    const entry = { ...owner, track };
    const before = this.owners.get(track.id);
    if (before && (before.pid !== entry.pid || before.kind !== entry.kind)) this.fire('untrack', before);
    this.owners.set(track.id, entry);
    const gone = () => {
      if (this.owners.get(track.id) !== entry) return;
      this.owners.delete(track.id);
      this.fire('untrack', entry);
    };
    track.addEventListener('ended', gone);
    for (const s of ev.streams || []) {
      s.addEventListener('removetrack', (e) => {
        if (e.track === track) gone();
      });
    }
    this.fire('track', entry);
  }

  /** Receivers of audio with their owner, for audio levels. */
  audioReceivers() {
    const out = [];
    for (const r of this.pc.getReceivers()) {
      const o = r.track && this.owners.get(r.track.id);
      if (o && o.kind === 'audio') out.push({ pid: o.pid, receiver: r });
    }
    return out;
  }

  getStats() {
    return this.pc.getStats();
  }

  close() {
    this.closed = true;
    try {
      this.pc.close();
    } catch {
      /* closed */
    }
    for (const o of this.owners.values()) this.fire('untrack', o);
    this.owners.clear();
  }
}
