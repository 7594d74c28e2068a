// Build integration costs, measured side by side in one run (needs `npm run build`, gcc,
// make, libmbedtls-dev, openssl):
//  1. a no-op `make` of the virtual board with keyprov.mk (KEYPROV_RENDER=1) beside the same
//     no-op without it: what the pre-build step costs when nothing changed;
//  2. `keyprov images` for N boards with --jobs 1 beside --jobs N (fresh build folders).
// Usage: node bench/build-integration.mjs [runs=7] [boards=3]
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 7);
const nBoards = Number(process.argv[3] ?? 3);
const bin = fileURLToPath(new URL('../bin/keyprov.js', import.meta.url));
const vboard = fileURLToPath(new URL('../examples/virtual-board', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-build-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const boards = Array.from({ length: nBoards }, (_, i) => `b${i + 1}`);
for (const b of boards) {
  mkdirSync(path.join(dir, '.keyprov', 'boards', b), { recursive: true });
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${b}.key`), '-out', path.join(dir, '.keyprov', 'boards', b, 'device-cert.pem'), '-subj', `/CN=${b}`, '-days', '2'], { stdio: 'ignore' });
}
writeFileSync(
  path.join(dir, 'keyprov.config.yaml'),
  `firmware:\n  root: ${vboard}\nbuild:\n  command: ["make", "-s", "-C", "${vboard}"]\n  image: build/vboard-firmware\ncredentials:\n  endpoint: localhost\n  thingName: "{{id}}"\nboards:\n${boards.map((b) => `  - id: ${b}\n`).join('')}`,
);

const ms = (argv, opts = {}) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: dir, stdio: 'ignore', ...opts });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// 1. no-op make, with and without keyprov.mk
const withKp = ['make', '-s', '-C', vboard, `OUT=${dir}/mk-kp`, 'KEYPROV_RENDER=1', `KEYPROV=${process.execPath} ${bin}`, `KEYPROV_CONFIG=${dir}/keyprov.config.yaml`, 'KEYPROV_BOARD=b1'];
const plain = ['make', '-s', '-C', vboard, `OUT=${dir}/mk-plain`, `GENERATED_DIR=${dir}/mk-kp/generated`];
ms(withKp);
ms(plain);
const a = [], b = [];
for (let i = 0; i < runs; i++) {
  a.push(ms(withKp));
  b.push(ms(plain));
}
console.log(`no-op make with keyprov.mk: median ${median(a).toFixed(1)} ms; without: ${median(b).toFixed(1)} ms; ratio ${(median(a) / median(b)).toFixed(2)}x (${runs} runs, interleaved)`);

// 2. images, --jobs 1 vs --jobs N
const imgRuns = Math.max(1, Math.min(3, runs));
const j1 = [], jn = [];
for (let i = 0; i < imgRuns; i++) {
  for (const [jobs, into] of [[1, j1], [nBoards, jn]]) {
    rmSync(path.join(dir, 'build'), { recursive: true, force: true });
    into.push(ms([process.execPath, bin, 'images', '--jobs', String(jobs), '--quiet']));
  }
}
console.log(`keyprov images, ${nBoards} boards: --jobs 1 median ${median(j1).toFixed(0)} ms; --jobs ${nBoards} median ${median(jn).toFixed(0)} ms; speed-up ${(median(j1) / median(jn)).toFixed(2)}x (${imgRuns} runs each, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)})`);
