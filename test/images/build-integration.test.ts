// Done-when of the make and CMake integration, on the virtual board's own builds: the first
// build renders the headers and compiles; a second build with nothing changed runs no
// compiler; a new certificate recompiles only the objects whose sources include the
// credential headers (found here by reading the sources, not from keyprov).
import assert from 'node:assert/strict';
import { execFile as execFileCb, spawnSync } from 'node:child_process';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

import { createCa, issueDeviceCertificate, loadCa, memoryLogger } from '../../src/index.js';
import { boardFiles } from '../../src/project.js';
import { KEYPROV_BIN, runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { VBOARD_DIR } from '../helpers/vboard.js';

const execFile = promisify(execFileCb);
const BOARD = 'ci-1';

/** A project with a config, a CA made with the pki API, and a certificate for a fresh P-256 key. */
async function project(t: Parameters<typeof tmpDir>[0]) {
  const root = tmpDir(t, 'keyprov-build-');
  writeFileSync(
    path.join(root, 'keyprov.config.yaml'),
    `credentials:\n  endpoint: localhost\n  thingName: "{{id}}"\n  mqttPort: 8883\nboards:\n  - id: ${BOARD}\n`,
  );
  await createCa({ projectRoot: root, log: memoryLogger() });
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const issue = async () => {
    const ca = await loadCa({ projectRoot: root });
    return issueDeviceCertificate({ ca, publicKey: key, cn: BOARD, reissue: true, out: { certificate: boardFiles(root, BOARD).certificate } });
  };
  await issue();
  return { root, config: path.join(root, 'keyprov.config.yaml'), issue };
}

/** Sources that include a header, by reading them (the independent answer). */
function includers(header: string): string[] {
  const src = path.join(VBOARD_DIR, 'src');
  return readdirSync(src)
    .filter((f) => f.endsWith('.c') && readFileSync(path.join(src, f), 'utf8').includes(`#include "${header}"`))
    .map((f) => f.replace(/\.c$/, ''))
    .sort();
}

/** Object file -> mtime (ns), keyed by source base name. */
function objectTimes(dir: string, suffix: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const f of readdirSync(dir)) if (f.endsWith(suffix)) m.set(f.slice(0, -suffix.length), statSync(path.join(dir, f), { bigint: true }).mtimeNs);
  return m;
}

function changed(before: Map<string, bigint>, after: Map<string, bigint>): string[] {
  return [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('make and CMake pre-build integration', () => {
  test('keyprov cmake-module-path names the folder with Keyprov.cmake and keyprov.mk', async () => {
    const r = await runCli(['cmake-module-path']);
    assert.equal(r.code, 0, r.stderr);
    const dir = r.stdout.trim();
    for (const f of ['Keyprov.cmake', 'keyprov.mk']) assert.ok(statSync(path.join(dir, f)).isFile(), f);
    const pkg = JSON.parse(readFileSync(path.join(dir, '..', 'package.json'), 'utf8'));
    assert.ok(pkg.files.includes('cmake'), 'the cmake folder is shipped in the package');
  });

  test('render --print-inputs lists the config, certificate and templates without rendering; --depfile names them', async (t) => {
    const p = await project(t);
    const r = await runCli(['render', '--board', BOARD, '--out-dir', 'gen', '--print-inputs'], { cwd: p.root });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], p.config);
    assert.ok(lines.includes(boardFiles(p.root, BOARD).certificate));
    assert.ok(lines.some((l) => l.endsWith('aws_clientcredential_keys.h.hbs')));
    assert.throws(() => statSync(path.join(p.root, 'gen')), /ENOENT/, 'nothing rendered');

    const d = await runCli(['render', '--board', BOARD, '--out-dir', 'gen', '--depfile', 'gen/x.d', '--depfile-target', 'stamp'], { cwd: p.root });
    assert.equal(d.code, 0, d.stderr);
    const dep = readFileSync(path.join(p.root, 'gen', 'x.d'), 'utf8');
    assert.match(dep, new RegExp(`^${path.join(p.root, 'stamp')}: ${p.config} \\\\$`, 'm'));
    for (const l of lines) assert.ok(dep.includes(`${l}:\n`), `phony rule for ${l}`);
  });

  test('make: first build, no-op second build, new certificate recompiles only the includers', async (t) => {
    const p = await project(t);
    const out = tmpDir(t, 'keyprov-make-');
    const make = (...extra: string[]) =>
      execFile('make', ['-C', VBOARD_DIR, `OUT=${out}`, 'KEYPROV_RENDER=1', `KEYPROV=${process.execPath} ${KEYPROV_BIN}`, `KEYPROV_CONFIG=${p.config}`, `KEYPROV_BOARD=${BOARD}`, ...extra]);

    const first = await make();
    assert.match(first.stdout, /render --quiet --out-dir/);
    const keys = readFileSync(path.join(out, 'generated', 'aws_clientcredential_keys.h'), 'utf8');
    const pem = new X509Certificate(readFileSync(boardFiles(p.root, BOARD).certificate)).toString().trim().split('\n')[1]!;
    assert.ok(keys.includes(pem), 'the certificate is in the generated header');
    assert.ok(statSync(path.join(out, 'vboard-firmware')).isFile());
    const objs = path.join(out, 'obj');
    const t1 = objectTimes(objs, '.o');
    assert.equal(t1.size, 6);

    // Nothing changed: make -q says up to date, and a build runs neither keyprov nor the compiler.
    await assert.doesNotReject(make('-q'), 'make -q reports the build up to date');
    const second = await make();
    assert.doesNotMatch(second.stdout, /keyprov|\bcc\b|gcc/, second.stdout);
    assert.deepEqual(changed(t1, objectTimes(objs, '.o')), []);

    await sleep(1100); // a new mtime, whatever the file system's resolution
    await p.issue();
    await make();
    const rebuilt = changed(t1, objectTimes(objs, '.o'));
    assert.deepEqual(rebuilt, includers('aws_clientcredential_keys.h'));
    assert.ok(!rebuilt.includes('main'), 'main.c includes only aws_clientcredential.h, which did not change');
    await assert.doesNotReject(make('-q'));
  });

  test('make without credentials.endpoint and with a template folder: no-op builds run no keyprov; a re-saved config re-runs render without touching the headers; a new template re-renders', async (t) => {
    const p = await project(t);
    // No endpoint configured and none recorded by `keyprov aws register` yet: .keyprov/aws-endpoint does not exist.
    mkdirSync(path.join(p.root, 'templates'));
    writeFileSync(p.config, `credentials:\n  thingName: "{{id}}"\nrender:\n  templates: templates\nboards:\n  - id: ${BOARD}\n`);
    const out = tmpDir(t, 'keyprov-make-');
    const make = (...extra: string[]) =>
      // A timeout: a prerequisite that never exists made make re-run the render in an endless loop.
      execFile('make', ['-C', VBOARD_DIR, `OUT=${out}`, 'KEYPROV_RENDER=1', `KEYPROV=${process.execPath} ${KEYPROV_BIN}`, `KEYPROV_CONFIG=${p.config}`, `KEYPROV_BOARD=${BOARD}`, ...extra], { timeout: 60_000 });
    assert.match((await make()).stdout, /render --quiet --out-dir/);
    const header = path.join(out, 'generated', 'aws_clientcredential.h');
    const headerTime = statSync(header, { bigint: true }).mtimeNs;
    assert.doesNotMatch((await make()).stdout, /keyprov/, 'a missing .keyprov/aws-endpoint must not make the headers look out of date');

    await sleep(1100);
    writeFileSync(p.config, readFileSync(p.config)); // saved again, same bytes
    const resaved = await make();
    assert.match(resaved.stdout, /render --quiet --out-dir/, 'make runs keyprov: the config is newer than the depfile');
    assert.equal(statSync(header, { bigint: true }).mtimeNs, headerTime, 'the header is not touched');
    assert.doesNotMatch((await make()).stdout, /keyprov/, 'the depfile was rewritten, so make is satisfied again');

    await sleep(1100);
    writeFileSync(path.join(p.root, 'templates', 'board_id.h.hbs'), '#define BOARD_ID {{cstring board.id}}\n');
    // (make -q is no judge here: GNU make remakes an included makefile even under -q.)
    assert.match((await make()).stdout, /render --quiet --out-dir/, 'a new template file in the template folder re-runs the render');
    assert.match(readFileSync(path.join(out, 'generated', 'board_id.h'), 'utf8'), /#define BOARD_ID "ci-1"/);
    assert.doesNotMatch((await make()).stdout, /keyprov/);
  });

  test('CMake (Makefile generator): first build, no-op second build, new certificate recompiles only the includers', async (t) => {
    const p = await project(t);
    const build = tmpDir(t, 'keyprov-cmake-');
    await execFile('cmake', ['-S', VBOARD_DIR, '-B', build, '-G', 'Unix Makefiles', '-DKEYPROV_RENDER=ON', `-DKEYPROV_BOARD=${BOARD}`, `-DKEYPROV_CONFIG=${p.config}`, `-DKEYPROV_COMMAND=${process.execPath};${KEYPROV_BIN}`]);
    const cmakeBuild = () => execFile('cmake', ['--build', build]);
    const first = await cmakeBuild();
    assert.match(first.stdout, /keyprov: rendering credential headers/);
    assert.match(readFileSync(path.join(build, 'generated', 'aws_clientcredential.h'), 'utf8'), /clientcredentialIOT_THING_NAME\s+"ci-1"/);
    const objs = path.join(build, 'CMakeFiles', 'vboard-firmware.dir', 'src');
    const t1 = objectTimes(objs, '.c.o');
    assert.equal(t1.size, 6);

    const second = await cmakeBuild();
    assert.doesNotMatch(second.stdout, /Building C object|rendering/, second.stdout);
    assert.deepEqual(changed(t1, objectTimes(objs, '.c.o')), []);

    await sleep(1100);
    await p.issue();
    const third = await cmakeBuild();
    assert.match(third.stdout, /rendering credential headers/);
    assert.deepEqual(changed(t1, objectTimes(objs, '.c.o')), includers('aws_clientcredential_keys.h'));
    const fourth = await cmakeBuild();
    assert.doesNotMatch(fourth.stdout, /Building C object|rendering/, fourth.stdout);
  });

  const hasNinja = spawnSync('ninja', ['--version']).status === 0;
  test('CMake (Ninja): no work after a build; a new certificate re-renders and recompiles only the includers', { skip: !hasNinja && 'ninja is not installed' }, async (t) => {
    const p = await project(t);
    const build = tmpDir(t, 'keyprov-ninja-');
    await execFile('cmake', ['-S', VBOARD_DIR, '-B', build, '-G', 'Ninja', '-DKEYPROV_RENDER=ON', `-DKEYPROV_BOARD=${BOARD}`, `-DKEYPROV_CONFIG=${p.config}`, `-DKEYPROV_COMMAND=${process.execPath};${KEYPROV_BIN}`]);
    await execFile('ninja', ['-C', build]);
    assert.match((await execFile('ninja', ['-C', build, '-n'])).stdout, /no work to do/);
    const objs = path.join(build, 'CMakeFiles', 'vboard-firmware.dir', 'src');
    const t1 = objectTimes(objs, '.c.o');
    await sleep(1100);
    await p.issue();
    const again = await execFile('ninja', ['-C', build]);
    assert.match(again.stdout, /rendering credential headers/);
    assert.deepEqual(changed(t1, objectTimes(objs, '.c.o')), includers('aws_clientcredential_keys.h'));
    assert.match((await execFile('ninja', ['-C', build, '-n'])).stdout, /no work to do/);
  });

  test('CMake: a missing certificate fails the build with keyprov\'s message, and is tracked once issued', async (t) => {
    const p = await project(t);
    const cert = boardFiles(p.root, BOARD).certificate;
    const saved = readFileSync(cert);
    const { rmSync } = await import('node:fs');
    rmSync(cert);
    const build = tmpDir(t, 'keyprov-cmake-');
    await execFile('cmake', ['-S', VBOARD_DIR, '-B', build, '-DKEYPROV_RENDER=ON', `-DKEYPROV_BOARD=${BOARD}`, `-DKEYPROV_CONFIG=${p.config}`, `-DKEYPROV_COMMAND=${process.execPath};${KEYPROV_BIN}`]);
    const failed = await execFile('cmake', ['--build', build]).then(() => undefined, (e) => e as { stdout: string; stderr: string });
    assert.ok(failed, 'the build fails without a certificate');
    assert.match(failed.stderr + failed.stdout, /cannot read the device certificate .*device-cert\.pem: it does not exist/);
    writeFileSync(cert, saved);
    await execFile('cmake', ['--build', build]);
    const objs = path.join(build, 'CMakeFiles', 'vboard-firmware.dir', 'src');
    const t1 = objectTimes(objs, '.c.o');
    await sleep(1100);
    await p.issue();
    await execFile('cmake', ['--build', build]);
    assert.deepEqual(changed(t1, objectTimes(objs, '.c.o')), includers('aws_clientcredential_keys.h'), 'the certificate became a dependency through the depfile');
  });
});
