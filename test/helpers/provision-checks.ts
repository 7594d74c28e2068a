// Checks shared by the provisioning end-to-end tests, each against an independent source
// of truth: openssl for keys and signatures, the file tree for leftovers.
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Rig } from './rig.js';

/** The board's key as openssl derives it from the key in the board's flash equals the certificate's key; the CA signed it. */
export function keysMatch(rig: Rig, i: number, id: string): void {
  const boardKey = execFileSync('openssl', ['pkey', '-inform', 'DER', '-in', path.join(rig.boards[i]!.dir, 'flash/device-key.der'), '-pubout'], { encoding: 'utf8' });
  const certKey = execFileSync('openssl', ['x509', '-in', path.join(rig.root, '.keyprov/boards', id, 'device-cert.pem'), '-pubkey', '-noout'], { encoding: 'utf8' });
  assert.equal(certKey, boardKey, 'the certificate carries the key the board holds');
  execFileSync('openssl', ['verify', '-CAfile', path.join(rig.root, '.keyprov/ca.pem'), path.join(rig.root, '.keyprov/boards', id, 'device-cert.pem')]);
}

/** The source tree is byte-identical to its start, no temp file is left, and the patch journal is empty. */
export function noLeftovers(rig: Rig, before: Record<string, string>): void {
  assert.deepEqual(rig.sourceHashes(), before, 'the source tree is byte-identical to its start');
  const tmp = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tmp(path.join(dir, e.name)) : /\.tmp$/.test(e.name) ? [path.join(dir, e.name)] : []));
  assert.deepEqual(tmp(rig.root), [], 'no half-written file');
  const journal = path.join(rig.root, '.keyprov/patch-journal.json');
  if (existsSync(journal)) assert.deepEqual(JSON.parse(readFileSync(journal, 'utf8')).entries, []);
}
