// keyprov fleet without boards attached: bad input, --dry-run plans, status of a new
// project, and the live table on a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { Logger } from '../../src/log.js';
import { FleetDisplay } from '../../src/fleet/display.js';
import { screen } from '../helpers/terminal.js';
import { RACK, paperProject as project } from './paper-rack.js';
import { STEP_NAMES } from '../../src/pipeline/provision.js';


test('bad input: no boards, an unknown board, --parallel 0, two boards on one thing name', async (t) => {
  const none = await runCli(['fleet', 'provision'], { cwd: project(t, { build: { command: 'true' } }) });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /the config lists no boards/);
  assert.match(none.stderr, /add boards\[\]/);
  assert.doesNotMatch(none.stderr, /\n\s+at /, 'no stack trace');

  const root = project(t, RACK);
  const unknown = await runCli(['fleet', 'provision', '--boards', 'b1,b9'], { cwd: root });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no board "b9".*\n.*known boards: b1, b2/);

  const again = await runCli(['fleet', 'provision', '--boards', 'b1', '--again', 'b2'], { cwd: root });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /--again names b2, which this run does not provision/);

  const zero = await runCli(['fleet', 'provision', '--parallel', '0'], { cwd: root });
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--parallel must be a whole number of at least 1/);

  const clash = await runCli(['fleet', 'provision'], { cwd: project(t, { ...RACK, credentials: { thingName: 'same' } }) });
  assert.equal(clash.code, 2);
  assert.match(clash.stderr, /boards b1 and b2 would both be thing same[\s\S]*\{\{id\}\}/);
  assert.ok(!existsSync(path.join(root, '.keyprov')), 'nothing written on bad input');
});

test('--dry-run plans every board and writes nothing; status of a new project lists the configured boards', async (t) => {
  const root = project(t, RACK);
  const r = await runCli(['fleet', 'provision', '--dry-run', '--json'], { cwd: root });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[b1\] would flash the keygen image.* as thing lab-b1/);
  assert.match(r.stderr, /\[b2\] would flash the keygen image.* as thing lab-b2/);
  assert.match(r.stderr, /would build the keygen image once/);
  const out = JSON.parse(r.stdout) as { fleet: { keygenBuilds: number; boards: { outcome: string }[] } };
  assert.equal(out.fleet.keygenBuilds, 1);
  assert.deepEqual(out.fleet.boards.map((b) => b.outcome), ['planned', 'planned']);
  assert.ok(!existsSync(path.join(root, '.keyprov')), '--dry-run wrote no state');

  const st = await runCli(['fleet', 'status', '--csv'], { cwd: root });
  assert.equal(st.code, 0, st.stderr);
  assert.deepEqual(st.stdout.trim().split('\r\n').slice(1).map((l) => l.split(',').slice(0, 4).join(',')), ['b1,lab-b1,new,new', 'b2,lab-b2,new,new']);
  assert.ok(!existsSync(path.join(root, '.keyprov')), 'status created no store');
});

test('on a terminal the board-by-step table is redrawn in place', () => {
  const chunks: string[] = [];
  const log = new Logger({ color: false, stream: { write: (s: string) => chunks.push(s), isTTY: true } });
  const d = new FleetDisplay(log, [{ id: 'b1' }, { id: 'board-2' }], STEP_NAMES);
  d.update('b1', { state: 'running', startedAt: Date.now(), steps: STEP_NAMES.map((name, i) => ({ name, title: name, outcome: i < 2 ? 'ok' : 'not-run', durationMs: i < 2 ? 5 : undefined, startedAt: i <= 2 ? 'x' : undefined })) });
  d.update('b1', { steps: STEP_NAMES.map((name) => ({ name, title: name, outcome: 'ok', durationMs: 1 })), state: 'ok', endedAt: Date.now(), note: 'connected' });
  const raw = chunks.join('');
  assert.match(raw, /\x1b\[3A/, 'the second draw moves up over the 3 lines of the first');
  const text = raw.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  assert.match(text, /^board\s+pre prb pat bkg fkg cap rst iss aws ren bcr fcr vfy/m);
  const last = text.slice(text.lastIndexOf('board '));
  assert.match(last, /b1\s+(ok\s+){13}\d+\.\ds\s+connected/);
  assert.match(last, /board-2\s+(\.\s+){13}queued/);
  assert.doesNotMatch(text, /\[b1\] /, 'no CI lines on a terminal');
});

test('on a terminal, lines logged while the table is shown (keygen build commands, waits, flags) stay above it', () => {
  const chunks: string[] = [];
  const log = new Logger({ color: true, stream: { write: (s: string) => chunks.push(s), isTTY: true } });
  const d = new FleetDisplay(log, [{ id: 'b1' }, { id: 'b2' }], STEP_NAMES);
  const running = (n: number) => STEP_NAMES.map((name, i) => ({ name, title: name, outcome: (i < n ? 'ok' : 'not-run') as 'ok' | 'not-run', durationMs: i < n ? 5 : undefined, startedAt: i <= n ? 'x' : undefined }));
  d.update('b1', { state: 'running', startedAt: Date.now(), steps: running(2) });
  log.info('$ make -s OUT=build');
  log.warn('waiting for keyprov pid 4242 (board b9)');
  d.update('b2', { state: 'running', startedAt: Date.now(), steps: running(1) });
  d.line('[b1] FLAG duplicate-key: the same public key was captured on b2');
  d.update('b1', { steps: running(13), state: 'ok', endedAt: Date.now(), note: 'connected' });
  d.close();
  log.info('fleet: 1 provisioned');
  const rows = screen(chunks.join(''));
  const expected = ['$ make -s OUT=build', 'keyprov: warning: waiting for keyprov pid 4242 (board b9)', '[b1] FLAG duplicate-key: the same public key was captured on b2'];
  assert.deepEqual(rows.slice(0, 3), expected, rows.join('\n'));
  assert.match(rows[3]!, /^board\s+pre prb/);
  assert.match(rows[4]!, /^b1\s+(ok\s+){13}\d+\.\ds\s+connected/);
  assert.match(rows[5]!, /^b2\s+ok\s+\.\.\./);
  assert.equal(rows[6], 'fleet: 1 provisioned', 'the last table stays; later output goes below it');
  assert.equal(rows.length, 7, rows.join('\n'));
});
