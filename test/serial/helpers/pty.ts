// A real pseudo-terminal pair made by socat: write to `a`, the code under test reads `b`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpDir } from '../../helpers/tmp.js';

export const UART_WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'uart-writer.mjs');

export async function ptyPair(t: { after(fn: () => void | Promise<void>): void }): Promise<{ dir: string; a: string; b: string; socat: ChildProcess }> {
  const dir = tmpDir(t, 'keyprov-pty-');
  const a = path.join(dir, 'A');
  const b = path.join(dir, 'B');
  const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  t.after(() => {
    socat.kill('SIGTERM');
  });
  const until = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (Date.now() > until || socat.exitCode !== null) throw new Error('socat did not create the pty pair');
    await new Promise((r) => setTimeout(r, 10));
  }
  return { dir, a, b, socat };
}

/** Start the writer child; resolves when it exits (rejects on failure). */
export function playLog(a: string, logFile: string): Promise<void> {
  const args = [UART_WRITER, a, logFile];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`uart-writer exited ${code}: ${err}`)))));
}
