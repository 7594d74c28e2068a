// `keyprov render` as make or CMake runs it before every build, when nothing changed:
// median wall time beside `node -e 0` in the same run, and proof that nothing was written.
// Usage: node bench/render-noop.mjs [runs]   (needs `npm run build` first; openssl on PATH)
// Also: the same no-op when credentials.endpoint is empty and the endpoint recorded by
// `keyprov aws register` is read from .keyprov/aws-endpoint, and what reading that endpoint
// from the SQLite state store instead would add (a process that loads better-sqlite3, opens
// the store and selects the row, beside `node -e 0`).
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync, readdirSync, rmSync, mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 21);
const bin = fileURLToPath(new URL('../bin/keyprov.js', import.meta.url));
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-render-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// A project as a firmware build would have it: a config, a device certificate, a CA.
const ssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'dev.key', '-out', 'device-cert.pem', '-subj', '/CN=bench', '-days', '2');
ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=bench CA', '-days', '2');
writeFileSync(
  path.join(dir, 'keyprov.config.yaml'),
  'credentials:\n  endpoint: a1b2c3-ats.iot.eu-west-1.amazonaws.com\n  thingName: bench-{{id}}\n  wifi:\n    ssid: lab\n    password: "p\\"w"\nrender:\n  outDir: generated\n',
);
const args = [bin, 'render', '--certificate', 'device-cert.pem', '--ca-certificate', 'ca.pem'];
const first = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
if (first.status !== 0) throw new Error(`first render failed: ${first.stderr}`);

// The same project with the endpoint left out of the config and recorded by AWS registration
// (in the store and in .keyprov/aws-endpoint, as `keyprov aws register` leaves them).
const rdir = path.join(dir, 'recorded');
mkdirSync(rdir);
for (const f of ['device-cert.pem', 'ca.pem']) copyFileSync(path.join(dir, f), path.join(rdir, f));
writeFileSync(path.join(rdir, 'keyprov.config.yaml'), 'credentials:\n  thingName: bench-{{id}}\nrender:\n  outDir: generated\n');
const { openAwsRecords } = await import(new URL('../dist/aws/records-store.js', import.meta.url).href);
const records = await openAwsRecords(rdir);
await records.putBoard('bench', { thingName: 'bench', thingArn: 'arn:t', certificateArn: 'arn:c', certificateId: 'c', policyName: 'p', endpoint: 'a1b2c3-ats.iot.eu-west-1.amazonaws.com', updatedAt: new Date().toISOString() });
records.close();
const rfirst = spawnSync(process.execPath, args, { cwd: rdir, encoding: 'utf8' });
if (rfirst.status !== 0 || !readFileSync(path.join(rdir, 'generated', 'aws_clientcredential.h'), 'utf8').includes('"a1b2c3-ats.iot.eu-west-1.amazonaws.com"')) {
  throw new Error(`render with the recorded endpoint failed: ${rfirst.stderr}`);
}
const sqliteRead = [
  '--input-type=module',
  '-e',
  `import Database from 'better-sqlite3'; const db = new Database(${JSON.stringify(path.join(rdir, '.keyprov', 'keyprov.db'))}, { readonly: true, fileMustExist: true }); if (!db.prepare('SELECT endpoint FROM aws_account WHERE id = 1').get()) process.exit(1); db.close();`,
];
const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const outDirs = [path.join(dir, 'generated'), path.join(rdir, 'generated')];
const snapshot = () => Object.fromEntries(outDirs.flatMap((d) => readdirSync(d).map((n) => [path.join(d, n), statSync(path.join(d, n), { bigint: true }).mtimeNs])));
const before = snapshot();

const time = (argv, cwd) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, argv, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const stamp = path.join(dir, '.keyprov', 'render-inputs.json');
const render = [], node = [], full = [], rec = [], sql = [];
for (let i = 0; i < runs; i++) { // interleaved so all see the same machine load
  render.push(time(args, dir));
  node.push(time(['-e', '0'], dir));
  // Without the CLI's input stamp: config parsed and validated, headers compared (no Handlebars: render cache).
  rmSync(stamp, { force: true });
  full.push(time(args, dir));
  rec.push(time(args, rdir));
  sql.push(time(sqliteRead, repoRoot)); // run from the repository so that better-sqlite3 resolves
}
const after = snapshot();
const changed = Object.keys({ ...before, ...after }).filter((n) => before[n] !== after[n]);

const mr = median(render), mn = median(node), mf = median(full), mrec = median(rec), msql = median(sql);
console.log(`keyprov render (no change): median ${mr.toFixed(1)} ms over ${runs} runs (goal < 120 ms)`);
console.log(`node -e 0:                  median ${mn.toFixed(1)} ms`);
console.log(`ratio: ${(mr / mn).toFixed(2)}x node's own start-up; keyprov's share ${(mr - mn).toFixed(1)} ms`);
console.log(`for comparison, without the input stamp (config parsed): median ${mf.toFixed(1)} ms, ${(mf / mn).toFixed(2)}x node`);
console.log(`endpoint recorded by aws register (config leaves it empty), no change: median ${mrec.toFixed(1)} ms, ${(mrec / mn).toFixed(2)}x node`);
console.log(`reading that endpoint from the SQLite store instead (load better-sqlite3, open, select): median ${msql.toFixed(1)} ms, +${(msql - mn).toFixed(1)} ms over node -e 0`);
console.log(`files written: ${changed.length} (${Object.keys(after).length} headers, mtimes compared${changed.length ? `; changed: ${changed.map((f) => path.relative(dir, f)).join(', ')}` : ''})`);
if (changed.length) process.exitCode = 1;
