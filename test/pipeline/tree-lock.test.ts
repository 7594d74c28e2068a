// The source-tree lock: two keyprov runs in one project take turns in the tree (patch,
// build, restore), a lock left by a dead run is recovered with its patch restored, and the
// manual `patch`/`restore` commands refuse to change the source under a live run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { acquirePatchLock, releasePatchLock, readPatchLock, patchLockPath } from '../../src/pipeline/patch-lock.js';
import { applyPhase } from '../../src/source/index.js';
import { memoryLogger } from '../../src/log.js';
import { KeyprovError } from '../../src/errors.js';
import { tmpDir } from '../helpers/tmp.js';
import { runCli } from '../helpers/cli.js';
import { makeRig } from '../helpers/rig.js';
import { keysMatch, noLeftovers } from '../helpers/provision-checks.js';
import { copyFixtures, gccMacro, K, sha } from '../source/helpers.js';

/** A live process that "holds" the lock, as another keyprov run would. */
function holder(t: { after(fn: () => void): void }, root: string, board: string, host = hostname()): ChildProcess {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  mkdirSync(path.join(root, '.keyprov'), { recursive: true });
  writeFileSync(patchLockPath(root), JSON.stringify({ pid: child.pid, host, board, startedAt: '2026-11-26T12:00:00.000Z' }));
  return child;
}

const settled = async (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true, () => true), new Promise((r) => setTimeout(() => r(false), ms))]);

test('a second run waits while a live run holds the tree, says for whom, and takes the lock when it is released', async (t) => {
  const root = tmpDir(t);
  const other = holder(t, root, 'b1');
  const log = memoryLogger();
  const mine = acquirePatchLock(root, 'b2', { log, pollMs: 25 });
  assert.equal(await settled(mine, 400), false, 'must wait while the other run is alive');
  assert.match(log.text(), new RegExp(`waiting for keyprov pid ${other.pid} \\(board b1\\), started 2026-11-26T12:00:00.000Z: its keygen patch or build is in the source tree`));
  // Releasing is only for the holder: this process must not remove the other run's lock.
  releasePatchLock(root);
  assert.equal(readPatchLock(root)?.pid, other.pid);
  // The other run ends normally (its release removes the file).
  rmSync(patchLockPath(root));
  await mine;
  assert.equal(readPatchLock(root)?.pid, process.pid);
  assert.equal(readPatchLock(root)?.board, 'b2');
  releasePatchLock(root);
  assert.ok(!existsSync(patchLockPath(root)));
});

test('a lock left by a dead run: its keygen patch is restored, then the lock is taken', async (t) => {
  const root = tmpDir(t);
  const file = copyFixtures(root, ['tabs.c'])['tabs.c'];
  const before = sha(file);
  await applyPhase({ projectRoot: root, sources: [file], phase: 'keygen', log: memoryLogger() });
  assert.equal(gccMacro(file, K), '1');
  const dead = holder(t, root, 'b1');
  dead.kill('SIGKILL');
  await new Promise((r) => dead.once('exit', r));
  const log = memoryLogger();
  await acquirePatchLock(root, 'b2', { log, pollMs: 25 });
  assert.equal(sha(file), before, 'the dead run\'s patch is put back byte for byte');
  assert.match(log.text(), new RegExp(`pid ${dead.pid}, board b1.* ended without restoring its keygen patch; restored .*tabs\\.c`));
  assert.equal(readPatchLock(root)?.pid, process.pid);
  releasePatchLock(root);
});

test('a lock from another host is not waited on forever: a clear error; an abort while waiting is exit 130', async (t) => {
  const root = tmpDir(t);
  holder(t, root, 'b1', 'build-server-7');
  await assert.rejects(acquirePatchLock(root, 'b2', { log: memoryLogger(), pollMs: 25 }), (e: KeyprovError) => {
    assert.equal(e.code, 'PATCH_LOCKED_ELSEWHERE');
    assert.match(e.message, /keyprov pid \d+ on build-server-7 \(board b1\)/);
    assert.match(e.hint!, /if it is gone, .* delete .*pipeline-patch\.lock/);
    return true;
  });

  const root2 = tmpDir(t);
  holder(t, root2, 'b1');
  const ac = new AbortController();
  const waiting = acquirePatchLock(root2, 'b2', { log: memoryLogger(), signal: ac.signal, pollMs: 25 });
  setTimeout(() => ac.abort(), 100);
  await assert.rejects(waiting, (e: KeyprovError) => e.code === 'INTERRUPTED' && e.exitCode === 130);
});

test('CLI: restore and patch refuse to change the source under a live run (exit 2); restore --force does; a no-op patch is allowed', async (t) => {
  const root = tmpDir(t);
  const file = copyFixtures(root, ['tabs.c'])['tabs.c'];
  const before = sha(file);
  await applyPhase({ projectRoot: root, sources: [file], phase: 'keygen', log: memoryLogger() });
  const patched = sha(file);
  const other = holder(t, root, 'b1');

  const doctor = await runCli(['doctor', '--json'], { cwd: root });
  assert.match(doctor.stderr, new RegExp(`keyprov pid ${other.pid} \\(board b1\\).* has its keygen patch in .*tabs\\.c; it restores the source itself`));
  assert.doesNotMatch(doctor.stderr, /Run `keyprov restore/);
  const check = JSON.parse(doctor.stdout).checks.find((c: { check: string }) => c.check === 'keygen patch');
  assert.equal(check.status, 'warn');
  assert.match(check.detail, new RegExp(`by keyprov pid ${other.pid} \\(board b1\\).*, which restores it itself`));

  const restore = await runCli(['restore'], { cwd: root });
  assert.equal(restore.code, 2, restore.stderr);
  assert.match(restore.stderr, /error: keyprov pid \d+ \(board b1\).* is using the source tree/);
  assert.match(restore.stderr, /hint: .*--force/);
  assert.equal(sha(file), patched, 'refused: nothing changed');

  const patchCredential = await runCli(['patch', '--phase', 'credential', '--source', 'tabs.c'], { cwd: root });
  assert.equal(patchCredential.code, 2, patchCredential.stderr);
  assert.match(patchCredential.stderr, /patching now would change the source under its build/);
  assert.equal(sha(file), patched);
  // Re-applying the phase that is already in the tree changes nothing, so it is allowed (a build script of that run may do it).
  const again = await runCli(['patch', '--phase', 'keygen', '--source', 'tabs.c'], { cwd: root });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(sha(file), patched);

  const forced = await runCli(['restore', '--force'], { cwd: root });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(sha(file), before);
  assert.equal(readPatchLock(root)?.pid, other.pid, 'the other run keeps its lock');
});

test('two `keyprov provision` runs in one project at once take turns in the tree: both boards connect with their own keys', async (t) => {
  const rig = await makeRig(t, { boards: 2, extraConfig: 'provision:\n  keygen: force' });
  const before = rig.sourceHashes();
  const [a, b] = await Promise.all(['b1', 'b2'].map((id) => runCli(['provision', '--board', id], { cwd: rig.root, timeoutMs: 180_000 })));
  assert.equal(a!.code, 0, a!.stderr);
  assert.equal(b!.code, 0, b!.stderr);
  assert.match(a!.stderr + b!.stderr, /waiting for keyprov pid \d+ \(board b[12]\)/, 'one run waited for the other');
  await rig.mosquitto.waitForLog(/as lab-b1 .*u'lab-b1'/);
  await rig.mosquitto.waitForLog(/as lab-b2 .*u'lab-b2'/);
  keysMatch(rig, 0, 'b1');
  keysMatch(rig, 1, 'b2');
  const key = (id: string) => readFileSync(path.join(rig.root, '.keyprov/boards', id, 'device-public-key.pem'), 'utf8');
  assert.notEqual(key('b1'), key('b2'));
  for (const id of ['b1', 'b2']) {
    const report = JSON.parse(readFileSync(path.join(rig.root, '.keyprov/boards', id, 'report.json'), 'utf8'));
    assert.equal(report.keygenBuilds, 1, `${id} built its own keygen image`);
  }
  assert.ok(!existsSync(path.join(rig.root, '.keyprov/pipeline-patch.lock')), 'no lock is left behind');
  noLeftovers(rig, before);
});
