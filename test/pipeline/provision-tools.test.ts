// report.json records the tools of a provisioning run: keyprov, node, the build tool and the flasher.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { provision } from '../../src/pipeline/provision.js';
import { loadConfigFile } from '../../src/config/load.js';
import { memoryLogger } from '../../src/log.js';
import { KeyprovError } from '../../src/errors.js';
import { VBOARD_DIR } from '../helpers/vboard.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { tmpDir } from '../helpers/tmp.js';

test('report.json names keyprov, node, make and the flasher with their versions', async (t) => {
  const root = tmpDir(t);
  cpSync(VBOARD_DIR, root, { recursive: true, filter: (src) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(src) });
  // Preflight only checks that the port exists; the run stops right after preflight.
  writeFileSync(path.join(root, 'console-tty'), '');
  const cfgFile = path.join(root, 'keyprov.config.yaml');
  writeFileSync(cfgFile, readFileSync(cfgFile, 'utf8').replace(/^serial:\n  port: .*\n/m, 'serial:\n  port: console-tty\n'));
  const loaded = await loadConfigFile(cfgFile);
  const ac = new AbortController();
  await assert.rejects(
    provision({ projectRoot: root, loaded, createCa: true, log: memoryLogger(), signal: ac.signal, onProgress: (r) => void (r.steps[0]?.durationMs !== undefined && ac.abort()) }),
    (e: KeyprovError) => e.code === 'INTERRUPTED',
  );
  const report = JSON.parse(readFileSync(path.join(root, '.keyprov/boards/default/report.json'), 'utf8'));
  assert.equal(report.steps[0].outcome, 'ok');
  const makeVersion = execFileSync('make', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.trim();
  assert.match(makeVersion, /make/i);
  assert.deepEqual(report.tools.build, { executable: 'make', version: makeVersion });
  assert.equal(report.tools.node, process.version);
  assert.equal(report.tools.keyprov, JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
  assert.equal(report.tools.flash.runner, 'vboard');
});
