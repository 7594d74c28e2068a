// `keyprov build`, `keyprov flash`, `keyprov reset` and doctor's flash-tool check, through the real CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, existsSync, chmodSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { tmpDir, writeTree } from '../helpers/tmp.js';
import { fakeEnv, calls } from './fake-tools.js';

const CONFIG = `build:
  command: ["./build.sh"]
  cwd: fw
  image: fw/out/app.img
flash:
  runner: vboard
  options:
    boardDir: boards/default
boards:
  - id: b1
  - id: b2
    flash:
      runner: nrfjprog
      options: {}
`;

function project(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  writeTree(dir, { 'keyprov.config.yaml': CONFIG, 'fw/build.sh': '#!/bin/sh\nmkdir -p out && echo "image for $KEYPROV_PHASE" > out/app.img\n' });
  chmodSync(path.join(dir, 'fw/build.sh'), 0o755);
  return { dir, callLog: path.join(dir, 'calls.jsonl') };
}

test('keyprov build --phase, then flash and reset the board with its runner', async (t) => {
  const { dir, callLog } = project(t);
  const env = fakeEnv(callLog);
  const b = await runCli(['build', '--phase', 'keygen', '--board', 'b1', '--json'], { cwd: dir, env });
  assert.equal(b.code, 0, b.stderr);
  assert.equal(readFileSync(path.join(dir, 'fw/out/app.img'), 'utf8'), 'image for keygen\n');
  const bj = JSON.parse(b.stdout);
  assert.equal(bj.phase, 'keygen');
  assert.equal(bj.logFile, path.join(dir, '.keyprov/boards/b1/build-keygen.log'));
  assert.ok(existsSync(bj.logFile));

  const f = await runCli(['flash', '--board', 'b1', '--json'], { cwd: dir, env });
  assert.equal(f.code, 0, f.stderr);
  const fj = JSON.parse(f.stdout);
  assert.equal(fj.runner, 'vboard');
  assert.equal(fj.resetDone, true);
  assert.match(f.stderr, /flashed .*app\.img to board b1 with vboard/);
  const boardDir = path.join(dir, 'boards/default');
  assert.deepEqual(calls(callLog).map((c) => c.argv), [['flash', '--board', boardDir, path.join(dir, 'fw/out/app.img')], ['reset', '--board', boardDir]]);
  assert.match(readFileSync(path.join(dir, '.keyprov/boards/b1/flash.log'), 'utf8'), /Verify OK/);

  const r = await runCli(['reset', '--board', 'b1'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(calls(callLog).at(-1)!.argv, ['reset', '--board', boardDir]);
});

test('flash failures exit 3 with the vendor message; several probes exit 2; no stack trace', async (t) => {
  const { dir, callLog } = project(t);
  writeTree(dir, { 'fw/out/app.img': 'x' });
  const fail = await runCli(['flash', '--board', 'b2', '--image', 'fw/out/app.img'], { cwd: dir, env: fakeEnv(callLog, { FAKE_PROBES: '1', FAKE_TOOL_FAIL: 'nodebugger' }) });
  assert.equal(fail.code, 3);
  assert.match(fail.stderr, /keyprov: error: flash \(nrfjprog\): nrfjprog failed \(exit 41 NoDebuggersError\): ERROR: There is no debugger connected to the PC\./);
  assert.match(fail.stderr, /hint: no debug probe is connected/);
  assert.doesNotMatch(fail.stderr, /\n\s+at /);
  const many = await runCli(['flash', '--board', 'b2', '--image', 'fw/out/app.img', '--json'], { cwd: dir, env: fakeEnv(callLog, { FAKE_PROBES: '683000001,683000002' }) });
  assert.equal(many.code, 2);
  const j = JSON.parse(many.stdout);
  assert.equal(j.error.code, 'PROBE_AMBIGUOUS');
  assert.deepEqual(j.error.details.probes, ['683000001', '683000002']);
});

test('--dry-run runs nothing: neither the build nor the flasher', async (t) => {
  const { dir, callLog } = project(t);
  const env = fakeEnv(callLog);
  const b = await runCli(['build', '--phase', 'credential', '--dry-run'], { cwd: dir, env });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /\[dry-run\] build credential: \.\/build\.sh/);
  assert.equal(existsSync(path.join(dir, 'fw/out')), false);
  const f = await runCli(['flash', '--board', 'b1', '--dry-run'], { cwd: dir, env });
  assert.equal(f.code, 0, f.stderr);
  assert.match(f.stderr, /\[dry-run\] flash \(vboard\): vboard flash --board /);
  assert.deepEqual(calls(callLog), []);
  assert.equal(existsSync(path.join(dir, '.keyprov')), false, 'dry-run writes no logs');
});

test('bad input: phase, board, runner options', async (t) => {
  const { dir } = project(t);
  const phase = await runCli(['build', '--phase', 'release'], { cwd: dir });
  assert.equal(phase.code, 2);
  assert.match(phase.stderr, /Invalid values:[\s\S]*phase/);
  const board = await runCli(['flash', '--board', 'nope'], { cwd: dir });
  assert.equal(board.code, 2);
  assert.match(board.stderr, /no board "nope" in the config/);
  writeTree(dir, { 'keyprov.config.yaml': CONFIG.replace('boardDir: boards/default', 'boardDir: boards/default\n    baud: 9600') });
  const opt = await runCli(['flash', '--board', 'b1', '--image', 'x'], { cwd: dir });
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /flash\.options\.baud: not an option of the vboard runner/);
});

test('doctor checks the executable the runner declares, with its install hint', async (t) => {
  const { dir } = project(t);
  const d = await runCli(['doctor', '--board', 'b2', '--json'], { cwd: dir, env: { PATH: '/nonexistent' } });
  const j = JSON.parse(d.stdout);
  const flash = j.checks.find((c: any) => c.check.startsWith('flash tool'));
  assert.equal(flash.check, 'flash tool (nrfjprog)');
  assert.equal(flash.status, 'problem');
  assert.match(flash.detail, /nrfjprog not found on PATH/);
  assert.match(flash.fix, /nRF Command Line Tools/);
  const ok = await runCli(['doctor', '--board', 'b1', '--json'], { cwd: dir, env: fakeEnv(path.join(dir, 'c')) });
  const f2 = JSON.parse(ok.stdout).checks.find((c: any) => c.check.startsWith('flash tool'));
  assert.equal(f2.status, 'ok', JSON.stringify(f2));
  assert.match(f2.detail, /fake-tools\/vboard/);
});
