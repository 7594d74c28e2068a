// keyprov's own overhead per board in `keyprov provision`, from report.json:
// total - (build + flash + time spent waiting on the board: probe, capture, verify).
// Runs the virtual board against the embedded broker, like `npm run demo`.
//   npm run build && node bench/provision-overhead.mjs [runs]
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.argv[2] ?? 3);
const work = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-prov-'));
const fw = path.join(work, 'fw');
const boardDir = path.join(fw, '.vboard', 'board-1');
cpSync(path.join(repo, 'examples/virtual-board'), fw, { recursive: true, filter: (s) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(s) });
// Asynchronous on purpose: the embedded broker runs in this process and must keep answering.
const keyprov = (args) =>
  new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(repo, 'bin/keyprov.js'), ...args], { cwd: fw });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
if ((await keyprov(['ca', 'create'])).status !== 0) throw new Error('ca create failed');
const port = await new Promise((resolve) => {
  const s = net.createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const { startBroker } = await import(path.join(repo, 'examples/virtual-board/broker/broker.mjs'));
const { ensureServerCertificate } = await import(path.join(repo, 'examples/virtual-board/broker/server-cert.mjs'));
const server = await ensureServerCertificate(path.join(work, 'broker'));
const broker = await startBroker({ ca: readFileSync(path.join(fw, '.keyprov/ca.pem')), cert: readFileSync(server.certFile), key: readFileSync(server.keyFile), port, log: () => {} });
writeFileSync(path.join(fw, 'keyprov.config.yaml'), readFileSync(path.join(fw, 'keyprov.config.yaml'), 'utf8').replace(/mqttPort: \d+/, `mqttPort: ${port}`));
execFileSync(path.join(fw, 'vboard'), ['serve', '--board', boardDir, '--root-ca', server.caFile], { stdio: 'ignore' });

const rows = [];
try {
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await keyprov(['provision', '--keygen', 'force', '--json']);
    const wall = performance.now() - t0;
    if (r.status !== 0) throw new Error(`provision failed:\n${r.stderr}`);
    const rep = JSON.parse(r.stdout).report;
    const d = (n) => rep.steps.find((s) => s.name === n)?.durationMs ?? 0;
    const build = d('build-keygen') + d('build-credential');
    const flash = d('flash-keygen') + d('flash-credential');
    const board = d('probe') + d('capture') + d('verify');
    const own = rep.steps.filter((s) => !/^(build|flash)-|^(probe|capture|verify)$/.test(s.name)).map((s) => `${s.name} ${s.durationMs ?? 0}`);
    const inSteps = rep.steps.reduce((a, s) => a + (s.durationMs ?? 0), 0);
    console.log(`  keyprov's own steps (ms): ${own.join(', ')}; between steps ${rep.durationMs - inSteps}`);
    rows.push({ wall, total: rep.durationMs, build, flash, board, overhead: rep.durationMs - build - flash - board, process: wall - rep.durationMs });
  }
} finally {
  execFileSync(path.join(fw, 'vboard'), ['stop', '--board', boardDir], { stdio: 'ignore' });
  await broker.close();
  rmSync(work, { recursive: true, force: true });
}
const med = (k) => [...rows.map((r) => r[k])].sort((a, b) => a - b)[Math.floor(rows.length / 2)];
for (const [i, r] of rows.entries()) console.log(`run ${i + 1}: total ${r.total} ms = build ${r.build} + flash ${r.flash} + board ${r.board} + keyprov ${r.overhead.toFixed(0)} ms (process start/exit outside the report: ${r.process.toFixed(0)} ms)`);
console.log(`median keyprov overhead per board: ${med('overhead').toFixed(0)} ms inside the run + ${med('process').toFixed(0)} ms process start-up/exit (goal < 500 ms); share of total ${((med('overhead') / med('total')) * 100).toFixed(1)}%`);
