// The virtual board's console latency: time from reset to the public-key header and to
// the last key row, through `vboard reset` + the UART bridge + the pty, side by side
// with the same image run directly (stdout pipe, no vboard) in the same run.
// Usage: node bench/vboard-boot.mjs [runs]   (needs gcc, libmbedtls-dev, socat)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { constants as fsc, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';

const runs = Number(process.argv[2] ?? 7);
const here = path.dirname(fileURLToPath(import.meta.url));
const fw = path.join(here, '..', 'examples', 'virtual-board');
const vboard = path.join(fw, 'vboard');
const work = mkdtempSync(path.join(os.tmpdir(), 'vboard-bench-'));
const HEADER = /Device public key, 91 bytes:/;
const LAST_ROW = /\n([0-9a-f]{4} ){5}[0-9a-f]{2}\r\n/;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Whatever happens (a hang, Ctrl-C), power the board off: no socat/firmware left behind.
const board = path.join(work, 'board');
const powerOff = () => {
  spawnSync(process.execPath, [vboard, 'stop', '--board', board]);
  rmSync(work, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (powerOff(), process.exit(130)));

function until(stream, t0) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no public key on the console within 20 s')), 20_000);
    let text = '';
    let header = null;
    stream.on('data', function onData(d) {
      text += d.toString('latin1');
      if (header === null && HEADER.test(text)) header = performance.now() - t0;
      if (header !== null && LAST_ROW.test(text)) {
        stream.off('data', onData);
        clearTimeout(timer);
        resolve({ header, key: performance.now() - t0 });
      }
    });
  });
}

try {
  let t0 = performance.now();
  execFileSync('make', ['-s', '-C', fw, `OUT=${work}/build`, 'KEYGEN=1']);
  const buildMs = performance.now() - t0;
  const image = path.join(work, 'build', 'vboard-firmware');
  mkdirSync(path.join(work, 'direct'));
  spawnSync(process.execPath, [vboard, 'serve', '--board', board]);
  spawnSync(process.execPath, [vboard, 'flash', '--board', board, image]);
  const uart = new tty.ReadStream(openSync(path.join(board, 'tty'), fsc.O_RDONLY | fsc.O_NOCTTY));
  const viaBoard = [], direct = [];
  for (let i = 0; i < runs; i++) { // interleaved so both see the same machine load
    t0 = performance.now();
    const seen = until(uart, t0);
    spawn(process.execPath, [vboard, 'reset', '--board', board], { stdio: 'ignore' });
    viaBoard.push(await seen);
    await new Promise((r) => setTimeout(r, 300)); // let the boot finish

    t0 = performance.now();
    const child = spawn(image, [], { env: { ...process.env, VBOARD_DIR: path.join(work, 'direct') }, stdio: ['ignore', 'pipe', 'ignore'] });
    direct.push(await until(child.stdout, t0));
    child.kill('SIGKILL');
  }
  uart.destroy();
  const vh = median(viaBoard.map((x) => x.header)), vk = median(viaBoard.map((x) => x.key));
  const dh = median(direct.map((x) => x.header)), dk = median(direct.map((x) => x.key));
  print(`make build (6 files, keygen image): ${buildMs.toFixed(0)} ms`);
  print(`vboard reset -> key header:   median ${vh.toFixed(1)} ms, last key row ${vk.toFixed(1)} ms  (${runs} runs)`);
  print(`direct run   -> key header:   median ${dh.toFixed(1)} ms, last key row ${dk.toFixed(1)} ms`);
  print(`ratio (vboard / direct), last key row: ${(vk / dk).toFixed(2)}x; vboard's share ${(vk - dk).toFixed(1)} ms`);
} finally {
  powerOff();
}

function print(line) {
  process.stdout.write(line + '\n');
}
