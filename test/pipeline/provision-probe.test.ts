// The `--keygen auto` probe on a virtual board that is already provisioned: it prints no key
// (it has one and a certificate) and goes on to connect, so the probe must stop at that line
// instead of waiting out its timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { makeRig } from '../helpers/rig.js';
import { provision } from '../../src/pipeline/provision.js';
import { loadConfigFile } from '../../src/config/load.js';
import { memoryLogger } from '../../src/log.js';
import { KeyprovError } from '../../src/errors.js';

const PROBE_TIMEOUT_S = 15;

test('--keygen auto on a board that already has a certificate: the probe stops when the board connects', async (t) => {
  const rig = await makeRig(t, { boards: 1, extraConfig: `provision:\n  probeTimeout: ${PROBE_TIMEOUT_S}` });
  const loaded = await loadConfigFile(rig.configFile);
  const first = await provision({ projectRoot: rig.root, loaded, boardId: 'b1', keygen: 'force', log: memoryLogger() });
  assert.equal(first.outcome, 'ok');

  // Again with --keygen auto; stop the run once the probe is done (the rest is the keygen flow tested elsewhere).
  const ac = new AbortController();
  const log = memoryLogger();
  await assert.rejects(
    provision({
      projectRoot: rig.root,
      loaded,
      boardId: 'b1',
      keygen: 'auto',
      log,
      signal: ac.signal,
      onProgress: (r) => {
        if (r.steps.find((s) => s.name === 'probe')?.durationMs !== undefined) ac.abort();
      },
    }),
    (e: KeyprovError) => e.code === 'INTERRUPTED',
  );
  const report = JSON.parse(readFileSync(path.join(rig.root, '.keyprov/boards/b1/report.json'), 'utf8'));
  const probe = report.steps.find((s: { name: string }) => s.name === 'probe');
  assert.equal(probe.outcome, 'ok', log.text());
  t.diagnostic(`probe step: ${probe.durationMs} ms (probe timeout ${PROBE_TIMEOUT_S} s)`);
  assert.ok(probe.durationMs < 5000, `probe took ${probe.durationMs} ms of its ${PROBE_TIMEOUT_S} s timeout`);
  assert.match(probe.detail, /no key on the current firmware \(it went on to ".*connected as lab-b1, published to/);
  const probeLog = readFileSync(path.join(rig.root, '.keyprov/boards/b1/console-probe.log'), 'latin1');
  assert.doesNotMatch(probeLog, /Device public key/, 'the board really printed no key');
});
