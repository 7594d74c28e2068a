// The USB-UART bridge: firmware console bytes go to the host side of a socat pty
// (DIR/tty). A real bridge drops what arrives while no program has the port open, but a
// pty buffers it for the next reader; so the bridge looks for a reader first, in /proc.
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';

/** Processes (other than `ignorePids`) that hold `device` open. */
export function deviceHolders(device, ignorePids) {
  const holders = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || ignorePids.has(Number(pid))) continue;
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === device) {
          holders.push(Number(pid));
          break;
        }
      } catch {
        /* closed meanwhile */
      }
    }
  }
  return holders;
}

/** Baud-rate mismatch: each byte arrives as a different, mostly high-bit byte. */
export function garble(buf) {
  const out = Buffer.alloc(buf.length);
  for (let i = 0; i < buf.length; i++) out[i] = ((buf[i] * 7) ^ 0xa5) | 0x80;
  return out;
}

/** Noise such as a bootloader printing at another baud rate: never a clean text line. */
export function noise(length) {
  const out = randomBytes(length);
  for (let i = 0; i < length; i++) out[i] |= 0x80;
  return out;
}

export class UartBridge {
  /** @param {{ tty: string, socat: import('node:child_process').ChildProcess, log: (s: string) => void }} o */
  constructor({ tty, socat, log }) {
    this.device = realpathSync(tty);
    this.socat = socat;
    this.log = log;
    this.ignore = new Set([process.pid, socat.pid]);
    this.checkedAt = 0;
    this.reader = false;
    this.dropped = 0;
    this.baudMismatch = false;
  }

  hasReader() {
    const now = Date.now();
    if (now - this.checkedAt > 50) {
      this.reader = deviceHolders(this.device, this.ignore).length > 0;
      this.checkedAt = now;
    }
    return this.reader;
  }

  /** Forget the cached answer (a reset is a good moment: the host opened the port first). */
  recheck() {
    this.checkedAt = 0;
  }

  write(buf) {
    if (this.baudMismatch) buf = garble(buf);
    if (!this.hasReader()) {
      this.dropped += buf.length;
      return;
    }
    this.socat.stdin.write(buf);
  }
}
