// `keyprov fleet provision`: every board of boards[] through `provision()`, N at a time,
// with one keygen image for all of them and a ledger row per board. A board's failure
// stops only that board; a rerun takes each board up where the ledger says it stopped and
// never issues a second certificate for a board that has one.
import path from 'node:path';
import { appendFileSync, existsSync, mkdirSync, promises as fs } from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import { resolveBoard } from '../config/boards.js';
import { boardFiles, caFiles } from '../project.js';
import { UsageError, isKeyprovError } from '../errors.js';
import { Logger } from '../log.js';
import { STEP_NAMES, provision, type ProvisionOptions, type ProvisionReport } from '../pipeline/provision.js';
import { FleetLedger, type LedgerRow } from './ledger.js';
import { FleetDisplay } from './display.js';
import { buildKeygenImage, fleetBuild, keygenImagePath, touch, waitForKeygenLock, type KeygenImage } from './keygen-image.js';

export const DEFAULT_PARALLEL = 4;

export interface FleetOptions {
  projectRoot: string;
  loaded: LoadedConfig;
  /** Board ids, or undefined/'all' for every board in boards[]. */
  boards?: string[] | 'all';
  parallel?: number;
  createCa?: boolean;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  verbose?: boolean;
  signal?: AbortSignal;
  /** Say what would be done per board (from the ledger); change nothing. */
  dryRun?: boolean;
  /** Boards to provision again from the start even if done (a replaced board): new key, new certificate. */
  again?: string[];
  /** The AWS IoT client every board's register step uses (default: one from the config and the standard AWS credentials). */
  awsClient?: ProvisionOptions['awsClient'];
}

export type BoardOutcome = 'ok' | 'failed' | 'already-done' | 'busy' | 'interrupted' | 'planned';

export interface FleetBoardResult {
  board: string;
  thingName: string;
  outcome: BoardOutcome;
  /** The step the run started from (resume), when not the first. */
  resumedFrom?: string;
  certificateSerial?: string;
  publicKeyFingerprint?: string;
  flags: string[];
  durationMs: number;
  error?: { code: string; message: string; hint?: string };
}

export interface FleetResult {
  boards: FleetBoardResult[];
  keygenBuilds: number;
  keygenBuildMs?: number;
  parallel: number;
  durationMs: number;
  ok: boolean;
}

/** Pick the boards: every entry of boards[] for 'all', else the named ones (all must exist). */
export function selectBoards(cfg: LoadedConfig['config'], wanted: string[] | 'all' | undefined): string[] {
  const known = (cfg.boards ?? []).map((b) => b.id);
  if (!known.length) throw new UsageError('FLEET_NO_BOARDS', 'the config lists no boards', { hint: 'add boards[] entries (id, serial.port, flash options) to keyprov.config.yaml' });
  if (wanted === undefined || wanted === 'all') return known;
  const ids = [...new Set(wanted.map((w) => w.trim()).filter(Boolean))];
  const unknown = ids.filter((i) => !known.includes(i));
  if (unknown.length) throw new UsageError('BOARD_UNKNOWN', `no board ${unknown.map((u) => `"${u}"`).join(', ')} in the config`, { hint: `known boards: ${known.join(', ')}` });
  return ids;
}

/** Each board's output goes to its own log file; the terminal shows the table or step lines. */
function boardLogger(file: string, verbose?: boolean): Logger {
  mkdirSync(path.dirname(file), { recursive: true });
  return new Logger({ verbose, color: false, stream: { write: (s: string) => appendFileSync(file, s), isTTY: false } });
}

async function touchAll(dir: string): Promise<void> {
  const now = new Date();
  for (const f of await fs.readdir(dir).catch(() => [] as string[])) await fs.utimes(path.join(dir, f), now, now).catch(() => {});
}

/** Where a board picks up: after a certificate, render; after a capture, issue; else from the start. */
async function resumePoint(root: string, row: LedgerRow | undefined, ledger: FleetLedger, boardId: string, dryRun = false): Promise<string | undefined> {
  const files = boardFiles(root, boardId);
  // The board no longer holds the certified key: only a new key and certificate help.
  if (row?.flags.includes('key-changed')) return undefined;
  if (row?.certificateSerial && existsSync(files.certificate)) return 'render';
  if (existsSync(files.publicKeyDer) && row?.publicKeyFingerprint) {
    // Killed between issuing and recording: the certificate store already has it.
    const { spkiFingerprint } = await import('../serial/spki.js');
    const fp = spkiFingerprint(await fs.readFile(files.publicKeyDer));
    if (fp === row.publicKeyFingerprint && existsSync(files.certificate)) {
      const { X509Certificate } = await import('node:crypto');
      const cert = new X509Certificate(await fs.readFile(files.certificate));
      const rec = ledger.db.prepare('SELECT serial, certificate_fingerprint FROM certificates WHERE board_id = ? AND public_key_fingerprint = ? AND serial = ?').get(boardId, fp, cert.serialNumber.toUpperCase()) as
        | { serial: string; certificate_fingerprint: string }
        | undefined;
      if (rec) {
        if (dryRun) return 'render';
        ledger.certified(boardId, { serial: rec.serial, certificateFingerprint: rec.certificate_fingerprint, keyFingerprint: fp });
        return 'render';
      }
    }
    if (fp === row.publicKeyFingerprint) return 'issue';
  }
  return undefined;
}

/** --dry-run: each board's next step according to the ledger, and whether a keygen build is needed. */
async function planFleet(root: string, ledger: FleetLedger | undefined, boards: { id: string; thing: string }[], again: Set<string>, parallel: number, started: number, log: Logger): Promise<FleetResult> {
  const list: FleetBoardResult[] = [];
  for (const b of boards) {
    const row = ledger?.get(b.id);
    const base = { board: b.id, thingName: b.thing, flags: row?.flags ?? [], certificateSerial: row?.certificateSerial, publicKeyFingerprint: row?.publicKeyFingerprint, durationMs: 0 };
    if (row?.status === 'done' && !again.has(b.id)) {
      list.push({ ...base, outcome: 'already-done' });
      log.info(`[${b.id}] done (certificate ${row.certificateSerial}); nothing to do`);
      continue;
    }
    const from = ledger && !again.has(b.id) ? await resumePoint(root, row, ledger, b.id, true) : undefined;
    list.push({ ...base, outcome: 'planned', resumedFrom: from });
    log.info(`[${b.id}] would ${from ? `resume from ${from} (no new certificate${from === 'issue' ? ' yet: issue one for the captured key' : ''})` : 'flash the keygen image, capture, issue, render, build, flash, verify'} as thing ${b.thing}`);
  }
  const keygenBuilds = list.some((r) => r.outcome === 'planned' && !r.resumedFrom) ? 1 : 0;
  log.info(`would build the keygen image ${keygenBuilds ? 'once' : 'not at all'}; ${parallel} board(s) at a time`);
  return { boards: list, keygenBuilds, parallel, durationMs: Date.now() - started, ok: true };
}

export async function provisionFleet(opts: FleetOptions): Promise<FleetResult> {
  const started = Date.now();
  const root = opts.projectRoot;
  const cfg = opts.loaded.config;
  const ids = selectBoards(cfg, opts.boards);
  const again = new Set(opts.again ?? []);
  const notSelected = [...again].filter((a) => !ids.includes(a));
  if (notSelected.length) throw new UsageError('AGAIN_NOT_SELECTED', `--again names ${notSelected.join(', ')}, which this run does not provision`, { hint: `known boards: ${(cfg.boards ?? []).map((b) => b.id).join(', ')}; add them to --boards` });
  const parallel = opts.parallel ?? cfg.fleet?.parallel ?? DEFAULT_PARALLEL;
  if (!Number.isInteger(parallel) || parallel < 1) throw new UsageError('PARALLEL_INVALID', `--parallel must be a whole number of at least 1, got ${parallel}`, { hint: 'e.g. --parallel 4' });
  const boards = ids.map((id) => resolveBoard(cfg, id));
  const thing = (b: (typeof boards)[number]) => b.thingName ?? b.id;
  const boardOfThing = new Map<string, string>();
  for (const b of boards) {
    const other = boardOfThing.get(thing(b));
    if (other) throw new UsageError('FLEET_THING_CLASH', `boards ${other} and ${b.id} would both be thing ${thing(b)}`, { hint: 'give boards[].thingName a template with {{id}}, e.g. thingName: lab-{{id}} (or credentials.thingName)' });
    boardOfThing.set(thing(b), b.id);
  }
  const things = new Map(boards.map((b) => [b.id, thing(b)]));
  const outDir = cfg.render?.outDir;
  if (ids.length > 1 && (cfg.render?.mode === 'in-place' || (outDir && !/\{\{\s*id\s*\}\}/.test(outDir)))) {
    throw new UsageError('FLEET_SHARED_HEADERS', 'the credential headers of every board would be rendered into the same folder', { hint: 'use render.mode out-dir with {{id}} in render.outDir, or leave render.outDir unset (.keyprov/boards/<id>/generated)' });
  }
  // The CA is made once, before any board needs it.
  const ca = cfg.pki?.ca?.cert ?? caFiles(root).cert;
  if (!existsSync(ca) && (cfg.pki?.ca?.backend ?? 'file') === 'file' && opts.dryRun) {
    opts.log.info(opts.createCa ? `would create a lab CA at ${ca}` : `no CA at ${ca}: pass --create-ca, or run \`keyprov ca create\``);
  } else if (!existsSync(ca) && (cfg.pki?.ca?.backend ?? 'file') === 'file') {
    if (!opts.createCa) throw new UsageError('CA_MISSING', `no CA at ${ca}`, { hint: 'pass --create-ca to make a lab CA, or run `keyprov ca create` / `keyprov ca import`' });
    const { createCa } = await import('../pki/ca-create.js');
    await createCa({ projectRoot: root, config: cfg, env: opts.env, log: opts.log });
  }

  const { openStore, storePath } = await import('../store/db.js');
  if (opts.dryRun) {
    // Nothing is written: no store yet means no board has a row yet.
    const db = existsSync(storePath(root)) ? openStore(storePath(root)) : undefined;
    try {
      return await planFleet(root, db && new FleetLedger(db), boards.map((b) => ({ id: b.id, thing: thing(b) })), again, parallel, started, opts.log);
    } finally {
      db?.close();
    }
  }
  const db = openStore(storePath(root));
  const ledger = new FleetLedger(db);
  const display = new FleetDisplay(
    opts.log,
    boards.map((b) => ({ id: b.id, thing: thing(b) })),
    STEP_NAMES,
  );
  const results = new Map<string, FleetBoardResult>();
  const plans: { id: string; from?: string }[] = [];
  try {
    for (const b of boards) {
      const c = ledger.claim(b.id, thing(b), { again: again.has(b.id) });
      const base = { board: b.id, thingName: thing(b), flags: c.row.flags, certificateSerial: c.row.certificateSerial, publicKeyFingerprint: c.row.publicKeyFingerprint, durationMs: 0 };
      if (c.outcome === 'done') {
        results.set(b.id, { ...base, outcome: 'already-done' });
        display.update(b.id, { state: 'skipped', note: `done before (certificate ${c.row.certificateSerial})` });
      } else if (c.outcome === 'busy') {
        results.set(b.id, { ...base, outcome: 'busy', error: { code: 'BOARD_BUSY', message: `board ${b.id} is being provisioned by pid ${c.row.ownerPid}` } });
        display.update(b.id, { state: 'skipped', note: `busy: pid ${c.row.ownerPid} is working on it` });
      } else {
        if (c.recoveredFrom) display.line(`[${b.id}] resuming: pid ${c.recoveredFrom} ended without finishing this board`);
        plans.push({ id: b.id, from: again.has(b.id) ? undefined : await resumePoint(root, c.row, ledger, b.id) });
      }
    }

    let keygen: KeygenImage | undefined;
    let keygenBuilds = 0;
    const needKeygen = plans.some((p) => p.from === undefined);
    if (needKeygen && !opts.signal?.aborted) {
      display.line('building the keygen image once for the fleet');
      try {
        keygen = await buildKeygenImage({ root, loaded: opts.loaded, log: boardLogger(path.join(root, '.keyprov', 'fleet', 'fleet.log'), opts.verbose), env: opts.env, signal: opts.signal, verbose: opts.verbose });
        keygenBuilds = 1;
        display.line(`keygen image built in ${(keygen.durationMs / 1000).toFixed(1)} s (${keygen.mode} mode; source restored): ${path.relative(root, keygen.image)}`);
      } catch (e) {
        // Without a keygen image no new board can start; boards that resume past capture still can.
        const err = isKeyprovError(e) ? { code: e.code, message: e.message, hint: e.hint } : { code: 'INTERNAL', message: String(e) };
        for (const p of plans.filter((q) => q.from === undefined)) {
          ledger.failed(p.id, `${err.code}: ${err.message}`, 'build-keygen');
          results.set(p.id, { board: p.id, thingName: things.get(p.id) ?? p.id, outcome: 'failed', flags: [], durationMs: 0, error: err });
          display.update(p.id, { state: 'failed', note: `keygen build failed: ${err.code}` });
        }
        display.line(`keygen build failed: ${err.message}${err.hint ? ` (${err.hint})` : ''}`);
      }
    }

    // Credential builds: per board out of tree in parallel (fleet.image), else one at a time in the tree.
    let inTree: Promise<unknown> = Promise.resolve();
    const switchFiles = (): string[] => {
      if (keygen) return [keygen.switchFile];
      const src = cfg.firmware?.provisioningSource;
      return src === undefined ? [] : Array.isArray(src) ? src : [src];
    };
    const buildCredential = async ({ boardId, generatedDir, signal }: { boardId: string; generatedDir: string; signal?: AbortSignal }): Promise<string> => {
      const { runBuild } = await import('../runners/build.js');
      const where = fleetBuild(root, cfg, boardId);
      const run = async () => {
        await waitForKeygenLock(root, signal);
        // In the tree, the previous board's objects are newer than this board's headers (all boards
        // render first, then build in turn): touch them so an mtime-based build sees them as changed.
        if (!where.outOfTree) {
          await touchAll(generatedDir);
          // ...and the keygen switch's file: the objects may be the keygen build's (other -D flags).
          for (const f of switchFiles()) await touch(f);
        }
        await runBuild({
          build: { ...cfg.build, image: where.image },
          phase: 'credential',
          board: boardId,
          cwd: root,
          verbose: opts.verbose,
          logFile: path.join(boardFiles(root, boardId).dir, 'build-credential.log'),
          env: { ...(opts.env ?? process.env), KEYPROV_CFLAGS: (keygen?.credentialCflags ?? []).join(' '), KEYPROV_GENERATED_DIR: generatedDir, KEYPROV_BUILD_DIR: where.dir ?? '' },
          signal,
        });
        if (!where.image) throw new UsageError('BUILD_IMAGE_UNSET', 'build.image (or fleet.image) is not set: the fleet needs the image file to flash', { hint: 'set build.image, or fleet.image for per-board builds' });
        if (where.outOfTree) return where.image;
        const copy = path.join(boardFiles(root, boardId).dir, 'credential-image');
        await fs.copyFile(where.image, copy);
        return copy;
      };
      if (where.outOfTree) return run();
      // In the tree, also keep a single `keyprov provision` from patching or building meanwhile.
      const locked = async () => {
        const { acquirePatchLock, releasePatchLock } = await import('../pipeline/patch-lock.js');
        await acquirePatchLock(root, 'fleet', { log: opts.log, signal });
        try {
          return await run();
        } finally {
          releasePatchLock(root);
        }
      };
      const mine = inTree.then(locked, locked);
      inTree = mine.catch(() => {});
      return mine;
    };

    const work = plans.filter((p) => !results.has(p.id));
    const worker = async () => {
      for (let p = work.shift(); p; p = work.shift()) await provisionOne(p.id, p.from);
    };
    const provisionOne = async (id: string, from: string | undefined) => {
      const t0 = Date.now();
      const seen = new Set<string>();
      display.update(id, { state: 'running', startedAt: t0, note: from ? `resuming from ${from}` : undefined });
      const onProgress = (r: ProvisionReport) => {
        for (const s of r.steps) {
          if (s.outcome === 'not-run' || s.durationMs === undefined || seen.has(s.name)) continue;
          seen.add(s.name);
          if (s.detail?.startsWith('skipped (--from')) continue;
          ledger.step(id, s.name, s.outcome, s.error ? `${s.error.code}: ${s.error.message}` : s.detail);
          if (s.name === 'capture' && s.outcome === 'ok' && r.publicKeyFingerprint) {
            const f = ledger.captured(id, r.publicKeyFingerprint);
            if (f.flags.includes('duplicate-key')) display.line(`[${id}] FLAG duplicate-key: the same public key was captured on ${f.otherBoards.join(', ')}`);
            if (f.flags.includes('key-changed')) display.line(`[${id}] FLAG key-changed: the board's key differs from the one its certificate was issued for`);
          }
          if (s.name === 'issue' && s.outcome === 'ok' && r.certificate && r.publicKeyFingerprint) {
            ledger.certified(id, { serial: r.certificate.serial, certificateFingerprint: r.certificate.fingerprint, keyFingerprint: r.publicKeyFingerprint });
          }
        }
        display.update(id, { steps: r.steps.map((s) => ({ ...s })), note: undefined });
      };
      const base = { board: id, thingName: things.get(id) ?? id, resumedFrom: from };
      try {
        const report = await provision({
          projectRoot: root,
          loaded: opts.loaded,
          boardId: id,
          from,
          keygenImage: keygen?.image ?? keygenImagePath(root),
          buildCredential,
          onProgress,
          awsClient: opts.awsClient,
          verbose: opts.verbose,
          env: opts.env,
          log: boardLogger(path.join(boardFiles(root, id).dir, 'fleet.log'), opts.verbose),
          signal: opts.signal,
        });
        ledger.done(id);
        const row = ledger.get(id)!;
        results.set(id, { ...base, outcome: 'ok', flags: row.flags, certificateSerial: row.certificateSerial, publicKeyFingerprint: report.publicKeyFingerprint ?? row.publicKeyFingerprint, durationMs: Date.now() - t0 });
        display.update(id, { state: 'ok', endedAt: Date.now(), note: `connected as ${things.get(id)} (certificate ${row.certificateSerial})` });
      } catch (e) {
        const err = isKeyprovError(e) ? { code: e.code, message: e.message, hint: e.hint } : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
        const interrupted = isKeyprovError(e) && e.exitCode === 130;
        if (err.code === 'KEY_CHANGED') ledger.keyChanged(id, err.message);
        const failedStep = ledger.get(id)?.lastStep;
        ledger.failed(id, `${err.code}: ${err.message}`, failedStep);
        const row = ledger.get(id)!;
        results.set(id, { ...base, outcome: interrupted ? 'interrupted' : 'failed', flags: row.flags, certificateSerial: row.certificateSerial, publicKeyFingerprint: row.publicKeyFingerprint, durationMs: Date.now() - t0, error: err });
        display.update(id, { state: 'failed', endedAt: Date.now(), note: `${err.code}: ${err.message.split('\n')[0]!.slice(0, 120)}` });
      }
    };
    if (!opts.signal?.aborted) await Promise.all(Array.from({ length: Math.min(parallel, work.length) }, worker));
    for (const p of work) {
      // Not started (interrupted before its turn): hand it back for the next run.
      ledger.failed(p.id, 'INTERRUPTED: not started', undefined);
      results.set(p.id, { board: p.id, thingName: things.get(p.id) ?? p.id, outcome: 'interrupted', flags: [], durationMs: 0 });
    }
    const list = ids.map((id) => results.get(id)!);
    return {
      boards: list,
      keygenBuilds,
      keygenBuildMs: keygen?.durationMs,
      parallel,
      durationMs: Date.now() - started,
      ok: list.every((r) => (r.outcome === 'ok' || r.outcome === 'already-done') && r.flags.length === 0),
    };
  } finally {
    display.close();
    db.close();
  }
}
