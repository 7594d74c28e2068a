// `keyprov capture --from-log` through the real CLI: outputs, default folder, error hints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { newP256Spki, consoleBlock, bootLog, opensslPubkeyDer, opensslPem } from './helpers/console-format.js';

test('--from-log FILE --out DIR --json: files and JSON match openssl', async (t) => {
  const dir = tmpDir(t);
  const der = newP256Spki();
  const log = bootLog(consoleBlock(der, { blankLines: true }) + '6 950 [iot_thread] Recommended certificate subject name: CN=board-0042\r\n');
  writeFileSync(path.join(dir, 'boot.log'), log, 'latin1');
  const r = await runCli(['capture', '--from-log', 'boot.log', '--out', 'out', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j).sort(), ['blocksSeen', 'curve', 'files', 'keyChanged', 'ok', 'publicKeyDerHex', 'publicKeyPem', 'recommendedSubjectCn', 'sha256Fingerprint', 'source'].sort());
  assert.equal(j.publicKeyDerHex, opensslPubkeyDer(der).toString('hex'));
  assert.equal(j.publicKeyPem, opensslPem(der));
  assert.equal(j.curve, 'prime256v1');
  assert.equal(j.recommendedSubjectCn, 'board-0042');
  assert.equal(j.blocksSeen, 1);
  assert.equal(j.source, path.join(dir, 'boot.log'));
  const out = path.join(dir, 'out');
  assert.ok(readFileSync(path.join(out, 'device-public-key.der')).equals(der));
  assert.equal(readFileSync(path.join(out, 'device-public-key.pem'), 'utf8'), opensslPem(der));
  assert.ok(readFileSync(path.join(out, 'console.log')).equals(Buffer.from(log, 'latin1')), 'console.log holds every raw byte');
  const rec = JSON.parse(readFileSync(path.join(out, 'capture.json'), 'utf8'));
  assert.equal(rec.recommendedSubjectCn, 'board-0042');
  assert.equal(rec.sha256Fingerprint, j.sha256Fingerprint);
  assert.deepEqual(readdirSync(out).sort(), ['capture.json', 'console.log', 'device-public-key.der', 'device-public-key.pem'], 'no temp files left');
});

test('--from-log - reads stdin; human mode prints the PEM on stdout; default out is the board state folder', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), 'boards:\n  - id: lab-7\n');
  const der = newP256Spki();
  const r = await runCli(['capture', '--from-log', '-'], { cwd: dir, input: Buffer.from(bootLog(consoleBlock(der, { eol: '\n', trim: true })), 'latin1') });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, opensslPem(der));
  const state = path.join(dir, '.keyprov/boards/lab-7');
  assert.ok(readFileSync(path.join(state, 'device-public-key.der')).equals(der));
  assert.ok(existsSync(path.join(state, 'console-capture.log')));
  assert.ok(existsSync(path.join(state, 'capture.json')));
  assert.match(r.stderr, /public key captured from stdin/);
});

test('errors: exit code, message, hint, no stack trace, console.log saved, no key files', async (t) => {
  const dir = tmpDir(t);
  const bad = newP256Spki();
  bad[5]! ^= 0x02; // inside the id-ecPublicKey OID
  const cases: [string, string | Buffer, number, RegExp, RegExp][] = [
    ['no-header', bootLog(''), 4, /no "Device public key, N bytes:" line/, /keygen build/],
    ['unreadable', Buffer.from(Array.from({ length: 3000 }, (_, i) => 0x80 | (i * 7) % 128)), 4, /unreadable/, /baud/],
    ['truncated', bootLog(consoleBlock(newP256Spki(), { rows: 3 })), 4, /cut short \(48 of 91 bytes/, /capture again/],
    ['invalid', bootLog(consoleBlock(bad)), 5, /invalid: byte 5 is 0x/, /do not issue a certificate/],
  ];
  for (const [name, log, code, msg, hint] of cases) {
    writeFileSync(path.join(dir, `${name}.log`), log, typeof log === 'string' ? 'latin1' : undefined);
    const out = path.join(dir, `out-${name}`);
    const r = await runCli(['capture', '--from-log', `${name}.log`, '--out', out], { cwd: dir });
    assert.equal(r.code, code, `${name}: ${r.stderr}`);
    assert.match(r.stderr, msg, name);
    assert.match(r.stderr, new RegExp(`hint: .*${hint.source}`), name);
    assert.doesNotMatch(r.stderr, /\n\s+at /, name);
    assert.ok(existsSync(path.join(out, 'console.log')), `${name}: console.log saved on failure`);
    assert.ok(!existsSync(path.join(out, 'device-public-key.der')) && !existsSync(path.join(out, 'device-public-key.pem')), `${name}: no key written`);
  }
  const missing = await runCli(['capture', '--from-log', 'nope.log'], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /console log .*nope\.log does not exist/);
  const noPort = await runCli(['capture'], { cwd: dir });
  assert.equal(noPort.code, 2);
  assert.match(noPort.stderr, /no console port: pass --port/);
  const both = await runCli(['capture', '--port', '/dev/null', '--from-log', 'x'], { cwd: dir });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /mutually exclusive/);
});
