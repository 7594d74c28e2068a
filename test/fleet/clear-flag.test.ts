// Clearing a flag after review: the ledger API (checks, one transaction, the event kept)
// and `keyprov fleet clear-flag` on a project whose ledger was filled through the API the
// way a fleet run fills it (claim, capture, issue, done), with no boards attached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/db.js';
import { FleetLedger } from '../../src/fleet/ledger.js';
import { statusRows, type StatusRow } from '../../src/fleet/status.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { RACK, paperProject } from './paper-rack.js';

/** The SHA-256 of a fresh P-256 key's SPKI, as capture records it. */
function keyFingerprint(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

const codeOf = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

test('ledger: a duplicate still on another board is refused; once the clone has its own key, both clear in one transaction with the reason kept', (t) => {
  const db = openStore(path.join(tmpDir(t), 'keyprov.db'));
  t.after(() => db.close());
  const l = new FleetLedger(db);
  const cloned = keyFingerprint();
  for (const b of ['b1', 'b2', 'b3']) l.claim(b, `lab-${b}`);
  l.captured('b1', cloned);
  l.captured('b2', cloned);
  l.captured('b3', keyFingerprint());
  const opts = { reason: 'cloned image; b2 reflashed', by: 'tester@lab' };

  // Still shared: refused for either board, naming the other; nothing changes.
  const before = l.events().length;
  assert.throws(() => l.clearFlag(['b1'], 'duplicate-key', opts), (e: Error & { code?: string; details?: { sharedWith?: string[] } }) => e.code === 'FLAG_STILL_TRUE' && /still the key of b2/.test(e.message) && e.details?.sharedWith?.[0] === 'b2');
  assert.throws(() => l.clearFlag(['b1', 'b2'], 'duplicate-key', opts), codeOf('FLAG_STILL_TRUE'));
  // b3 has no flag: the whole request fails, b1 included.
  assert.throws(() => l.clearFlag(['b3'], 'duplicate-key', { ...opts, force: true }), (e: Error & { code?: string }) => e.code === 'FLAG_NOT_SET' && /board b3 does not have the flag duplicate-key \(it has no flags\)/.test(e.message));
  assert.throws(() => l.clearFlag(['b1', 'b3'], 'duplicate-key', { ...opts, force: true }), codeOf('FLAG_NOT_SET'));
  assert.throws(() => l.clearFlag(['b1', 'b9'], 'duplicate-key', opts), (e: Error & { code?: string; hint?: string }) => e.code === 'BOARD_UNKNOWN' && /"b9"/.test(e.message) && e.hint === 'boards in the ledger: b1, b2, b3');
  assert.throws(() => l.clearFlag(['b1'], 'duplicate-key', { ...opts, reason: '  ' }), codeOf('FLAG_REASON_MISSING'));
  assert.equal(l.events().length, before, 'no event written by a refused clear');
  assert.deepEqual([l.get('b1')!.flags, l.get('b2')!.flags], [['duplicate-key'], ['duplicate-key']]);

  // A dry run checks and reports, writes nothing.
  const plan = l.clearFlag(['b1'], 'duplicate-key', { ...opts, force: true, dryRun: true });
  assert.deepEqual(plan.map((c) => [c.boardId, c.forced, c.sharedWith]), [['b1', true, ['b2']]]);
  assert.deepEqual(l.get('b1')!.flags, ['duplicate-key']);
  assert.equal(l.events().length, before);

  // b2 gets a key of its own (reflashed, provisioned again): now both may be cleared.
  l.claim('b2', 'lab-b2', { again: true });
  const own = keyFingerprint();
  assert.deepEqual(l.captured('b2', own).flags, [], 'its new key is unique');
  l.certified('b2', { serial: '02', certificateFingerprint: 'c2', keyFingerprint: own });
  assert.deepEqual(l.get('b2')!.flags, ['duplicate-key'], 'a new key does not clear duplicate-key by itself');
  const cleared = l.clearFlag(['b1', 'b2', 'b1'], 'duplicate-key', opts);
  assert.deepEqual(cleared.map((c) => [c.boardId, c.flagsAfter, c.forced]), [['b1', [], false], ['b2', [], false]]);
  assert.deepEqual([l.get('b1')!.flags, l.get('b2')!.flags], [[], []]);
  for (const b of ['b1', 'b2']) {
    const last = l.events(b).at(-1)!;
    assert.equal(last.kind, 'unflagged');
    assert.equal(last.step, 'review');
    assert.equal(last.pid, process.pid);
    assert.equal(last.detail, 'duplicate-key: cloned image; b2 reflashed (cleared by tester@lab)');
    assert.deepEqual(l.flagEvents(b).map((e) => `${e.kind} ${e.flag}`), ['flagged duplicate-key', 'unflagged duplicate-key'], 'the history keeps the flag and its clearing');
  }
  const rows = statusRows(l.all(), [], l.flagEvents());
  assert.deepEqual(rows.map((r) => [r.board, r.flags, r.clearedFlags]), [['b1', '', 'duplicate-key'], ['b2', '', 'duplicate-key'], ['b3', '', '']]);
  assert.throws(() => l.clearFlag(['b1'], 'duplicate-key', opts), (e: Error & { code?: string }) => e.code === 'FLAG_NOT_SET' && /\(it has no flags; duplicate-key was cleared at \d{4}-/.test(e.message));

  // The ledger keeps watching: the cloned key showing up again flags b1 again.
  l.claim('b3', 'lab-b3', { again: true });
  assert.deepEqual(l.captured('b3', cloned).otherBoards, ['b1']);
  assert.deepEqual(l.get('b1')!.flags, ['duplicate-key']);
  assert.equal(statusRows(l.all(), [], l.flagEvents())[0]!.clearedFlags, '', 'flagged again: no longer shown as cleared');
});

test('ledger: key-changed needs --force; a failure on the second board leaves the first one flagged', (t) => {
  const db = openStore(path.join(tmpDir(t), 'keyprov.db'));
  t.after(() => db.close());
  const l = new FleetLedger(db);
  const k = keyFingerprint();
  l.claim('b1', 'lab-b1');
  l.captured('b1', k);
  l.certified('b1', { serial: '01', certificateFingerprint: 'c1', keyFingerprint: k });
  l.keyChanged('b1', 'verify: KEY_CHANGED');
  assert.throws(() => l.clearFlag(['b1'], 'key-changed', { reason: 'r', by: 'x' }), (e: Error & { code?: string }) => e.code === 'FLAG_STILL_TRUE' && /keyprov fleet provision/.test(e.message));
  assert.deepEqual(l.get('b1')!.flags, ['key-changed']);
  const [c] = l.clearFlag(['b1'], 'key-changed', { reason: 'board retired', by: 'x', force: true });
  assert.equal(c!.forced, true);
  assert.deepEqual(l.get('b1')!.flags, []);
  assert.match(l.events('b1').at(-1)!.detail!, /^key-changed: board retired \(cleared by x; --force\)$/);

  // Two boards, the second one's event fails: the first one's row is rolled back too.
  const dup = keyFingerprint();
  for (const b of ['b2', 'b3']) {
    l.claim(b, `lab-${b}`);
    l.captured(b, dup);
  }
  db.exec("CREATE TRIGGER no_b3_unflag BEFORE INSERT ON fleet_events WHEN NEW.kind = 'unflagged' AND NEW.board_id = 'b3' BEGIN SELECT RAISE(ABORT, 'boom'); END");
  assert.throws(() => l.clearFlag(['b2', 'b3'], 'duplicate-key', { reason: 'r', by: 'x', force: true }), /boom/);
  assert.deepEqual(l.get('b2')!.flags, ['duplicate-key'], 'b2 was not cleared alone');
  assert.equal(l.events('b2').filter((e) => e.kind === 'unflagged').length, 0);
});

test('keyprov fleet clear-flag: errors exit 2 and change nothing; --dry-run; the clear lets fleet provision exit 0; status shows the history', async (t) => {
  const root = paperProject(t, RACK, 'keyprov-fleet-clear-');
  const cli = (...args: string[]) => runCli(args, { cwd: root });
  const noLedger = await cli('fleet', 'clear-flag', '--board', 'b1', '--flag', 'duplicate-key', '--reason', 'x');
  assert.equal(noLedger.code, 2);
  assert.match(noLedger.stderr, /no fleet ledger/);
  assert.ok(!existsSync(path.join(root, '.keyprov')), 'nothing created');
  const ca = await cli('ca', 'create');
  assert.equal(ca.code, 0, ca.stderr);

  // What a fleet run records for a cloned image: b1 done; b2 captures b1's key (both
  // flagged) and fails at issue; reflashed and provisioned again with a key of its own.
  const db = openStore(path.join(root, '.keyprov', 'keyprov.db'));
  t.after(() => db.close());
  const l = new FleetLedger(db);
  const k1 = keyFingerprint();
  l.claim('b1', 'lab-b1');
  l.captured('b1', k1);
  l.certified('b1', { serial: '0A', certificateFingerprint: 'c1', keyFingerprint: k1 });
  l.done('b1');
  l.claim('b2', 'lab-b2');
  assert.deepEqual(l.captured('b2', k1).otherBoards, ['b1']);
  l.failed('b2', 'CERT_REISSUE_REQUIRED: this public key already has a certificate', 'issue');

  const shared = await cli('fleet', 'clear-flag', '--board', 'b1', '--flag', 'duplicate-key', '--reason', 'cloned image');
  assert.equal(shared.code, 2);
  assert.match(shared.stderr, /board b1's key [0-9a-f]{16}\.\.\. is still the key of b2/);
  assert.match(shared.stderr, /--force/);

  l.claim('b2', 'lab-b2', { again: true });
  const k2 = keyFingerprint();
  l.captured('b2', k2);
  l.certified('b2', { serial: '0B', certificateFingerprint: 'c2', keyFingerprint: k2 });
  l.done('b2');

  const blocked = await cli('fleet', 'provision', '--json');
  assert.equal(blocked.code, 1, 'a flagged board keeps fleet provision from succeeding even when every board is done');
  assert.match(blocked.stderr, /board b1 is flagged: duplicate-key .*keyprov fleet clear-flag/);
  const eventsBefore = l.events().length;

  const unknown = await cli('fleet', 'clear-flag', '--board', 'b1,b7', '--flag', 'duplicate-key', '--reason', 'x', '--json');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no board "b7" in the fleet ledger\nhint: boards in the ledger: b1, b2/);
  assert.equal((JSON.parse(unknown.stdout) as { error: { code: string } }).error.code, 'BOARD_UNKNOWN');
  const notSet = await cli('fleet', 'clear-flag', '--board', 'b1', '--flag', 'key-changed', '--reason', 'x', '--force', '--json');
  assert.equal(notSet.code, 2);
  assert.match(notSet.stderr, /board b1 does not have the flag key-changed \(its flags: duplicate-key\)/);
  assert.deepEqual((JSON.parse(notSet.stdout) as { error: { details: { flags: string[] } } }).error.details.flags, ['duplicate-key']);
  const noReason = await cli('fleet', 'clear-flag', '--board', 'b1', '--flag', 'duplicate-key');
  assert.equal(noReason.code, 2);
  assert.match(noReason.stderr, /reason/);
  const dry = await cli('fleet', 'clear-flag', '--board', 'b1', '--board', 'b2', '--flag', 'duplicate-key', '--reason', 'cloned image; b2 reflashed', '--dry-run', '--json');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stderr, /would clear duplicate-key on b1 \(flags: duplicate-key -> none\)/);
  assert.deepEqual((JSON.parse(dry.stdout) as { cleared: { boardId: string }[] }).cleared.map((c) => c.boardId), ['b1', 'b2']);
  assert.equal(l.events().length, eventsBefore, 'no event from the refusals or the dry run');
  assert.deepEqual([l.get('b1')!.flags, l.get('b2')!.flags], [['duplicate-key'], ['duplicate-key']]);

  const r = await cli('fleet', 'clear-flag', '--board', 'b1', '--board', 'b2', '--flag', 'duplicate-key', '--reason', 'cloned image; b2 reflashed', '--json');
  assert.equal(r.code, 0, r.stderr);
  const by = (JSON.parse(r.stdout) as { by: string }).by;
  assert.match(by, new RegExp(`^${userInfo().username}@`));
  assert.deepEqual([l.get('b1')!.flags, l.get('b2')!.flags], [[], []]);
  const unflagged = l.events().filter((e) => e.kind === 'unflagged');
  assert.deepEqual(unflagged.map((e) => [e.boardId, e.step, e.detail]), [
    ['b1', 'review', `duplicate-key: cloned image; b2 reflashed (cleared by ${by})`],
    ['b2', 'review', `duplicate-key: cloned image; b2 reflashed (cleared by ${by})`],
  ]);
  assert.notEqual(unflagged[0]!.pid, process.pid, 'recorded by the CLI process');

  const ok = await cli('fleet', 'provision', '--json');
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { fleet: { boards: { outcome: string }[] } }).fleet.boards.map((b) => b.outcome), ['already-done', 'already-done']);

  const st = await cli('fleet', 'status', '--json');
  const s = JSON.parse(st.stdout) as { boards: StatusRow[]; flagHistory: { boardId: string; kind: string; flag: string }[] };
  assert.deepEqual(s.boards.map((b) => [b.board, b.flags, b.clearedFlags]), [['b1', '', 'duplicate-key'], ['b2', '', 'duplicate-key']]);
  assert.deepEqual(s.flagHistory.map((e) => `${e.boardId} ${e.kind} ${e.flag}`).sort(), ['b1 flagged duplicate-key', 'b1 unflagged duplicate-key', 'b2 flagged duplicate-key', 'b2 unflagged duplicate-key']);
  const table = await cli('fleet', 'status');
  assert.match(table.stdout, /^b1 .*cleared: duplicate-key/m);
  assert.match(table.stdout, /flag history:\n(.*\n)*.*b1\s+unflagged\s+duplicate-key: cloned image; b2 reflashed \(cleared by /);
});
