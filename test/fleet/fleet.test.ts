// keyprov fleet end to end: 4 virtual boards in parallel against Mosquitto with mutual TLS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import path from 'node:path';
import { startRig } from './rig.js';

interface StatusRow {
  board: string;
  thing: string;
  status: string;
  stage: string;
  publicKeyFingerprint: string;
  certificateSerial: string;
  flags: string;
}

function boardCert(root: string, id: string): X509Certificate {
  return new X509Certificate(readFileSync(path.join(root, '.keyprov', 'boards', id, 'device-cert.pem')));
}

/** SHA-256 of the board's public key as the board itself stores it (its flash), not as keyprov captured it. */
function keyOnBoard(boardDir: string): string {
  const der = readFileSync(path.join(boardDir, 'flash', 'device-key.der'));
  // The board stores its private key; openssl derives the public SubjectPublicKeyInfo independently.
  const spki = execFileSync('openssl', ['pkey', '-inform', 'DER', '-pubout', '-outform', 'DER'], { input: der });
  return createHash('sha256').update(spki).digest('hex');
}

test('4 boards in parallel: one keygen build, each connects as its own thing, 4 consistent ledger rows', { timeout: 240_000 }, async (t) => {
  const rig = await startRig(t, 4);
  const source = path.join(rig.root, 'src', 'aws_dev_mode_key_provisioning.c');
  const before = readFileSync(source);
  const r = await rig.cli(['fleet', 'provision', '--parallel', '4', '--json'], 180_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { fleet: { keygenBuilds: number; boards: { board: string; thingName: string; outcome: string; certificateSerial: string }[] } };
  assert.equal(out.fleet.keygenBuilds, 1);
  assert.deepEqual(out.fleet.boards.map((b) => [b.board, b.thingName]), rig.ids.map((id) => [id, `lab-${id}`]));
  assert.deepEqual(out.fleet.boards.map((b) => b.outcome), ['ok', 'ok', 'ok', 'ok']);
  assert.deepEqual(readFileSync(source), before, 'the keygen patch was restored');

  // The broker saw each board connect with its own certificate (use_identity_as_username: the CN).
  for (const id of rig.ids) await rig.broker.waitForLog(new RegExp(`New client connected from \\S+ as lab-${id} \\(.*u'lab-${id}'\\)`));

  const st = await rig.cli(['fleet', 'status', '--json']);
  assert.equal(st.code, 0, st.stderr);
  const rows = (JSON.parse(st.stdout) as { boards: StatusRow[] }).boards;
  assert.equal(rows.length, 4);
  const keys = new Set<string>();
  const serials = new Set<string>();
  rig.ids.forEach((id, i) => {
    const row = rows.find((x) => x.board === id)!;
    assert.equal(row.status, 'done');
    assert.equal(row.thing, `lab-${id}`);
    assert.equal(row.flags, '');
    const cert = boardCert(rig.root, id);
    // The ledger matches the certificate on disk and the key in the board's own flash.
    assert.equal(row.certificateSerial, cert.serialNumber.toUpperCase());
    assert.match(cert.subject, new RegExp(`CN=lab-${id}`));
    const certKey = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
    assert.equal(row.publicKeyFingerprint, certKey);
    assert.equal(keyOnBoard(rig.boards[i]!.dir), certKey);
    keys.add(certKey);
    serials.add(row.certificateSerial);
  });
  assert.equal(keys.size, 4, 'four different keys');
  assert.equal(serials.size, 4);

  const csv = await rig.cli(['fleet', 'status', '--csv']);
  const lines = csv.stdout.trim().split(/\r\n/);
  assert.equal(lines.length, 5);
  assert.match(lines[0]!, /^board,thing,status,stage,publicKeyFingerprint,certificateSerial,/);

  // A rerun does nothing and issues nothing.
  const again = await rig.cli(['fleet', 'provision', '--json']);
  assert.equal(again.code, 0, again.stderr);
  const a = JSON.parse(again.stdout) as { fleet: { keygenBuilds: number; boards: { outcome: string }[] } };
  assert.equal(a.fleet.keygenBuilds, 0);
  assert.deepEqual(a.fleet.boards.map((b) => b.outcome), ['already-done', 'already-done', 'already-done', 'already-done']);
  assert.ok(!existsSync(path.join(rig.root, '.keyprov', 'fleet', 'keygen.lock')));
});

test('in-tree builds one at a time; one broken board fails alone (exit 1), and a rerun after the fix finishes it', { timeout: 240_000 }, async (t) => {
  const rig = await startRig(t, 2, { inTree: true, patchMode: 'guard' });
  rig.writeConfig((c) => (c.boards[1].serial.port = path.join(rig.root, 'no-such-tty')));
  const r = await rig.cli(['fleet', 'provision', '--parallel', '2', '--json'], 180_000);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { fleet: { boards: { board: string; outcome: string; error?: { code: string } }[] } };
  assert.equal(out.fleet.boards[0]!.outcome, 'ok');
  assert.equal(out.fleet.boards[1]!.outcome, 'failed');
  assert.match(r.stderr, /board b2: \S+: .*no-such-tty/);
  // CI (no terminal): one plain line per finished step, with the board id.
  assert.match(r.stderr, /^\[b1\] verify ok \(\d+\.\d s\)/m);
  await rig.broker.waitForLog(/as lab-b1 \(/);
  const serial1 = boardCert(rig.root, 'b1').serialNumber;

  rig.writeConfig();
  const again = await rig.cli(['fleet', 'provision', '--json'], 180_000);
  assert.equal(again.code, 0, again.stderr);
  const a = JSON.parse(again.stdout) as { fleet: { boards: { outcome: string }[] } };
  assert.deepEqual(a.fleet.boards.map((b) => b.outcome), ['already-done', 'ok']);
  assert.equal(boardCert(rig.root, 'b1').serialNumber, serial1);
  // Each board runs its own certificate: the broker saw b2 as itself (in-tree builds did not mix headers).
  await rig.broker.waitForLog(/as lab-b2 \(.*u'lab-b2'\)/);
  const st = await rig.cli(['fleet', 'status']);
  assert.match(st.stdout, /^b1\s+lab-b1\s+done\s+done\s/m);
  assert.match(st.stdout, /^b2\s+lab-b2\s+done\s+done\s/m);

  // --again: a replaced board gets a new key and a new certificate; the other is left alone.
  const serial2 = boardCert(rig.root, 'b2').serialNumber;
  const redo = await rig.cli(['fleet', 'provision', '--again', 'b1', '--json'], 180_000);
  assert.equal(redo.code, 0, redo.stderr);
  assert.deepEqual((JSON.parse(redo.stdout) as { fleet: { boards: { outcome: string }[] } }).fleet.boards.map((b) => b.outcome), ['ok', 'already-done']);
  assert.notEqual(boardCert(rig.root, 'b1').serialNumber, serial1);
  assert.equal(boardCert(rig.root, 'b2').serialNumber, serial2);
});

test('a board that regenerates its key after the capture is flagged key-changed; the rerun gives it a new key and certificate', { timeout: 180_000 }, async (t) => {
  const rig = await startRig(t, 1);
  // The stale-key race: the first reset after the credential flash boots the keygen image again.
  rig.boards[0]!.setKnobs({ staleImageMs: 1500 });
  const r = await rig.cli(['fleet', 'provision', '--json'], 120_000);
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout) as { fleet: { boards: { outcome: string; flags: string[]; error?: { code: string } }[] } };
  assert.equal(out.fleet.boards[0]!.error?.code, 'KEY_CHANGED');
  assert.deepEqual(out.fleet.boards[0]!.flags, ['key-changed']);
  const first = boardCert(rig.root, 'b1');
  const st = await rig.cli(['fleet', 'status', '--json']);
  const row = (JSON.parse(st.stdout) as { boards: StatusRow[] }).boards[0]!;
  assert.equal(row.flags, 'key-changed');
  assert.notEqual(keyOnBoard(rig.boards[0]!.dir), row.publicKeyFingerprint, 'the board really holds another key than the certified one');

  rig.boards[0]!.setKnobs({ staleImageMs: 0 });
  const again = await rig.cli(['fleet', 'provision', '--json'], 120_000);
  assert.equal(again.code, 0, again.stderr);
  const second = boardCert(rig.root, 'b1');
  assert.notEqual(second.serialNumber, first.serialNumber, 'a new certificate for the new key');
  const st2 = await rig.cli(['fleet', 'status', '--json', '--events']);
  const s2 = JSON.parse(st2.stdout) as { boards: StatusRow[]; events: { kind: string; detail?: string }[] };
  assert.equal(s2.boards[0]!.flags, '');
  assert.equal(s2.boards[0]!.status, 'done');
  assert.equal(s2.boards[0]!.publicKeyFingerprint, keyOnBoard(rig.boards[0]!.dir));
  assert.ok(s2.events.some((e) => e.kind === 'flagged' && /^key-changed/.test(e.detail ?? '')));
  assert.ok(s2.events.some((e) => e.kind === 'unflagged'));
  await rig.broker.waitForLog(/as lab-b1 \(/);
});
