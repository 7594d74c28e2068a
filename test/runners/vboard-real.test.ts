// The vboard runner against the real virtual board (examples/virtual-board, built with gcc
// and mbedTLS). Runs where that example exists (it is developed on its own branch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { tmpDir, writeTree } from '../helpers/tmp.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples/virtual-board');
const VBOARD = path.join(EXAMPLE, 'vboard');

test('build, flash, reset on the real virtual board; its failures keep their exit names', { skip: existsSync(VBOARD) ? false : 'examples/virtual-board/vboard is not on this branch' }, async (t) => {
  const dir = tmpDir(t);
  const boardDir = path.join(dir, 'board1');
  writeTree(dir, {
    'keyprov.config.yaml': `build:\n  command: ["make", "-C", ${JSON.stringify(EXAMPLE)}, "OUT=${dir}/build"]\n  image: build/vboard-firmware\nflash:\n  runner: vboard\n  options:\n    boardDir: board1\n    vboard: ${JSON.stringify(VBOARD)}\n`,
  });
  const vboard = (...args: string[]) => spawnSync(VBOARD, [args[0]!, '--board', boardDir, ...args.slice(1)], { encoding: 'utf8' });
  t.after(() => vboard('stop'));

  const b = await runCli(['build', '--phase', 'keygen'], { cwd: dir, timeoutMs: 180_000 });
  assert.equal(b.code, 0, b.stderr);
  assert.equal(vboard('serve').status, 0);
  const f = await runCli(['flash', '--json'], { cwd: dir });
  assert.equal(f.code, 0, f.stderr);
  assert.equal(JSON.parse(f.stdout).resetDone, true);
  assert.ok(readFileSync(path.join(boardDir, 'flash/image')).equals(readFileSync(path.join(dir, 'build/vboard-firmware'))), 'the board holds the built image');
  const status = JSON.parse(vboard('status').stdout);
  assert.equal(status.firmwareRunning, true);

  vboard('knobs', '--flash-failures', '1');
  const failed = await runCli(['flash'], { cwd: dir });
  assert.equal(failed.code, 3);
  assert.match(failed.stderr, /vboard failed \(exit 3 FlashFailed\): Error: failed to download/);

  vboard('stop');
  const off = await runCli(['flash'], { cwd: dir });
  assert.equal(off.code, 3);
  assert.match(off.stderr, /exit 2 NotConnected\): Error: No target connected/);
  assert.match(off.stderr, /hint: power the virtual board first/);
});
