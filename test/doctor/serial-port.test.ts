// doctor's serial port check names a program that already has the port open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { readdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';
import { ptyPair } from '../serial/helpers/pty.js';

const serialCheck = async (dir: string) => (JSON.parse((await runCli(['doctor', '--json'], { cwd: dir })).stdout).checks as { check: string; status: string; detail: string }[]).find((c) => c.check === 'serial port')!;

test('doctor: a serial port another program has open is a warning naming it; free again, it is ok', async (t) => {
  const { dir, b } = await ptyPair(t);
  writeFileSync(path.join(dir, 'keyprov.config.yaml'), `serial:\n  port: ${b}\n`);
  assert.equal((await serialCheck(dir)).status, 'ok', 'the virtual end (socat, which holds /dev/ptmx) is not a reader');

  const reader = spawn('sh', ['-c', 'exec sleep 30 < "$0"', b], { stdio: 'ignore' });
  t.after(() => reader.kill());
  const device = realpathSync(b);
  const holds = () => readdirSync(`/proc/${reader.pid}/fd`).some((fd) => { try { return readlinkSync(`/proc/${reader.pid}/fd/${fd}`) === device; } catch { return false; } });
  while (!holds()) await new Promise((r) => setTimeout(r, 20));
  const busy = await serialCheck(dir);
  assert.equal(busy.status, 'warn');
  assert.equal(busy.detail, `${b} is open in sleep (pid ${reader.pid})`);

  reader.kill();
  await new Promise((r) => reader.once('exit', r));
  assert.equal((await serialCheck(dir)).status, 'ok');
});
