// The client's media negotiation (signaling/web/static/call.js) in a real Chromium, against a
// stand-in for the relay: a second RTCPeerConnection in the same page that behaves as the relay
// does (DESIGN.md "Negotiation"): it answers the client's first offer, then is the only one to
// offer — adding another participant's tracks announced with a=msid:<participant> <track>,
// retiring them, and restarting ICE. It checks what the real relay cannot check yet (issue 4 is
// not on main): that the client attributes tracks to participants by stream id, decodes what it
// receives, stops sending audio when muted (replaceTrack(null)) and sends a screen on the
// reserved transceiver without renegotiating.
//
// The stand-in is a full ICE agent, not ICE-lite; the client still sends no candidates, and the
// stand-in learns the client's address from its connectivity checks (peer-reflexive), as the
// relay does.

/* global T */ // the page-side state of these tests (window.T), used inside page.evaluate()
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startBrowser, cleanup, within } from './harness.mjs';

let page;

before(async () => {
  const srv = await startServer();
  const browser = await startBrowser();
  const ctx = await browser.context();
  page = await ctx.newPage();
  await within(20000, page.goto(srv.base + '/'), 'open the landing page');
  await within(20000, page.evaluate(async () => {
    const { Call, participantOfStream } = await import('/static/call.js');
    const T = { sent: [], events: [], participantOfStream };
    window.T = T;
    T.until = (cond, ms, what) => new Promise((resolve, reject) => {
      const t0 = Date.now();
      const iv = setInterval(() => {
        let ok = false;
        try {
          ok = cond();
        } catch {
          ok = false;
        }
        if (ok) {
          clearInterval(iv);
          resolve();
        } else if (Date.now() - t0 > ms) {
          clearInterval(iv);
          reject(new Error('timed out: ' + what));
        }
      }, 50);
    });
    T.gathered = (pc) => (pc.iceGatheringState === 'complete' ? Promise.resolve()
      : new Promise((r) => pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r())));
    // Rewrites a=msid (and legacy a=ssrc ... msid:) in the section with `mid` to "stream track".
    T.msid = (sdp, mid, stream, track) => sdp.split(/(?=\r\nm=)/).map((sec) => {
      if (!new RegExp('\\r\\na=mid:' + mid + '\\r\\n').test(sec + '\r\n')) return sec;
      return sec.replace(/\r\na=msid:[^\r]*/g, `\r\na=msid:${stream} ${track}`)
        .replace(/(\r\na=ssrc:\d+ msid:)[^\r]*/g, `$1${stream} ${track}`);
    }).join('');
    T.stat = async (pc, type, kind, field, mid) => {
      let total = 0;
      (await pc.getStats()).forEach((s) => {
        if (s.type === type && s.kind === kind && (mid == null || s.mid === mid)) total += s[field] || 0;
      });
      return total;
    };
    // The relay: answers the client's offer with its candidates in the SDP.
    T.relay = new RTCPeerConnection();
    T.relay.addEventListener('track', (e) => { T.relayTracks = (T.relayTracks || 0) + 1; });
    T.relayAnswerLatest = async () => {
      const m = T.sent.filter((x) => x.type === 'answer').pop();
      await T.relay.setRemoteDescription({ type: 'answer', sdp: m.sdp });
    };
    const own = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    T.call = new Call({ send: (m) => T.sent.push(m) });
    T.call.addEventListener('track', (e) => {
      T.events.push(['track', e.detail.pid, e.detail.kind]);
      if (e.detail.kind === 'audio') {
        // As the page does: received audio is played, which is what pulls it through the decoder.
        const a = new Audio();
        a.srcObject = new MediaStream([e.detail.track]);
        a.play().catch(() => {});
      }
    });
    T.call.addEventListener('untrack', (e) => T.events.push(['untrack', e.detail.pid, e.detail.kind]));
    T.call.addEventListener('error', (e) => T.events.push(['error', String(e.detail.error)]));
    T.mic = own.getAudioTracks()[0];
    await T.call.start({ mic: T.mic, cam: own.getVideoTracks()[0], screen: null });
  }), 'page set-up');
});

after(cleanup);

test('the first offer has audio, camera and a reserved screen transceiver, all sendonly, no candidates', async () => {
  const offer = await page.evaluate(() => T.sent[0]);
  assert.equal(offer.type, 'offer');
  const sections = offer.sdp.split('\r\nm=').slice(1);
  assert.deepEqual(sections.map((s) => s.split(' ')[0]), ['audio', 'video', 'video']);
  for (const s of sections) assert.match(s, /\r\na=sendonly\r\n/);
  assert.match(offer.sdp, /a=group:BUNDLE 0 1 2/);
  assert.doesNotMatch(offer.sdp, /a=candidate:/, 'the client does not wait for candidates (ICE-lite relay)');
});

test('the relay answer connects; only the relay offers afterwards', async () => {
  await within(20000, page.evaluate(async () => {
    await T.relay.setRemoteDescription({ type: 'offer', sdp: T.sent[0].sdp });
    await T.relay.setLocalDescription(await T.relay.createAnswer());
    await T.gathered(T.relay);
    await T.call.applyAnswer(T.relay.localDescription.sdp);
    await T.until(() => ['connected', 'completed'].includes(T.call.pc.iceConnectionState), 10000, 'ICE connected');
  }), 'answer and ICE');
  const sentTypes = await page.evaluate(() => T.sent.map((m) => m.type));
  assert.deepEqual(sentTypes, ['offer']);
});

test('tracks announced as another participant are attributed by stream id and decoded', async () => {
  const t0 = Date.now();
  await within(20000, page.evaluate(async () => {
    const other = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    T.ta = T.relay.addTransceiver(other.getAudioTracks()[0], { direction: 'sendonly' });
    T.tv = T.relay.addTransceiver(other.getVideoTracks()[0], { direction: 'sendonly' });
    await T.relay.setLocalDescription(await T.relay.createOffer());
    let sdp = T.relay.localDescription.sdp;
    sdp = T.msid(sdp, T.ta.mid, 'p2', 'p2-audio'); // the rule: stream id = participant id
    sdp = T.msid(sdp, T.tv.mid, 'ovl-p2', 'ovl-p2-video'); // an "ovl-" prefix is tolerated
    await T.call.applyOffer(sdp);
    await T.relayAnswerLatest();
    await T.until(() => T.events.filter((e) => e[0] === 'track').length >= 2, 5000, 'two tracks');
  }), 'renegotiation');
  let frames = 0;
  let samples = 0;
  while (Date.now() - t0 < 15000 && !(frames > 0 && samples > 0)) {
    [frames, samples] = await page.evaluate(async () => [
      await T.stat(T.call.pc, 'inbound-rtp', 'video', 'framesDecoded'),
      await T.stat(T.call.pc, 'inbound-rtp', 'audio', 'totalSamplesReceived'),
    ]);
    if (!(frames > 0 && samples > 0)) await new Promise((r) => setTimeout(r, 250));
  }
  const events = await page.evaluate(() => T.events);
  assert.deepEqual(events.filter((e) => e[0] === 'track'), [['track', 'p2', 'audio'], ['track', 'p2', 'video']]);
  assert.ok(frames > 0, `video frames decoded from p2 (${frames})`);
  assert.ok(samples > 0, `audio samples received from p2 (${samples})`);
  const sentTypes = await page.evaluate(() => T.sent.map((m) => m.type));
  assert.deepEqual(sentTypes, ['offer', 'answer'], 'the client answered the relay offer');
});

test('muting the microphone stops outbound audio (replaceTrack(null)), unmuting resumes it', async () => {
  const sent = () => page.evaluate(() => T.stat(T.relay, 'inbound-rtp', 'audio', 'packetsReceived'));
  const before1 = await sent();
  await page.waitForTimeout(600);
  assert.ok((await sent()) > before1, 'audio flows before muting');
  await page.evaluate(() => T.call.replace('audio', null));
  await page.waitForTimeout(800); // packets already on the way
  const a = await sent();
  await page.waitForTimeout(1200);
  const b = await sent();
  assert.equal(b, a, `no audio packets while muted (${a} -> ${b})`);
  await page.evaluate(() => T.call.replace('audio', T.mic));
  await page.waitForTimeout(1200);
  assert.ok((await sent()) > b, 'audio flows again after unmuting');
});

test('a screen share goes out on the reserved transceiver without a new offer', async () => {
  const frames = await within(20000, page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const g = canvas.getContext('2d');
    let n = 0;
    T.paint = setInterval(() => {
      g.fillStyle = n++ % 2 ? '#336' : '#633';
      g.fillRect(0, 0, 640, 360);
    }, 100);
    const screen = canvas.captureStream(10).getVideoTracks()[0];
    const offers = T.sent.filter((m) => m.type === 'offer').length;
    await T.call.replace('screen', screen);
    const mid = T.call.tx.screen.mid;
    let f = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < 10000 && f === 0) {
      await new Promise((r) => setTimeout(r, 250));
      (await T.relay.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.mid === mid) f = s.framesDecoded || 0;
      });
    }
    if (T.sent.filter((m) => m.type === 'offer').length !== offers) throw new Error('the client offered again');
    return f;
  }), 'screen share');
  assert.ok(frames > 0, `the relay decodes the screen (${frames} frames)`);
});

test('a track named as a screen share is attributed to the screen', async () => {
  await within(15000, page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.getContext('2d').fillRect(0, 0, 10, 10);
    T.ts = T.relay.addTransceiver(canvas.captureStream(5).getVideoTracks()[0], { direction: 'sendonly' });
    await T.relay.setLocalDescription(await T.relay.createOffer());
    let sdp = T.relay.localDescription.sdp;
    sdp = T.msid(sdp, T.ta.mid, 'p2', 'p2-audio');
    sdp = T.msid(sdp, T.tv.mid, 'ovl-p2', 'ovl-p2-video');
    sdp = T.msid(sdp, T.ts.mid, 'p2', 'p2-screen');
    await T.call.applyOffer(sdp);
    await T.relayAnswerLatest();
    await T.until(() => T.events.some((e) => e[0] === 'track' && e[2] === 'screen'), 5000, 'screen track');
  }), 'screen track');
  const events = await page.evaluate(() => T.events.filter((e) => e[0] === 'track'));
  assert.deepEqual(events.at(-1), ['track', 'p2', 'screen']);
});

test('retired sections remove the participant\'s tracks', async () => {
  await within(15000, page.evaluate(async () => {
    for (const t of [T.ta, T.tv, T.ts]) t.direction = 'inactive';
    await T.relay.setLocalDescription(await T.relay.createOffer());
    await T.call.applyOffer(T.relay.localDescription.sdp);
    await T.relayAnswerLatest();
    await T.until(() => T.events.filter((e) => e[0] === 'untrack').length >= 3, 5000, 'untrack');
  }), 'retire');
  const gone = await page.evaluate(() => T.events.filter((e) => e[0] === 'untrack').map((e) => e.slice(1).join(':')).sort());
  assert.deepEqual(gone, ['p2:audio', 'p2:screen', 'p2:video']);
});

test('an ICE restart offered by the relay is answered with new credentials and reconnects', async () => {
  const ufrag = (sdp) => sdp.match(/a=ice-ufrag:(\S+)/)[1];
  const res = await within(20000, page.evaluate(async () => {
    const before = T.call.pc.localDescription.sdp;
    T.relay.restartIce();
    await T.relay.setLocalDescription(await T.relay.createOffer());
    await T.gathered(T.relay);
    await T.call.applyOffer(T.relay.localDescription.sdp);
    await T.relayAnswerLatest();
    await T.until(() => ['connected', 'completed'].includes(T.call.pc.iceConnectionState), 10000, 'reconnected');
    return { before, after: T.call.pc.localDescription.sdp, errors: T.events.filter((e) => e[0] === 'error') };
  }), 'ICE restart');
  assert.notEqual(ufrag(res.after), ufrag(res.before));
  assert.deepEqual(res.errors, []);
});

test('stream ids map to participants', async () => {
  const ids = await page.evaluate(() => ['p7', 'ovl-p7', '', null].map((s) => T.participantOfStream(s)));
  assert.deepEqual(ids, ['p7', 'p7', null, null]);
});
