// What a page receives, from getStats(): shared by the media tests (media, peer, quality, tcp,
// tcp_netns, turn, thin_link). Every wait is bounded.

import assert from 'node:assert/strict';

/** Per remote participant on `page`: {pid: {video, screen, audio}} with frames decoded / samples received. */
export function inbound(page) {
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

/** Waits until every pid in `pids` has each of `kinds` growing on `page` (two readings apart). */
export async function decodes(page, pids, kinds, ms = 10000) {
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


/** The selected candidate pair on `page`: both ends' protocol and type, and the local side's relay details. */
export function selectedPath(page) {
  return page.evaluate(async () => {
    const r = await window.overleg.pc.getStats();
    let pair = null;
    r.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = r.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    const l = r.get(pair.localCandidateId) || {};
    const rem = r.get(pair.remoteCandidateId) || {};
    return {
      local: l.protocol,
      localType: l.candidateType,
      relayProtocol: l.relayProtocol,
      url: l.url,
      remote: rem.protocol,
      tcpType: rem.tcpType,
      type: rem.candidateType,
      port: rem.port,
    };
  });
}

/**
 * One reading of `page`'s cumulative counters for the thin-link test: received audio (samples,
 * concealed, silently concealed; packets received and lost) and video (frames decoded, last frame size) summed over every
 * remote participant, bytes in and out over every RTP stream, and the selected candidate pair
 * (RTT, the browser's send estimate, the path as 'UDP' | 'TCP' | 'TURN/...').
 */
export function linkSample(page) {
  return page.evaluate(async () => {
    const o = { t: Date.now(), samples: 0, concealed: 0, silent: 0, audioPkts: 0, audioLost: 0, frames: 0, width: 0, height: 0,
      bytesIn: 0, bytesOut: 0, rtt: null, availOut: null, path: null };
    const pc = window.overleg.pc;
    if (!pc) return o;
    const r = await pc.getStats();
    const owned = new Set(window.overleg.receivers.map((x) => x.trackId));
    let pair = null;
    r.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = r.get(s.selectedCandidatePairId);
      if (s.type === 'outbound-rtp') o.bytesOut += s.bytesSent || 0;
      if (s.type !== 'inbound-rtp') return;
      o.bytesIn += s.bytesReceived || 0;
      if (!owned.has(s.trackIdentifier)) return;
      if (s.kind === 'audio') {
        o.samples += s.totalSamplesReceived || 0;
        o.concealed += s.concealedSamples || 0;
        o.silent += s.silentConcealedSamples || 0;
        o.audioPkts += s.packetsReceived || 0;
        o.audioLost += s.packetsLost || 0;
      } else {
        o.frames += s.framesDecoded || 0;
        if (s.frameWidth) [o.width, o.height] = [s.frameWidth, s.frameHeight];
      }
    });
    if (pair) {
      o.rtt = pair.currentRoundTripTime ?? null;
      o.availOut = pair.availableOutgoingBitrate ?? null;
      const l = r.get(pair.localCandidateId) || {};
      o.path = l.relayProtocol ? `TURN/${l.relayProtocol.toUpperCase()}` : (l.protocol || '?').toUpperCase();
    }
    return o;
  });
}
