// Device-certificate issuance: keyprov's template path vs naive @peculiar/x509 vs
// `openssl x509 -req -force_pubkey` spawned per certificate, side by side in one run.
// Also times the pieces of one issuance to show where the time goes, and verifies a
// sample of the fast path's certificates with openssl.
//
//   npm run build && node bench/pki-issue.mjs
//   env: BENCH_N (default 5000), BENCH_OPENSSL_N (default 100), BENCH_NAIVE_N (default 500),
//        BENCH_VERIFY_N (default 200), BENCH_CA (ec-p256 | ec-p384 | rsa-2048; default ec-p256)
import { generateKeyPairSync, createPublicKey, createHash, sign as nodeSign, webcrypto } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { x509 } from '../dist/pki/crypto.js';
import { createCa } from '../dist/pki/ca-create.js';
import { loadCa } from '../dist/pki/ca-load.js';
import { DeviceIssuer } from '../dist/pki/device-cert.js';
import { parseDevicePublicKey } from '../dist/pki/public-key.js';
import { openStore, storePath } from '../dist/store/db.js';
import { CertificateLedger } from '../dist/store/certificates.js';

const N = Number(process.env.BENCH_N ?? 5000);
const OPENSSL_N = Number(process.env.BENCH_OPENSSL_N ?? 100);
const NAIVE_N = Number(process.env.BENCH_NAIVE_N ?? 500);
const VERIFY_N = Number(process.env.BENCH_VERIFY_N ?? 200);
const CA_ALG = process.env.BENCH_CA ?? 'ec-p256';

const root = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
const rate = (n, ms) => (n / (ms / 1000)).toFixed(0);
// Wall time decides the rate; CPU time (user+system of this process) is printed beside it
// because on a shared machine wall time also counts the other jobs' turns.
const line = (label, n, ms, cpuMs) =>
  console.log(`${label.padEnd(52)} ${String(n).padStart(5)} certs  ${ms.toFixed(0).padStart(6)} ms  ${rate(n, ms).padStart(7)}/s   cpu ${cpuMs.toFixed(0).padStart(6)} ms = ${rate(n, cpuMs).padStart(6)}/s per core`);
const cpuNow = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const cpu = {};

console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), CA ${CA_ALG}, ${N} distinct device keys`);
await createCa({ projectRoot: root, env: {}, algorithm: CA_ALG, subject: 'CN=bench CA' });
const ca = await loadCa({ projectRoot: root, env: {} });
const caPem = path.join(root, '.keyprov', 'ca.pem');
const caKey = path.join(root, '.keyprov', 'ca.key');

let t = performance.now();
const keys = Array.from({ length: N }, () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ format: 'der', type: 'spki' }));
console.log(`(setup: generated ${N} P-256 device keys in ${(performance.now() - t).toFixed(0)} ms, not timed below)\n`);

// --- keyprov fast path: template + synchronous node:crypto sign -------------------
const issuer = new DeviceIssuer(ca);
// Warm up the JIT on a few hundred certificates first (not timed).
for (let i = 0; i < Math.min(N, 1000); i++) issuer.issueSync({ publicKey: keys[i], cn: 'warmup' });
t = performance.now();
let c0 = cpuNow();
// Keep only the certificates openssl will check, so the timing is not of holding 5,000 results.
const step = Math.max(1, Math.floor(N / VERIFY_N));
const fast = new Map();
for (let i = 0; i < N; i++) {
  const c = issuer.issueSync({ publicKey: keys[i], cn: `thing-${i}` });
  if (i % step === 0) fast.set(i, c);
}
const fastMs = performance.now() - t;
cpu.fast = cpuNow() - c0;

// Same, through the async library API (one promise per certificate).
t = performance.now();
c0 = cpuNow();
for (let i = 0; i < N; i++) await issuer.issue({ publicKey: keys[i], cn: `thing-${i}` });
const asyncMs = performance.now() - t;
cpu.async = cpuNow() - c0;

// Same, recording every certificate in the SQLite store (WAL, one commit per row).
const db = openStore(storePath(root));
const ledger = new CertificateLedger(db);
t = performance.now();
c0 = cpuNow();
for (let i = 0; i < N; i++) issuer.issueSync({ publicKey: keys[i], cn: `thing-${i}`, store: ledger });
const storeMs = performance.now() - t;
cpu.store = cpuNow() - c0;
db.close();

// --- where one issuance spends its time (same N, each piece alone) -----------------
const parts = {};
const time = (name, fn) => {
  const s = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  parts[name] = performance.now() - s;
};
const caKeyObj = (await import('node:crypto')).createPrivateKey(readFileSync(caKey));
time('parse+validate SPKI (createPublicKey, re-export)', (i) => createPublicKey({ key: keys[i], format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' }));
time('parseDevicePublicKey (+SHA-256 fp, SHA-1 key id)', (i) => parseDevicePublicKey(keys[i]));
time('SHA-1 key identifier alone', (i) => createHash('sha1').update(keys[i].subarray(26)).digest());
const der0 = fast.get(0).certificateDer; // 30 82 LL LL | TBSCertificate: 30 82 LL LL ...
const sampleTbs = der0.subarray(4, 8 + der0.readUInt16BE(6));
time('sign one TBSCertificate (node:crypto, sync)', () => nodeSign('sha256', sampleTbs, caKeyObj));

// --- naive @peculiar/x509: importKey per cert + X509CertificateGenerator.create -----
const caCert = new x509.X509Certificate(readFileSync(caPem, 'utf8'));
const caAlg = CA_ALG.startsWith('ec') ? { name: 'ECDSA', namedCurve: CA_ALG === 'ec-p256' ? 'P-256' : 'P-384', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
const caSigningKey = await webcrypto.subtle.importKey('pkcs8', caKeyObj.export({ format: 'der', type: 'pkcs8' }), caAlg, false, ['sign']);
const naiveOne = async (i) => {
  const publicKey = await webcrypto.subtle.importKey('spki', keys[i], { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  return x509.X509CertificateGenerator.create({
    serialNumber: '01' + i.toString(16).padStart(8, '0'),
    subject: `CN=thing-${i}`,
    issuer: caCert.subject,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 500 * 86400_000),
    signingAlgorithm: caAlg,
    publicKey,
    signingKey: caSigningKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
};
await naiveOne(0);
t = performance.now();
c0 = cpuNow();
for (let i = 0; i < NAIVE_N; i++) await naiveOne(i);
const naiveMs = performance.now() - t;
cpu.naive = cpuNow() - c0;

// --- openssl x509 -req -force_pubkey, one process per certificate -----------------
const od = path.join(root, 'openssl');
mkdirSync(od);
spawnSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(od, 'throwaway.key'), '-subj', '/CN=throwaway', '-out', path.join(od, 'throwaway.csr')], { stdio: 'ignore' });
writeFileSync(path.join(od, 'ext.cnf'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
for (let i = 0; i < OPENSSL_N; i++) writeFileSync(path.join(od, `dev${i}.pem`), createPublicKey({ key: keys[i], format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }));
t = performance.now();
// spawnSync children are reaped, so their CPU lands in cutime+cstime of /proc/self/stat (clock ticks, 100/s).
const childTicks = () => { const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' '); return Number(f[13]) + Number(f[14]); };
const ticks0 = childTicks();
c0 = cpuNow();
for (let i = 0; i < OPENSSL_N; i++) {
  const r = spawnSync('openssl', ['x509', '-req', '-in', path.join(od, 'throwaway.csr'), '-CA', caPem, '-CAkey', caKey, '-CAcreateserial', '-force_pubkey', path.join(od, `dev${i}.pem`), '-subj', `/CN=thing-${i}`, '-days', '500', '-sha256', '-extfile', path.join(od, 'ext.cnf'), '-out', path.join(od, `cert${i}.pem`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
}
const opensslMs = performance.now() - t;
cpu.openssl = cpuNow() - c0 + (childTicks() - ticks0) * 10;

// --- correctness: openssl verifies a sample of the fast path's certificates -------
const vd = path.join(root, 'verify');
mkdirSync(vd);
const files = [];
let keyMismatches = 0;
for (let i = 0; i < N && files.length < VERIFY_N; i += step) {
  const f = path.join(vd, `c${i}.pem`);
  writeFileSync(f, fast.get(i).certificatePem);
  files.push(f);
  if (files.length <= 20) {
    const pub = spawnSync('openssl', ['x509', '-in', f, '-noout', '-pubkey'], { encoding: 'utf8' }).stdout;
    if (!createPublicKey(pub).export({ format: 'der', type: 'spki' }).equals(keys[i])) keyMismatches++;
  }
}
const v = spawnSync('openssl', ['verify', '-CAfile', caPem, '-x509_strict', ...files], { encoding: 'utf8' });
const verifiedOk = v.stdout.split('\n').filter((l) => l.endsWith(': OK')).length;

console.log('issuance (distinct device keys)');
line('keyprov template + sync sign (DeviceIssuer.issueSync)', N, fastMs, cpu.fast);
line('keyprov async API (DeviceIssuer.issue, 1 promise/cert)', N, asyncMs, cpu.async);
line('keyprov sync + SQLite record per cert (WAL)', N, storeMs, cpu.store);
line('naive @peculiar/x509 (importKey + generator)', NAIVE_N, naiveMs, cpu.naive);
line('openssl x509 -req -force_pubkey, spawned per cert', OPENSSL_N, opensslMs, cpu.openssl);
console.log('\nwhere the time goes (each piece alone, per certificate)');
for (const [k, ms] of Object.entries(parts)) console.log(`  ${k.padEnd(52)} ${((ms / N) * 1000).toFixed(1).padStart(7)} us`);
console.log(`  ${'whole fast-path issuance'.padEnd(52)} ${((fastMs / N) * 1000).toFixed(1).padStart(7)} us`);
const fastRate = N / (fastMs / 1000);
console.log('\nratios');
console.log(`  fast path / openssl per-cert spawn: ${(fastRate / (OPENSSL_N / (opensslMs / 1000))).toFixed(0)}x`);
console.log(`  fast path / naive @peculiar/x509:   ${(fastRate / (NAIVE_N / (naiveMs / 1000))).toFixed(1)}x`);
if (CA_ALG === 'ec-p256') console.log(`  goal >= 2000/s with an EC P-256 CA: ${fastRate >= 2000 ? 'met' : 'NOT met'} (${fastRate.toFixed(0)}/s)`);
console.log(`\ncorrectness: openssl verify -x509_strict OK for ${verifiedOk}/${files.length} sampled certificates; public key byte-equal in ${20 - keyMismatches}/${Math.min(20, files.length)}`);
if (verifiedOk !== files.length || keyMismatches > 0) {
  console.error(v.stdout + v.stderr);
  process.exitCode = 1;
}
