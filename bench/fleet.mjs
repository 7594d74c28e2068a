// keyprov fleet on virtual boards: the wall time for ONE board beside the time for N boards
// (default 8) in the same run, the number of keygen builds (must be 1 per fleet run) and
// the ratio N-board time / one-board time (goal < 2.5 on the 2-core lab machine).
// Also, with --in-tree, the N boards with credential builds one at a time in the tree
// (no fleet.image) for comparison.
// Usage: npm run build && node bench/fleet.mjs [--boards 8] [--parallel 8] [--in-tree] [--runs 1]
// With --runs R, the one-board and N-board runs alternate R times and medians are compared
// (the lab machine is shared: single runs swing by a factor of 2). `cpu` is user+sys of
// keyprov and its children (GNU time), which the load of other tenants does not change.
// Needs gcc, make, libmbedtls-dev, socat. Uses the embedded broker (aedes, mutual TLS).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { boards: { type: 'string', default: '8' }, parallel: { type: 'string' }, 'in-tree': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, runs: { type: 'string', default: '1' } } });
const N = Number(args.boards);
const P = Number(args.parallel ?? N);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fw = path.join(repo, 'examples', 'virtual-board');
const vboard = path.join(fw, 'vboard');
const bin = path.join(repo, 'bin', 'keyprov.js');
const work = mkdtempSync(path.join(os.tmpdir(), 'keyprov-fleet-bench-'));
const boardDirs = Array.from({ length: N }, (_, i) => path.join(work, 'boards', `b${i + 1}`));

const powerOff = () => {
  for (const d of boardDirs) spawnSync(process.execPath, [vboard, 'stop', '--board', d]);
  if (args.keep) console.error(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (powerOff(), process.exit(130)));

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

// GNU time, when there, gives the CPU seconds of keyprov and its children (builds, vboard
// commands; not the boards' firmware): a number the other tenants of the machine do not skew.
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function keyprov(argv, cwd) {
  return new Promise((resolve) => {
    const cmd = TIME ? [TIME, ['-f', 'KEYPROV_CPU %U %S', process.execPath, bin, ...argv]] : [process.execPath, [bin, ...argv]];
    const child = spawn(cmd[0], cmd[1], { cwd, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const m = err.match(/KEYPROV_CPU ([\d.]+) ([\d.]+)\s*$/);
      resolve({ code, out, err, cpuMs: m ? (Number(m[1]) + Number(m[2])) * 1000 : undefined });
    });
  });
}

let broker;
try {
  // One lab CA for every project of this run (copied in), one broker trusting it.
  const caDir = path.join(work, 'ca');
  cpSync(fw, caDir, { recursive: true, filter: (s) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(s) });
  const ca = await keyprov(['ca', 'create', '--subject', 'CN=fleet bench CA'], caDir);
  if (ca.code !== 0) throw new Error(`ca create: ${ca.err}`);
  const { startBroker } = await import(path.join(fw, 'broker', 'broker.mjs'));
  const { ensureServerCertificate } = await import(path.join(fw, 'broker', 'server-cert.mjs'));
  const server = await ensureServerCertificate(path.join(work, 'broker'));
  const port = await freePort();
  broker = await startBroker({ ca: readFileSync(path.join(caDir, '.keyprov', 'ca.pem')), cert: readFileSync(server.certFile), key: readFileSync(server.keyFile), port, log: () => {} });
  for (const d of boardDirs) {
    mkdirSync(d, { recursive: true });
    const r = spawnSync(process.execPath, [vboard, 'serve', '--board', d, '--root-ca', server.caFile]);
    if (r.status !== 0) throw new Error(`vboard serve: ${r.stderr}`);
  }

  let project = 0;
  async function fleetRun(n, { inTree = false, parallel = P } = {}) {
    const root = path.join(work, `project-${++project}`);
    cpSync(fw, root, { recursive: true, filter: (s) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(s) });
    mkdirSync(path.join(root, '.keyprov'), { recursive: true });
    for (const f of ['ca.pem', 'ca.key']) cpSync(path.join(caDir, '.keyprov', f), path.join(root, '.keyprov', f));
    const ids = boardDirs.slice(0, n).map((d) => path.basename(d));
    const config = {
      firmware: { root: '.', provisioningSource: 'src/aws_dev_mode_key_provisioning.c' },
      build: inTree
        ? { command: 'make -s OUT=build GENERATED_DIR="$KEYPROV_GENERATED_DIR" VBOARD_DEFINES="$KEYPROV_CFLAGS"', image: 'build/vboard-firmware' }
        : { command: 'make -s OUT="$KEYPROV_BUILD_DIR" GENERATED_DIR="$KEYPROV_GENERATED_DIR" VBOARD_DEFINES="$KEYPROV_CFLAGS"' },
      ...(inTree ? {} : { fleet: { image: '{{buildDir}}/vboard-firmware' } }),
      flash: { runner: 'vboard', options: { vboard } },
      credentials: { endpoint: 'localhost', thingName: 'bench-{{id}}', mqttPort: port },
      boards: ids.map((id, i) => ({ id, serial: { port: path.join(boardDirs[i], 'tty') }, flash: { options: { boardDir: boardDirs[i] } } })),
    };
    writeFileSync(path.join(root, 'keyprov.config.yaml'), JSON.stringify(config, null, 2));
    const t0 = performance.now();
    const r = await keyprov(['fleet', 'provision', '--parallel', String(parallel), '--json'], root);
    const ms = performance.now() - t0;
    if (r.code !== 0) throw new Error(`fleet provision of ${n} board(s) failed (${r.code}):\n${r.err}`);
    const { fleet } = JSON.parse(r.out);
    const connected = ids.filter((id) => broker.clients.some((c) => c.clientId === `bench-${id}`)).length;
    return { ms, cpuMs: r.cpuMs, keygenBuilds: fleet.keygenBuilds, keygenBuildMs: fleet.keygenBuildMs, ok: fleet.boards.filter((b) => b.outcome === 'ok').length, connected };
  }

  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  const cpu = (r) => (r.cpuMs === undefined ? '' : `  cpu ${s(r.cpuMs)}`);
  console.log(`keyprov fleet bench: ${os.cpus().length} cores, ${N} virtual boards, --parallel ${P}, embedded broker`);
  const R = Number(args.runs);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ones = [];
  const manys = [];
  for (let i = 0; i < R; i++) {
    const one = await fleetRun(1, { parallel: 1 });
    ones.push(one.ms);
    console.log(`1 board:            ${s(one.ms)}${cpu(one)}  keygen builds: ${one.keygenBuilds} (${s(one.keygenBuildMs)})  ok: ${one.ok}`);
    broker.clients.length = 0;
    const many = await fleetRun(N);
    manys.push(many.ms);
    console.log(`${N} boards (out of tree): ${s(many.ms)}${cpu(many)}  keygen builds: ${many.keygenBuilds} (${s(many.keygenBuildMs)})  ok: ${many.ok}/${N}  connected: ${many.connected}/${N}`);
    console.log(`ratio ${N} boards / 1 board: ${(many.ms / one.ms).toFixed(2)} (goal < 2.5)${many.keygenBuilds === 1 ? '' : '  KEYGEN BUILDS != 1'}`);
  }
  if (R > 1) console.log(`median of ${R}: 1 board ${s(median(ones))}, ${N} boards ${s(median(manys))}, ratio ${(median(manys) / median(ones)).toFixed(2)} (goal < 2.5)`);
  const one = { ms: median(ones) };
  if (args['in-tree']) {
    broker.clients.length = 0;
    const seq = await fleetRun(N, { inTree: true });
    console.log(`${N} boards (in-tree builds one at a time): ${s(seq.ms)}${cpu(seq)}  keygen builds: ${seq.keygenBuilds}  ok: ${seq.ok}/${N}  ratio to 1 board: ${(seq.ms / one.ms).toFixed(2)}`);
  }
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
} finally {
  await broker?.close();
  powerOff();
}
