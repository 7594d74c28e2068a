// `keyprov --help` start-up, side by side with `node -e 0` in the same run.
// Usage: node bench/cli-startup.mjs [runs]   (needs `npm run build` first)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 21);
const bin = fileURLToPath(new URL('../bin/keyprov.js', import.meta.url));
const time = (args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const a = [], b = [];
for (let i = 0; i < runs; i++) { // interleaved so both see the same machine load
  a.push(time([bin, '--help']));
  b.push(time(['-e', '0']));
}
const ma = median(a), mb = median(b);
console.log(`keyprov --help: median ${ma.toFixed(1)} ms over ${runs} runs (goal < 150 ms)`);
console.log(`node -e 0:      median ${mb.toFixed(1)} ms`);
console.log(`ratio: ${(ma / mb).toFixed(2)}x node's own start-up; keyprov's share ${(ma - mb).toFixed(1)} ms`);
