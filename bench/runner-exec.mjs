// The subprocess wrapper's own cost per tool run, side by side with a bare
// child_process.spawn and a bare execa call of the same program, interleaved in one run.
// Usage: node bench/runner-exec.mjs [runs]   (needs `npm run build` first)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runTool, memoryLogger } from '../dist/index.js';

const runs = Number(process.argv[2] ?? 31);
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-'));
const logFile = path.join(dir, 'flash.log');
// A tool that prints a few hundred lines, like a flasher's progress output.
const argv = ['sh', '-c', 'i=0; while [ $i -lt 300 ]; do echo "Writing at 0x$i... ($i %)"; i=$((i+1)); done'];

const bare = () =>
  new Promise((res, rej) => {
    const c = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    c.stdout.resume();
    c.stderr.resume();
    c.on('error', rej);
    c.on('close', (code) => (code === 0 ? res() : rej(new Error(`exit ${code}`))));
  });
const viaExeca = () => execa(argv[0], argv.slice(1));
const viaRunTool = () => runTool(argv, { log: memoryLogger(), logFile });

const time = async (fn) => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const a = [], b = [], c = [];
for (let i = 0; i < runs; i++) {
  a.push(await time(bare));
  b.push(await time(viaExeca));
  c.push(await time(viaRunTool));
}
rmSync(dir, { recursive: true, force: true });
const [ma, mb, mc] = [median(a), median(b), median(c)];
console.log(`spawn (bare):              median ${ma.toFixed(1)} ms over ${runs} runs`);
console.log(`execa:                     median ${mb.toFixed(1)} ms`);
console.log(`runTool (+log file, tail): median ${mc.toFixed(1)} ms`);
console.log(`ratio runTool/spawn: ${(mc / ma).toFixed(2)}x; wrapper's own cost ${(mc - ma).toFixed(1)} ms per run (goal: well under the 0.5 s pipeline overhead budget)`);
