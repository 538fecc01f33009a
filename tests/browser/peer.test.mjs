// Registered without the binary, this test FAILS (it never skips quietly): a missing peer is a
// missing feature, not a pass.
//
// A browser page and overleg-peer in the same meeting decode each other (the browser and the C
// peer interoperate through the relay).

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, startBrowser, cleanup, within, root } from './harness.mjs';
import { decodes } from './mediastats.mjs';

let srv;
let br;

before(async () => {
  srv = await startServer();
  br = await startBrowser();
});
afterEach(async () => {
  await br.closeAll();
});
after(cleanup);

test('a browser page and overleg-peer decode each other', async () => {
  const peerBin = path.join(path.dirname(process.env.OVERLEG_BIN || path.join(root, 'build/overleg')), 'overleg-peer');
  assert.ok(fs.existsSync(peerBin), `${peerBin} is not built: the browser <-> C peer interop test cannot run`);
  const m = await srv.createMeeting({ title: 'Interop' });
  const page = await br.person(m.host_link, { name: 'Ann' });
  const peer = spawn(peerBin, ['--link', m.guest_link, '--insecure', '--name', 'Peer', '--expect-peers', '1',
    '--duration', '15', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  peer.stdout.on('data', (d) => {
    out += d;
  });
  try {
    await page.waitForFunction(() => window.overleg.state.people.length === 1, null, { timeout: 20000 });
    const pid = await page.evaluate(() => window.overleg.state.people[0].id);
    await decodes(page, [pid], ['video', 'audio'], 20000);
    const code = await within(40000, new Promise((r) => peer.once('exit', r)), 'overleg-peer to finish');
    assert.equal(code, 0, `overleg-peer decoded the browser's audio and video: ${out}`);
  } finally {
    if (peer.exitCode == null) peer.kill('SIGKILL');
  }
});
