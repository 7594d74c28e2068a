// The fleet ledger on its own: claims, flags, and rows that match their events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { openStore } from '../../src/store/db.js';
import { FleetLedger } from '../../src/fleet/ledger.js';
import { statusRows, toCsv } from '../../src/fleet/status.js';
import { selectBoards } from '../../src/fleet/fleet.js';
import { tmpDir } from '../helpers/tmp.js';

/** A pid that surely belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('claim: a live owner makes the board busy, a dead one is taken over, a done board is left alone', (t) => {
  const db = openStore(path.join(tmpDir(t), 'keyprov.db'));
  t.after(() => db.close());
  const me = new FleetLedger(db);
  const dead = new FleetLedger(db, { pid: deadPid() });
  const alive = new FleetLedger(db, { pid: process.ppid }); // the test runner: alive, not us

  assert.equal(dead.claim('b1', 'lab-b1').outcome, 'claimed');
  const c = me.claim('b1', 'lab-b1');
  assert.equal(c.outcome, 'claimed');
  assert.equal(c.outcome === 'claimed' && c.recoveredFrom, dead.pid);
  assert.equal(me.get('b1')!.attempts, 2);

  assert.equal(alive.claim('b2', 'lab-b2').outcome, 'claimed');
  assert.equal(me.claim('b2', 'lab-b2').outcome, 'busy');

  me.certified('b1', { serial: '0A', certificateFingerprint: 'cf', keyFingerprint: 'k1' });
  me.done('b1');
  assert.equal(me.claim('b1', 'lab-b1').outcome, 'done');
  assert.equal(me.get('b1')!.ownerPid, undefined);
  const kinds = me.events('b1').map((e) => e.kind);
  assert.deepEqual(kinds, ['claimed', 'claimed', 'certified', 'done']);
});

test('flags: the same key on two boards, and a key that changed after its certificate', (t) => {
  const db = openStore(path.join(tmpDir(t), 'keyprov.db'));
  t.after(() => db.close());
  const l = new FleetLedger(db);
  for (const b of ['b1', 'b2', 'b3']) l.claim(b, `lab-${b}`);
  assert.deepEqual(l.captured('b1', 'aa'.repeat(32)).flags, []);
  const dup = l.captured('b2', 'aa'.repeat(32));
  assert.deepEqual(dup.flags, ['duplicate-key']);
  assert.deepEqual(dup.otherBoards, ['b1']);
  assert.deepEqual(l.get('b1')!.flags, ['duplicate-key']);
  assert.deepEqual(l.get('b2')!.flags, ['duplicate-key']);

  l.captured('b3', 'bb'.repeat(32));
  l.certified('b3', { serial: '01', certificateFingerprint: 'c', keyFingerprint: 'bb'.repeat(32) });
  assert.deepEqual(l.get('b3')!.flags, []);
  assert.deepEqual(l.captured('b3', 'cc'.repeat(32)).flags, ['key-changed']);
  assert.deepEqual(l.get('b3')!.flags, ['key-changed']);
  assert.equal(l.get('b3')!.issuedKeyFingerprint, 'bb'.repeat(32), 'the certified key is kept for comparison');
  assert.equal(l.events('b3').filter((e) => e.kind === 'flagged').length, 1);

  const rows = statusRows(l.all(), [{ id: 'b4', thing: 'lab-b4' }]);
  assert.deepEqual(rows.map((r) => [r.board, r.stage]), [['b1', 'captured'], ['b2', 'captured'], ['b3', 'certified'], ['b4', 'new']]);
  const csv = toCsv([{ ...rows[0]!, error: 'X: a, "quoted"\nline' }]);
  assert.match(csv, /,"X: a, ""quoted""\nline",\r\n$/, 'error, then clearedFlags (added last so earlier columns keep their place)');
});

test('a failure inside a ledger change leaves neither the row nor the event half written', (t) => {
  const db = openStore(path.join(tmpDir(t), 'keyprov.db'));
  t.after(() => db.close());
  const l = new FleetLedger(db);
  l.claim('b1', 'lab-b1');
  const events = l.events('b1').length;
  db.exec("CREATE TRIGGER no_certified BEFORE INSERT ON fleet_events WHEN NEW.kind = 'certified' BEGIN SELECT RAISE(ABORT, 'boom'); END");
  assert.throws(() => l.certified('b1', { serial: '01', certificateFingerprint: 'c', keyFingerprint: 'k' }), /boom/);
  assert.equal(l.get('b1')!.certificateSerial, undefined, 'the row update was rolled back with the event');
  assert.equal(l.events('b1').length, events);
});

test('selectBoards: all, a list, unknown ids and an empty boards[] are errors that say what to do', () => {
  const cfg = { boards: [{ id: 'b1' }, { id: 'b2' }] } as never;
  assert.deepEqual(selectBoards(cfg, 'all'), ['b1', 'b2']);
  assert.deepEqual(selectBoards(cfg, ['b2', ' b2', '']), ['b2']);
  assert.throws(() => selectBoards(cfg, ['b9']), (e: Error & { code?: string; hint?: string }) => e.code === 'BOARD_UNKNOWN' && /b1, b2/.test(e.hint ?? ''));
  assert.throws(() => selectBoards({} as never, 'all'), (e: Error & { code?: string }) => e.code === 'FLEET_NO_BOARDS');
});
