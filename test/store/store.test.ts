// The state store: versioned migrations (applied once, in order, never downgraded), and the
// certificate ledger behind `issue --reissue`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { openStore, migrate, storePath } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { opensslDeviceKey, mustOpenssl } from '../pki/openssl.js';

test('migrations: a new store gets every migration, WAL and a busy timeout; reopening changes nothing', (t) => {
  const dir = tmpDir(t);
  const file = storePath(dir);
  const db = openStore(file);
  assert.equal(db.pragma('user_version', { simple: true }), migrations.length);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  assert.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all().map((r: any) => r.name);
  assert.ok(tables.includes('certificates'));
  db.close();
  const again = openStore(file);
  assert.equal(again.pragma('user_version', { simple: true }), migrations.length);
  again.close();
});

test('migrations: an appended migration runs once on an existing store; a newer store is refused', (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'k.db');
  openStore(file).close();
  const extended = [...migrations, { version: migrations.length + 1, name: 'test table', sql: 'CREATE TABLE later_area (id INTEGER PRIMARY KEY)' }];
  const db = openStore(file, { migrations: extended });
  assert.equal(db.pragma('user_version', { simple: true }), extended.length);
  migrate(db, extended); // idempotent
  db.close();
  assert.throws(() => openStore(file), (e: any) => e.code === 'STORE_TOO_NEW');
  const raw = new Database(file);
  assert.throws(() => migrate(raw, [{ version: 2, name: 'gap', sql: '' }]), /without gaps/);
  raw.close();
});

test('issue records each certificate; another CN for the same key needs --reissue; the row matches openssl', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir })).code, 0);
  const dev = opensslDeviceKey();
  writeFileSync(path.join(dir, 'dev.pem'), dev.pem);
  const first = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing-a', '--out', 'a.pem', '--json'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  // Same key, same CN: a renewal, allowed.
  const renew = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing-a', '--out', 'a2.pem'], { cwd: dir });
  assert.equal(renew.code, 0, renew.stderr);
  const refused = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing-b', '--out', 'b.pem', '--json'], { cwd: dir });
  assert.equal(refused.code, 2);
  assert.equal(JSON.parse(refused.stdout).error.code, 'CERT_REISSUE_REQUIRED');
  assert.match(refused.stderr, /already has a certificate from this CA under CN "thing-a"/);
  assert.throws(() => readFileSync(path.join(dir, 'b.pem')), 'nothing written on refusal');
  const re = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'thing-b', '--out', 'b.pem', '--reissue'], { cwd: dir });
  assert.equal(re.code, 0, re.stderr);

  const db = new Database(storePath(dir), { readonly: true });
  const rows = db.prepare('SELECT * FROM certificates ORDER BY id').all() as any[];
  db.close();
  assert.equal(rows.length, 3);
  assert.equal(new Set(rows.map((r) => r.serial)).size, 3);
  const a = rows[0];
  assert.equal(a.serial, mustOpenssl(['x509', '-in', 'a.pem', '-noout', '-serial'], { cwd: dir }).trim().replace('serial=', ''));
  assert.equal(a.subject_cn, 'thing-a');
  assert.equal(a.file, path.join(dir, 'a.pem'));
  // Fingerprints computed by openssl, not by keyprov.
  const certFp = mustOpenssl(['x509', '-in', 'a.pem', '-noout', '-fingerprint', '-sha256'], { cwd: dir }).trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
  assert.equal(a.certificate_fingerprint, certFp);
  const keyFp = spawnSync('openssl', ['dgst', '-sha256', '-r'], { input: dev.der }).stdout.toString().split(' ')[0];
  assert.equal(a.public_key_fingerprint, keyFp);
  const caFp = mustOpenssl(['x509', '-in', '.keyprov/ca.pem', '-noout', '-fingerprint', '-sha256'], { cwd: dir }).trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
  assert.equal(a.ca_fingerprint, caFp);
  assert.equal(rows[2].subject_cn, 'thing-b');
});

test('issue --board writes into the board folder; CN from capture.json, else the thing name; existing --out is kept without --force', async (t) => {
  const dir = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir })).code, 0);
  const boardDir = path.join(dir, '.keyprov/boards/b1');
  const dev = opensslDeviceKey();
  const { mkdirSync } = await import('node:fs');
  mkdirSync(boardDir, { recursive: true });
  writeFileSync(path.join(boardDir, 'device-public-key.pem'), dev.pem);
  writeFileSync(path.join(boardDir, 'capture.json'), JSON.stringify({ recommendedCn: 'se-0123abcd' }));
  const r = await runCli(['issue', '--board', 'b1'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(mustOpenssl(['x509', '-in', path.join(boardDir, 'device-cert.pem'), '-noout', '-subject']), /CN = se-0123abcd/);
  const chain = readFileSync(path.join(boardDir, 'device-chain.pem'), 'utf8');
  assert.equal((chain.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
  assert.equal(spawnSync('openssl', ['verify', '-CAfile', path.join(dir, '.keyprov/ca.pem'), path.join(boardDir, 'device-cert.pem')]).status, 0);

  // Thing name from the config when no recommended CN was captured.
  const dir2 = tmpDir(t);
  writeFileSync(path.join(dir2, 'keyprov.config.yaml'), 'credentials:\n  thingName: lab-{{id}}\nboards:\n  - id: b7\n');
  assert.equal((await runCli(['ca', 'create'], { cwd: dir2 })).code, 0);
  writeFileSync(path.join(dir2, 'dev.pem'), dev.pem);
  const named = await runCli(['issue', '--board', 'b7', '--public-key', 'dev.pem'], { cwd: dir2 });
  assert.equal(named.code, 0, named.stderr);
  assert.match(mustOpenssl(['x509', '-in', path.join(dir2, '.keyprov/boards/b7/device-cert.pem'), '-noout', '-subject']), /CN = lab-b7/);

  // No CN anywhere: a usage error naming the fixes.
  const dir3 = tmpDir(t);
  assert.equal((await runCli(['ca', 'create'], { cwd: dir3 })).code, 0);
  writeFileSync(path.join(dir3, 'dev.pem'), dev.pem);
  const noCn = await runCli(['issue', '--public-key', 'dev.pem'], { cwd: dir3 });
  assert.equal(noCn.code, 2);
  assert.match(noCn.stderr, /no CN for the certificate/);
  writeFileSync(path.join(dir3, 'mine.pem'), 'my own edits\n');
  const kept = await runCli(['issue', '--public-key', 'dev.pem', '--cn', 'x', '--out', 'mine.pem'], { cwd: dir3 });
  assert.equal(kept.code, 2);
  assert.equal(readFileSync(path.join(dir3, 'mine.pem'), 'utf8'), 'my own edits\n');
});
