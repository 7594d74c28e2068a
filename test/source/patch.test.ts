// The patcher as a library: every fixture goes keygen -> restore and comes back byte for
// byte; gcc's preprocessor (not our parser) decides which value the compiler sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { applyPhase, restoreAll, restoreAllSync, pendingPatch, phaseCflags, guardCflags } from '../../src/source/index.js';
import { memoryLogger } from '../../src/log.js';
import { patchJournalPath } from '../../src/project.js';
import { tmpDir, writeTree } from '../helpers/tmp.js';
import { copyFixtures, gccMacro, K, sha, FIXTURES } from './helpers.js';

const ROUND_TRIP: [string, string][] = [
  ['crlf.c', K],
  ['tabs.c', K],
  ['trailing-comment.c', K],
  ['line-comment.c', K],
  ['doc-comment.c', 'FORCE_GENERATE_NEW_KEY_PAIR'],
  ['if0.c', K],
  ['string-literal.c', K],
  ['non-ascii.c', K],
  ['test_param_config.h', 'FORCE_GENERATE_NEW_KEY_PAIR'],
];

/** Positions where two equal-length buffers differ. */
function diffBytes(a: Buffer, b: Buffer): number[] {
  assert.equal(b.length, a.length, 'length changed');
  const out: number[] = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

for (const [name, macro] of ROUND_TRIP) {
  test(`keygen then restore: ${name} changes one byte 0->1 and comes back byte-identical`, async (t) => {
    const dir = tmpDir(t);
    const file = copyFixtures(dir, [name])[name];
    const original = readFileSync(file);
    const before = sha(file);
    assert.match(gccMacro(file, macro)!, /^\(?\s*0\s*\)?$/);

    const log = memoryLogger();
    const r = await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log });
    assert.deepEqual(r.filesChanged, [file]);
    const patched = readFileSync(file);
    const diff = diffBytes(original, patched);
    assert.equal(diff.length, 1, `expected one changed byte, got ${diff.length}`);
    assert.equal(String.fromCharCode(original[diff[0]]), '0');
    assert.equal(String.fromCharCode(patched[diff[0]]), '1');
    assert.match(gccMacro(file, macro)!, /^\(?\s*1\s*\)?$/, 'gcc must see the switch at 1');
    assert.equal(pendingPatch(dir).length, 1);

    await restoreAll({ projectRoot: dir, log });
    assert.equal(sha(file), before);
    assert.deepEqual(pendingPatch(dir), []);
    assert.ok(!existsSync(patchJournalPath(dir)), 'an empty journal is removed');
  });
}

test('a read-only (0444) file is patched via rename with its mode kept, and restored byte-identical', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['crlf.c'])['crlf.c'];
  chmodSync(file, 0o444);
  const before = sha(file);
  const ino = statSync(file).ino;
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  assert.equal(statSync(file).mode & 0o777, 0o444);
  assert.notEqual(statSync(file).ino, ino, 'written by rename, not in place');
  assert.equal(gccMacro(file, K), '1');
  await restoreAll({ projectRoot: dir, log: memoryLogger() });
  assert.equal(sha(file), before);
  assert.equal(statSync(file).mode & 0o777, 0o444);
});

test('repeating keygen is a no-op: file, mtime and journal untouched; restore still gives the original', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['tabs.c'])['tabs.c'];
  const before = sha(file);
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  const st = statSync(file);
  const journal = readFileSync(patchJournalPath(dir));
  await new Promise((r) => setTimeout(r, 20));
  const again = await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  assert.deepEqual(again.changes, []);
  assert.equal(statSync(file).mtimeMs, st.mtimeMs);
  assert.equal(statSync(file).ino, st.ino);
  assert.ok(readFileSync(patchJournalPath(dir)).equals(journal));
  await restoreAll({ projectRoot: dir, log: memoryLogger() });
  assert.equal(sha(file), before);
});

test('credential phase restores the journal; on an unpatched file it only ensures 0 and journals nothing', async (t) => {
  const dir = tmpDir(t);
  const f = copyFixtures(dir, ['trailing-comment.c', 'already-one.c']);
  const before = sha(f['trailing-comment.c']);
  await applyPhase({ projectRoot: dir, sources: [f['trailing-comment.c']], phase: 'keygen', log: memoryLogger() });
  const r = await applyPhase({ projectRoot: dir, sources: [f['trailing-comment.c']], phase: 'credential', log: memoryLogger() });
  assert.equal(r.restored?.restored.length, 1);
  assert.equal(sha(f['trailing-comment.c']), before);

  const one = await applyPhase({ projectRoot: dir, sources: [f['already-one.c']], phase: 'credential', log: memoryLogger() });
  assert.equal(one.changes.length, 1);
  assert.equal(gccMacro(f['already-one.c'], K), '0');
  assert.deepEqual(pendingPatch(dir), []);
  const st = statSync(f['already-one.c']);
  const again = await applyPhase({ projectRoot: dir, sources: [f['already-one.c']], phase: 'credential', log: memoryLogger() });
  assert.deepEqual(again.changes, []);
  assert.equal(statSync(f['already-one.c']).mtimeMs, st.mtimeMs);
});

test('a file edited after the patch keeps the edit; only the value goes back, and restore says so', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['non-ascii.c'])['non-ascii.c'];
  const original = readFileSync(file);
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  appendFileSync(file, 'int addedLater; /* ü */\n');
  const log = memoryLogger();
  const r = await restoreAll({ projectRoot: dir, log });
  assert.equal(r.restored[0].how, 'values');
  assert.match(log.text(), /edited since/);
  assert.ok(readFileSync(file).equals(Buffer.concat([original, Buffer.from('int addedLater; /* ü */\n')])));
  assert.deepEqual(pendingPatch(dir), []);
});

test('a value changed by hand after the patch is not overwritten: restore fails and keeps the journal', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['tabs.c'])['tabs.c'];
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  writeFileSync(file, readFileSync(file, 'latin1').replace(/\t\t1\n/, '\t\t(1)\n'), 'latin1');
  const hand = sha(file);
  await assert.rejects(restoreAll({ projectRoot: dir, log: memoryLogger() }), (e: any) => e.code === 'RESTORE_INCOMPLETE' && /tabs\.c/.test(e.message) && /\(1\)/.test(e.message));
  assert.equal(sha(file), hand);
  assert.equal(pendingPatch(dir).length, 1);
});

test('refusals name file:line and value, and change nothing', async (t) => {
  const dir = tmpDir(t);
  const f = copyFixtures(dir, ['two-active.c', 'macro-valued.c', 'alias.c', 'tabs.c']);
  const sums = Object.fromEntries(Object.entries(f).map(([k, v]) => [k, sha(v)]));
  const run = (sources: string[], macros?: string[]) => applyPhase({ projectRoot: dir, sources, macros, phase: 'keygen', log: memoryLogger() });

  await assert.rejects(run([f['two-active.c']]), (e: any) => e.code === 'PATCH_AMBIGUOUS' && e.exitCode === 2 && e.message.includes('two-active.c:2') && e.message.includes('two-active.c:4'));
  await assert.rejects(run([f['macro-valued.c']]), (e: any) => e.code === 'PATCH_VALUE_UNSUPPORTED' && e.message.includes('macro-valued.c:3') && e.message.includes('QUALIFICATION_FORCE_GENERATE_NEW_KEY_PAIR_SETTING'));
  await assert.rejects(run([f['tabs.c']], ['NO_SUCH_SWITCH']), (e: any) => e.code === 'PATCH_DEFINITION_NOT_FOUND' && e.message.includes('NO_SUCH_SWITCH') && e.message.includes(f['tabs.c']));
  await assert.rejects(run([f['alias.c']]), (e: any) => e.code === 'PATCH_ALIAS_TARGET_NOT_FOUND' && e.message.includes('alias.c:3'));
  await assert.rejects(run([path.join(dir, 'missing.c')]), (e: any) => e.code === 'SOURCE_NOT_FOUND');
  await assert.rejects(applyPhase({ projectRoot: dir, sources: [f['tabs.c']], phase: 'keygen', keygenDelaySeconds: 5, log: memoryLogger() }), (e: any) => e.code === 'DELAY_NOT_FOUND');
  for (const [k, v] of Object.entries(f)) assert.equal(sha(v), sums[k], `${k} must be untouched`);
  assert.deepEqual(pendingPatch(dir), []);
});

test('an #if 0 copy alone is not an active definition', async (t) => {
  const dir = tmpDir(t);
  writeTree(dir, { 'only-dead.c': `#if 0\n#define ${K} 1\n#endif\n` });
  await assert.rejects(applyPhase({ projectRoot: dir, sources: [path.join(dir, 'only-dead.c')], phase: 'keygen', log: memoryLogger() }), (e: any) => e.code === 'PATCH_DEFINITION_NOT_FOUND' && /inactive.*only-dead\.c:2/.test(e.message));
});

test('tree search skips .git, node_modules and build folders, and follows an alias to the config header', async (t) => {
  const dir = tmpDir(t);
  const decoy = `#define ${K} 0\n`;
  writeTree(dir, {
    'src/other.c': 'int x;\n',
    'node_modules/pkg/a.h': decoy,
    'build/gen.h': decoy,
    'cmake-build-debug/gen.c': decoy,
    '.git/x.h': decoy,
    'docs/readme.txt': decoy,
  });
  writeFileSync(path.join(dir, 'src', 'alias.c'), readFileSync(path.join(FIXTURES, 'alias.c')));
  writeFileSync(path.join(dir, 'src', 'test_param_config.h'), readFileSync(path.join(FIXTURES, 'test_param_config.h')));
  const header = path.join(dir, 'src', 'test_param_config.h');
  const r = await applyPhase({ projectRoot: dir, phase: 'keygen', log: memoryLogger() });
  assert.equal(r.file, header);
  assert.deepEqual(r.candidates.sort(), [path.join(dir, 'src', 'alias.c'), header].sort());
  assert.equal(gccMacro(path.join(dir, 'src', 'alias.c'), K), 'FORCE_GENERATE_NEW_KEY_PAIR');
  assert.equal(gccMacro(header, 'FORCE_GENERATE_NEW_KEY_PAIR'), '1');
  await restoreAll({ projectRoot: dir, log: memoryLogger() });
  assert.equal(sha(header), sha(path.join(FIXTURES, 'test_param_config.h')));
});

test('--keygen-delay patches the delay in the keygen build and restore puts it back', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['delay.c'])['delay.c'];
  const before = sha(file);
  const r = await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', keygenDelaySeconds: 7, log: memoryLogger() });
  assert.deepEqual(r.changes.map((c) => c.kind).sort(), ['delay', 'keygen']);
  assert.equal(gccMacro(file, K), '1');
  assert.equal(gccMacro(file, 'DELAY_BEFORE_KEY_PAIR_GENERATION_SECS'), '( 7 )');
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'credential', log: memoryLogger() });
  assert.equal(sha(file), before);
});

test('guard mode: one rewrite into #ifndef form (CRLF kept); -D selects the phase; repeat is a no-op', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['crlf.c'])['crlf.c'];
  await assert.rejects(phaseCflags({ projectRoot: dir, sources: [file], phase: 'keygen' }), (e: any) => e.code === 'PATCH_NOT_GUARDED');
  const r = await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', mode: 'guard', log: memoryLogger() });
  assert.deepEqual(r.cflags, [`-D${K}=1`]);
  const text = readFileSync(file, 'latin1');
  assert.equal((text.match(/\n/g) ?? []).length, (text.match(/\r\n/g) ?? []).length, 'every line ending stays CRLF');
  assert.ok(text.includes(`#ifndef ${K}\r\n#define ${K}    0\r\n#endif\r\n`));
  assert.equal(gccMacro(file, K), '0');
  assert.equal(gccMacro(file, K, guardCflags(K, 'keygen')), '1');
  assert.equal(gccMacro(file, K, guardCflags(K, 'credential')), '0');
  assert.deepEqual(pendingPatch(dir), [], 'the guarded form is permanent, not a pending patch');
  const st = statSync(file);
  const again = await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', mode: 'guard', log: memoryLogger() });
  assert.deepEqual(again.changes, []);
  assert.equal(statSync(file).mtimeMs, st.mtimeMs);
  assert.deepEqual((await phaseCflags({ projectRoot: dir, sources: [file], phase: 'keygen' })).cflags, [`-D${K}=1`]);
});

test('dry run reports the change and writes nothing', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['tabs.c'])['tabs.c'];
  const before = sha(file);
  const r = await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', dryRun: true, log: memoryLogger() });
  assert.equal(r.changes.length, 1);
  assert.equal(sha(file), before);
  assert.ok(!existsSync(patchJournalPath(dir)));
});

test('restoreAllSync (for signal handlers) restores byte for byte without awaiting', async (t) => {
  const dir = tmpDir(t);
  const f = copyFixtures(dir, ['crlf.c', 'test_param_config.h']);
  const before = Object.values(f).map(sha);
  for (const file of Object.values(f)) await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  assert.equal(pendingPatch(dir).length, 2);
  const r = restoreAllSync({ projectRoot: dir, log: memoryLogger() });
  assert.deepEqual(r.restored.map((x) => x.how), ['bytes', 'bytes']);
  assert.deepEqual(Object.values(f).map(sha), before);
});

test('keygen again after the value was set back by hand keeps the hand edits on restore', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['tabs.c'])['tabs.c'];
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  // By hand: back to 0, plus an unrelated edit.
  writeFileSync(file, readFileSync(file, 'latin1').replace(/\t\t1\n/, '\t\t0\n') + '#define ADDED_BY_HAND 2\n', 'latin1');
  const handEdited = readFileSync(file);
  await applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() });
  assert.equal(gccMacro(file, K), '1');
  assert.equal(pendingPatch(dir).length, 1);
  await restoreAll({ projectRoot: dir, log: memoryLogger() });
  assert.ok(readFileSync(file).equals(handEdited), 'restore gives the hand-edited file, not the first original');
});

test('a write that fails half-way (second file in an immutable folder) rolls back the first file and the journal', async (t) => {
  const dir = tmpDir(t);
  writeTree(dir, { 'a/switch.c': `#define ${K}    0\n`, 'b/delay.h': '#define DELAY_BEFORE_KEY_PAIR_GENERATION_SECS    180\n' });
  const [sw, delay] = [path.join(dir, 'a/switch.c'), path.join(dir, 'b/delay.h')];
  const before = [sha(sw), sha(delay)];
  // chattr +i makes even root's rename fail (EPERM); without it there is no way to make a root write fail here.
  const lock = spawnSync('chattr', ['+i', path.dirname(delay)]);
  if (lock.status !== 0) return t.skip(`chattr +i not available here: ${lock.stderr}`);
  try {
    await assert.rejects(
      applyPhase({ projectRoot: dir, sources: [sw, delay], phase: 'keygen', keygenDelaySeconds: 5, log: memoryLogger() }),
      (e: any) => e.code === 'PATCH_WRITE_FAILED' && e.message.includes(delay) && /nothing was changed/.test(e.message),
    );
  } finally {
    spawnSync('chattr', ['-i', path.dirname(delay)]);
  }
  assert.deepEqual([sha(sw), sha(delay)], before);
  assert.deepEqual(pendingPatch(dir), []);
  assert.ok(!existsSync(path.join(dir, '.keyprov', 'patch-backup')), 'no orphan backup');
});

test('a comment inside the value (which tree-sitter-c cannot parse) is refused with file:line, not reported as missing', async (t) => {
  const dir = tmpDir(t);
  const file = path.join(dir, 'inner.c');
  const original = `int x;\n#define ${K} ( /* 1 = new key */ 0 ) // tail\n`;
  writeFileSync(file, original);
  await assert.rejects(
    applyPhase({ projectRoot: dir, sources: [file], phase: 'keygen', log: memoryLogger() }),
    (e: any) => e.code === 'PATCH_UNPARSABLE' && e.message.includes(`${file}:2`) && /move any comment out of the value/.test(e.hint),
  );
  assert.equal(readFileSync(file, 'utf8'), original);
  assert.deepEqual(pendingPatch(dir), []);
});
