import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSteps, type Step } from '../../src/pipeline/steps.js';
import { KeyprovError, UsageError } from '../../src/errors.js';
import { memoryLogger } from '../../src/log.js';

function steps(trace: string[], failAt?: string, abort?: AbortController): Step<object>[] {
  const mk = (name: string, always = false): Step<object> => ({
    name,
    title: `step ${name}`,
    always,
    run: async (_c, ctl) => {
      trace.push(name);
      if (name === 'b' && abort) abort.abort();
      if (name === failAt) throw new KeyprovError('BOOM', `${name} failed`, { hint: 'fix it' });
      if (name === 'c') ctl.skip('nothing to do');
      ctl.fact('ran', name);
    },
  });
  return [mk('a'), mk('b'), mk('c'), mk('restore', true), mk('d')];
}

test('steps run in order; a skip is recorded as skipped', async () => {
  const trace: string[] = [];
  const log = memoryLogger();
  const recs = await runSteps(steps(trace), {}, { log });
  assert.deepEqual(trace, ['a', 'b', 'c', 'restore', 'd']);
  assert.deepEqual(recs.map((r) => r.outcome), ['ok', 'ok', 'skipped', 'ok', 'ok']);
  assert.equal(recs[2]!.detail, 'nothing to do');
  assert.match(log.text(), /\[1\/5\] step a ok \(\d+\.\d s\)/);
});

test('after a failure only the `always` steps run, then the failure is thrown', async () => {
  const trace: string[] = [];
  let saved: string[] = [];
  await assert.rejects(
    runSteps(steps(trace, 'b'), {}, { log: memoryLogger(), onRecord: (r) => void (saved = r.map((x) => x.outcome)) }),
    (e: KeyprovError) => e.code === 'BOOM',
  );
  assert.deepEqual(trace, ['a', 'b', 'restore']);
  assert.deepEqual(saved, ['ok', 'failed', 'not-run', 'ok', 'not-run']);
});

test('--from resumes at a named step; an unknown name is a usage error', async () => {
  const trace: string[] = [];
  const recs = await runSteps(steps(trace), {}, { log: memoryLogger(), from: 'c' });
  assert.deepEqual(trace, ['c', 'restore', 'd']);
  assert.equal(recs[0]!.outcome, 'skipped');
  await assert.rejects(runSteps(steps([]), {}, { log: memoryLogger(), from: 'zzz' }), (e: UsageError) => e.code === 'STEP_UNKNOWN' && /a, b, c, restore, d/.test(e.hint!));
});

test('an abort stops new steps but still runs the `always` ones, and exits 130', async () => {
  const trace: string[] = [];
  const ac = new AbortController();
  await assert.rejects(runSteps(steps(trace, undefined, ac), {}, { log: memoryLogger(), signal: ac.signal }), (e: KeyprovError) => e.exitCode === 130);
  assert.deepEqual(trace, ['a', 'b', 'restore']);
});
