// The README quick start: provision the virtual board end to end on this machine.
// Builds the firmware, makes a lab CA (keyprov ca create), starts the embedded mutual-TLS
// MQTT broker, powers the board, runs `keyprov provision`, and checks that the broker saw
// the board connect with its certificate. Needs gcc, make, socat and libmbedtls-dev.
//   node scripts/demo.mjs [--keep]      (npm run demo)
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');
const say = (s) => process.stderr.write(`demo: ${s}\n`);

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function keyprov(args, cwd) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(repo, 'bin/keyprov.js'), ...args], { cwd, stdio: 'inherit' });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

// What the demo needs, checked up front so that a missing one is named with its package
// instead of failing half-way (the board's serial port is a socat pty; the firmware links mbedTLS).
const needs = [
  { what: 'gcc is', pkg: 'gcc', ok: () => execFileSync('gcc', ['--version'], { stdio: 'ignore' }) },
  { what: 'make is', pkg: 'make', ok: () => execFileSync('make', ['--version'], { stdio: 'ignore' }) },
  { what: 'socat is', pkg: 'socat', ok: () => execFileSync('socat', ['-V'], { stdio: 'ignore' }) },
  {
    what: 'the mbedTLS headers (mbedtls/ssl.h) are',
    pkg: 'libmbedtls-dev',
    ok: () => execFileSync('gcc', ['-E', '-x', 'c', '-'], { input: '#include <mbedtls/ssl.h>\n', stdio: ['pipe', 'ignore', 'ignore'] }),
  },
];
const missing = needs.filter((n) => {
  try {
    n.ok();
    return false;
  } catch {
    return true;
  }
});
if (missing.length) {
  for (const n of missing) say(`${n.what} missing (Debian package ${n.pkg})`);
  say(`install: sudo apt-get install ${[...new Set(missing.map((n) => n.pkg))].join(' ')}`);
  process.exit(2);
}

const work = mkdtempSync(path.join(os.tmpdir(), 'keyprov-demo-'));
const fw = path.join(work, 'firmware');
const boardDir = path.join(fw, '.vboard', 'board-1');
say(`working in ${work}`);
cpSync(path.join(repo, 'examples/virtual-board'), fw, { recursive: true, filter: (src) => !/[/\\](build[^/\\]*|\.vboard|\.keyprov)$/.test(src) });

let broker;
let code = 1;
try {
  if ((await keyprov(['ca', 'create', '--subject', 'CN=keyprov demo lab CA'], fw)) !== 0) throw new Error('keyprov ca create failed');
  const port = await freePort();
  const { startBroker } = await import(path.join(repo, 'examples/virtual-board/broker/broker.mjs'));
  const { ensureServerCertificate } = await import(path.join(repo, 'examples/virtual-board/broker/server-cert.mjs'));
  const server = await ensureServerCertificate(path.join(work, 'broker'));
  const brokerLog = [];
  broker = await startBroker({
    ca: readFileSync(path.join(fw, '.keyprov/ca.pem')),
    cert: readFileSync(server.certFile),
    key: readFileSync(server.keyFile),
    port,
    log: (line) => brokerLog.push(line),
  });
  say(`embedded MQTT broker with mutual TLS on 127.0.0.1:${port}`);
  const config = readFileSync(path.join(fw, 'keyprov.config.yaml'), 'utf8').replace(/mqttPort: \d+/, `mqttPort: ${port}`);
  writeFileSync(path.join(fw, 'keyprov.config.yaml'), config);
  execFileSync(path.join(fw, 'vboard'), ['serve', '--board', boardDir, '--root-ca', server.caFile], { stdio: 'inherit' });
  code = await keyprov(['provision'], fw);
  const seen = broker.clients.find((c) => c.clientId === 'vboard-1');
  for (const l of brokerLog) say(`broker: ${l}`);
  if (code === 0 && seen) {
    console.log(`demo: board vboard-1 connected with mutual TLS as thing vboard-1 (broker saw client id ${seen.clientId}, certificate CN=${seen.username})`);
  } else if (code === 0) {
    console.log('demo: keyprov reported success but the broker did not see the board connect');
    code = 5;
  } else {
    console.log(`demo: keyprov provision failed (exit ${code}); logs in ${path.join(fw, '.keyprov/boards/default')}`);
  }
} catch (e) {
  say(e instanceof Error ? e.message : String(e));
} finally {
  try {
    execFileSync(path.join(fw, 'vboard'), ['stop', '--board', boardDir], { stdio: 'ignore' });
  } catch {
    /* not served */
  }
  await broker?.close();
  if (keep || code !== 0) say(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(code);
