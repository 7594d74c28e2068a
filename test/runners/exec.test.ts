// The subprocess wrapper, against real programs (sh, python3, the fake vendor tools).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { runTool, shellQuote, formatCommand, memoryLogger, ToolError, NRFJPROG_EXIT_CODES } from '../../src/index.js';
import { tmpDir } from '../helpers/tmp.js';
import { fakeEnv, calls, FAKE_TOOLS } from './fake-tools.js';

test('shellQuote: sh reads every quoted argument back unchanged', () => {
  const args = ['plain', 'with space', "it's", '', '$HOME', 'a"b', '\\n', '*', 'x;rm -rf /', 'ünï', '--opt=a b'];
  const r = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${args.map(shellQuote).join(' ')}`], { encoding: 'utf8' });
  assert.deepEqual(r.stdout.split('\0').slice(0, -1), args);
  assert.equal(formatCommand(['esptool.py', '--port', '/dev/ttyUSB0', 'a b.bin']), "esptool.py --port /dev/ttyUSB0 'a b.bin'");
});

test('success: output is collapsed (not echoed) but saved to the log file; the command is logged', async (t) => {
  const dir = tmpDir(t);
  const logFile = path.join(dir, 'logs', 'flash.log');
  const log = memoryLogger();
  const r = await runTool(['nrfjprog', '--program', path.join(dir, 'my app.hex')], { log, logFile, baseEnv: fakeEnv(path.join(dir, 'calls')) });
  assert.equal(r.exitCode, 0);
  assert.match(r.stdout, /Verified OK\./);
  assert.match(log.text(), new RegExp(`\\$ nrfjprog --program '${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/my app.hex'`));
  assert.doesNotMatch(log.text(), /Verified OK/, 'tool output is not shown on success without --verbose');
  const saved = readFileSync(logFile, 'utf8');
  assert.match(saved, /\$ nrfjprog --program/);
  assert.match(saved, /Verified OK\.\nApplying system reset\./);
  assert.match(saved, /# exit 0 after/);
  assert.deepEqual(calls(path.join(dir, 'calls'))[0]!.argv, ['--program', path.join(dir, 'my app.hex')]);
});

test('verbose: output is streamed to the logger', async (t) => {
  const dir = tmpDir(t);
  const log = memoryLogger({ verbose: true });
  await runTool(['nrfjprog', '--reset'], { log, baseEnv: fakeEnv(path.join(dir, 'calls')) });
  assert.match(log.text(), /Applying system reset\./);
});

test('failure: ToolError with command, exit code and its vendor name, duration, stderr tail; tail printed', async (t) => {
  const dir = tmpDir(t);
  const log = memoryLogger();
  const logFile = path.join(dir, 'flash.log');
  const err = await runTool(['nrfjprog', '--program', 'a.hex', '--verify'], {
    label: 'flash (nrfjprog)',
    log,
    logFile,
    baseEnv: fakeEnv(path.join(dir, 'calls'), { FAKE_TOOL_FAIL: 'verify' }),
    tool: { name: 'nrfjprog', exitCodes: NRFJPROG_EXIT_CODES },
  }).catch((e) => e);
  assert.ok(err instanceof ToolError);
  assert.equal(err.code, 'TOOL_FAILED');
  assert.equal(err.exitCode, 3);
  assert.equal(err.message, 'flash (nrfjprog): nrfjprog failed (exit 55 VerifyError): ERROR: Write verify failed.');
  assert.match(err.hint!, /erase the chip/);
  const d = err.details as Record<string, any>;
  assert.equal(d.command, 'nrfjprog --program a.hex --verify');
  assert.equal(d.exitCode, 55);
  assert.equal(d.exitCodeName, 'VerifyError');
  assert.equal(d.timedOut, false);
  assert.equal(typeof d.durationMs, 'number');
  assert.deepEqual(d.stderrTail, ['ERROR: Write verify failed.']);
  assert.match(log.text(), /last lines of nrfjprog output[\s\S]*ERROR: Write verify failed\./);
  assert.match(readFileSync(logFile, 'utf8'), /# exit 55/);
});

test('failure on stdout: the error line is picked over a trailing URL (esptool)', async (t) => {
  const dir = tmpDir(t);
  const err = await runTool(['esptool.py', 'write_flash'], { baseEnv: fakeEnv(path.join(dir, 'c'), { FAKE_TOOL_FAIL: 'connect' }), tool: { name: 'esptool', exitCodes: { 2: { name: 'FatalError' } } } }).catch((e) => e);
  assert.equal(err.message, 'esptool.py: esptool failed (exit 2 FatalError): A fatal error occurred: Failed to connect to ESP32: No serial data received.');
});

test('timeout: the tool is stopped and the error says so', async (t) => {
  const dir = tmpDir(t);
  const started = Date.now();
  const err = await runTool(['esptool.py', 'write_flash'], { timeoutMs: 400, baseEnv: fakeEnv(path.join(dir, 'c'), { FAKE_TOOL_HANG: '1' }), tool: { name: 'esptool' } }).catch((e) => e);
  assert.ok(Date.now() - started < 10_000);
  assert.equal(err.code, 'TOOL_TIMEOUT');
  assert.match(err.message, /esptool did not finish within 0\.40 s and was stopped/);
  assert.equal((err.details as any).timedOut, true);
  assert.match(err.hint, /raise the timeout/);
});

test('killed by a signal', async () => {
  const err = await runTool(['sh', '-c', 'echo started; kill -TERM $$']).catch((e) => e);
  assert.equal(err.code, 'TOOL_KILLED');
  assert.equal((err.details as any).signal, 'SIGTERM');
});

test('missing tool: names the tool, the PATH searched and how to install it', async (t) => {
  const dir = tmpDir(t);
  const err = await runTool(['STM32_Programmer_CLI', '-l'], { baseEnv: { PATH: `${dir}:/nonexistent/bin` }, tool: { name: 'STM32_Programmer_CLI', install: 'install STM32CubeProgrammer' } }).catch((e) => e);
  assert.equal(err.code, 'TOOL_MISSING');
  assert.equal(err.message, `STM32_Programmer_CLI: STM32_Programmer_CLI not found on PATH (searched: ${dir}:/nonexistent/bin)`);
  assert.equal(err.hint, 'install it: install STM32CubeProgrammer');
  const rel = await runTool(['./tools/flash.sh'], { cwd: dir }).catch((e) => e);
  assert.equal(rel.code, 'TOOL_MISSING');
  assert.match(rel.message, new RegExp(`${dir}/tools/flash.sh does not exist or is not executable`));
});

test('dry-run prints the command and runs nothing', async (t) => {
  const dir = tmpDir(t);
  const log = memoryLogger();
  const logFile = path.join(dir, 'flash.log');
  const r = await runTool(['nrfjprog', '--eraseall'], { dryRun: true, log, logFile, baseEnv: fakeEnv(path.join(dir, 'calls')) });
  assert.equal(r.dryRun, true);
  assert.match(log.text(), /\[dry-run\] nrfjprog: nrfjprog --eraseall/);
  assert.deepEqual(calls(path.join(dir, 'calls')), []);
  assert.equal(existsSync(logFile), false);
  const missing = memoryLogger();
  await runTool(['JLinkExe', '-CommandFile', 'x'], { dryRun: true, log: missing, baseEnv: { PATH: dir } });
  assert.match(missing.text(), /warning: JLinkExe \(JLinkExe\) is not installed here/);
});

test('shell strings run through /bin/sh -c with the given environment and cwd', async (t) => {
  const dir = tmpDir(t);
  const r = await runTool(['echo "$KEYPROV_PHASE in $(pwd)" | tr a-z A-Z'], { shell: true, cwd: dir, env: { KEYPROV_PHASE: 'keygen' } });
  assert.equal(r.stdout.trim(), `KEYGEN IN ${dir.toUpperCase()}`);
  assert.equal(r.display, `/bin/sh -c 'echo "$KEYPROV_PHASE in $(pwd)" | tr a-z A-Z'`);
  void FAKE_TOOLS;
});

test('on a terminal without --verbose: one live line with the latest output, erased at the end', async (t) => {
  const { Logger } = await import('../../src/index.js');
  const dir = tmpDir(t);
  const chunks: string[] = [];
  const log = new Logger({ color: false, stream: { write: (s: string) => chunks.push(s), isTTY: true } });
  await runTool(['sh', '-c', 'echo compiling main.c; sleep 0.3; echo linking app.elf; sleep 0.3'], { log, label: 'build keygen' });
  const out = chunks.join('');
  // The logger's status line: written on a fresh line, then replaced (back to column 0, erase to the end of the screen, write).
  assert.match(out, /\nbuild keygen: compiling main\.c/);
  assert.match(out, /\r\x1b\[0Jbuild keygen: linking app\.elf/);
  assert.ok(out.endsWith('\r\x1b[0J'), 'the live line is erased');
  void dir;
});

test('an AbortSignal stops the tool (the pipeline uses it on SIGINT)', async () => {
  const ac = new AbortController();
  const started = Date.now();
  setTimeout(() => ac.abort(), 200);
  const err = await runTool(['sleep', '30'], { signal: ac.signal, label: 'flash (test)' }).catch((e) => e);
  assert.equal(err.code, 'TOOL_CANCELLED');
  assert.match(err.message, /^flash \(test\): sleep was stopped/);
  assert.ok(Date.now() - started < 10_000);
});
