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

// ENVIRONMENT.md "Headless Chromium".
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
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

function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
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

/** Starts `overleg serve`; resolves to a server handle once it prints its port. */
export async function startServer(env = {}) {
  const dir = tempDir('ovl-browser-');
  const dataDir = path.join(dir, 'data');
  const baseEnv = { ...process.env, OVERLEG_LISTEN: '127.0.0.1:0', OVERLEG_DATA_DIR: dataDir,
    OVERLEG_PUBLIC_HOST: '127.0.0.1', ...env };
  delete baseEnv.OVERLEG_CONFIG;
  const log = fs.openSync(path.join(dir, 'server.log'), 'a');
  const proc = spawn(bin, ['serve'], { env: baseEnv, stdio: ['ignore', 'pipe', log] });
  running.add(proc);
  cleanups.push(async () => {
    if (proc.exitCode == null && proc.signalCode == null) {
      proc.kill('SIGTERM');
      await within(5000, new Promise((r) => proc.once('exit', r)), 'server exit').catch(() => proc.kill('SIGKILL'));
    }
    running.delete(proc);
    fs.closeSync(log);
  });
  let out = '';
  const port = await within(20000, new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on port (\d+)/);
      if (m) resolve(Number(m[1]));
    });
    proc.once('exit', (code) => reject(new Error(`overleg serve exited (${code}): ${out}`)));
  }), 'overleg serve to print its port');
  proc.stdout.resume();
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
    logPath: path.join(dir, 'server.log'),
    /** `overleg meeting create --json`: {id, title, host_link, guest_link, ...}. */
    async createMeeting({ title = 'Kabinetsoverleg', lobby = false, expires, name } = {}) {
      const args = ['meeting', 'create', '--title', title, '--json'];
      if (lobby) args.push('--lobby');
      if (expires) args.push('--expires', expires);
      if (name) args.push('--name', name);
      return JSON.parse(await cli(...args));
    },
    revoke: (id) => cli('meeting', 'revoke', id),
  };
}

/** One headless Chromium with a fresh profile; pages are participants. */
export async function startBrowser({ extraArgs = [] } = {}) {
  const profile = tempDir('ovl-chromium-');
  const ctx = await within(30000, chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 720 },
    permissions: ['camera', 'microphone'],
  }), 'Chromium to start');
  cleanups.push(() => within(10000, ctx.close(), 'Chromium to close'));
  const errors = [];
  ctx.on('page', (page) => {
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(`${page.url()}: console: ${m.text()}`);
    });
  });
  // The persistent context opens with one blank page: use it first.
  const spare = ctx.pages().slice();
  return {
    ctx,
    errors,
    /** A page that opened `url` (a meeting link) at `viewport`. */
    async open(url, { viewport } = {}) {
      const page = spare.length ? spare.shift() : await ctx.newPage();
      if (viewport) await page.setViewportSize(viewport);
      await within(20000, page.goto(url), `open ${url}`);
      return page;
    },
  };
}

/** Saves a screenshot under build/browser-artifacts/ and returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(artifacts, { recursive: true });
  const file = path.join(artifacts, name);
  await page.screenshot({ path: file });
  return file;
}
