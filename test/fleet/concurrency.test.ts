// Two keyprov processes provisioning different boards of one project at the same time:
// one store (WAL, busy timeout), one source tree (the keygen lock keeps the edit-mode patch
// out of the other process's builds), no lost or duplicated ledger rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startRig } from './rig.js';

test('two processes, different boards, at once: every row once, every event from its own process', { timeout: 300_000 }, async (t) => {
  const rig = await startRig(t, 4);
  const source = path.join(rig.root, 'src', 'aws_dev_mode_key_provisioning.c');
  const before = readFileSync(source);
  const [a, b] = await Promise.all([rig.cli(['fleet', 'provision', '--boards', 'b1,b2', '--json'], 200_000), rig.cli(['fleet', 'provision', '--boards', 'b3,b4', '--json'], 200_000)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  for (const r of [a, b]) assert.equal((JSON.parse(r.stdout) as { fleet: { keygenBuilds: number } }).fleet.keygenBuilds, 1);
  assert.deepEqual(readFileSync(source), before, 'the source is back as it was');

  const db = new Database(path.join(rig.root, '.keyprov', 'keyprov.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT board_id, status, certificate_serial, public_key_fingerprint FROM fleet_boards ORDER BY board_id').all() as { board_id: string; status: string; certificate_serial: string; public_key_fingerprint: string }[];
    assert.deepEqual(rows.map((r) => [r.board_id, r.status]), rig.ids.map((id) => [id, 'done']));
    assert.equal(new Set(rows.map((r) => r.certificate_serial)).size, 4);
    assert.equal(new Set(rows.map((r) => r.public_key_fingerprint)).size, 4);
    const certs = db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number };
    assert.equal(certs.n, 4);
    // Each board: claimed once, certified once, done once, all by one process; the two pairs by different processes.
    const ev = db.prepare("SELECT board_id, kind, pid FROM fleet_events WHERE kind IN ('claimed', 'certified', 'done') ORDER BY id").all() as { board_id: string; kind: string; pid: number }[];
    const pidOf = new Map<string, number>();
    for (const id of rig.ids) {
      const mine = ev.filter((e) => e.board_id === id);
      assert.deepEqual(mine.map((e) => e.kind).sort(), ['certified', 'claimed', 'done'], id);
      assert.equal(new Set(mine.map((e) => e.pid)).size, 1, `${id}: one process`);
      pidOf.set(id, mine[0]!.pid);
    }
    assert.equal(pidOf.get('b1'), pidOf.get('b2'));
    assert.equal(pidOf.get('b3'), pidOf.get('b4'));
    assert.notEqual(pidOf.get('b1'), pidOf.get('b3'));
    const steps = db.prepare("SELECT board_id, count(*) AS n FROM fleet_events WHERE kind = 'step' AND step = 'verify' GROUP BY board_id").all() as { board_id: string; n: number }[];
    assert.deepEqual(steps.map((s) => [s.board_id, s.n]), rig.ids.map((id) => [id, 1]));
  } finally {
    db.close();
  }
  for (const id of rig.ids) await rig.broker.waitForLog(new RegExp(`as lab-${id} \\(`));
});
