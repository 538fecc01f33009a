// Connection quality from RTCPeerConnection.getStats() (W3C webrtc-stats): round-trip time, loss,
// bitrate, and the path media takes (UDP, TCP, or TURN relayed over UDP/TCP/TLS) read from the
// selected candidate pair. summarize() compares two reports taken a few seconds apart.

/** 'good' | 'fair' | 'poor' | 'unknown' from rtt (seconds) and loss (0..1). */
export function grade(rtt, loss) {
  if (rtt == null && loss == null) return 'unknown';
  const r = rtt || 0;
  const l = loss || 0;
  if (r < 0.25 && l < 0.02) return 'good';
  if (r < 0.5 && l < 0.08) return 'fair';
  return 'poor';
}

function selectedPair(report) {
  let pair = null;
  report.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = report.get(s.selectedCandidatePairId) || pair;
  });
  if (!pair) {
    report.forEach((s) => {
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = pair || s;
    });
  }
  return pair;
}

/** The media path as people read it: {label: 'UDP'|'TCP'|'TURN/TLS'|..., detail}. */
export function pathOf(report) {
  const pair = selectedPair(report);
  if (!pair) return null;
  const local = report.get(pair.localCandidateId) || {};
  const remote = report.get(pair.remoteCandidateId) || {};
  const proto = (local.protocol || remote.protocol || '').toUpperCase();
  if (local.candidateType === 'relay') {
    const via = (local.relayProtocol || 'udp').toUpperCase();
    return { label: 'TURN/' + via, detail: `relayed through a TURN server over ${via}` };
  }
  const where = remote.address && remote.port ? ` to ${remote.address}:${remote.port}` : '';
  return { label: proto || '?', detail: `direct ${proto}${where}` };
}

function rate(now, before, field) {
  if (!before || now[field] == null || before[field] == null) return null;
  const dt = (now.timestamp - before.timestamp) / 1000;
  return dt > 0 ? Math.max(0, (now[field] - before[field]) * 8) / dt : null;
}

/**
 * Compares `report` with the previous one. `owners` maps a received track id to a participant id.
 * Returns {self: {rtt, loss, sendBps, recvBps, path, grade, availableOutBps, videoSendBps, videoLoss,
 * framesDropped, framesReceived, bandwidthLimited}, peers: Map pid -> {loss, recvBps, framesDecoded,
 * samples, grade}}. availableOutBps is the browser's send estimate (null when unknown); videoLoss is
 * the loss of received video over the interval; framesDropped/framesReceived count received video.
 */
export function summarize(report, prev, owners) {
  const self = { rtt: null, loss: null, sendBps: 0, recvBps: 0, path: pathOf(report), grade: 'unknown',
    availableOutBps: null, videoSendBps: 0, videoLoss: null, framesDropped: 0, framesReceived: 0, bandwidthLimited: false };
  const peers = new Map();
  const pair = selectedPair(report);
  if (pair && pair.currentRoundTripTime != null) self.rtt = pair.currentRoundTripTime;
  // The browser's own estimate of what this connection can send (GCC / transport-cc).
  if (pair && pair.availableOutgoingBitrate != null) self.availableOutBps = pair.availableOutgoingBitrate;
  let videoLost = 0;
  let videoGot = 0;
  let lostOut = 0;
  let sentOut = 0;
  report.forEach((s) => {
    const before = prev ? prev.get(s.id) : null;
    if (s.type === 'outbound-rtp') {
      const bps = rate(s, before, 'bytesSent') || 0;
      self.sendBps += bps;
      if (s.kind === 'video') self.videoSendBps += bps;
      if (s.kind === 'video' && s.qualityLimitationReason === 'bandwidth') self.bandwidthLimited = true;
    } else if (s.type === 'remote-inbound-rtp') {
      if (s.roundTripTime != null && self.rtt == null) self.rtt = s.roundTripTime;
      if (s.fractionLost != null) {
        lostOut = Math.max(lostOut, s.fractionLost);
        sentOut++;
      }
    } else if (s.type === 'inbound-rtp') {
      const bps = rate(s, before, 'bytesReceived') || 0;
      self.recvBps += bps;
      const pid = owners.get(s.trackIdentifier);
      if (!pid) return;
      const p = peers.get(pid) || { lost: 0, received: 0, recvBps: 0, framesDecoded: 0, samples: 0 };
      if (before) {
        const lost = Math.max(0, (s.packetsLost || 0) - (before.packetsLost || 0));
        const got = Math.max(0, (s.packetsReceived || 0) - (before.packetsReceived || 0));
        p.lost += lost;
        p.received += got;
        if (s.kind === 'video') {
          videoLost += lost;
          videoGot += got;
          self.framesDropped += Math.max(0, (s.framesDropped || 0) - (before.framesDropped || 0));
          self.framesReceived += Math.max(0, (s.framesReceived || 0) - (before.framesReceived || 0));
        }
      }
      p.recvBps += bps;
      p.framesDecoded += s.framesDecoded || 0;
      p.samples += s.totalSamplesReceived || 0;
      peers.set(pid, p);
    }
  });
  if (sentOut) self.loss = lostOut;
  if (videoLost + videoGot > 0) self.videoLoss = videoLost / (videoLost + videoGot);
  for (const p of peers.values()) {
    const total = p.lost + p.received;
    p.loss = total > 0 ? p.lost / total : null;
    p.grade = p.received || p.lost ? grade(self.rtt, p.loss) : 'unknown';
  }
  if (self.rtt != null || self.loss != null) self.grade = grade(self.rtt, self.loss);
  return { self, peers };
}

/** "48 ms", "1.2 Mbit/s", "0.5 %" for people. */
export const fmt = {
  ms: (s) => (s == null ? '–' : `${Math.round(s * 1000)} ms`),
  bps: (b) => (b == null ? '–' : b >= 1e6 ? `${(b / 1e6).toFixed(1)} Mbit/s` : `${Math.round(b / 1e3)} kbit/s`),
  pct: (f) => (f == null ? '–' : `${(f * 100).toFixed(f < 0.1 ? 1 : 0)} %`),
};
