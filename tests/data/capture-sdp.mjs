// Captures real SDP from headless Chromium into tests/data/ (the SDP unit tests and fuzz seeds use them).
//
// Rerun (Debian 12, as root; Chromium from apt, playwright-core from npm in a scratch folder outside the repo):
//   apt-get install -y chromium nodejs npm
//   mkdir -p /tmp/pw && (cd /tmp/pw && npm init -y && npm i playwright-core)
//   PLAYWRIGHT_DIR=/tmp/pw node tests/data/capture-sdp.mjs            # rewrites tests/data/chromium-*.sdp
//   PLAYWRIGHT_DIR=/tmp/pw node tests/data/capture-sdp.mjs --relay-answer   # only (d), after relay-offer.sdp changed
// The unit tests check exact values of these captures (tests/unit/test_sdp.c): after a full recapture update them.
//
// Browser check of the C answer and offer builders (nothing is rewritten unless --save is given):
//   PLAYWRIGHT_DIR=/tmp/pw node tests/data/capture-sdp.mjs --tool build/tests/test_sdp_answer [--save]
// `test_sdp_answer --answer` / `test_sdp_answer --reoffer` read an offer on stdin and print the relay's answer / the relay's
// next offer (see tests/unit/test_sdp_answer.c). The check applies them to a live RTCPeerConnection and fails loudly if
// Chromium rejects them. With --save it also writes the built SDP and Chromium's answer to the relay's offer.
//
// Every capture runs in a fresh profile on a page served from http://localhost (a secure context, so
// getUserMedia works with the fake camera/microphone and host candidates carry real addresses).
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(process.env.PLAYWRIGHT_DIR || '/tmp/pw', 'node_modules') + '/');
const { chromium } = require('playwright-core');

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const toolIdx = argv.indexOf('--tool');
const tool = toolIdx >= 0 ? path.resolve(argv[toolIdx + 1]) : null;
const save = argv.includes('--save');
const relayAnswerOnly = argv.includes('--relay-answer');


// Every file starts with a few '#' lines saying where it came from; the SDP starts at the first line "v=0" (the
// tests skip the header, the fuzz seeds in tests/fuzz/corpus/sdp/ have none).
let browserVersion = '';
function write(name, sdp, what) {
    const when = new Date().toISOString().slice(0, 10);
    const head = `# ${what}\n# Captured ${when} from headless Chromium ${browserVersion} by tests/data/capture-sdp.mjs.\n`;
    fs.writeFileSync(path.join(here, name), head + sdp);
    console.log(`wrote tests/data/${name} (${sdp.length} bytes)`);
}

function stripHeader(text) {
    return text.replace(/^(#[^\n]*\n)+/, '');
}

function runTool(mode, input) {
    return execFileSync(tool, [mode], { input, encoding: 'utf8' });
}

const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>sdp capture</title>');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://localhost:${server.address().port}/`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ovl-sdp-chromium-'));
const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream'],
});

try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(url);
    browserVersion = ctx.browser() ? ctx.browser().version() : (await page.evaluate(() => navigator.userAgent));
    console.log(`browser: ${browserVersion}`);

    // Helpers installed in the page: gather fully, then return the local description.
    await page.evaluate(() => {
        window.gathered = async (pc) => {
            const offer = await pc.createOffer();
            await pc.setLocalDescription(offer);
            if (pc.iceGatheringState !== 'complete')
                await new Promise((r) => pc.addEventListener('icegatheringstatechange', () => {
                    if (pc.iceGatheringState === 'complete') r();
                }));
            return pc.localDescription.sdp;
        };
        window.media = () => navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    });

    if (!tool && !relayAnswerOnly) {
        // (a) audio + camera sendrecv, plus the screen-share slot (a third video transceiver, sendonly, no track yet).
        const a = await page.evaluate(async () => {
            const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
            const s = await window.media();
            for (const t of s.getTracks()) pc.addTrack(t, s);
            pc.addTransceiver('video', { direction: 'sendonly', streams: [s] });
            return window.gathered(pc);
        });
        write('chromium-offer-av-screen.sdp', a,
            'Offer: audio + camera sendrecv (addTrack), a third video transceiver sendonly (screen-share slot), gathered.');

        // (b) simulcast: three rids on the camera, audio alongside.
        const b = await page.evaluate(async () => {
            const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
            const s = await window.media();
            pc.addTransceiver(s.getAudioTracks()[0], { direction: 'sendrecv', streams: [s] });
            pc.addTransceiver(s.getVideoTracks()[0], {
                direction: 'sendonly', streams: [s],
                sendEncodings: [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 },
                    { rid: 'f' }],
            });
            return window.gathered(pc);
        });
        write('chromium-offer-simulcast.sdp', b,
            'Offer: audio sendrecv, camera sendonly with simulcast sendEncodings rids q/h/f, gathered.');

        // (c) receive only: what a viewer without camera or microphone offers.
        const c = await page.evaluate(async () => {
            const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
            pc.addTransceiver('audio', { direction: 'recvonly' });
            pc.addTransceiver('video', { direction: 'recvonly' });
            return window.gathered(pc);
        });
        write('chromium-offer-recvonly.sdp', c, 'Offer: one audio and one video transceiver, both recvonly, gathered.');

        // (e) a data channel next to audio: the relay rejects the application m-line (port 0).
        const e = await page.evaluate(async () => {
            const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
            const s = await window.media();
            pc.addTrack(s.getAudioTracks()[0], s);
            pc.createDataChannel('chat');
            return window.gathered(pc);
        });
        write('chromium-offer-datachannel.sdp', e, 'Offer: audio sendrecv plus a data channel (m=application), gathered.');
    }
    if (!tool) {
        // (d) Chromium's answer to a relay-style offer (hand-written in relay-offer.sdp: ice-lite, actpass,
        // recvonly sections for the client's own media, sendonly sections for another participant, BUNDLE).
        const relayOffer = stripHeader(fs.readFileSync(path.join(here, 'relay-offer.sdp'), 'utf8'));
        const d = await page.evaluate(async (sdp) => {
            const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
            const tracks = [];
            pc.ontrack = (ev) => tracks.push(`${ev.track.kind}:${ev.streams.map((x) => x.id).join(',')}`);
            await pc.setRemoteDescription({ type: 'offer', sdp });
            const answer = await pc.createAnswer();
            await pc.setLocalDescription(answer);
            return { sdp: pc.localDescription.sdp, tracks };
        }, relayOffer);
        console.log(`relay-offer.sdp: ontrack ${d.tracks.join(' ')}`);
        write('chromium-answer-to-relay-offer.sdp', d.sdp,
            'Answer of a fresh RTCPeerConnection (no local tracks) to relay-offer.sdp (the relay-style offer).');
    } else {
        await checkBuilders(page);
    }
} finally {
    await ctx.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
}

// The C builders against a live peer connection: the relay's answer to the client's first offer, then the relay's
// renegotiation offer that adds another participant's audio and video (the client answers it).
async function checkBuilders(page) {
    for (const simulcast of [false, true]) {
        const offer = await page.evaluate(async (sim) => {
            window.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
            const pc = window.pc;
            window.tracks = [];
            pc.ontrack = (ev) => window.tracks.push(`${ev.track.kind}:${ev.streams.map((x) => x.id).join(',')}`);
            const s = await window.media();
            pc.addTransceiver(s.getAudioTracks()[0], { direction: 'sendrecv', streams: [s] });
            const enc = sim ? [{ rid: 'q', scaleResolutionDownBy: 4 }, { rid: 'h', scaleResolutionDownBy: 2 },
                { rid: 'f' }] : undefined;
            pc.addTransceiver(s.getVideoTracks()[0], { direction: 'sendrecv', streams: [s], sendEncodings: enc });
            pc.addTransceiver('video', { direction: 'sendonly', streams: [s] });
            return window.gathered(pc);
        }, simulcast);
        const answer = runTool('--answer', offer);
        const r1 = await page.evaluate(async (sdp) => {
            const pc = window.pc;
            await pc.setRemoteDescription({ type: 'answer', sdp });
            const enc = pc.getTransceivers()[1].sender.getParameters().encodings;
            return {
                dirs: pc.getTransceivers().map((t) => `${t.mid}:${t.currentDirection}`).join(' '),
                rids: enc.map((e) => e.rid || '-').join(','),
            };
        }, answer);
        console.log(`answer accepted (simulcast=${simulcast}): ${r1.dirs}; video encodings ${r1.rids}`);
        const reoffer = runTool('--reoffer', offer);
        const r2 = await page.evaluate(async (sdp) => {
            const pc = window.pc;
            await pc.setRemoteDescription({ type: 'offer', sdp });
            const a = await pc.createAnswer();
            await pc.setLocalDescription(a);
            return {
                sdp: pc.localDescription.sdp,
                dirs: pc.getTransceivers().map((t) => `${t.mid}:${t.currentDirection}`).join(' '),
                tracks: window.tracks.join(' '),
            };
        }, reoffer);
        console.log(`reoffer accepted (simulcast=${simulcast}): ${r2.dirs}; ontrack ${r2.tracks}`);
        if (save && !simulcast) {
            write('chromium-offer-builder-check.sdp', offer, 'Offer of the builder check (audio, camera, screen slot).');
            write('chromium-answer-to-built-reoffer.sdp', r2.sdp,
                'Answer to the relay offer that `test_sdp_answer --reoffer` built from chromium-offer-builder-check.sdp.');
        }
    }
}
