// A board identified by its USB serial number alone finds its port with `port: auto`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { resolveBoard } from '../../src/config/boards.js';
import { runCli } from '../helpers/cli.js';
import { VBOARD_DIR } from '../helpers/vboard.js';
import { tmpDir } from '../helpers/tmp.js';

test('serial.serialNumber (or vendorId/productId) without a port means port auto; a concrete port stays', () => {
  assert.equal(resolveBoard({ serial: { serialNumber: 'A1' } }).serial.port, 'auto');
  assert.equal(resolveBoard({ serial: { vendorId: '0483' } }).serial.port, 'auto');
  assert.equal(resolveBoard({ boards: [{ id: 'b1', serial: { serialNumber: 'A1' } }] }, 'b1').serial.port, 'auto');
  assert.equal(resolveBoard({ serial: { port: '/dev/ttyACM0', serialNumber: 'A1' } }).serial.port, '/dev/ttyACM0');
  assert.equal(resolveBoard({ serial: { baud: 9600 } }).serial.port, undefined, 'nothing to find a port by');
  // Per board: its own serial number beats a port it would only inherit; its own port wins.
  const cfg = { serial: { port: '/dev/ttyUSB0' }, boards: [{ id: 'b1', serial: { serialNumber: 'A1' } }, { id: 'b2', serial: { serialNumber: 'B2', port: '/dev/ttyUSB1' } }, { id: 'b3' }] };
  assert.equal(resolveBoard(cfg, 'b1').serial.port, 'auto');
  assert.equal(resolveBoard(cfg, 'b2').serial.port, '/dev/ttyUSB1');
  assert.equal(resolveBoard(cfg, 'b3').serial.port, '/dev/ttyUSB0');
});

test('provision --dry-run with only serial.serialNumber passes preflight; with no port at all the hint names serialNumber', async (t) => {
  const root = tmpDir(t);
  cpSync(VBOARD_DIR, root, { recursive: true, filter: (src) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(src) });
  const cfgFile = path.join(root, 'keyprov.config.yaml');
  const cfg = readFileSync(cfgFile, 'utf8');
  assert.match(cfg, /^serial:\n  port: .*\n/m);
  writeFileSync(cfgFile, cfg.replace(/^serial:\n  port: .*\n/m, 'serial:\n  serialNumber: "0123ABCD"\n'));
  const r = await runCli(['provision', '--dry-run', '--create-ca'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /preflight: config, tools, port, CA ok/);
  assert.match(r.stderr, /dry run: would read auto/);

  writeFileSync(cfgFile, cfg.replace(/^serial:\n  port: .*\n/m, 'serial:\n  baud: 115200\n'));
  const none = await runCli(['provision', '--dry-run', '--create-ca'], { cwd: root, env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /no serial port for board default/);
  assert.match(none.stderr, /hint: .*serial\.serialNumber/);
});
