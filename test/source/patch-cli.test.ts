// The real CLI: patch/restore without a config, the pending-patch warning, exit codes,
// and crash safety (SIGKILL right after the journal write and right after the file write).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KEYPROV_BIN, runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { copyFixtures, gccMacro, K, sha } from './helpers.js';

const journalOf = (dir: string) => path.join(dir, '.keyprov', 'patch-journal.json');

test('CLI: patch --phase keygen without a config, a warning on the next command, restore byte-identical', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['crlf.c'])['crlf.c'];
  const before = sha(file);
  const p = await runCli(['patch', '--phase', 'keygen', '--source', 'crlf.c', '--json'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  const data = JSON.parse(p.stdout);
  assert.equal(data.file, file);
  assert.equal(data.line, 4);
  assert.deepEqual(data.changes.map((c: any) => [c.from, c.to]), [['0', '1']]);
  assert.equal(gccMacro(file, K), '1');

  const doctor = await runCli(['doctor', '--json'], { cwd: dir });
  assert.match(doctor.stderr, /warning: a keygen patch is still applied to .*crlf\.c/);
  assert.equal(JSON.parse(doctor.stdout).checks.find((c: any) => c.check === 'keygen patch').status, 'problem');

  const r = await runCli(['restore'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha(file), before);
  assert.ok(!existsSync(journalOf(dir)));
  const quiet = await runCli(['patch', '--phase', 'credential', '--source', 'crlf.c'], { cwd: dir });
  assert.equal(quiet.code, 0);
  assert.doesNotMatch(quiet.stderr, /still applied/);
});

test('CLI: firmware.provisioningSource from the config; guard + --print-cflags prints -DNAME=1', async (t) => {
  const dir = tmpDir(t);
  copyFixtures(dir, ['tabs.c']);
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), 'firmware:\n  provisioningSource: tabs.c\n');
  const notGuarded = await runCli(['patch', '--phase', 'keygen', '--print-cflags'], { cwd: dir });
  assert.equal(notGuarded.code, 2);
  assert.match(notGuarded.stderr, /tabs\.c:2: .* not wrapped in #ifndef/);
  assert.match(notGuarded.stderr, /hint: run `keyprov patch --mode guard`/);
  const g = await runCli(['patch', '--mode', 'guard'], { cwd: dir });
  assert.equal(g.code, 0, g.stderr);
  const flags = await runCli(['patch', '--phase', 'keygen', '--print-cflags'], { cwd: dir });
  assert.equal(flags.code, 0, flags.stderr);
  assert.equal(flags.stdout.trim(), `-D${K}=1`);
  assert.equal(gccMacro(path.join(dir, 'tabs.c'), K, flags.stdout.trim().split(' ')), '1');
  assert.equal(gccMacro(path.join(dir, 'tabs.c'), K), '0');
});

test('CLI: two active definitions exit 2 naming both lines, no stack trace', async (t) => {
  const dir = tmpDir(t);
  copyFixtures(dir, ['two-active.c']);
  const r = await runCli(['patch', '--phase', 'keygen', '--source', 'two-active.c'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /two-active\.c:2: .*two-active\.c:4/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

/** Start `keyprov patch --phase keygen` paused at `step`, SIGKILL it there. */
function killAt(step: 'journal' | 'write', dir: string, args: string[]): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KEYPROV_BIN, 'patch', '--phase', 'keygen', ...args], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', KEYPROV_TEST_PAUSE_AFTER: step },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`never paused: ${err}`));
    }, 30_000);
    child.stderr.on('data', (d) => {
      err += d;
      if (err.includes(`paused after ${step}`)) child.kill('SIGKILL');
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve(signal);
    });
  });
}

for (const step of ['journal', 'write'] as const) {
  test(`crash safety: SIGKILL after the ${step === 'journal' ? 'journal write' : 'source file write'}, then restore gives the original bytes`, async (t) => {
    const dir = tmpDir(t);
    const f = copyFixtures(dir, ['delay.c', 'non-ascii.c']);
    const before = sha(f['delay.c']);
    const signal = await killAt(step, dir, ['--source', 'delay.c', '--keygen-delay', '3']);
    assert.equal(signal, 'SIGKILL');
    assert.ok(existsSync(journalOf(dir)), 'the journal is on disk before any source write');
    assert.equal(JSON.parse(readFileSync(journalOf(dir), 'utf8')).entries[0].file, f['delay.c']);
    if (step === 'journal') assert.equal(sha(f['delay.c']), before, 'killed before the file write: source untouched');
    else assert.equal(gccMacro(f['delay.c'], 'DELAY_BEFORE_KEY_PAIR_GENERATION_SECS'), '( 3 )', 'killed after the file write: source patched');

    const warn = await runCli(['patch', '--phase', 'keygen', '--source', 'non-ascii.c', '--dry-run'], { cwd: dir });
    assert.match(warn.stderr, /keygen patch is still applied to .*delay\.c/);
    const r = await runCli(['restore', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).patch.restored[0].how, step === 'journal' ? 'already-original' : 'bytes');
    assert.equal(sha(f['delay.c']), before);
    assert.ok(!existsSync(journalOf(dir)));
  });
}

test('CLI: patch --help explains why the keygen delay exists', async () => {
  const r = await runCli(['patch', '--help']);
  assert.equal(r.code, 0);
  const text = r.stdout.replace(/\s+/g, ' ');
  assert.match(text, /--keygen-delay/);
  assert.match(text, /reset during the next flash can boot the old keygen image/);
});
