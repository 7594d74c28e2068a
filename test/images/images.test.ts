// Done-when of `keyprov images`: per-board images for three virtual boards, built in
// parallel out of tree; each image flashed to its own board connects to Mosquitto with its
// own certificate; an image flashed to the wrong board fails the handshake with a clear line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { createCa, issueDeviceCertificate, loadCa, memoryLogger } from '../../src/index.js';
import { boardFiles } from '../../src/project.js';
import { runCli } from '../helpers/cli.js';
import { makeBrokerCertificate, startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { buildFirmware, keyRowsToDer, startBoard, VBOARD_DIR, type Board } from '../helpers/vboard.js';
import { tmpDir } from '../helpers/tmp.js';

const BOARDS = ['lab-1', 'lab-2', 'lab-3'];
const SWITCH = 'keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR';
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const HANDSHAKE_FAILED = /\[IP-task\] MQTT mutual-auth demo: TLS handshake failed: -0x[0-9a-f]{4} .+/;
const MISMATCH = /\[IP-task\] MQTT mutual-auth demo: keyCLIENT_CERTIFICATE_PEM does not match the key pair stored on this board.*/;

describe('keyprov images: per-board images for three virtual boards', () => {
  const scope = { cleanups: [] as (() => unknown)[], after(fn: () => unknown) { this.cleanups.push(fn); } };
  let root: string;
  let fw: string;
  let mosquitto: Mosquitto;
  const boards = new Map<string, Board>();

  before(async () => {
    root = tmpDir(scope, 'keyprov-images-');
    // A copy of the firmware whose switch is a plain #define, as in FreeRTOS: images must
    // guard it once (the phase then becomes -D), not edit it per board.
    fw = path.join(root, 'firmware');
    for (const part of ['Makefile', 'src', 'include']) cpSync(path.join(VBOARD_DIR, part), path.join(fw, part), { recursive: true });
    const src = path.join(fw, 'src', 'aws_dev_mode_key_provisioning.c');
    const guarded = readFileSync(src, 'utf8');
    const plain = guarded.replace(new RegExp(`#ifndef ${SWITCH}\\r?\\n(#define ${SWITCH}\\s+0[^\\n]*\\n)#endif\\r?\\n`), '$1');
    assert.notEqual(plain, guarded, 'the fixture un-guards the switch');
    writeFileSync(src, plain);

    await createCa({ projectRoot: root, log: memoryLogger() });
    const brokerDir = tmpDir(scope, 'keyprov-broker-');
    const broker = makeBrokerCertificate(brokerDir);
    mosquitto = await startMosquitto(scope, { deviceCaFile: path.join(root, '.keyprov', 'ca.pem'), broker });

    // Keygen image once; each board generates its key, which is captured from its console
    // and certified by the project CA (as `keyprov provision` would).
    const keygen = await buildFirmware(scope, { keygen: true });
    const ca = await loadCa({ projectRoot: root });
    for (const id of BOARDS) {
      const board = await startBoard(scope, { rootCa: broker.caFile });
      boards.set(id, board);
      const con = await board.flashAndBoot(scope, keygen);
      await con.waitFor(/Warning: the client certificate should be updated/);
      const der = keyRowsToDer(con.text);
      con.close();
      const files = boardFiles(root, id);
      await issueDeviceCertificate({ ca, publicKey: der, cn: id, out: { certificate: files.certificate } });
      writeFileSync(files.publicKeyDer, der);
    }
    writeFileSync(
      path.join(root, 'keyprov.config.yaml'),
      [
        'firmware:',
        '  root: firmware',
        'build:',
        '  command: ["make", "-s", "-C", "firmware"]',
        '  image: firmware/build/vboard-firmware',
        'credentials:',
        '  endpoint: localhost',
        '  thingName: "{{id}}"',
        `  mqttPort: ${mosquitto.port}`,
        'boards:',
        ...BOARDS.map((b) => `  - id: ${b}`),
        '  - id: lab-4   # no certificate yet: skipped',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    for (const fn of scope.cleanups.reverse()) await fn();
  });

  test('builds one image per board in parallel, with manifests that match the files', async () => {
    const srcBefore = readFileSync(path.join(fw, 'src', 'aws_dev_mode_key_provisioning.c'), 'utf8');
    const r = await runCli(['images', '--jobs', '3'], { cwd: root, timeoutMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no certificate yet, skipped: lab-4/);
    assert.match(r.stderr, /building 3 images \(lab-1, lab-2, lab-3\), 3 at a time/);

    // Guarded once, so every build chose the phase with -D and nothing else changed in the source.
    const srcAfter = readFileSync(path.join(fw, 'src', 'aws_dev_mode_key_provisioning.c'), 'utf8');
    assert.match(srcAfter, new RegExp(`#ifndef ${SWITCH}\\n#define ${SWITCH}\\s+0.*\\n#endif`));
    assert.equal(srcAfter.replace(/#ifndef .*\n|#endif\n/g, ''), srcBefore.replace(/#endif\n/g, '').replace(/#ifndef .*\n/g, ''));

    const top = JSON.parse(readFileSync(path.join(root, 'dist', 'manifest.json'), 'utf8'));
    assert.deepEqual(top.boards.map((b: { board: string }) => b.board), BOARDS);
    assert.deepEqual(top.cflags, [`-D${SWITCH}=0`]);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const id of BOARDS) {
      const m = JSON.parse(readFileSync(path.join(root, 'dist', id, 'manifest.json'), 'utf8'));
      const image = readFileSync(path.join(root, 'dist', id, 'vboard-firmware'));
      assert.equal(m.image.sha256, sha256(image));
      assert.equal(m.thingName, id);
      const certFile = boardFiles(root, id).certificate;
      // Cross-checked with openssl and with the key captured from the board.
      const serial = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-serial']).toString().trim().replace(/^serial=/, '');
      assert.equal(m.certificate.serial, serial);
      const fp = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']).toString().trim().split('=')[1]!.replace(/:/g, '').toLowerCase();
      assert.equal(m.certificate.sha256Fingerprint, fp);
      assert.equal(m.publicKey.sha256Fingerprint, sha256(readFileSync(boardFiles(root, id).publicKeyDer)));
      assert.match(m.build.command, /^make -s -C firmware$/);
      assert.equal(m.build.env.KEYPROV_BUILD_DIR, path.join(root, 'build', id));
      assert.match(m.tools.build, /GNU Make/);
      assert.match(m.tools.compiler, /\d+\.\d+/);
      // Built out of tree: objects in build/<board>/obj, not in the source folder.
      assert.ok(existsSync(path.join(root, 'build', id, 'obj', 'mqtt_demo.o')));
      assert.ok(readFileSync(path.join(root, 'build', id, 'generated', 'aws_clientcredential.h'), 'utf8').includes(`"${id}"`));
      const built = Date.parse(m.builtAt);
      ends.push(built);
      starts.push(built - m.build.durationMs);
    }
    assert.ok(!existsSync(path.join(fw, 'build')), 'nothing built in the source tree');
    // In parallel: every build started before any other finished.
    assert.ok(Math.max(...starts) < Math.min(...ends), `builds overlap: starts ${starts}, ends ${ends}`);
    // Three different images: each carries its own certificate.
    assert.equal(new Set(top.boards.map((b: { sha256: string }) => b.sha256)).size, 3);
  });

  test('each image on its own board connects with its own certificate', async (t) => {
    for (const id of BOARDS) {
      const con = await boards.get(id)!.flashAndBoot(t, path.join(root, 'dist', id, 'vboard-firmware'));
      await con.waitFor(new RegExp(`MQTT mutual-auth demo: connected as ${id}, published to keyprov/${id}/hello`), 20_000);
      assert.doesNotMatch(con.text, /Device public key/, 'the credential image keeps the key');
      con.close();
      await mosquitto.waitForLog(new RegExp(`New client connected from 127\\.0\\.0\\.1:\\d+ as ${id} \\(.*u'${id}'\\)`));
    }
  });

  test('an image flashed to the wrong board fails the handshake with a clear console line', async (t) => {
    const con = await boards.get('lab-2')!.flashAndBoot(t, path.join(root, 'dist', 'lab-1', 'vboard-firmware'));
    const line = (await con.waitFor(MISMATCH, 20_000))[0];
    await con.waitFor(HANDSHAKE_FAILED, 20_000);
    assert.doesNotMatch(con.text, /connected as lab-1/);
    t.diagnostic(line);
  });

  test('a failing board does not stop the others; a certificate for another key is refused', async () => {
    const files = boardFiles(root, 'lab-3');
    const captured = readFileSync(files.publicKeyDer);
    const { generateKeyPairSync } = await import('node:crypto');
    writeFileSync(files.publicKeyDer, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }));
    const config = readFileSync(path.join(root, 'keyprov.config.yaml'), 'utf8');
    // lab-2's build fails (as a real compiler error would), the others build.
    writeFileSync(path.join(root, 'keyprov-fail.config.yaml'), config.replace(/  command: .*/, `  command: 'if [ "$KEYPROV_BOARD" = lab-2 ]; then echo "error: lab-2 does not build" >&2; exit 7; fi; make -s -C firmware'`));
    try {
      const r = await runCli(['--config', 'keyprov-fail.config.yaml', 'images', '--out', 'dist-fail', '--json'], { cwd: root, timeoutMs: 180_000 });
      assert.equal(r.code, 3, r.stderr);
      const res = JSON.parse(r.stdout);
      assert.deepEqual(res.boards.map((b: { board: string }) => b.board), ['lab-1']);
      const failed = Object.fromEntries(res.failed.map((f: { board: string; code: string; message: string }) => [f.board, f]));
      assert.equal(failed['lab-2'].code, 'TOOL_FAILED');
      assert.match(failed['lab-2'].message, /exit 7/);
      assert.equal(failed['lab-3'].code, 'IMAGES_KEY_MISMATCH');
      assert.match(r.stderr, /lab-3: .*device-cert\.pem is not for the key captured from board "lab-3"/);
      const top = JSON.parse(readFileSync(path.join(root, 'dist-fail', 'manifest.json'), 'utf8'));
      assert.deepEqual(top.failed.map((f: { board: string }) => f.board).sort(), ['lab-2', 'lab-3']);
      assert.ok(existsSync(path.join(root, 'dist-fail', 'lab-1', 'vboard-firmware')));
      assert.ok(!existsSync(path.join(root, 'dist-fail', 'lab-2')));
    } finally {
      writeFileSync(files.publicKeyDer, captured);
    }
  });

  test('--boards with a board that has no certificate is refused before anything is built', async () => {
    const r = await runCli(['images', '--boards', 'lab-1,lab-4', '--out', 'dist2'], { cwd: root });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /board "lab-4" has no certificate/);
    assert.match(r.stderr, /hint: issue it first: keyprov issue --board lab-4/);
    assert.ok(!existsSync(path.join(root, 'dist2')));
  });
});
