// Browser-test harness: the real `overleg serve` on 127.0.0.1 (a kernel-chosen port, a temporary
// data directory), meetings made with the real CLI, and one headless Chromium (Debian's
// /usr/bin/chromium, fake camera and microphone) whose pages are the participants.
//
// Everything started here is stopped, and every temporary directory removed, by cleanup(), which
// the tests call from after() (so also when a test fails) and which also runs on process exit.
// Every wait is bounded.

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../..');
export const bin = process.env.OVERLEG_BIN || path.join(root, 'build/overleg');
export const artifacts = process.env.OVERLEG_ARTIFACTS || path.join(root, 'build/browser-artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// ENVIRONMENT.md "Headless Chromium". The server's certificate is self-signed: Playwright's
// per-context ignoreHTTPSErrors does not cover every connection Chromium makes (seen: the
// connection of a module script aborted with "certificate unknown", a blank page about one run in
// six), so the whole browser accepts it; TURN over TLS needs that too.
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--ignore-certificate-errors',
];

const cleanups = [];
let cleaned = false;

/** Stops every process and removes every directory this harness made (idempotent). */
export async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch {
      /* best effort: keep cleaning */
    }
  }
}
process.on('exit', () => {
  // Last resort (synchronous): kill what is still running.
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});
const running = new Set();
const pageErrors = new WeakMap(); // page -> its errors and failed requests, for a failure's message
const servers = []; // {logPath} of every server started: their logs go into a failure's message

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The machine's first non-loopback IPv4 address, or null. Chromium's host candidates are interface
 * addresses, not loopback, so a server that browsers reach directly must announce one of these.
 */
export function interfaceAddress() {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list || []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return null;
}

/** Resolves `promise` or rejects after `ms` with `what` in the message. */
export function within(ms, promise, what) {
  let t;
  return Promise.race([
    promise.finally(() => clearTimeout(t)),
    new Promise((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

/**
 * Starts `overleg serve`; resolves to a server handle once it prints its port. `listenHost` is the
 * address it listens on (127.0.0.1; '0.0.0.0' when browsers must reach its ICE-TCP candidate on an
 * interface address).
 */
export async function startServer(env = {}, { listenHost = '127.0.0.1' } = {}) {
  const dir = tempDir('ovl-browser-');
  const dataDir = path.join(dir, 'data');
  // Media on UDP ports the kernel picks: suites (and other checkouts) run side by side.
  const baseEnv = { ...process.env, OVERLEG_LISTEN: '127.0.0.1:0', OVERLEG_DATA_DIR: dataDir,
    OVERLEG_PUBLIC_HOST: '127.0.0.1', OVERLEG_DRAIN_TIME: '1s', OVERLEG_MEDIA_PORT_BASE: '0', ...env };
  delete baseEnv.OVERLEG_CONFIG;
  const logPath = path.join(dir, 'server.log');
  let proc = null;

  const launch = async (listen) => {
    const log = fs.openSync(logPath, 'a');
    const p = spawn(bin, ['serve'], { env: { ...baseEnv, OVERLEG_LISTEN: listen }, stdio: ['ignore', 'pipe', log] });
    fs.closeSync(log);
    running.add(p);
    p.once('exit', () => running.delete(p));
    let out = '';
    const port = await within(20000, new Promise((resolve, reject) => {
      p.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/listening on port (\d+)/);
        if (m) resolve(Number(m[1]));
      });
      p.once('exit', (code) => reject(new Error(`overleg serve exited (${code}): ${out}`)));
    }), 'overleg serve to print its port');
    proc = p;
    return port;
  };
  const stop = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode != null || p.signalCode != null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await within(8000, gone, 'server exit').catch(async () => {
      p.kill('SIGKILL');
      await within(5000, gone, 'server kill');
    });
  };
  cleanups.push(stop);
  servers.push({ logPath });

  const port = await launch(`${listenHost}:0`);
  const cliEnv = { ...baseEnv, OVERLEG_PUBLIC_PORT: String(port) };
  const cli = (...args) => new Promise((resolve, reject) => {
    execFile(bin, args, { env: cliEnv, timeout: 20000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`overleg ${args.join(' ')}: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
  return {
    port,
    base: `https://127.0.0.1:${port}`,
    logPath,
    /** `overleg meeting create --json`: {id, title, host_link, guest_link, ...}. */
    async createMeeting({ title = 'Kabinetsoverleg', lobby = false, expires, name } = {}) {
      const args = ['meeting', 'create', '--title', title, '--json'];
      if (lobby) args.push('--lobby');
      if (expires) args.push('--expires', expires);
      if (name) args.push('--name', name);
      return JSON.parse(await cli(...args));
    },
    revoke: (id) => cli('meeting', 'revoke', id),
    /** SIGTERM (the server drains: clients get end {reason: "shutdown"}). */
    stop,
    /** Starts the server again on the same port and data directory (links stay valid). */
    async start() {
      await launch(`${listenHost}:${port}`);
    },
    log: () => fs.readFileSync(logPath, 'utf8'),
  };
}

/**
 * One headless Chromium (a fresh profile that Playwright makes and removes). Each participant gets
 * its own browser context, i.e. its own storage, like a separate person: `person(link, ...)`.
 * `errors` collects uncaught page errors and console errors of every page.
 */
export async function startBrowser({ extraArgs = [] } = {}) {
  const browser = await within(30000, chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  }), 'Chromium to start');
  cleanups.push(() => within(10000, browser.close(), 'Chromium to close'));
  const errors = [];
  const contexts = new Set();
  return {
    browser,
    errors,
    /** A fresh context (1280x720 unless `viewport`), camera and microphone allowed. */
    async context({ viewport = { width: 1280, height: 720 } } = {}) {
      const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport, permissions: ['camera', 'microphone'] });
      contexts.add(ctx);
      ctx.on('page', (page) => {
        const mine = [];
        pageErrors.set(page, mine);
        const note = (text) => {
          errors.push(text);
          mine.push(text);
        };
        page.on('pageerror', (e) => note(`pageerror: ${e.message}`));
        page.on('console', (m) => {
          if (m.type() === 'error') note(`console: ${m.text()}`);
        });
        page.on('requestfailed', (r) => mine.push(`request failed: ${r.url()} ${r.failure() ? r.failure().errorText : ''}`));
      });
      return ctx;
    },
    /**
     * Opens `link` as a new participant. `name` is put in this person's storage as the name used
     * last on this device (so no prompt); `init` runs in the page before the client does, and
     * `rtc` is laid over every RTCPeerConnection's configuration (overrideRtcConfig). Returns
     * the page once it shows `expect`: 'call' (the call view), a screen id, or nothing, waiting
     * up to `timeout` ms for the page to load and again for that screen.
     */
    async person(link, { name, viewport, init, rtc, expect = 'call', timeout = 30000 } = {}) {
      const ctx = await this.context({ viewport });
      if (name) {
        await ctx.addInitScript((n) => {
          try {
            localStorage.setItem('overleg.name', n);
          } catch {
            /* about:blank has no storage */
          }
        }, name);
      }
      if (init) await ctx.addInitScript(init);
      if (rtc) await ctx.addInitScript(overrideRtcConfig, rtc);
      const page = await ctx.newPage();
      await within(timeout, page.goto(link, { timeout }), `open ${link}`);
      if (expect) await waitScreen(page, expect, timeout);
      return page;
    },
    /** Closes every context opened so far (their WebSockets close: the server sees them leave). */
    async closeAll() {
      for (const ctx of contexts) await ctx.close().catch(() => {});
      contexts.clear();
    },
  };
}

/**
 * Runs in the page before the client (person's `rtc` option): every RTCPeerConnection is made
 * with `over` laid over the client's configuration: {iceServers: []} keeps a test of ICE-TCP from
 * being satisfied by the built-in TURN over TLS (Chromium may select it when both work);
 * {iceTransportPolicy: 'relay'} allows only TURN.
 */
function overrideRtcConfig(over) {
  const Orig = window.RTCPeerConnection;
  window.RTCPeerConnection = function (cfg, ...rest) {
    return new Orig({ ...(cfg || {}), ...over }, ...rest);
  };
  window.RTCPeerConnection.prototype = Orig.prototype;
}

/** Waits until `page` shows the call view ('call') or the screen with that id (data-screen). */
export async function waitScreen(page, id, timeout = 30000) {
  try {
    if (id === 'call') await page.locator('#call').waitFor({ state: 'visible', timeout });
    else await page.locator(`#screen [data-screen="${id}"]`).waitFor({ state: 'visible', timeout });
  } catch (err) {
    // Say what the page shows instead, and what the page and the servers were doing, so that a
    // failure on a loaded machine can be told from a bug. The diagnosis goes last: CI shows the
    // end of a failing test's output.
    const shown = await page
      .evaluate(() => {
        const s = document.querySelector('#screen:not([hidden]) [data-screen]:not([hidden])');
        const st = window.overleg ? window.overleg.state : null;
        const screen = s ? `${s.dataset.screen}: ${s.textContent.trim().slice(0, 200)}` : 'no screen';
        // Files the page has finished fetching (a missing one is still loading or never started).
        const files = performance.getEntriesByType('resource')
          .map((r) => `${r.name.replace(location.origin, '')} ${r.responseStatus || '-'} ${Math.round(r.duration)}ms`);
        return `${screen} (client phase ${st ? st.phase : 'not started'}, media ${st ? st.mediaState : '-'}; ` +
          `fetched: ${files.join(', ') || 'nothing'})`;
      })
      .catch(() => 'page gone');
    const logs = servers.map((s) => `--- ${s.logPath} (last lines)\n${tail(s.logPath, 15)}`).join('\n');
    const errs = (pageErrors.get(page) || []).slice(-5).join('\n  ');
    const e = new Error(`waiting for ${id} (${err.message.split('\n')[0]}), the page ${page.url()} shows ${shown}\n` +
      `page errors: ${errs || 'none'}\n${logs}`);
    e.stack = e.message; // the Playwright call log adds nothing here
    throw e;
  }
}

/** The last `n` lines of the file at `file` ('' when it cannot be read). */
function tail(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Saves a screenshot under build/browser-artifacts/ and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  return file;
}
