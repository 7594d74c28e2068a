// Flashing through runners against the fake vendor CLIs (and real make / sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { writeFileSync, readFileSync, existsSync, chmodSync } from 'node:fs';
import { runRunner, runBuild, memoryLogger, type BoardTarget } from '../../src/index.js';
import { tmpDir, writeTree } from '../helpers/tmp.js';
import { fakeEnv, calls } from './fake-tools.js';

function setup(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t);
  const image = path.join(dir, 'app.hex');
  writeFileSync(image, ':00000001FF\n');
  return { dir, image, callLog: path.join(dir, 'calls.jsonl'), logFile: path.join(dir, '.keyprov', 'boards', 'b1', 'flash.log') };
}

const board = (runner: string, flash: Partial<BoardTarget['flash']> = {}, port?: string): BoardTarget => ({ id: 'b1', flash: { runner, ...flash }, serial: { port } });

test('nrfjprog with one probe attached: lists probes through the tool, then flashes', async (t) => {
  const { dir, image, callLog, logFile } = setup(t);
  const r = await runRunner('flash', { board: board('nrfjprog'), configDir: dir, image, logFile, env: fakeEnv(callLog, { FAKE_PROBES: '683123456' }), log: memoryLogger() });
  assert.equal(r.probe, '683123456');
  assert.equal(r.resetDone, true);
  assert.deepEqual(calls(callLog).map((c) => c.argv), [['--ids'], ['--program', image, '--sectorerase', '--verify', '--reset']]);
  assert.match(readFileSync(logFile, 'utf8'), /Verified OK/);
});

test('several probes and no flash.probe: refuse to guess, flash nothing', async (t) => {
  const listings: [string, Partial<BoardTarget['flash']>, string][] = [
    ['nrfjprog', {}, 'nrfjprog'],
    ['pyocd', { options: { target: 'stm32u585aiix' } }, 'pyocd'],
    ['jlink', { options: { device: 'NRF52840_XXAA' } }, 'JLinkExe'],
    ['stm32cubeprogrammer', {}, 'STM32_Programmer_CLI'],
  ];
  for (const [runner, flash, tool] of listings) {
    const { dir, image, callLog } = setup(t);
    const ids = ['000683111111', '000683222222'];
    const err = await runRunner('flash', { board: board(runner, flash), configDir: dir, image, env: fakeEnv(callLog, { FAKE_PROBES: ids.join(',') }) }).catch((e) => e);
    assert.equal(err.code, 'PROBE_AMBIGUOUS', runner);
    assert.equal(err.exitCode, 2);
    assert.match(err.message, new RegExp(`2 probes are attached \\(${ids.join(', ')}\\) and flash.probe is not set`), runner);
    assert.match(err.hint, /set flash\.probe \(or boards\[\]\.flash\.probe for board "b1"\) to one of/);
    const c = calls(callLog);
    assert.equal(c.length, 1, `${runner}: only the listing ran`);
    assert.equal(c[0]!.tool, tool);
  }
});

test('with flash.probe set, no listing: the probe goes on the command line', async (t) => {
  const { dir, image, callLog } = setup(t);
  await runRunner('flash', { board: board('stm32cubeprogrammer', { probe: '066DFF55' }), configDir: dir, image, env: fakeEnv(callLog, { FAKE_PROBES: 'A,B,C' }) });
  assert.deepEqual(calls(callLog).map((c) => c.argv), [['-c', 'port=SWD', 'sn=066DFF55', '-w', image, '-v', '-rst']]);
});

test('no probe attached: says so', async (t) => {
  const { dir, image, callLog } = setup(t);
  const err = await runRunner('flash', { board: board('pyocd'), configDir: dir, image, env: fakeEnv(callLog) }).catch((e) => e);
  assert.equal(err.code, 'PROBE_NONE');
  assert.match(err.message, /pyocd found no attached probe/);
});

test('vendor failures come back as ToolErrors with the vendor message and a named exit code', async (t) => {
  const cases: [string, Partial<BoardTarget['flash']>, string, string | undefined, RegExp, RegExp | undefined][] = [
    ['esptool', {}, 'connect', '/dev/ttyUSB0', /^flash \(esptool\): esptool failed \(exit 2 FatalError\): A fatal error occurred: Failed to connect to ESP32: No serial data received\.$/, /hold BOOT/],
    ['nrfjprog', { probe: '1' }, 'nodebugger', undefined, /nrfjprog failed \(exit 41 NoDebuggersError\): ERROR: There is no debugger connected to the PC\./, /plug the board in/],
    ['nrfjprog', { probe: '1' }, 'protection', undefined, /exit 16 UnavailableOperationBecauseProtectionError\): ERROR: your device\. Please use --recover/, /--recover/],
    ['nrfjprog', { probe: '9' }, 'serial', undefined, /exit 40 InvalidSerialNumberError/, /nrfjprog --ids/],
    ['jlink', { probe: '1', options: { device: 'NRF52840_XXAA' } }, 'target', undefined, /JLinkExe failed \(exit 1 CommandFailed\): Cannot connect to target\./, /target power/],
    ['stm32cubeprogrammer', { probe: '1' }, 'notarget', undefined, /STM32_Programmer_CLI failed \(exit 1 Error\): Error: No STM32 target found!/, /mode: UR/],
    ['pyocd', { probe: '1' }, 'noprobe', undefined, /pyocd failed \(exit 1 Error\): 0000532 C No connected debug probes/, /pyocd list/],
    ['openocd', { options: { interface: 'interface/stlink.cfg', target: 'target/stm32f4x.cfg' } }, 'probe', undefined, /openocd failed \(exit 1 Error\): Error: open failed/, /probe was not found/],
    ['idf', {}, 'connect', '/dev/ttyUSB0', /idf\.py failed \(exit 2 FatalError\): .*Failed to connect to ESP32|idf\.py failed \(exit 2 FatalError\): ninja: build stopped/, /hold BOOT/],
    ['west', {}, 'fail', undefined, /west failed \(exit 1\): ERROR: runner nrfjprog failed/, undefined],
    ['vboard', { options: { boardDir: 'vb' } }, 'flash', undefined, /^flash \(vboard\): vboard failed \(exit 3 FlashFailed\): Error: failed to download Segment\[0\] at address 0x08004000: target not responding \(flash unchanged\)$/, /run the flash again/],
    ['vboard', { options: { boardDir: 'vb' } }, 'notconnected', undefined, /vboard failed \(exit 2 NotConnected\): Error: No target connected: board .*vb is not powered/, /vboard serve --board DIR/],
    ['vboard', { options: { boardDir: 'vb' } }, 'verify', undefined, /vboard failed \(exit 4 VerifyFailed\): Error: Data mismatch found in flash after download/, /does not read back/],
  ];
  for (const [runner, flash, mode, port, re, hint] of cases) {
    const { dir, image, callLog } = setup(t);
    const err = await runRunner('flash', { board: board(runner, flash, port), configDir: dir, image, env: fakeEnv(callLog, { FAKE_TOOL_FAIL: mode }) }).catch((e) => e);
    assert.equal(err.code, 'TOOL_FAILED', `${runner}/${mode}: ${err.message}`);
    assert.equal(err.exitCode, 3);
    assert.match(err.message, re, `${runner}/${mode}`);
    if (hint) assert.match(err.hint, hint, `${runner}/${mode} hint`);
    assert.doesNotMatch(err.message, /\n/, 'one line');
  }
});

test('timeout from flash.timeout', async (t) => {
  const { dir, image, callLog } = setup(t);
  const err = await runRunner('flash', { board: board('nrfjprog', { probe: '1', timeout: 0.5 }), configDir: dir, image, env: fakeEnv(callLog, { FAKE_TOOL_HANG: '1' }) }).catch((e) => e);
  assert.equal(err.code, 'TOOL_TIMEOUT');
  assert.match(err.message, /nrfjprog did not finish within 0\.50 s/);
});

test('missing vendor tool: names it, the PATH and the install', async (t) => {
  const { dir, image } = setup(t);
  const err = await runRunner('flash', { board: board('jlink', { probe: '1', options: { device: 'X' } }), configDir: dir, image, env: { PATH: dir } }).catch((e) => e);
  assert.equal(err.code, 'TOOL_MISSING');
  assert.match(err.message, new RegExp(`JLinkExe not found on PATH \\(searched: ${dir}\\)`));
  assert.match(err.hint, /segger\.com/);
});

test('jlink: the generated command file is what J-Link Commander reads', async (t) => {
  const { dir, image, callLog } = setup(t);
  await runRunner('flash', { board: board('jlink', { options: { device: 'NRF52840_XXAA', speed: 2000 } }), configDir: dir, image, env: fakeEnv(callLog, { FAKE_PROBES: '000683123456' }) });
  const [list, flash] = calls(callLog);
  assert.match(Object.values(list!.files)[0]!, /^ShowEmuList\nexit\n$/);
  assert.equal(Object.values(flash!.files)[0], `device NRF52840_XXAA\nsi SWD\nspeed 2000\nconnect\nr\nh\nloadfile "${image}"\nr\ng\nexit\n`);
});

test('vboard: flash then reset, "Verify OK" required; board dir relative to the config', async (t) => {
  const { dir, image, callLog } = setup(t);
  const r = await runRunner('flash', { board: board('vboard', { options: { boardDir: 'boards/one' } }), configDir: dir, image, env: fakeEnv(callLog) });
  assert.equal(r.resetDone, true);
  assert.deepEqual(calls(callLog).map((c) => c.argv), [['flash', '--board', path.join(dir, 'boards/one'), image], ['reset', '--board', path.join(dir, 'boards/one')]]);
  const { callLog: c2, dir: d2, image: i2 } = setup(t);
  const err = await runRunner('flash', { board: board('vboard', { options: { boardDir: 'b' } }), configDir: d2, image: i2, env: fakeEnv(c2, { FAKE_TOOL_FAIL: 'noverify' }) }).catch((e) => e);
  assert.equal(err.code, 'FLASH_NOT_VERIFIED');
  assert.equal(err.exitCode, 5);
  assert.equal(calls(c2).length, 1, 'no reset after an unverified flash');
});

test('missing image: refused before any tool runs', async (t) => {
  const { dir, callLog } = setup(t);
  const err = await runRunner('flash', { board: board('nrfjprog', { probe: '1' }), configDir: dir, image: 'build/nope.hex', env: fakeEnv(callLog) }).catch((e) => e);
  assert.equal(err.code, 'IMAGE_MISSING');
  assert.match(err.message, new RegExp(`${dir}/build/nope.hex does not exist`));
  assert.deepEqual(calls(callLog), []);
});

test('dry-run: prints commands and command files, runs nothing (not even the probe listing)', async (t) => {
  const { dir, image, callLog } = setup(t);
  const log = memoryLogger();
  const r = await runRunner('flash', { board: board('jlink', { options: { device: 'NRF52840_XXAA' } }), configDir: dir, image, env: fakeEnv(callLog, { FAKE_PROBES: 'A,B' }), dryRun: true, log });
  assert.equal(r.dryRun, true);
  assert.deepEqual(calls(callLog), []);
  assert.match(log.text(), /\[dry-run\] would list attached probes/);
  assert.match(log.text(), /\[dry-run\] command file .*flash\.jlink:\n  device NRF52840_XXAA/);
  assert.match(log.text(), /\[dry-run\] flash \(jlink\): JLinkExe -NoGui 1 -ExitOnError 1 -CommandFile /);
});

test('custom: argv template with placeholders, run without a shell', async (t) => {
  const { dir, image, callLog } = setup(t);
  const r = await runRunner('flash', { board: board('custom', { probe: 'P7', options: { argv: ['custom-flasher', '--port', '{port}', '{image}', '$(touch pwned)', '{board}'] } }, '/dev/ttyS0'), configDir: dir, image, env: fakeEnv(callLog) });
  const [c] = calls(callLog);
  assert.deepEqual(c!.argv, ['--port', '/dev/ttyS0', image, '$(touch pwned)', 'b1']);
  assert.deepEqual(c!.env, { KEYPROV_IMAGE: image, KEYPROV_PORT: '/dev/ttyS0', KEYPROV_PROBE: 'P7', KEYPROV_BOARD: 'b1' });
  assert.equal(existsSync(path.join(dir, 'pwned')), false);
  assert.equal(r.resetDone, false, 'custom does not claim to reset');
});

test('make: a real Makefile target gets the variables and KEYPROV_* environment', async (t) => {
  const { dir, image } = setup(t);
  writeTree(dir, { 'fw/Makefile': 'flash:\n\t@echo "IMG=$(IMG) PORT=$$KEYPROV_PORT BOARD=$$KEYPROV_BOARD" > flashed.txt\nbroken:\n\t@echo "make: *** no rule for the probe" >&2; exit 1\n' });
  await runRunner('flash', { board: board('make', { options: { dir: 'fw', variables: { IMG: '{image}' } } }, '/dev/ttyUSB3'), configDir: dir, image });
  assert.equal(readFileSync(path.join(dir, 'fw/flashed.txt'), 'utf8'), `IMG=${image} PORT=/dev/ttyUSB3 BOARD=b1\n`);
  const err = await runRunner('flash', { board: board('make', { options: { dir: 'fw', target: 'broken' } }), configDir: dir, image }).catch((e) => e);
  assert.equal(err.code, 'TOOL_FAILED');
  assert.match(err.message, /make failed \(exit 2 MakeError\)/);
});

test('build: argv or shell string, in build.cwd, with KEYPROV_PHASE; image checked', async (t) => {
  const dir = tmpDir(t);
  writeTree(dir, { 'fw/build.sh': '#!/bin/sh\nmkdir -p out && echo "$KEYPROV_PHASE $KEYPROV_BOARD $EXTRA" > out/app.bin\n' });
  chmodSync(path.join(dir, 'fw/build.sh'), 0o755);
  const image = path.join(dir, 'fw/out/app.bin');
  const logFile = path.join(dir, 'build.log');
  const r = await runBuild({ build: { command: ['./build.sh'], cwd: path.join(dir, 'fw'), image, env: { EXTRA: 'x' } }, phase: 'keygen', board: 'b1', cwd: dir, logFile });
  assert.equal(readFileSync(image, 'utf8'), 'keygen b1 x\n');
  assert.equal(r.image, image);
  assert.match(readFileSync(logFile, 'utf8'), /\$ \.\/build\.sh/);
  await runBuild({ build: { command: 'cd fw && ./build.sh', image }, phase: 'credential', cwd: dir });
  assert.equal(readFileSync(image, 'utf8'), 'credential  \n');
  const noImage = await runBuild({ build: { command: ['true'], image: path.join(dir, 'missing.bin') }, phase: 'keygen', cwd: dir }).catch((e) => e);
  assert.equal(noImage.code, 'BUILD_NO_IMAGE');
  const failed = await runBuild({ build: { command: 'echo "main.c:3: error: expected ;" >&2; exit 1' }, phase: 'keygen', cwd: dir }).catch((e) => e);
  assert.equal(failed.code, 'TOOL_FAILED');
  assert.match(failed.message, /^build keygen: build command failed \(exit 1\): main\.c:3: error: expected ;$/);
  const notSet = await runBuild({ build: {}, phase: 'keygen', cwd: dir }).catch((e) => e);
  assert.equal(notSet.code, 'BUILD_NOT_CONFIGURED');
});

test('runnerToolVersion: the version line for report.json; none for tools without a switch or missing ones', async (t) => {
  const { runnerToolVersion } = await import('../../src/index.js');
  const { dir, callLog } = setup(t);
  const env = fakeEnv(callLog);
  assert.deepEqual(await runnerToolVersion({ board: board('nrfjprog'), configDir: dir, env }), { runner: 'nrfjprog', executable: 'nrfjprog', version: 'nrfjprog version: 10.24.2 external' });
  assert.equal((await runnerToolVersion({ board: board('esptool'), configDir: dir, env })).version, 'esptool.py v4.7.0');
  assert.equal((await runnerToolVersion({ board: board('openocd'), configDir: dir, env })).version, 'Open On-Chip Debugger 0.12.0');
  assert.equal((await runnerToolVersion({ board: board('jlink'), configDir: dir, env })).version, undefined);
  assert.equal(calls(callLog).filter((c) => c.tool === 'JLinkExe').length, 0, 'JLinkExe is not started for a version');
  assert.deepEqual(await runnerToolVersion({ board: board('pyocd'), configDir: dir, env: { PATH: dir } }), { runner: 'pyocd', executable: 'pyocd' });
});
