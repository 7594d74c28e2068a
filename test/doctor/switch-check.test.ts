// doctor judges the keygen switch with the patcher's C parser and selection, not a regex:
// a `1` under `#if 0` or in a comment is no finding, an alias is followed to the header
// that holds the value, and a real 1 is still a problem. gcc says what the build sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';
import { copyFixtures, gccMacro, K } from '../source/helpers.js';

interface Check { check: string; status: string; detail: string; fix?: string }

async function doctorWith(dir: string, sources: string[]): Promise<{ code: number | null; check: Check; checks: Check[]; stderr: string }> {
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), `firmware:\n  provisioningSource:\n${sources.map((s) => `    - ${s}\n`).join('')}`);
  const r = await runCli(['doctor', '--json'], { cwd: dir });
  const { checks } = JSON.parse(r.stdout) as { checks: Check[] };
  const mine = checks.filter((c) => c.check === 'provisioning source');
  assert.equal(mine.length, 1, JSON.stringify(mine));
  return { code: r.code, check: mine[0], checks, stderr: r.stderr };
}

test('doctor: a 1 under #if 0 or in a comment is not "forces key generation" (gcc agrees the switch is 0)', async (t) => {
  for (const [fixture, macro] of [['if0.c', K], ['doc-comment.c', 'FORCE_GENERATE_NEW_KEY_PAIR']]) {
    const dir = tmpDir(t);
    const file = copyFixtures(dir, [fixture])[fixture];
    assert.equal(gccMacro(file, macro), '0', `${fixture}: gcc sees 0`);
    const d = await doctorWith(dir, [fixture]);
    assert.equal(d.check.status, 'ok', `${fixture}: ${d.check.detail}`);
    assert.match(d.check.detail, new RegExp(`${fixture}:\\d+: #define ${macro} 0`));
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stderr, /forces key generation/);
  }
});

test('doctor: an alias is followed to the header that holds the value, both at 0 and at 1', async (t) => {
  const dir = tmpDir(t);
  const f = copyFixtures(dir, ['alias.c', 'test_param_config.h']);
  const ok = await doctorWith(dir, ['alias.c', 'test_param_config.h']);
  assert.equal(ok.check.status, 'ok', ok.check.detail);
  assert.match(ok.check.detail, /test_param_config\.h:\d+: #define FORCE_GENERATE_NEW_KEY_PAIR 0 \(via .*alias\.c:3\)/);
  // The same config after a keygen patch: doctor sees the 1 where patch put it.
  const p = await runCli(['patch', '--phase', 'keygen'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(gccMacro(f['alias.c'], 'FORCE_GENERATE_NEW_KEY_PAIR'), '1');
  const forced = await doctorWith(dir, ['alias.c', 'test_param_config.h']);
  assert.equal(forced.check.status, 'problem');
  assert.match(forced.check.detail, /test_param_config\.h forces key generation/);
  assert.equal(forced.code, 1);
  // The alias file alone (what init used to write) is a problem doctor names, as patch would.
  const alone = await doctorWith(dir, ['alias.c']);
  assert.equal(alone.check.status, 'problem');
  assert.match(alone.check.detail, /no active definition of FORCE_GENERATE_NEW_KEY_PAIR/);
});

test('doctor: a real 1 is still reported; under a live provisioning run it is a warning naming the run', async (t) => {
  const dir = tmpDir(t);
  const file = copyFixtures(dir, ['tabs.c'])['tabs.c'];
  const p = await runCli(['patch', '--phase', 'keygen', '--source', 'tabs.c'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(gccMacro(file, K), '1');
  const d = await doctorWith(dir, ['tabs.c']);
  assert.equal(d.check.status, 'problem');
  assert.match(d.check.detail, /tabs\.c forces key generation \(.*tabs\.c:2: #define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR/);
  assert.match(d.check.fix!, /keyprov restore/);
  assert.equal(d.code, 1);

  // This test process stands in for a live `keyprov provision` holding the source tree.
  writeFileSync(path.join(dir, '.keyprov', 'pipeline-patch.lock'), JSON.stringify({ pid: process.pid, host: hostname(), board: 'b1', startedAt: new Date().toISOString() }));
  const live = await doctorWith(dir, ['tabs.c']);
  assert.equal(live.check.status, 'warn', live.check.detail);
  assert.match(live.check.detail, new RegExp(`by keyprov pid ${process.pid} \\(board b1\\).*restores it itself`));
  assert.equal(live.checks.find((c) => c.check === 'keygen patch')?.status, 'warn');
  assert.equal(live.code, 0, live.stderr);
});

test('doctor: a value patch cannot switch is a problem, not "ok"', async (t) => {
  const dir = tmpDir(t);
  copyFixtures(dir, ['macro-valued.c']);
  const d = await doctorWith(dir, ['macro-valued.c']);
  assert.equal(d.check.status, 'problem');
  assert.match(d.check.detail, /not 0 or 1/);
});
