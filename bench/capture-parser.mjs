// Public-key parser throughput on a noisy console log, side by side with the manual
// pipeline of the FreeRTOS procedure (grep -A6 | tail -n +2 | xxd -r -ps) on the same file.
// Usage: npm run build && node bench/capture-parser.mjs [MB=50] [runs=3]
import { createReadStream, writeFileSync, readFileSync, rmSync, mkdtempSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import { PublicKeyParser } from '../dist/serial/public-key-parser.js';

const MB = Number(process.argv[2] ?? 50);
const RUNS = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-'));
const file = path.join(dir, 'noisy.log');

// --- a noisy log: task lines, ANSI colour, blank lines, NUL bytes, binary garbage; one key block at ~90%.
const der = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
let block = `7 910 [IP-task] Device public key, ${der.length} bytes:\r\n`;
for (let off = 0; off < der.length; off += 16) {
  let row = '';
  for (let i = 0; i < Math.min(16, der.length - off); i++) row += der[off + i].toString(16).padStart(2, '0') + (i % 2 ? ' ' : '');
  block += row + '\r\n';
}
let seed = 42;
const rnd = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
const words = ['vDHCPProcess', 'offer', 'WiFi', 'connected', 'MQTT', 'publish', 'topic', 'ack', 'heap', 'free', 'retry', 'socket', 'TLS', 'handshake'];
function segment(bytes) {
  const parts = [];
  let n = 0, msg = 0;
  while (n < bytes) {
    let line;
    const k = rnd(20);
    if (k === 0) line = '';
    else if (k === 1) line = Buffer.from(Array.from({ length: 8 + rnd(40) }, () => rnd(256))).toString('latin1');
    else if (k === 2) line = `\x1b[0;32mI (${msg}) wifi: ${words[rnd(words.length)]} ${rnd(99999)}\x1b[0m`;
    else if (k === 3) line = `${msg} ${msg * 7} [IP-task] \0\0${words[rnd(words.length)]}`;
    else line = `${msg} ${msg * 7} [${['Tmr Svc', 'IP-task', 'iot_thread', ''][rnd(4)]}] ${Array.from({ length: 3 + rnd(8) }, () => words[rnd(words.length)]).join(' ')} ${rnd(1 << 30)}`;
    msg++;
    line += '\r\n';
    parts.push(line);
    n += line.length;
  }
  return Buffer.from(parts.join(''), 'latin1');
}
const seg = segment(1 << 20);
const total = MB * (1 << 20);
const pieces = [];
let size = 0;
let placed = false;
while (size < total) {
  if (!placed && size >= total * 0.9) {
    pieces.push(Buffer.from(block, 'latin1'));
    size += block.length;
    placed = true;
  }
  pieces.push(seg);
  size += seg.length;
}
if (!placed) pieces.push(Buffer.from(block, 'latin1'));
writeFileSync(file, Buffer.concat(pieces));
const bytes = statSync(file).size;
console.log(`log: ${(bytes / 1e6).toFixed(1)} MB (${MB} MiB) with ANSI colour, NUL bytes, binary garbage, one ${der.length}-byte key block; ${RUNS} runs each, interleaved, median`);

async function runParser() {
  const parser = new PublicKeyParser();
  let key;
  const t0 = process.hrtime.bigint();
  await pipeline(createReadStream(file, { highWaterMark: 1 << 16 }), parser, new Writable({ objectMode: true, write(e, _enc, cb) { if (e.type === 'key') key = e.der; cb(); } }));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { s, ok: !!key && key.equals(der) };
}

function runManual(grep) {
  const out = path.join(dir, 'manual.der');
  rmSync(out, { force: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `${grep} -A6 'Device public key' "$1" | tail -n +2 | xxd -r -ps > "$2"`, 'bench', file, out]);
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`manual pipeline failed: ${r.stderr}`);
  let ok = false;
  try { ok = readFileSync(out).equals(der); } catch {}
  return { s, ok };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const res = { parser: [], grep: [], grepA: [] };
let ok = { parser: true, grep: true, grepA: true };
for (let i = 0; i < RUNS; i++) {
  const p = await runParser(); res.parser.push(p.s); ok.parser &&= p.ok;
  const g = runManual('grep'); res.grep.push(g.s); ok.grep &&= g.ok;
  const ga = runManual('grep -a'); res.grepA.push(ga.s); ok.grepA &&= ga.ok;
}
const mbps = (s) => bytes / 1e6 / s;
const uart921600 = 921600 / 10 / 1e6; // 8N1: 10 bits a byte
const P = median(res.parser), G = median(res.grep), GA = median(res.grepA);
console.log(`keyprov parser (stream, file read included): ${P.toFixed(3)} s  ${mbps(P).toFixed(1)} MB/s  = ${(mbps(P) / uart921600).toFixed(0)}x a 921600-baud UART (goal >= 100x, 9.2 MB/s)  key ${ok.parser ? 'correct' : 'WRONG'}`);
console.log(`manual: grep -A6 | tail -n +2 | xxd -r -ps:    ${G.toFixed(3)} s  ${mbps(G).toFixed(1)} MB/s  key ${ok.grep ? 'correct' : 'WRONG'}`);
console.log(`manual with grep -a (text mode forced):        ${GA.toFixed(3)} s  ${mbps(GA).toFixed(1)} MB/s  key ${ok.grepA ? 'correct' : 'WRONG'}`);
console.log(`ratio parser/manual time: ${(P / G).toFixed(2)}x (grep), ${(P / GA).toFixed(2)}x (grep -a); manual/parser throughput: ${(G / P).toFixed(2)}, ${(GA / P).toFixed(2)}`);
rmSync(dir, { recursive: true, force: true });
