// examples/ci: the workflow parses, keeps the CA key out of the repository, uploads dist/;
// its keyprov config is valid and its build command uses the variables `keyprov images` sets.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';

import { loadConfigFile } from '../../src/index.js';
import { REPO_ROOT } from '../helpers/cli.js';

const CI = path.join(REPO_ROOT, 'examples', 'ci');

test('the CI workflow takes the CA key from a secret or a token and uploads the images', () => {
  const wf = YAML.parse(readFileSync(path.join(CI, 'firmware-images.yml'), 'utf8'));
  const jobs = Object.values(wf.jobs) as { steps: { run?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }[] }[];
  assert.equal(jobs.length, 2);
  for (const job of jobs) {
    const runs = job.steps.map((s) => s.run ?? '').join('\n');
    assert.match(runs, /keyprov issue --board/);
    assert.match(runs, /keyprov images --jobs/);
    // The key is either a file in the runner's temp folder or stays in the token.
    assert.ok(/--ca-key "\$RUNNER_TEMP\/ca\.key"/.test(runs) || /--backend pkcs11/.test(runs), runs);
    assert.doesNotMatch(runs, /--ca-key (?!"\$RUNNER_TEMP)/, 'no CA key path inside the checkout');
    const secrets = job.steps.flatMap((s) => Object.values(s.env ?? {})).filter((v) => /secrets\./.test(v));
    assert.ok(secrets.length >= 1, 'the key or its PIN comes from a secret');
    const upload = job.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
    assert.equal(upload?.with?.path, 'dist/');
  }
});

test('the CI example config is valid and builds with the KEYPROV_* variables', async () => {
  const loaded = await loadConfigFile(path.join(CI, 'keyprov.config.yaml'), {});
  const cmd = loaded.config.build?.command;
  assert.equal(typeof cmd, 'string');
  for (const v of ['KEYPROV_BUILD_DIR', 'KEYPROV_GENERATED_DIR', 'KEYPROV_CFLAGS']) assert.ok((cmd as string).includes(`$${v}`), v);
  assert.equal(loaded.config.boards?.length, 3);
});
