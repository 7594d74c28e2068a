import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadConfigFile, findConfigFile } from '../../src/config/load.js';
import { resolveBoard } from '../../src/config/boards.js';
import { UsageError, ExitCode } from '../../src/errors.js';
import { tmpDir } from '../helpers/tmp.js';

async function loadErr(t: Parameters<typeof tmpDir>[0], name: string, text: string, env: NodeJS.ProcessEnv = {}): Promise<UsageError> {
  const dir = tmpDir(t);
  const f = path.join(dir, name);
  writeFileSync(f, text);
  try {
    await loadConfigFile(f, env);
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected a UsageError, got ${e}`);
    assert.equal(e.exitCode, ExitCode.USAGE);
    return e;
  }
  assert.fail('expected the config to be rejected');
}

test('relative paths resolve against the config folder, ${env:} is interpolated', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(
    path.join(dir, 'keyprov.config.yaml'),
    'firmware:\n  root: fw\n  headerDir: fw/include\ncredentials:\n  thingName: lab-{{id}}\n  wifi:\n    password: "${env:WIFI_PW}x"\nboards:\n  - id: b1\n    serial: { port: /dev/ttyUSB1 }\n',
  );
  const { config, dir: d } = await loadConfigFile(path.join(dir, 'keyprov.config.yaml'), { WIFI_PW: 'p"w' });
  assert.equal(d, dir);
  assert.equal(config.firmware?.root, path.join(dir, 'fw'));
  assert.equal(config.firmware?.headerDir, path.join(dir, 'fw/include'));
  assert.equal(config.credentials?.wifi?.password, 'p"wx');
  const b = resolveBoard(config, 'b1');
  assert.equal(b.thingName, 'lab-b1');
  assert.equal(b.serial.port, '/dev/ttyUSB1');
});

test('JSON configs load too, and the nearest config is found walking up', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(path.join(dir, 'keyprov.config.json'), JSON.stringify({ serial: { baud: 921600 } }));
  mkdirSync(path.join(dir, 'a/b'), { recursive: true });
  const found = await findConfigFile(path.join(dir, 'a/b'));
  assert.equal(found, path.join(dir, 'keyprov.config.json'));
  const { config } = await loadConfigFile(found!, {});
  assert.equal(config.serial?.baud, 921600);
});

test('wrong type names the exact path, the expectation and the value', async (t) => {
  const e = await loadErr(t, 'keyprov.config.yaml', 'boards:\n  - id: a\n  - id: b\n    serial:\n      port: 42\n');
  assert.match(e.message, /boards\[1\]\.serial\.port: expected a string, got 42/);
  assert.equal(e.code, 'CONFIG_INVALID');
});

test('a secret of the wrong type is named by path and type, never by value (it may come from ${env:...})', async (t) => {
  const wifi = await loadErr(t, 'keyprov.config.yaml', 'credentials:\n  wifi:\n    ssid: lab\n    password: 73915522\n');
  assert.match(wifi.message, /credentials\.wifi\.password: expected a string, got a number \(value not shown\)/);
  assert.doesNotMatch(wifi.message, /73915522/);
  const pin = await loadErr(t, 'keyprov.config.yaml', 'pki:\n  ca:\n    backend: pkcs11\n    pkcs11:\n      pin: 48213\n');
  assert.doesNotMatch(pin.message, /48213/);
  assert.match(pin.message, /pin: expected a string, got a number \(value not shown\)/);
});

test('unknown key is named with its path', async (t) => {
  const e = await loadErr(t, 'keyprov.config.yaml', 'serial:\n  baudrate: 9600\n');
  assert.match(e.message, /serial\.baudrate: unknown key/);
});

test('enum value outside the allowed set lists the allowed values', async (t) => {
  const e = await loadErr(t, 'keyprov.config.yaml', 'credentials:\n  wifi:\n    security: WPA9\n');
  assert.match(e.message, /credentials\.wifi\.security: expected one of .*"eWiFiSecurityWPA2".*got "WPA9"/);
});

test('duplicate board ids are rejected', async (t) => {
  const e = await loadErr(t, 'keyprov.config.yaml', 'boards:\n  - id: a\n  - id: a\n');
  assert.match(e.message, /boards\[1\]\.id: duplicate board id "a"/);
});

test('an unset environment variable names the variable and where it is used', async (t) => {
  const e = await loadErr(t, 'keyprov.config.yaml', 'pki:\n  ca:\n    pkcs11:\n      module: /usr/lib/softhsm/libsofthsm2.so\n      pin: ${env:HSM_PIN}\n');
  assert.equal(e.code, 'CONFIG_ENV_UNSET');
  assert.match(e.message, /pki\.ca\.pkcs11\.pin: environment variable HSM_PIN is not set/);
  assert.match(e.hint ?? '', /export HSM_PIN=/);
});

test('YAML syntax errors carry the line number', async (t) => {
  const e = await loadErr(t, 'keyprov.config.yaml', 'serial:\n  baud: 115200\n  port: [unclosed\nflash:\n  runner: vboard\n');
  assert.equal(e.code, 'CONFIG_SYNTAX');
  assert.match(e.message, /keyprov\.config\.yaml:\d+:\d+: YAML syntax error/);
  const line = Number(/yaml:(\d+):/.exec(e.message)![1]);
  assert.ok(line >= 3 && line <= 6, `line ${line} should point near the unclosed list`);
});

test('an unreadable config (a folder, a missing file) is a usage error', async (t) => {
  const dir = tmpDir(t);
  mkdirSync(path.join(dir, 'keyprov.config.yaml'));
  await assert.rejects(loadConfigFile(path.join(dir, 'keyprov.config.yaml'), {}), (e: UsageError) => e.code === 'CONFIG_UNREADABLE' && /is a directory/.test(e.message));
  await assert.rejects(loadConfigFile(path.join(dir, 'nope.yaml'), {}), (e: UsageError) => e.code === 'CONFIG_UNREADABLE' && /does not exist/.test(e.message));
});

test('several boards and no --board: refuse to guess', async (t) => {
  const dir = tmpDir(t);
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), 'boards:\n  - id: a\n  - id: b\n');
  const { config } = await loadConfigFile(path.join(dir, 'keyprov.config.yaml'), {});
  assert.throws(() => resolveBoard(config), (e: UsageError) => e.code === 'BOARD_REQUIRED' && /a, b/.test(e.hint ?? ''));
  assert.throws(() => resolveBoard(config, 'c'), (e: UsageError) => e.code === 'BOARD_UNKNOWN');
  assert.equal(resolveBoard(config, 'b').id, 'b');
});
