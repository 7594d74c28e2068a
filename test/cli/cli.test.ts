import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, writeFileSync, readFileSync, cpSync, existsSync } from 'node:fs';
import { runCli, REPO_ROOT } from '../helpers/cli.js';
import { tmpDir, writeTree } from '../helpers/tmp.js';

const FIXTURE = path.join(REPO_ROOT, 'test/fixtures/freertos-demo');

test('--help lists the commands, --version prints the package version', async () => {
  const h = await runCli(['--help']);
  assert.equal(h.code, 0);
  for (const c of ['init', 'doctor', 'provision', 'patch', 'restore', 'build', 'flash', 'reset', 'capture', 'ca', 'issue', 'verify', 'render', 'aws', 'fleet', 'images', 'cmake-module-path']) assert.match(h.stdout, new RegExp(`keyprov ${c}`));
  const v = await runCli(['--version']);
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'));
  assert.equal(v.stdout.trim(), pkg.version);
});

test('unknown command or option: exit 2, no stack trace', async () => {
  const r = await runCli(['doctor', '--no-such-option']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /keyprov: error: Unknown argument/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('bad configs exit 2 with a message naming the problem', async (t) => {
  const cases: [string, string, RegExp][] = [
    ['unknown key', 'flash:\n  runer: vboard\n', /flash\.runer: unknown key/],
    ['wrong type', 'serial:\n  baud: fast\n', /serial\.baud: expected a number, got "fast"/],
    ['missing env var', 'credentials:\n  wifi:\n    password: ${env:KEYPROV_TEST_UNSET_VAR}\n', /KEYPROV_TEST_UNSET_VAR is not set/],
    ['YAML syntax', 'serial:\n  baud: 1\n   port: x\n', /keyprov\.config\.yaml:\d+:\d+: YAML syntax error/],
  ];
  for (const [name, text, re] of cases) {
    const dir = tmpDir(t);
    writeFileSync(path.join(dir, 'keyprov.config.yaml'), text);
    const r = await runCli(['doctor', '--json'], { cwd: dir });
    assert.equal(r.code, 1, `${name}: doctor reports a config problem with exit 1`);
    const viaConfig = await runCli(['doctor', '--config', path.join(dir, 'keyprov.config.yaml')], { cwd: dir });
    assert.match(viaConfig.stderr, re, name);
    // Commands that need the config fail with exit 2, the message, and no stack trace.
    for (const args of [['provision', '--dry-run'], ['render', '--check'], ['fleet', 'status']]) {
      const cmd = await runCli(args, { cwd: dir });
      assert.equal(cmd.code, 2, `${name}: keyprov ${args.join(' ')}\n${cmd.stderr}`);
      assert.match(cmd.stderr, re, `${name}: keyprov ${args.join(' ')}`);
      assert.doesNotMatch(cmd.stderr, /\n\s+at .*:\d+:\d+\)?\n/, 'no stack trace');
    }
  }
  const dir = tmpDir(t);
  mkdirSync(path.join(dir, 'cfgdir'));
  const r = await runCli(['doctor', '--config', path.join(dir, 'cfgdir')], { cwd: dir });
  assert.match(r.stderr, /cannot read config file .*cfgdir: it is a directory/);
});

test('init in a FreeRTOS-like tree writes a config that doctor accepts', async (t) => {
  const dir = tmpDir(t);
  cpSync(FIXTURE, dir, { recursive: true });
  const r = await runCli(['init'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const cfg = readFileSync(path.join(dir, 'keyprov.config.yaml'), 'utf8');
  assert.match(cfg, /provisioningSource: "libraries\/freertos_plus\/aws\/dev_mode_key_provisioning\/src\/aws_dev_mode_key_provisioning\.c"/);
  assert.match(cfg, /headerDir: "demos\/include"/);
  assert.match(cfg, /command: \["cmake", "--build", "build"\]/);
  const d = await runCli(['doctor', '--json'], { cwd: dir });
  assert.equal(d.code, 0, d.stdout + d.stderr);
  const report = JSON.parse(d.stdout);
  assert.equal(report.problems, 0);
  assert.ok(report.checks.some((c: { check: string; status: string }) => c.check === 'provisioning source' && c.status === 'ok'));
  // A second init refuses to overwrite; --force replaces.
  const again = await runCli(['init'], { cwd: dir });
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists.*\nhint: pass --force/);
  assert.equal((await runCli(['init', '--force'], { cwd: dir })).code, 0);
});

test('init in a tree without the macro says what it looked for and where', async (t) => {
  const dir = tmpDir(t);
  writeTree(dir, { 'src/main.c': 'int main(void){return 0;}\n', 'src/doc.h': '/* #define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR 0 */\n' });
  const r = await runCli(['init'], { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no #define of keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR or FORCE_GENERATE_NEW_KEY_PAIR found in the 2 \.c\/\.h files under /);
  assert.ok(!existsSync(path.join(dir, 'keyprov.config.yaml')));
});

test('doctor flags a source left forcing key generation, and a missing build tool', async (t) => {
  const dir = tmpDir(t);
  writeTree(dir, {
    'src/prov.c': '#define keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR 1 /* forced */\n',
    'keyprov.config.yaml': 'firmware:\n  provisioningSource: src/prov.c\nbuild:\n  command: ["keyprov-no-such-build-tool"]\n',
  });
  const r = await runCli(['doctor', '--json'], { cwd: dir });
  assert.equal(r.code, 1);
  const { checks } = JSON.parse(r.stdout);
  const byName = Object.fromEntries(checks.map((c: { check: string }) => [c.check, c]));
  assert.equal(byName['provisioning source'].status, 'problem');
  assert.match(byName['provisioning source'].fix, /keyprov restore/);
  assert.equal(byName['build tool'].status, 'problem');
  assert.match(byName['build tool'].detail, /keyprov-no-such-build-tool not found on PATH/);
});

test('--json puts exactly one JSON object on stdout and human lines on stderr', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), 'serial:\n  port: /dev/keyprov-no-such-port\n');
  const r = await runCli(['doctor', '--json'], { cwd: dir });
  const obj = JSON.parse(r.stdout);
  assert.equal(obj.ok, false);
  assert.match(r.stderr, /PROBLEM serial port: \/dev\/keyprov-no-such-port does not exist/);
});
