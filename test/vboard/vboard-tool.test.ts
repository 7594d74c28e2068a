// The virtual board as a piece of hardware: console format, key persistence, the vboard
// flasher's behaviour and its fault knobs, builds with make and CMake, cleanup.
import assert from 'node:assert/strict';
import { execFile as execFileCb, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { tmpDir } from '../helpers/tmp.js';
import { buildFirmware, keyRowsToDer, startBoard, vboard, VBOARD_BIN, VBOARD_DIR, writeCredentialHeaders } from '../helpers/vboard.js';

const execFile = promisify(execFileCb);
const HEADER = /^(\d+) (\d+) \[IP-task\] Device public key, 91 bytes:\r\n/m;
const BOOT = /\d+ \d+ \[\] vboard FreeRTOS-style virtual board, image (\w+)\r\n/g;

/** The public key in the board's flash, as DER, computed by openssl (not by the firmware). */
function storedPublicKeyDer(boardDir: string): Buffer {
  return execFileSync('openssl', ['pkey', '-inform', 'der', '-in', path.join(boardDir, 'flash', 'device-key.der'), '-pubout', '-outform', 'der']);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Processes whose command line or open files mention `needle`. */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle)) found.push(`${pid}: ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

describe('virtual board hardware and the vboard tool', () => {
  const scope = { cleanups: [] as (() => unknown)[], after(fn: () => unknown) { this.cleanups.push(fn); } };
  const img: Record<string, string> = {};
  after(async () => {
    for (const fn of scope.cleanups.reverse()) await fn();
  });
  before(async () => {
    [img.plain, img.keygen, img.newer] = await Promise.all([
      buildFirmware(scope, { tag: 'plain' }),
      buildFirmware(scope, { tag: 'keygen', keygen: true }),
      buildFirmware(scope, { tag: 'newer', newerRelease: true, keygenDelaySeconds: 1, secureElement: true }),
    ]);
  });

  test('console format, key persistence, forced keygen and erase', async (t) => {
    const board = await startBoard(t);
    let con = await board.flashAndBoot(t, img.plain);
    await con.waitFor(/Warning: the client certificate should be updated/);
    const text = con.text;
    const header = text.match(HEADER);
    assert.ok(header, text);
    const afterHeader = text.slice(header.index! + header[0].length);
    const rows = afterHeader.match(/^[0-9a-f ]+\r\n/gm)!.slice(0, 6);
    for (const row of rows.slice(0, 5)) assert.match(row, /^([0-9a-f]{4} ){8}\r\n$/);
    assert.match(rows[5], /^([0-9a-f]{4} ){5}[0-9a-f]{2}\r\n$/);
    const beforeLastRow = afterHeader.slice(0, afterHeader.indexOf(rows[5]));
    assert.match(beforeLastRow, /^\d+ \d+ \[SysMon\] /m, 'the other task logs between the rows');
    assert.deepEqual(keyRowsToDer(text), storedPublicKeyDer(board.dir));
    const firstKey = sha(path.join(board.dir, 'flash', 'device-key.der'));

    // Next boot: the key is stored, so the old release neither generates nor prints one.
    await con.settle();
    await board.reset();
    await con.waitFor(/Demo finished/);
    assert.doesNotMatch(con.text, /Device public key/);
    assert.equal(sha(path.join(board.dir, 'flash', 'device-key.der')), firstKey);

    // -DkeyprovisioningFORCE_GENERATE_NEW_KEY_PAIR=1 (the source has an #ifndef guard).
    con.close();
    con = await board.flashAndBoot(t, img.keygen);
    await con.waitFor(/Warning: the client certificate/);
    assert.notEqual(sha(path.join(board.dir, 'flash', 'device-key.der')), firstKey);
    assert.deepEqual(keyRowsToDer(con.text), storedPublicKeyDer(board.dir));

    // Erase wipes the image and the key.
    await con.settle();
    await board.erase();
    assert.deepEqual(readdirSync(path.join(board.dir, 'flash')), []);
    await board.reset(); // nothing to run
    await sleep(300);
    assert.equal(con.text, '');
  });

  test('vboard flash: missing image, board not connected, flaky flash, atomic replacement', async (t) => {
    const board = await startBoard(t);
    const missing = await board.flash(path.join(board.dir, 'no-such.bin'));
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^Error: File does not exist or is not readable: .*no-such\.bin\n$/);

    const unserved = mkdtempSync(path.join(os.tmpdir(), 'keyprov-unserved-'));
    t.after(() => rmSync(unserved, { recursive: true, force: true }));
    const notConnected = await vboard(['flash', '--board', unserved, img.plain]);
    assert.equal(notConnected.code, 2);
    assert.match(notConnected.stderr, /^Error: No target connected: board .* is not powered \(start it with: vboard serve --board /);
    assert.equal((await vboard(['reset', '--board', unserved])).code, 2);

    const badKnob = await vboard(['knobs', '--board', board.dir, '--flash-failures', 'two']);
    assert.equal(badKnob.code, 64);
    assert.match(badKnob.stderr, /^Error: --flash-failures must be a non-negative integer, got "two"\n$/);

    assert.equal((await board.flash(img.plain)).code, 0);
    const knobs = await vboard(['knobs', '--board', board.dir, '--flash-failures', '2']);
    assert.equal(JSON.parse(knobs.stdout).flashFailures, 2);
    for (let i = 0; i < 2; i++) {
      const r = await board.flash(img.keygen);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /^Error: failed to download Segment\[0\]/);
      assert.equal(sha(path.join(board.dir, 'flash', 'image')), sha(img.plain), 'a failed flash leaves the old image');
    }
    const ok = await board.flash(img.keygen);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /100%\n[\s\S]*Verify OK\n/);
    assert.equal(sha(path.join(board.dir, 'flash', 'image')), sha(img.keygen));
    assert.equal(JSON.parse(readFileSync(path.join(board.dir, 'knobs.json'), 'utf8')).flashFailures, 0);
  });

  test('fault knobs: reset while printing the key, noise, baud mismatch, stale image', async (t) => {
    const board = await startBoard(t);
    board.setKnobs({ resetDuringKeyAfterRows: 2 });
    let con = await board.flashAndBoot(t, img.keygen);
    await con.waitFor(/Warning: the client certificate/);
    const boots = [...con.text.matchAll(BOOT)];
    assert.equal(boots.length, 2, con.text);
    const firstBoot = con.text.slice(boots[0].index, boots[1].index);
    assert.equal(firstBoot.match(/^([0-9a-f]{4} ){8}\r\n/gm)?.length, 2, 'the first boot stops after two rows');
    assert.deepEqual(keyRowsToDer(con.text.slice(boots[1].index)), storedPublicKeyDer(board.dir), 'the complete key is the stored one');
    assert.equal(JSON.parse(readFileSync(path.join(board.dir, 'knobs.json'), 'utf8')).resetDuringKeyAfterRows, 0, 'the knob fires once');

    // Let each boot finish before the next reset: bytes already in flight would arrive after clear().
    const settle = () => con.settle();
    await settle();
    board.setKnobs({ garbageBytes: 48 });
    await board.reset();
    await con.waitFor(BOOT);
    const boot = con.bytes.indexOf('1 0 [] vboard');
    assert.ok(boot >= 48, `noise before the first line (${boot})`);
    assert.ok([...con.bytes.subarray(boot - 48, boot)].every((b) => b >= 0x80), 'the noise is not text');

    await settle();
    board.setKnobs({ garbageBytes: 0, baudMismatch: true });
    await board.reset();
    await sleep(500);
    assert.ok(con.bytes.length > 200);
    assert.doesNotMatch(con.text, /vboard|Device public key/);

    // Stale-image race: after a flash, the previous image runs for a moment first.
    board.setKnobs({ baudMismatch: false, staleImageMs: 400 });
    con.close();
    con = await board.flashAndBoot(t, img.plain);
    await con.waitFor(/image plain\r\n/);
    assert.deepEqual([...con.text.matchAll(BOOT)].map((m) => m[1]), ['keygen', 'plain']);
  });

  test('bytes sent while nobody reads the port are lost', async (t) => {
    const board = await startBoard(t);
    assert.equal((await board.flash(img.plain)).code, 0);
    await board.reset();
    await sleep(500);
    const con = board.openConsole(t);
    await sleep(300);
    assert.doesNotMatch(con.text, /vboard FreeRTOS-style virtual board/);
    const status = JSON.parse((await vboard(['status', '--board', board.dir])).stdout);
    assert.ok(status.droppedConsoleBytes > 100, JSON.stringify(status));
    assert.equal(status.firmwareRunning, true);
  });

  test('newer release: delay, key on every boot, blank lines, secure element subject', async (t) => {
    const board = await startBoard(t);
    const con = await board.flashAndBoot(t, img.newer);
    await con.waitFor(/Recommended certificate subject name: CN=0123[0-9A-F]{12}EE\r\n/);
    assert.match(con.text, /\[IP-task\] Waiting for 1 seconds before generating key-pair\r\n/);
    assert.match(con.text, /\[IP-task\] Printing device public key\.\r\n/);
    assert.match(con.text, /Device public key, 91 bytes:\r\n\r\n/);
    assert.match(con.text, /^([0-9a-f]{4} ){8}\r\n\r\n/m);
    const first = keyRowsToDer(con.text);
    assert.deepEqual(first, storedPublicKeyDer(board.dir));
    await con.settle(/Demo finished/, 300);
    await board.reset();
    await con.waitFor(/Recommended certificate subject name/);
    assert.doesNotMatch(con.text, /Waiting for/, 'a stored key is not regenerated');
    assert.deepEqual(keyRowsToDer(con.text), first, 'the same key is printed on every boot');
  });

  test('CMake build: generated headers first on the include path, keygen by -D', async (t) => {
    const work = tmpDir(t);
    writeFileSync(path.join(work, 'aws_clientcredential.h'), '#define clientcredentialMQTT_BROKER_ENDPOINT ""\n#define clientcredentialIOT_THING_NAME "from-generated-dir"\n#define clientcredentialMQTT_BROKER_PORT 8883\n');
    await execFile('cmake', ['-S', VBOARD_DIR, '-B', path.join(work, 'build'), `-DKEYPROV_GENERATED_DIR=${work}`, '-DVBOARD_KEYGEN=1', '-DVBOARD_IMAGE_TAG=cmake']);
    await execFile('cmake', ['--build', path.join(work, 'build')]);
    const board = await startBoard(t);
    const con = await board.flashAndBoot(t, path.join(work, 'build', 'vboard-firmware'));
    await con.waitFor(/Demo finished/);
    assert.match(con.text, /Thing name: from-generated-dir\r\n/);
    assert.match(con.text, /image cmake\r\n/);
    assert.match(con.text, HEADER);
  });

  test('a C-string mistake in the generated header shows on the console', async (t) => {
    const work = tmpDir(t);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem', '-subj', '/CN=x', '-days', '1', '-out', 'c.pem'], { cwd: work, stdio: 'ignore' });
    // The classic mistake: lines quoted without the "\n" escapes, so the PEM is one long line.
    const broken = readFileSync(path.join(work, 'c.pem'), 'utf8').trimEnd().split('\n').map((l) => `"${l}"`).join(' \\\n');
    const gen = path.join(work, 'gen');
    writeCredentialHeaders(gen, { endpoint: 'localhost', thing: 'cstring-thing', port: 1 });
    const keys = readFileSync(path.join(gen, 'aws_clientcredential_keys.h'), 'utf8').replace('#define keyCLIENT_CERTIFICATE_PEM NULL', `#define keyCLIENT_CERTIFICATE_PEM \\\n${broken}`);
    writeFileSync(path.join(gen, 'aws_clientcredential_keys.h'), keys);
    const image = await buildFirmware(t, { generatedDir: gen, tag: 'cstring' });
    const board = await startBoard(t, { rootCa: path.join(work, 'c.pem') }); // any CA: no connection is made
    const con = await board.flashAndBoot(t, image);
    const line = (await con.waitFor(/\[IP-task\] MQTT mutual-auth demo: keyCLIENT_CERTIFICATE_PEM does not parse: -0x[0-9a-f]{4} .+\r\n/))[0];
    assert.doesNotMatch(con.text, /connecting to/, 'no connection attempt with a broken certificate');
    t.diagnostic(line.trim());
  });

  test('vboard stop leaves no socat or firmware process behind', async (t) => {
    const dir = tmpDir(t);
    const board = await startBoard(t, { dir });
    assert.equal((await board.flash(img.plain)).code, 0);
    await board.reset();
    const tty = readlinkSync(path.join(dir, 'tty'));
    assert.ok(processesMentioning(dir).length >= 2, 'serve, socat and the firmware run');
    await board.stop();
    await sleep(200);
    assert.deepEqual(processesMentioning(dir), []);
    assert.ok(!existsSync(path.join(dir, 'tty')), `the UART link is gone (was ${tty})`);
    assert.equal((await vboard(['reset', '--board', dir])).code, 2, 'a stopped board is not connected');
  });
});

test('vboard serve without socat on PATH: a clear message with the install hint, exit 5, no stack trace', async (t) => {
  const dir = tmpDir(t);
  // A PATH with node (for the vboard script's `#!/usr/bin/env node`) and nothing else.
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  symlinkSync(process.execPath, path.join(bin, 'node'));
  const env = { ...process.env, PATH: bin };
  const board = path.join(dir, 'board');
  const noStack = (text: string) => {
    assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `no stack trace:\n${text}`);
    assert.doesNotMatch(text, /Unhandled 'error' event|node:events/, text);
  };

  for (const args of [['serve', '--board', board], ['serve', '--foreground', '--board', board]]) {
    const r = await execFile(VBOARD_BIN, args, { env }).then(
      () => assert.fail(`vboard ${args.join(' ')} must fail without socat`),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(r.code, 5, `exit status 5 (a tool is missing): ${r.stderr}`);
    assert.match(r.stderr, /^Error: socat not found on PATH: vboard serve needs it for the board's serial port/m);
    assert.match(r.stderr, /hint: .*apt-get install socat/);
    noStack(r.stderr);
    assert.ok(!existsSync(path.join(board, 'vboard.log')), 'no board process was started');
  }

  // The board process itself (started some other way) handles socat's spawn error: a log
  // line and a thrown error with the hint, not an unhandled 'error' event.
  const daemon = pathToFileURL(path.join(VBOARD_DIR, 'lib', 'daemon.mjs')).href;
  const script = `import(${JSON.stringify(daemon)}).then((m) => m.serveForeground(${JSON.stringify(board)})).then(() => { console.log('served?'); process.exit(9); }, (e) => { console.log('rejected: ' + e.message); });`;
  const out = await execFile(process.execPath, ['--input-type=module', '-e', script], { env });
  noStack(out.stdout + out.stderr);
  assert.match(out.stdout, /^rejected: cannot start socat for the board's serial port: spawn socat ENOENT \(socat is not installed: sudo apt-get install socat\)$/m);
  assert.match(readFileSync(path.join(board, 'vboard.log'), 'utf8'), /socat: spawn socat ENOENT/);
});
