// Over a real pseudo-terminal pair (socat): a writer process plays a boot log at UART pace
// into one end; keyprov reads the other end as it would a board's USB serial port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync, existsSync, readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { openConsole } from '../../src/serial/console.js';
import { resolveAutoPort } from '../../src/serial/ports.js';
import { runCli, KEYPROV_BIN } from '../helpers/cli.js';
import { newP256Spki, consoleBlock, bootLog, opensslPubkeyDer, opensslPem, hexRows } from './helpers/console-format.js';
import { ptyPair, playLog, UART_WRITER } from './helpers/pty.js';

/** Run the real CLI; when its stderr matches `ready`, run `then` (e.g. start the writer). */
async function runCliThen(args: string[], cwd: string, ready: RegExp, then: () => Promise<void>) {
  const child = spawn(process.execPath, [KEYPROV_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let started: Promise<void> | undefined;
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!started && ready.test(stderr)) started = then();
  });
  const code = await new Promise<number | null>((res) => child.on('close', res));
  await started;
  return { code, stdout, stderr };
}

const interleave = { 1: '8 911 [Tmr Svc] WiFi connected', 3: '\x1b[0;33m9 915 [IP-task] DHCP lease 3600 s\x1b[0m' };

test('library: open the console first, then the board boots; the key is captured and matches openssl', async (t) => {
  const { dir, a, b } = await ptyPair(t);
  const der = newP256Spki();
  const logFile = path.join(dir, 'boot.log');
  writeFileSync(logFile, bootLog(consoleBlock(der, { blankLines: true, interleave })), 'latin1');
  const handle = await openConsole({ port: b, baud: 115200 });
  t.after(() => handle.close());
  const writer = playLog(a, logFile); // the "reset": the board prints after the port is open
  const r = await handle.capture({ timeoutMs: 15_000, settleMs: 300 });
  await writer;
  assert.ok(r.der.equals(der));
  assert.ok(opensslPubkeyDer(r.der).equals(der));
  assert.equal(r.pem, opensslPem(der));
  assert.equal(r.source, b);
  // The same open console then verifies the credential boot, which prints the key again.
  const second = path.join(dir, 'second.log');
  writeFileSync(second, '12 1300 [iot_thread] Printing device public key.\r\n' + consoleBlock(der) + '13 1400 [MQTT] MQTT demo connected\r\n', 'latin1');
  const from = handle.size;
  const w2 = playLog(a, second);
  const watched = await handle.watch({ success: /demo connected/, expectPublicKey: r.pem, timeoutMs: 15_000, fromOffset: from });
  await w2;
  assert.equal(watched.publicKeySeen, true);
  assert.match(handle.bytes().toString('latin1'), /MQTT demo connected/, 'every byte is kept');
});

test('CLI: a board reset mid-block, then a full block: the full block is captured', async (t) => {
  const { dir, a, b } = await ptyPair(t);
  const first = newP256Spki();
  const second = newP256Spki();
  const log =
    bootLog(consoleBlock(first, { rows: 3 })) +
    '\xff\x00\xfe' + // line noise while the board resets
    'ets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n' +
    bootLog(consoleBlock(second, { blankLines: true, interleave }));
  const logFile = path.join(dir, 'reset.log');
  writeFileSync(logFile, log, 'latin1');
  const out = path.join(dir, 'out');
  // The board boots once keyprov says it is reading (port open and flushed), as after a reset.
  const r = await runCliThen(['capture', '--port', b, '--out', out, '--timeout', '20', '--json'], dir, /reading .* at 115200 baud/, () => playLog(a, logFile));
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.publicKeyDerHex, opensslPubkeyDer(second).toString('hex'));
  assert.equal(j.blocksSeen, 1);
  assert.match(r.stderr, /discarded a key block cut short \(48 of 91 bytes; a new one started\)/);
  assert.ok(readFileSync(path.join(out, 'device-public-key.der')).equals(second));
  assert.ok(readFileSync(path.join(out, 'console.log')).equals(Buffer.from(log, 'latin1')), 'console.log holds every raw byte');
  assert.ok(!hexRows(first).slice(3).some((row) => readFileSync(path.join(out, 'console.log'), 'latin1').includes(row)));
});

test('CLI: --reset command runs the configured reset command (which makes the "board" print)', async (t) => {
  const { dir, a, b } = await ptyPair(t);
  const der = newP256Spki();
  const logFile = path.join(dir, 'boot.log');
  writeFileSync(logFile, bootLog(consoleBlock(der)), 'latin1');
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), `serial:\n  port: ${b}\n  reset: command\n  timeout: 20\n  resetCommand: [${JSON.stringify(process.execPath)}, ${JSON.stringify(UART_WRITER)}, ${JSON.stringify(a)}, ${JSON.stringify(logFile)}]\n`);
  const r = await runCli(['capture', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).publicKeyPem, opensslPem(der));
  assert.ok(readFileSync(path.join(dir, '.keyprov/boards/default/device-public-key.der')).equals(der));
});

test('CLI: timeout on a silent port, line reset on a pty, busy port, missing port, --port auto', async (t) => {
  const { dir, b } = await ptyPair(t);
  const silent = await runCli(['capture', '--port', b, '--timeout', '0.3', '--out', 'o1'], { cwd: dir });
  assert.equal(silent.code, 4);
  assert.match(silent.stderr, /nothing at all was received from .*B/);
  assert.match(silent.stderr, /hint: check that the board is powered/);
  assert.ok(existsSync(path.join(dir, 'o1/console.log')), 'console.log written on failure');

  const rts = await runCli(['capture', '--port', b, '--reset', 'rts', '--timeout', '1'], { cwd: dir });
  assert.equal(rts.code, 1);
  assert.match(rts.stderr, /cannot set DTR\/RTS on .*B: .*Inappropriate ioctl/);
  assert.match(rts.stderr, /hint: this port has no modem control lines/);

  // Another monitor locks the port (serialport takes the same flock).
  const holder = spawn('flock', [b, 'sleep', '30'], { stdio: 'ignore', detached: true });
  const killHolder = () => {
    try {
      process.kill(-holder.pid!, 'SIGKILL'); // flock and its sleep: sleep keeps the port open
    } catch {}
  };
  t.after(killHolder);
  while ((await new Promise<number | null>((res) => spawn('flock', ['-n', '-E', '75', b, 'true']).on('exit', res))) !== 75) await new Promise((r) => setTimeout(r, 20));
  const busy = await runCli(['capture', '--port', b, '--timeout', '1'], { cwd: dir });
  assert.equal(busy.code, 1);
  // flock keeps the port open while it holds the lock, so the holder is named.
  assert.match(busy.stderr, new RegExp(`serial port .*B is open in another program: (flock|sleep) \\(pid ${holder.pid}\\)`));
  assert.match(busy.stderr, /hint: close it first/);
  await assert.rejects(openConsole({ port: b }), (e: any) => e.code === 'PORT_BUSY');
  killHolder();
  await new Promise((r) => (holder.exitCode !== null || holder.signalCode !== null ? r(null) : holder.once('exit', r)));

  // A monitor that takes no lock (screen, minicom, an IDE): found by who has the device open.
  const reader = spawn('sh', ['-c', 'exec sleep 30 < "$0"', b], { stdio: 'ignore' });
  t.after(() => reader.kill());
  const device = realpathSync(b);
  while (!readdirSync(`/proc/${reader.pid}/fd`).some((fd) => { try { return readlinkSync(`/proc/${reader.pid}/fd/${fd}`) === device; } catch { return false; } })) await new Promise((r) => setTimeout(r, 20));
  const shared = await runCli(['capture', '--port', b, '--timeout', '1'], { cwd: dir });
  assert.equal(shared.code, 1, shared.stderr);
  assert.match(shared.stderr, new RegExp(`serial port .*B is open in another program: sleep \\(pid ${reader.pid}\\); two readers split the console's bytes`));
  assert.match(shared.stderr, new RegExp(`hint: close it first .*kill ${reader.pid}`));
  reader.kill();
  await new Promise((r) => reader.once('exit', r));
  const free = await runCli(['capture', '--port', b, '--timeout', '0.3'], { cwd: dir });
  assert.equal(free.code, 4, 'with the reader gone the port opens (and times out: nothing is written)');

  const missing = await runCli(['capture', '--port', path.join(dir, 'ttyUSB9')], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /serial port .*ttyUSB9 does not exist; available ports: /);
  assert.match(missing.stderr, /hint: plug the board in/);
  // SerialPort.list() spawns udevadm; where it is missing the listing says so instead of crashing.
  if (spawnSync('sh', ['-c', 'command -v udevadm']).status !== 0) assert.match(missing.stderr, /port enumeration failed: .*udevadm/);

  const auto = await runCli(['capture', '--port', 'auto', '--json'], { cwd: dir });
  assert.equal(auto.code, 2, auto.stderr);
  assert.equal(JSON.parse(auto.stdout).error.code, 'PORT_AUTO_NONE');
});

test('--port auto picks the only match and refuses to guess between several', async () => {
  const listing = {
    ports: [
      { path: '/dev/ttyUSB0', vendorId: '10c4', productId: 'ea60', serialNumber: 'A1', byId: '/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00-A1' },
      { path: '/dev/ttyUSB1', vendorId: '10c4', productId: 'ea60', serialNumber: 'B2' },
      { path: '/dev/ttyACM0', vendorId: '0483', productId: '374b', serialNumber: 'C3' },
      { path: '/dev/ttyS0' },
    ],
  };
  assert.equal(await resolveAutoPort({ serialNumber: 'A1' }, listing), '/dev/serial/by-id/usb-Silicon_Labs_CP2102-if00-A1');
  assert.equal(await resolveAutoPort({ vendorId: '0x0483' }, listing), '/dev/ttyACM0');
  await assert.rejects(resolveAutoPort({ vendorId: '10C4' }, listing), (e: any) => e.code === 'PORT_AUTO_AMBIGUOUS' && /2 USB serial devices matching vendorId=10c4 and will not guess/.test(e.message) && /ttyUSB1/.test(e.message) && /serialNumber/.test(e.hint));
  await assert.rejects(resolveAutoPort({}, listing), (e: any) => e.code === 'PORT_AUTO_AMBIGUOUS' && /found 3/.test(e.message));
  await assert.rejects(resolveAutoPort({ productId: 'ffff' }, listing), (e: any) => e.code === 'PORT_AUTO_NONE');
});
