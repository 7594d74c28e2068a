// keyprov provision end to end on virtual boards against Mosquitto with mutual TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { makeRig, type Rig } from '../helpers/rig.js';
import { runCli, KEYPROV_BIN, type CliResult } from '../helpers/cli.js';
import { buildFirmware, VBOARD_DIR } from '../helpers/vboard.js';
import { tmpDir } from '../helpers/tmp.js';
import { keysMatch, noLeftovers } from '../helpers/provision-checks.js';

const provision = (rig: Rig, args: string[]) => runCli(['provision', ...args], { cwd: rig.root, timeoutMs: 180_000 });
const report = (rig: Rig, id: string) => JSON.parse(readFileSync(path.join(rig.root, '.keyprov/boards', id, 'report.json'), 'utf8'));
const outcome = (r: { steps: { name: string; outcome: string }[] }, name: string) => r.steps.find((s) => s.name === name)?.outcome;

test('provision: a fresh board connects by mutual TLS with a certificate for its own key; --keygen auto saves a build and a flash', async (t) => {
  const rig = await makeRig(t, { boards: 2 });
  const before = rig.sourceHashes();

  const r1 = await provision(rig, ['--board', 'b1', '--keygen', 'force', '--json']);
  assert.equal(r1.code, 0, r1.stderr);
  const json = JSON.parse(r1.stdout);
  assert.equal(json.report.outcome, 'ok');
  assert.match(r1.stderr, /board b1 connected with mutual TLS as thing lab-b1/);
  await rig.mosquitto.waitForLog(/New client connected from .* as lab-b1 .*u'lab-b1'/);
  keysMatch(rig, 0, 'b1');
  const force = report(rig, 'b1');
  assert.equal(force.keygenBuilds, 1);

  // b2 runs the plain image (no certificate, switch at 0): it generates and prints a key on its own.
  const image = await buildFirmware(t, { tag: 'factory' });
  assert.equal((await rig.boards[1]!.flash(image)).code, 0);
  const r2 = await provision(rig, ['--board', 'b2']);
  assert.equal(r2.code, 0, r2.stderr);
  await rig.mosquitto.waitForLog(/as lab-b2 .*u'lab-b2'/);
  keysMatch(rig, 1, 'b2');
  const auto = report(rig, 'b2');
  assert.equal(auto.keygenBuilds, 0);
  for (const s of ['patch-keygen', 'build-keygen', 'flash-keygen']) assert.equal(outcome(auto, s), 'skipped', s);
  const ran = (r: typeof auto) => r.steps.filter((s: { name: string; outcome: string }) => /^(build|flash)-/.test(s.name) && s.outcome === 'ok').length;
  assert.equal(ran(force), 4);
  assert.equal(ran(auto), 2, 'one build and one flash fewer than --keygen force');
  noLeftovers(rig, before);
});

test('provision faults: flash fails, board never prints a key -> clear error, source restored', async (t) => {
  const rig = await makeRig(t, { boards: 2, extraConfig: 'serial:\n  timeout: 6\nprovision:\n  keygen: force' });
  const before = rig.sourceHashes();

  rig.boards[0]!.setKnobs({ flashFailures: 5 });
  const flash = await provision(rig, ['--board', 'b1']);
  assert.equal(flash.code, 3, flash.stderr);
  assert.match(flash.stderr, /keyprov: error: .*vboard/);
  assert.match(flash.stderr, /restore the source .* ok/);
  assert.equal(outcome(report(rig, 'b1'), 'flash-keygen'), 'failed');
  noLeftovers(rig, before);

  rig.boards[1]!.setKnobs({ baudMismatch: true });
  const silent = await provision(rig, ['--board', 'b2']);
  assert.equal(silent.code, 4, silent.stderr);
  assert.match(silent.stderr, /hint: /);
  assert.equal(outcome(report(rig, 'b2'), 'capture'), 'failed');
  assert.ok(existsSync(path.join(rig.root, '.keyprov/boards/b2/console-keygen.log')), 'the console log is kept on failure');
  noLeftovers(rig, before);
});

function spawnProvision(rig: Rig, args: string[]) {
  const child = spawn(process.execPath, [KEYPROV_BIN, 'provision', ...args], { cwd: rig.root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const waitFor = async (re: RegExp, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!re.test(stderr)) {
      if (Date.now() > end) throw new Error(`never saw ${re}:\n${stderr}`);
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before ${re}:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  return { child, waitFor, done, stderr: () => stderr };
}

test('provision faults: SIGINT during capture restores and exits 130; SIGKILL during the keygen build is restored by the next keyprov run', async (t) => {
  const slowKeygen = 'if [ "$KEYPROV_PHASE" = keygen ] && [ -f slow-keygen ]; then sleep 41; fi; make -s OUT=build GENERATED_DIR="$KEYPROV_GENERATED_DIR" VBOARD_DEFINES="$KEYPROV_CFLAGS"';
  const rig = await makeRig(t, { boards: 1, buildCommand: slowKeygen, extraConfig: 'serial:\n  timeout: 60\nprovision:\n  keygen: force' });
  t.after(() => void spawn('pkill', ['-f', 'sleep 41']));
  const before = rig.sourceHashes();

  rig.boards[0]!.setKnobs({ baudMismatch: true });
  const int = spawnProvision(rig, ['--board', 'b1']);
  await int.waitFor(/flash the keygen image and reset ok/);
  await new Promise((r) => setTimeout(r, 500));
  int.child.kill('SIGINT');
  const r = await int.done;
  assert.equal(r.code, 130, int.stderr());
  assert.match(int.stderr(), /SIGINT: stopping after restoring the source/);
  noLeftovers(rig, before);

  rig.boards[0]!.setKnobs({ baudMismatch: false });
  execFileSync('touch', [path.join(rig.root, 'slow-keygen')]);
  const before2 = rig.sourceHashes();
  const kill = spawnProvision(rig, ['--board', 'b1']);
  await kill.waitFor(/patch the source for the keygen build ok/);
  await new Promise((r) => setTimeout(r, 300));
  kill.child.kill('SIGKILL');
  await kill.done;
  assert.notDeepEqual(rig.sourceHashes(), before2, 'the kill left the keygen patch in the tree');
  const next: CliResult = await runCli(['doctor', '--board', 'b1'], { cwd: rig.root });
  assert.match(next.stderr, /ended without restoring its keygen patch; restored .*aws_dev_mode_key_provisioning\.c/);
  assert.match(next.stderr, /keygen patch: none pending/);
  noLeftovers(rig, before2);
});

test('provision: the board regenerating its key during the credential flash (stale-key race) fails verification with an explanation', async (t) => {
  const rig = await makeRig(t, { boards: 1, extraConfig: 'provision:\n  keygen: force\n  verify:\n    timeout: 20' });
  const before = rig.sourceHashes();
  rig.boards[0]!.setKnobs({ staleImageMs: 1500 });
  const r = await provision(rig, ['--board', 'b1']);
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /KEY_CHANGED|different key than the one its certificate was issued for/);
  assert.match(r.stderr, /stale-key race/);
  assert.match(r.stderr, /hint: run `keyprov provision --board b1 --keygen force` again/);
  assert.equal(outcome(report(rig, 'b1'), 'verify'), 'failed');
  noLeftovers(rig, before);
});

test('provision --dry-run prints the commands it would run and changes nothing', async (t) => {
  const rig = await makeRig(t, { boards: 1 });
  const before = rig.sourceHashes();
  const r = await provision(rig, ['--board', 'b1', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /would set keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR 0 -> 1 at .*aws_dev_mode_key_provisioning\.c:30/);
  assert.match(r.stderr, /\[dry-run\] build keygen: \/bin\/sh -c 'make -s OUT=build/);
  assert.match(r.stderr, /\[dry-run\] flash \(vboard\): .*vboard flash --board .*boards\/b1 /);
  assert.deepEqual(rig.sourceHashes(), before);
  assert.ok(!existsSync(path.join(rig.root, '.keyprov/boards')), 'no board folder');
  assert.ok(!existsSync(path.join(rig.root, 'build')), 'nothing built');
});

test('provision preflight: a missing flasher or serial port fails before the source is patched or anything is built', async (t) => {
  const root = tmpDir(t, 'keyprov-preflight-');
  cpSync(VBOARD_DIR, root, { recursive: true, filter: (src) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(src) });
  const source = path.join(root, 'src/aws_dev_mode_key_provisioning.c');
  const before = readFileSync(source);
  const config = path.join(root, 'keyprov.config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace('vboard: ./vboard', 'vboard: ./no-such-vboard'));
  const noTool = await runCli(['provision', '--keygen', 'force', '--create-ca'], { cwd: root });
  assert.equal(noTool.code, 3, noTool.stderr);
  assert.match(noTool.stderr, /keyprov: error: vboard: .*no-such-vboard does not exist or is not executable\nhint: install it/);
  writeFileSync(config, readFileSync(config, 'utf8').replace('vboard: ./no-such-vboard', 'vboard: ./vboard'));
  const noPort = await runCli(['provision', '--keygen', 'force', '--create-ca'], { cwd: root });
  assert.equal(noPort.code, 2, noPort.stderr);
  assert.match(noPort.stderr, /serial port .*\.vboard\/board-1\/tty does not exist\nhint: plug the board in \(a virtual board: `vboard serve --board DIR`\)/);
  for (const r of [noTool, noPort]) assert.match(r.stderr, /\[1\/13\] preflight: .* FAILED/);
  assert.deepEqual(readFileSync(source), before, 'the source was never patched');
  assert.ok(!existsSync(path.join(root, 'build')), 'nothing was built');
});
