// `keyprov init` chooses the provisioning source with the patcher's own selection: in the
// layout where the .c file only forwards the switch to a config header
// (`#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR FORCE_GENERATE_NEW_KEY_PAIR`), the
// config it writes must let `keyprov patch` work. gcc judges what the .c file sees.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { tmpDir, writeTree } from '../helpers/tmp.js';
import { FIXTURES, K } from '../source/helpers.js';

const C_FILE = 'libraries/freertos_plus/aws/dev_mode_key_provisioning/src/aws_dev_mode_key_provisioning.c';
const HEADER_DIR = 'vendors/board/boards/demo/aws_tests/config_files';
const HEADER = `${HEADER_DIR}/test_param_config.h`;

function aliasTree(dir: string, extra: Record<string, string> = {}): void {
  writeTree(dir, {
    [C_FILE]: `#include "test_param_config.h"\n\n#define ${K}    FORCE_GENERATE_NEW_KEY_PAIR\n\nint keyprovValue = ${K};\n`,
    // The fixture also holds a commented-out `#define FORCE_GENERATE_NEW_KEY_PAIR 1`.
    [HEADER]: readFileSync(path.join(FIXTURES, 'test_param_config.h'), 'utf8'),
    ...extra,
  });
}

/** The value the .c file's code sees for the switch, as gcc's preprocessor expands it. */
function seenByC(dir: string): string {
  const r = spawnSync('gcc', ['-E', '-P', '-I', path.join(dir, HEADER_DIR), path.join(dir, C_FILE)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return /keyprovValue = (.*);/.exec(r.stdout)![1];
}

test('init in the alias layout writes a provisioningSource that patch --phase keygen can use', async (t) => {
  const dir = tmpDir(t);
  aliasTree(dir);
  assert.equal(seenByC(dir), '0');
  const init = await runCli(['init'], { cwd: dir });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stderr, new RegExp(`keygen switch: ${HEADER}:\\d+ \\(${C_FILE}:3 forwards to it\\)`));
  const cfg = parse(readFileSync(path.join(dir, 'keyprov.config.yaml'), 'utf8'));
  assert.deepEqual(cfg.firmware.provisioningSource, [HEADER, C_FILE]);

  const doctor = await runCli(['doctor', '--json'], { cwd: dir });
  const check = JSON.parse(doctor.stdout).checks.find((c: { check: string }) => c.check === 'provisioning source');
  assert.equal(check.status, 'ok', doctor.stderr);

  const p = await runCli(['patch', '--phase', 'keygen', '--json'], { cwd: dir });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).file, path.join(dir, HEADER));
  assert.equal(seenByC(dir), '1', 'the keygen build of the .c file generates a key');
  const r = await runCli(['restore'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seenByC(dir), '0');
});

test('init where patch could not choose (two headers define the switch) leaves provisioningSource unset and says why', async (t) => {
  const dir = tmpDir(t);
  aliasTree(dir, { 'vendors/other/test_param_config.h': '#define FORCE_GENERATE_NEW_KEY_PAIR 0\n' });
  const init = await runCli(['init'], { cwd: dir });
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stderr, /warning: provisioningSource left unset: 2 active definitions of the keygen switch: .*test_param_config\.h:\d+.*vendors\/other\/test_param_config\.h:1/);
  const text = readFileSync(path.join(dir, 'keyprov.config.yaml'), 'utf8');
  assert.equal(parse(text).firmware.provisioningSource, undefined);
  assert.match(text, /# keyprov patch cannot choose the keygen switch: 2 active definitions/);
  assert.ok(existsSync(path.join(dir, 'keyprov.config.yaml')));
  // The written config is still valid, and patch explains the same ambiguity.
  const p = await runCli(['patch', '--phase', 'keygen'], { cwd: dir });
  assert.equal(p.code, 2);
  assert.match(p.stderr, /PATCH_AMBIGUOUS|2 active definitions/);
});
