// A symlinked source or header stays a symlink: the atomic writers (temp file + rename)
// replace the file the link points to, the journal names that real file, and restore puts
// its bytes back. gcc, reading through the link, is the judge of what a build sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { writeFileAtomic, writeIfChanged } from '../../src/util/fs-atomic.js';
import { writeFileAtomicSync } from '../../src/source/atomic-sync.js';
import { FIXTURES, gccMacro, K, sha } from './helpers.js';
import { makeCert } from '../render/pki-fixtures.js';

/** dir/real/p.c (a copy of tabs.c) and dir/link.c -> real/p.c (a relative link). */
function linkedSource(dir: string): { real: string; link: string } {
  mkdirSync(path.join(dir, 'real'));
  const real = path.join(dir, 'real', 'p.c');
  writeFileSync(real, readFileSync(path.join(FIXTURES, 'tabs.c')));
  const link = path.join(dir, 'link.c');
  symlinkSync(path.join('real', 'p.c'), link);
  return { real, link };
}

test('patch --phase keygen through a symlink changes the real file and keeps the link; restore puts the real bytes back', async (t) => {
  const dir = tmpDir(t);
  const { real, link } = linkedSource(dir);
  const before = sha(real);
  assert.equal(gccMacro(link, K), '0');

  const p = await runCli(['patch', '--phase', 'keygen', '--source', 'link.c', '--json'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'link.c is still a symlink');
  assert.equal(readlinkSync(link), path.join('real', 'p.c'));
  assert.equal(gccMacro(link, K), '1', 'a build compiling the link sees the keygen value');
  assert.equal(gccMacro(real, K), '1', 'a build compiling the real path sees the keygen value');
  const journal = JSON.parse(readFileSync(path.join(dir, '.keyprov', 'patch-journal.json'), 'utf8'));
  assert.deepEqual(journal.entries.map((e: { file: string }) => e.file), [realpathSync(real)], 'the journal names the real file');
  assert.deepEqual(readdirSync(path.join(dir, 'real')).sort(), ['p.c'], 'no temporary file left beside the target');

  const r = await runCli(['restore'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'restore leaves the link a link');
  assert.equal(sha(real), before, 'the real file is back byte for byte');
  assert.equal(gccMacro(link, K), '0');
});

test('the same file named through the link and by its real path is one file, not two definitions', async (t) => {
  const dir = tmpDir(t);
  const { real } = linkedSource(dir);
  const p = await runCli(['patch', '--phase', 'keygen', '--source', 'link.c', '--source', 'real/p.c'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(gccMacro(real, K), '1');
  // A second keygen patch naming the real path finds the journal entry made through the link.
  const again = await runCli(['patch', '--phase', 'keygen', '--source', 'real/p.c'], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  assert.doesNotMatch(again.stderr, /already 1 \(not set by keyprov\)/);
  const c = await runCli(['patch', '--phase', 'credential', '--source', 'link.c'], { cwd: dir });
  assert.equal(c.code, 0, c.stderr);
  assert.equal(readFileSync(real).equals(readFileSync(path.join(FIXTURES, 'tabs.c'))), true);
});

test('writeFileAtomic / writeIfChanged / writeFileAtomicSync keep a symlinked header a link (chains and dangling links too)', async (t) => {
  const dir = tmpDir(t);
  mkdirSync(path.join(dir, 'shared'));
  const target = path.join(dir, 'shared', 'aws_clientcredential.h');
  writeFileSync(target, 'old\n');
  chmodSync(target, 0o640);
  const l1 = path.join(dir, 'l1.h');
  const l2 = path.join(dir, 'l2.h');
  symlinkSync(target, l1);
  symlinkSync('l1.h', l2); // a chain: l2 -> l1 -> shared/aws_clientcredential.h

  await writeFileAtomic(l2, 'async\n');
  assert.ok(lstatSync(l1).isSymbolicLink() && lstatSync(l2).isSymbolicLink());
  assert.equal(readFileSync(target, 'utf8'), 'async\n');
  assert.equal(statSync(target).mode & 0o777, 0o640, 'the target keeps its mode');

  assert.equal(await writeIfChanged(l1, 'changed\n'), true);
  assert.ok(lstatSync(l1).isSymbolicLink());
  assert.equal(readFileSync(target, 'utf8'), 'changed\n');

  writeFileAtomicSync(l2, Buffer.from('sync\n'));
  assert.ok(lstatSync(l2).isSymbolicLink());
  assert.equal(readFileSync(target, 'utf8'), 'sync\n');

  const dangling = path.join(dir, 'dangling.h');
  symlinkSync(path.join('shared', 'new.h'), dangling);
  await writeFileAtomic(dangling, 'created\n');
  assert.ok(lstatSync(dangling).isSymbolicLink());
  assert.equal(readFileSync(path.join(dir, 'shared', 'new.h'), 'utf8'), 'created\n');

  const loop = path.join(dir, 'loop.h');
  symlinkSync('loop.h', loop);
  await assert.rejects(writeFileAtomic(loop, 'x'), (e: NodeJS.ErrnoException) => e.code === 'ELOOP');
  assert.ok(lstatSync(loop).isSymbolicLink());
});

test('keyprov render into a symlinked header: the link stays, its target gets the new certificate', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), 'credentials:\n  endpoint: broker.example\n');
  makeCert(dir, 'dev');
  const render = () => runCli(['render', '--certificate', 'dev.pem', '--out-dir', 'gen'], { cwd: dir });
  const first = await render();
  assert.equal(first.code, 0, first.stderr);
  // The build's copy of the keys header lives elsewhere; gen/ holds a link to it.
  mkdirSync(path.join(dir, 'board'));
  const target = path.join(dir, 'board', 'aws_clientcredential_keys.h');
  const link = path.join(dir, 'gen', 'aws_clientcredential_keys.h');
  renameSync(link, target);
  symlinkSync(path.join('..', 'board', 'aws_clientcredential_keys.h'), link);

  const pem = makeCert(dir, 'dev'); // a new certificate for the board
  const again = await render();
  assert.equal(again.code, 0, again.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the header is still a link');
  const body = pem.trim().split('\n').slice(1, -1)[0]; // first base64 line of the new certificate
  assert.ok(readFileSync(target, 'latin1').includes(body), 'the link target holds the new certificate');
});
