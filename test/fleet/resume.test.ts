// A fleet run killed with SIGKILL part way, then rerun: the boards already done keep their
// certificates (same serials, nothing issued twice) and the rest are finished.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Database from 'better-sqlite3';
import { KEYPROV_BIN } from '../helpers/cli.js';
import { startRig } from './rig.js';

function count(dbFile: string, sql: string): number {
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created / not migrated yet
  }
}

test('SIGKILL mid-run, rerun: done boards keep their serials, the others finish, one certificate per board', { timeout: 300_000 }, async (t) => {
  const rig = await startRig(t, 4);
  const dbFile = path.join(rig.root, '.keyprov', 'keyprov.db');
  const child = spawn(process.execPath, [KEYPROV_BIN, 'fleet', 'provision', '--parallel', '2'], { cwd: rig.root, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(() => child.kill('SIGKILL'));
  // Kill as soon as two boards are done (the other two are then in flight or queued).
  const deadline = Date.now() + 150_000;
  while (count(dbFile, "SELECT count(*) AS n FROM fleet_boards WHERE status = 'done'") < 2) {
    assert.ok(Date.now() < deadline, 'two boards finished in time');
    assert.equal(child.exitCode, null, 'the first run is still going');
    await sleep(50);
  }
  child.kill('SIGKILL');
  await exited;

  const db = new Database(dbFile, { readonly: true });
  const doneBefore = db.prepare("SELECT board_id, certificate_serial FROM fleet_boards WHERE status = 'done' ORDER BY board_id").all() as { board_id: string; certificate_serial: string }[];
  const running = db.prepare("SELECT count(*) AS n FROM fleet_boards WHERE status = 'running'").get() as { n: number };
  db.close();
  assert.ok(doneBefore.length >= 2 && doneBefore.length < 4, `killed part way (${doneBefore.length} done)`);
  assert.ok(running.n >= 1, 'the kill left boards in running');
  const pemBefore = new Map(doneBefore.map((d) => [d.board_id, readFileSync(path.join(rig.root, '.keyprov', 'boards', d.board_id, 'device-cert.pem'), 'utf8')]));

  const r = await rig.cli(['fleet', 'provision', '--parallel', '2', '--json'], 180_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { fleet: { boards: { board: string; outcome: string }[] } };
  for (const b of out.fleet.boards) assert.equal(b.outcome, doneBefore.some((d) => d.board_id === b.board) ? 'already-done' : 'ok', b.board);
  assert.match(r.stderr, /ended without finishing this board/);

  const db2 = new Database(dbFile, { readonly: true });
  try {
    const rows = db2.prepare('SELECT board_id, status, certificate_serial, public_key_fingerprint FROM fleet_boards ORDER BY board_id').all() as { board_id: string; status: string; certificate_serial: string; public_key_fingerprint: string }[];
    assert.deepEqual(rows.map((x) => [x.board_id, x.status]), rig.ids.map((id) => [id, 'done']));
    for (const d of doneBefore) {
      assert.equal(rows.find((x) => x.board_id === d.board_id)!.certificate_serial, d.certificate_serial, `${d.board_id} kept its serial`);
      assert.equal(readFileSync(path.join(rig.root, '.keyprov', 'boards', d.board_id, 'device-cert.pem'), 'utf8'), pemBefore.get(d.board_id));
    }
    // Exactly one certificate per board in the CA's record: nothing issued twice.
    const certs = db2.prepare('SELECT board_id, count(*) AS n FROM certificates GROUP BY board_id ORDER BY board_id').all() as { board_id: string; n: number }[];
    assert.deepEqual(certs.map((c) => [c.board_id, c.n]), rig.ids.map((id) => [id, 1]));
    for (const x of rows) {
      const c = db2.prepare('SELECT serial, public_key_fingerprint FROM certificates WHERE board_id = ?').get(x.board_id) as { serial: string; public_key_fingerprint: string };
      assert.equal(x.certificate_serial, c.serial);
      assert.equal(x.public_key_fingerprint, c.public_key_fingerprint);
    }
  } finally {
    db2.close();
  }
  for (const id of rig.ids) await rig.broker.waitForLog(new RegExp(`as lab-${id} \\(`));
});

test('SIGKILL during the keygen build (edit mode): the next command restores the source, the stale keygen lock is taken over', { timeout: 180_000 }, async (t) => {
  const rig = await startRig(t, 1);
  const source = path.join(rig.root, 'src', 'aws_dev_mode_key_provisioning.c');
  const before = readFileSync(source, 'utf8');
  // The keygen build waits for a go file, so the kill lands while the patch is in the tree.
  const go = path.join(rig.root, 'go');
  rig.writeConfig((c) => (c.build.command = `if [ "$KEYPROV_PHASE" = keygen ]; then while [ ! -e ${go} ]; do sleep 0.05; done; fi; ${c.build.command}`));
  const child = spawn(process.execPath, [KEYPROV_BIN, 'fleet', 'provision'], { cwd: rig.root, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 60_000;
  while (!/FORCE_GENERATE_NEW_KEY_PAIR\s+1/.test(readFileSync(source, 'utf8'))) {
    assert.ok(Date.now() < deadline, 'the keygen patch was applied');
    await sleep(25);
  }
  assert.ok(existsSync(path.join(rig.root, '.keyprov', 'fleet', 'keygen.lock')));
  child.kill('SIGKILL');
  await exited;

  const st = await rig.cli(['fleet', 'status']);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stderr, /ended without restoring its keygen patch; restored/);
  assert.equal(readFileSync(source, 'utf8'), before);

  writeFileSync(go, '');
  const r = await rig.cli(['fleet', 'provision', '--json'], 120_000);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /\[b1\] resuming: pid \d+ ended without finishing/);
  const out = JSON.parse(r.stdout) as { fleet: { keygenBuilds: number; boards: { outcome: string }[] } };
  assert.equal(out.fleet.keygenBuilds, 1);
  assert.equal(out.fleet.boards[0]!.outcome, 'ok');
  assert.equal(readFileSync(source, 'utf8'), before);
  assert.ok(!existsSync(path.join(rig.root, '.keyprov', 'fleet', 'keygen.lock')));
  await rig.broker.waitForLog(/as lab-b1 \(/);
});
