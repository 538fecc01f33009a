// Two network namespaces joined by a veth pair, for browser tests that shape or block the network
// (root only): the server runs in one namespace, Chromium in the other. The veth ends are not
// named veth* (ENVIRONMENT.md). The programs the harness starts are wrapped so that each runs
// inside its namespace (`ip netns exec` execs: the same pid), through OVERLEG_BIN and CHROMIUM,
// so import harness.mjs only after setup().
//
// Everything made here (namespaces, and with them the veth pair, qdiscs and rules; the wrapper
// directory) is removed by teardown(), which also runs when the process exits or is interrupted.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const isRoot = process.getuid && process.getuid() === 0;

/** Runs a command; its stdout as text. Throws with stderr on failure. */
export const sh = (cmd, ...args) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** `fn()`, or null when it throws (a thing not made, or already gone). */
export const quiet = (fn) => {
  try {
    return fn();
  } catch {
    return null;
  }
};

/**
 * A pair named by `letter` (one character, unique per test file) on `subnet` ("10.211.0"): the
 * server's end {ns, ifc, ip} is .1, the client's .2. `setup(perEnd)` makes them, calls
 * `perEnd(end)` for each end (qdiscs, rules) and wraps the programs; `teardown()` removes all.
 */
export function netPair(letter, subnet) {
  const tag = String(process.pid % 100000);
  const srv = { ns: `ovl-${letter}s${tag}`, ifc: `${letter}srv${tag}`, ip: `${subnet}.1` };
  const cli = { ns: `ovl-${letter}c${tag}`, ifc: `${letter}cli${tag}`, ip: `${subnet}.2` };
  let dir = null;

  const teardown = () => {
    for (const end of [cli, srv]) quiet(() => sh('ip', 'netns', 'del', end.ns));
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  };
  process.on('exit', teardown);
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      teardown();
      process.exit(128 + os.constants.signals[sig]); // 'exit' handlers (the harness's kills) run
    });
  }

  return {
    srv,
    cli,
    ends: [srv, cli],
    /** A scratch directory that lives as long as the pair. */
    get dir() {
      return dir;
    },
    setup(perEnd = () => {}) {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovl-netns-'));
      sh('ip', 'netns', 'add', srv.ns);
      sh('ip', 'netns', 'add', cli.ns);
      // IPv4 only: an IPv6 link-local address finishing duplicate address detection a second or
      // two after the link comes up is a netlink change, and Chromium aborts what it is loading
      // with ERR_NETWORK_CHANGED (seen: a module script, so the page never started).
      for (const end of [srv, cli]) {
        const conf = '/proc/sys/net/ipv6/conf'; // per namespace, as seen from inside it
        sh('ip', 'netns', 'exec', end.ns, 'sh', '-c', `echo 1 >${conf}/all/disable_ipv6; echo 1 >${conf}/default/disable_ipv6`);
      }
      sh('ip', 'link', 'add', srv.ifc, 'netns', srv.ns, 'type', 'veth', 'peer', 'name', cli.ifc, 'netns', cli.ns);
      for (const end of [srv, cli]) {
        sh('ip', '-n', end.ns, 'link', 'set', 'lo', 'up');
        sh('ip', '-n', end.ns, 'addr', 'add', `${end.ip}/24`, 'dev', end.ifc);
        sh('ip', '-n', end.ns, 'link', 'set', end.ifc, 'up');
        perEnd(end);
      }
      const bin = process.env.OVERLEG_BIN || path.join(here, '../../build/overleg');
      const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
      const wrap = (name, ns, target) => {
        const p = path.join(dir, name);
        fs.writeFileSync(p, `#!/bin/sh\nexec ip netns exec ${ns} ${target} "$@"\n`, { mode: 0o755 });
        return p;
      };
      process.env.OVERLEG_BIN = wrap('overleg', srv.ns, path.resolve(bin));
      process.env.CHROMIUM = wrap('chromium', cli.ns, chromium);
    },
    teardown,
  };
}
