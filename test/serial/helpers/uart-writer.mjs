// Plays a console log into one end of a pty pair at UART-like pacing, like a booting board.
// Usage: node uart-writer.mjs PTY LOGFILE [--chunk 32] [--every 3]
import { openSync, writeSync, closeSync, readFileSync } from 'node:fs';

const [target, file, ...rest] = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = rest.indexOf(name);
  return i === -1 ? dflt : rest[i + 1];
};
const chunk = Number(opt('--chunk', 32));
const every = Number(opt('--every', 3)); // 32 bytes / 3 ms ~ 10.7 kB/s ~ a 115200-baud UART
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const data = readFileSync(file);
const fd = openSync(target, 'w');
for (let off = 0; off < data.length; off += chunk) {
  writeSync(fd, data.subarray(off, off + chunk));
  await sleep(every);
}
closeSync(fd);
