// The virtual board for tests: build the firmware into a temp folder, power a board
// (vboard serve), flash/reset/erase it, read its console, and clean everything up when
// the test ends (no socat or firmware process is left behind).
import { execFile as execFileCb } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, constants as fsc, rmSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tty from 'node:tty';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

import { REPO_ROOT } from './cli.js';

const execFile = promisify(execFileCb);

export const VBOARD_DIR = path.join(REPO_ROOT, 'examples', 'virtual-board');
export const VBOARD_BIN = path.join(VBOARD_DIR, 'vboard');

interface After {
  after(fn: () => unknown): void;
}

export interface FirmwareBuild {
  /** Folder with the firmware sources (default: examples/virtual-board). */
  sourceDir?: string;
  /** Folder whose headers replace include/ (aws_clientcredential*.h). */
  generatedDir?: string;
  /** -DkeyprovisioningFORCE_GENERATE_NEW_KEY_PAIR=1 (the source uses an #ifndef guard). */
  keygen?: boolean;
  newerRelease?: boolean;
  keygenDelaySeconds?: number;
  secureElement?: boolean;
  /** Printed at boot ("image <tag>") so tests can tell images apart. */
  tag?: string;
  /** Where the build goes; default: a new temp folder. */
  outDir?: string;
}

/** Builds the firmware with make; returns the image path. */
export async function buildFirmware(t: After, opts: FirmwareBuild = {}): Promise<string> {
  const out = opts.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'keyprov-fw-'));
  if (!opts.outDir) t.after(() => rmSync(out, { recursive: true, force: true }));
  const vars = [`OUT=${out}`];
  if (opts.generatedDir) vars.push(`GENERATED_DIR=${opts.generatedDir}`);
  if (opts.keygen) vars.push('KEYGEN=1');
  if (opts.newerRelease) vars.push('NEWER_RELEASE=1');
  if (opts.keygenDelaySeconds !== undefined) vars.push(`KEYGEN_DELAY=${opts.keygenDelaySeconds}`);
  if (opts.secureElement) vars.push('SECURE_ELEMENT=1');
  if (opts.tag) vars.push(`IMAGE_TAG=${opts.tag}`);
  await execFile('make', ['-s', '-C', opts.sourceDir ?? VBOARD_DIR, ...vars]);
  return path.join(out, 'vboard-firmware');
}

export interface VboardResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the vboard tool; never throws on a non-zero exit. */
export async function vboard(args: string[]): Promise<VboardResult> {
  try {
    const { stdout, stderr } = await execFile(process.execPath, [VBOARD_BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function vboardOk(args: string[]): Promise<string> {
  const r = await vboard(args);
  if (r.code !== 0) throw new Error(`vboard ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export interface Knobs {
  flashFailures?: number;
  resetDuringKeyAfterRows?: number;
  garbageBytes?: number;
  baudMismatch?: boolean;
  staleImageMs?: number;
}

/** The board's console, read from DIR/tty like a terminal program would. */
export class BoardConsole {
  private chunks: Buffer[] = [];
  private stream: tty.ReadStream;

  constructor(ttyPath: string) {
    const fd = openSync(ttyPath, fsc.O_RDONLY | fsc.O_NOCTTY);
    this.stream = new tty.ReadStream(fd);
    this.stream.on('data', (d: Buffer) => this.chunks.push(d));
    this.stream.on('error', () => {});
  }

  get bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  get text(): string {
    return this.bytes.toString('latin1');
  }

  /** Forget what was read so far (e.g. before a reset). */
  clear(): void {
    this.chunks = [];
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.text.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`console did not show ${pattern} within ${timeoutMs} ms; console so far:\n${this.text}`);
      await sleep(25);
    }
  }

  /** Wait for `pattern`, then for the line to go quiet, then clear(): the next reset's
   *  output will not be mixed with bytes of this boot still in flight. */
  async settle(pattern: RegExp = /Demo finished/, quietMs = 300, timeoutMs = 15_000): Promise<void> {
    await this.waitFor(pattern, timeoutMs);
    let length = -1;
    while (length !== this.bytes.length) {
      length = this.bytes.length;
      await sleep(quietMs);
    }
    this.clear();
  }

  close(): void {
    this.stream.destroy();
  }
}

export class Board {
  constructor(readonly dir: string) {}

  get tty(): string {
    return path.join(this.dir, 'tty');
  }

  flash(image: string): Promise<VboardResult> {
    return vboard(['flash', '--board', this.dir, image]);
  }

  async reset(): Promise<void> {
    await vboardOk(['reset', '--board', this.dir]);
  }

  async erase(): Promise<void> {
    await vboardOk(['erase', '--board', this.dir]);
  }

  async stop(): Promise<void> {
    await vboardOk(['stop', '--board', this.dir]);
  }

  setKnobs(knobs: Knobs): void {
    const file = path.join(this.dir, 'knobs.json');
    let current = {};
    try {
      current = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      /* none yet */
    }
    writeFileSync(file, JSON.stringify({ ...current, ...knobs }));
  }

  /** Opens the console (before the reset: bytes sent while nobody reads are lost). */
  openConsole(t: After): BoardConsole {
    const con = new BoardConsole(this.tty);
    t.after(() => con.close());
    return con;
  }

  /** Flash (must succeed), open the console, reset; returns the console. */
  async flashAndBoot(t: After, image: string): Promise<BoardConsole> {
    const r = await this.flash(image);
    if (r.code !== 0) throw new Error(`flash failed (${r.code}): ${r.stderr}`);
    const con = this.openConsole(t);
    await this.reset();
    return con;
  }

  pid(): number | null {
    try {
      return Number(readFileSync(path.join(this.dir, 'vboard.pid'), 'utf8').trim()) || null;
    } catch {
      return null;
    }
  }
}

/** Powers a board in a new (or given) folder; stopped and removed when the test ends. */
export async function startBoard(t: After, opts: { dir?: string; rootCa?: string } = {}): Promise<Board> {
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'keyprov-board-'));
  mkdirSync(dir, { recursive: true });
  const board = new Board(dir);
  await vboardOk(['serve', '--board', dir, ...(opts.rootCa ? ['--root-ca', opts.rootCa] : [])]);
  const pid = board.pid();
  t.after(async () => {
    await vboard(['stop', '--board', dir]);
    // Belt and braces: the serve process leads a process group with socat and the firmware.
    if (pid) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  });
  return board;
}

/** A PEM as C string literals, one per line, for aws_clientcredential_keys.h. */
export function pemToCString(pem: string): string {
  const lines = pem.replace(/\r\n/g, '\n').trimEnd().split('\n');
  return lines.map((l, i) => `"${l}\\n"${i < lines.length - 1 ? ' \\' : ''}`).join('\n');
}

/** Minimal credential headers for tests (keyprov's own renderer is tested elsewhere). */
export function writeCredentialHeaders(dir: string, o: { endpoint: string; thing: string; port: number; certificatePem?: string; jitrCaPem?: string }): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'aws_clientcredential.h'),
    `#ifndef __AWS_CLIENTCREDENTIAL__H__\n#define __AWS_CLIENTCREDENTIAL__H__\n#define clientcredentialMQTT_BROKER_ENDPOINT "${o.endpoint}"\n#define clientcredentialIOT_THING_NAME "${o.thing}"\n#define clientcredentialMQTT_BROKER_PORT ${o.port}\n#endif\n`,
  );
  const macro = (name: string, pem?: string) => `#define ${name} ${pem ? `\\\n${pemToCString(pem)}` : 'NULL'}\n`;
  writeFileSync(
    path.join(dir, 'aws_clientcredential_keys.h'),
    `#ifndef AWS_CLIENT_CREDENTIAL_KEYS_H\n#define AWS_CLIENT_CREDENTIAL_KEYS_H\n${macro('keyCLIENT_CERTIFICATE_PEM', o.certificatePem)}${macro('keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM', o.jitrCaPem)}#define keyCLIENT_PRIVATE_KEY_PEM NULL\n#endif\n`,
  );
  return dir;
}

/** Public key rows after the "Device public key, N bytes:" header, as DER (independent parser for tests). */
export function keyRowsToDer(consoleText: string): Buffer {
  const lines = consoleText.split(/\r?\n/);
  const start = lines.findIndex((l) => /\[[^\]]*\] Device public key, \d+ bytes:/.test(l));
  if (start < 0) throw new Error('no public key header on the console');
  const want = Number(lines[start].match(/, (\d+) bytes:/)![1]);
  let hex = '';
  for (const line of lines.slice(start + 1)) {
    if (hex.length >= want * 2) break;
    if (/^([0-9a-f]{2,4} ?)+$/.test(line)) hex += line.replace(/ /g, '');
  }
  return Buffer.from(hex, 'hex');
}
