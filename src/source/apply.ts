// The two phases. keygen: set the switch to 1 (and optionally the keygen delay), journal
// first, then write. credential: restore whatever the journal holds, then make sure the
// switch reads 0. guard: wrap the definition once in #ifndef so the phase becomes -D.
import { readFileSync, statSync } from 'node:fs';
import { DEFAULT_KEYGEN_MACROS } from '../config/sections/firmware.js';
import { KeyprovError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import { writeFileAtomicSync } from './atomic-sync.js';
import { discoverDefinitions, type Discovery } from './find.js';
import { guardCflags, guardDefinition, type Phase } from './guard.js';
import { journalEntryFor, journalFile, readJournal, saveBackup, sha256, writeJournal, type EditKind } from './journal.js';
import { currentSha, restoreAll, type RestoreResult } from './restore.js';
import { DELAY_MACRO, selectDelay, selectSwitch, type SwitchDefinition } from './select.js';
import { spliceBytes } from './value.js';

export type PatchMode = 'edit' | 'guard';

export interface ApplyPhaseOptions {
  projectRoot: string;
  /** Files to look in (--source / firmware.provisioningSource). */
  sources?: string[];
  /** Tree to search when `sources` is empty (firmware.root, else the project root). */
  searchRoot?: string;
  /** Macro names (default: keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR, FORCE_GENERATE_NEW_KEY_PAIR). */
  macros?: string[];
  phase: Phase;
  /** edit (default): change the value in place. guard: rewrite once into #ifndef form; the phase becomes a -D flag. */
  mode?: PatchMode;
  /** keygen only: also set DELAY_BEFORE_KEY_PAIR_GENERATION_SECS (restored with the rest). */
  keygenDelaySeconds?: number;
  dryRun?: boolean;
  log: Logger;
}

export interface PatchChange {
  file: string;
  line: number;
  macro: string;
  kind: EditKind | 'guard';
  from: string;
  to: string;
}

export interface ApplyPhaseResult {
  phase: Phase;
  mode: PatchMode;
  /** The switch: where it is defined and the value it has after this call. */
  macro: string;
  file: string;
  line: number;
  value: string;
  changes: PatchChange[];
  filesChanged: string[];
  /** Compile definitions to pass to the build (guard mode, or a guarded source). */
  cflags: string[];
  /** credential phase: what the journal restore did. */
  restored?: RestoreResult;
  searchedFiles: number;
  candidates: string[];
}

/** Test-only: stop here so a test can SIGKILL the real CLI at a precise point. */
async function pauseForTest(step: 'journal' | 'write', log: Logger): Promise<void> {
  if (process.env.KEYPROV_TEST_PAUSE_AFTER !== step) return;
  log.write(`keyprov-test: paused after ${step}\n`);
  await new Promise<never>(() => setInterval(() => {}, 1 << 30));
}

async function discover(opts: ApplyPhaseOptions, names: string[]): Promise<Discovery> {
  return discoverDefinitions({ files: opts.sources, searchRoot: opts.searchRoot ?? opts.projectRoot, names });
}

function macroNames(opts: { macros?: string[] }): string[] {
  return opts.macros?.length ? opts.macros : DEFAULT_KEYGEN_MACROS;
}

interface PlannedFile {
  file: string;
  before: Buffer;
  after: Buffer;
  edits: PatchChange[];
}

interface Splice {
  at: number;
  end: number;
  /** Bytes expected at [at, end) (the file is read again before writing). */
  old: string;
  text: string;
  change: PatchChange;
}

function writeFailed(file: string, e: unknown): KeyprovError {
  return new KeyprovError('PATCH_WRITE_FAILED', `cannot write ${file}: ${(e as Error).message}; nothing was changed`, {
    hint: 'keyprov replaces the file by rename, so its folder must be writable by you (the file itself may be read-only)',
    cause: e,
  });
}

/** Group splices by file and apply them from the highest offset down, so offsets stay valid. */
function planFiles(splices: Splice[]): PlannedFile[] {
  const byFile = new Map<string, Splice[]>();
  for (const s of splices) byFile.set(s.change.file, [...(byFile.get(s.change.file) ?? []), s]);
  return [...byFile].map(([file, list]) => {
    const before: Buffer = readFileSync(file);
    let after: Buffer = before;
    for (const s of [...list].sort((a, b) => b.at - a.at)) {
      if (before.subarray(s.at, s.end).toString('latin1') !== s.old) {
        throw new KeyprovError('PATCH_SOURCE_CHANGED', `${file} changed while keyprov was reading it; nothing was written`, { hint: 'run the command again' });
      }
      after = spliceBytes(after, s.at, s.end, s.text);
    }
    return { file, before, after, edits: list.map((s) => s.change) };
  });
}

/** Journal every planned file, then write them. The journal always lands first. */
async function writeJournaled(root: string, plans: PlannedFile[], log: Logger): Promise<void> {
  const journal = readJournal(root);
  for (const p of plans) {
    let entry = journalEntryFor(journal, p.file);
    if (!entry) {
      entry = { file: journalFile(p.file), originalSha256: sha256(p.before), patchedSha256: '', backup: saveBackup(root, p.before), mode: statSync(p.file).mode & 0o7777, edits: [], patchedAt: new Date().toISOString() };
      journal.entries.push(entry);
    }
    entry.patchedSha256 = sha256(p.after);
    for (const c of p.edits) {
      // Keep the value from before the FIRST patch: that is what restore must put back.
      if (!entry.edits.some((e) => e.macro === c.macro)) entry.edits.push({ kind: c.kind as EditKind, macro: c.macro, line: c.line, from: c.from, to: c.to });
      else entry.edits = entry.edits.map((e) => (e.macro === c.macro ? { ...e, to: c.to } : e));
    }
  }
  const previous = readJournal(root);
  writeJournal(root, journal);
  await pauseForTest('journal', log);
  const written: PlannedFile[] = [];
  try {
    for (const p of plans) {
      writeFileAtomicSync(p.file, p.after);
      written.push(p);
    }
  } catch (e) {
    // The failed file is untouched (atomic write); put back the ones already written, then the journal.
    for (const p of written) writeFileAtomicSync(p.file, p.before);
    writeJournal(root, previous);
    throw writeFailed(plans[written.length].file, e);
  }
  await pauseForTest('write', log);
}

function resultOf(opts: ApplyPhaseOptions, mode: PatchMode, sw: SwitchDefinition, value: string, changes: PatchChange[], disc: Discovery, extra: Partial<ApplyPhaseResult> = {}): ApplyPhaseResult {
  return {
    phase: opts.phase,
    mode,
    macro: sw.name,
    file: sw.file,
    line: sw.line,
    value,
    changes,
    filesChanged: opts.dryRun ? [] : [...new Set(changes.map((c) => c.file))],
    cflags: mode === 'guard' || sw.guarded ? guardCflags(sw.name, opts.phase) : [],
    searchedFiles: disc.searched.length,
    candidates: disc.candidates,
    ...extra,
  };
}

const setDigit = (value: string, sw: SwitchDefinition, digit: 0 | 1) => {
  const i = sw.digitAt - sw.valueStart;
  return value.slice(0, i) + digit + value.slice(i + 1);
};

/** Put the source in the state the given build phase needs. */
export async function applyPhase(opts: ApplyPhaseOptions): Promise<ApplyPhaseResult> {
  const mode = opts.mode ?? 'edit';
  const names = macroNames(opts);
  const { log } = opts;
  if (opts.keygenDelaySeconds !== undefined && (!Number.isInteger(opts.keygenDelaySeconds) || opts.keygenDelaySeconds < 0)) {
    throw new UsageError('DELAY_INVALID', `--keygen-delay must be a whole number of seconds, got ${opts.keygenDelaySeconds}`, { hint: 'e.g. --keygen-delay 10' });
  }
  if (mode === 'guard') return applyGuard(opts, names);

  let restored: RestoreResult | undefined;
  if (opts.phase === 'credential') {
    if (opts.keygenDelaySeconds !== undefined) log.warn('--keygen-delay applies to the keygen build only; ignored');
    if (readJournal(opts.projectRoot).entries.length) restored = await restoreAll({ projectRoot: opts.projectRoot, log, dryRun: opts.dryRun });
  }

  if (opts.phase === 'keygen') {
    // A journaled file changed since keyprov wrote it (edited by hand, or a crash before the
    // write) has a stale backup: put its values back first so the journal describes the file as it is.
    const stale = readJournal(opts.projectRoot).entries.filter((e) => currentSha(e.file) !== e.patchedSha256).map((e) => e.file);
    if (stale.length && !opts.dryRun) {
      log.info(`${stale.join(', ')} changed since the last keygen patch; restoring before patching again`);
      await restoreAll({ projectRoot: opts.projectRoot, log, onlyFiles: stale });
    }
  }

  const wantDelay = opts.phase === 'keygen' && opts.keygenDelaySeconds !== undefined;
  const disc = await discover(opts, wantDelay ? [...names, DELAY_MACRO] : names);
  const sw = selectSwitch(disc, names, opts.sources?.length ? undefined : (opts.searchRoot ?? opts.projectRoot));
  for (const a of sw.aliases) log.debug(`${a.file}:${a.line}: ${a.name} forwards to ${sw.name}`);
  const target: 0 | 1 = opts.phase === 'keygen' ? 1 : 0;
  const splices: Splice[] = [];

  if (sw.digit !== target) {
    const change: PatchChange = { file: sw.file, line: sw.line, macro: sw.name, kind: 'keygen', from: sw.value, to: setDigit(sw.value, sw, target) };
    splices.push({ at: sw.digitAt, end: sw.digitAt + 1, old: String(sw.digit), text: String(target), change });
  } else if (opts.phase === 'keygen' && !journalEntryFor(readJournal(opts.projectRoot), sw.file)) {
    log.warn(`${sw.file}:${sw.line}: ${sw.name} is already 1 (not set by keyprov); \`keyprov patch --phase credential\` will set it to 0`);
  }
  if (wantDelay) {
    const d = selectDelay(disc, opts.sources?.length ? undefined : (opts.searchRoot ?? opts.projectRoot));
    if (d.seconds !== opts.keygenDelaySeconds) {
      const to = d.value.slice(0, d.digitsAt - d.valueStart) + opts.keygenDelaySeconds + d.value.slice(d.digitsEnd - d.valueStart);
      splices.push({ at: d.digitsAt, end: d.digitsEnd, old: d.value.slice(d.digitsAt - d.valueStart, d.digitsEnd - d.valueStart), text: String(opts.keygenDelaySeconds), change: { file: d.file, line: d.line, macro: DELAY_MACRO, kind: 'delay', from: d.value, to } });
    }
  }
  const changes = splices.map((s) => s.change);
  for (const c of changes) log.info(`${opts.dryRun ? 'would set' : 'set'} ${c.macro} ${c.from} -> ${c.to} at ${c.file}:${c.line}`);
  if (!opts.dryRun && splices.length) {
    const files = planFiles(splices);
    if (opts.phase === 'keygen') await writeJournaled(opts.projectRoot, files, log);
    else
      for (const f of files) {
        try {
          writeFileAtomicSync(f.file, f.after); // 0 is the safe state: nothing to journal
        } catch (e) {
          throw writeFailed(f.file, e);
        }
      }
  }
  if (!changes.length) log.info(`${sw.name} is already ${target} at ${sw.file}:${sw.line}; nothing to change`);
  const value = changes.find((c) => c.kind === 'keygen')?.to ?? sw.value;
  return resultOf(opts, mode, sw, value, changes, disc, restored ? { restored } : {});
}

async function applyGuard(opts: ApplyPhaseOptions, names: string[]): Promise<ApplyPhaseResult> {
  const { log } = opts;
  if (opts.keygenDelaySeconds !== undefined) throw new UsageError('DELAY_WITH_GUARD', '--keygen-delay cannot be combined with --mode guard', { hint: 'pass the delay as a compile definition too, e.g. -DDELAY_BEFORE_KEY_PAIR_GENERATION_SECS=10, if the source guards it' });
  const disc = await discover(opts, names);
  const sw = selectSwitch(disc, names, opts.sources?.length ? undefined : (opts.searchRoot ?? opts.projectRoot));
  if (sw.guarded) {
    log.info(`${sw.name} is already guarded at ${sw.file}:${sw.line}; nothing to change`);
    return resultOf(opts, 'guard', sw, sw.value, [], disc);
  }
  if (journalEntryFor(readJournal(opts.projectRoot), sw.file)) {
    throw new KeyprovError('PATCH_PENDING', `${sw.file} carries a keygen patch that is not restored yet`, { hint: 'run `keyprov restore` first, then `keyprov patch --mode guard`' });
  }
  if (sw.digit === 1) log.warn(`${sw.file}:${sw.line}: ${sw.name} was 1; the guarded default is 0 (the keygen build passes -D${sw.name}=1)`);
  const before = readFileSync(sw.file);
  const after = guardDefinition(before, sw);
  const change: PatchChange = { file: sw.file, line: sw.line, macro: sw.name, kind: 'guard', from: sw.value, to: setDigit(sw.value, sw, 0) };
  log.info(`${opts.dryRun ? 'would wrap' : 'wrapped'} ${sw.name} at ${sw.file}:${sw.line} in #ifndef ${sw.name} (default 0)`);
  if (!opts.dryRun) {
    try {
      writeFileAtomicSync(sw.file, after);
    } catch (e) {
      throw writeFailed(sw.file, e);
    }
  }
  return resultOf(opts, 'guard', { ...sw, guarded: true, line: sw.line + 1 }, change.to, [change], disc);
}

/** Compile definitions for a phase, after checking that the source is guarded (otherwise -D would be silently overridden). */
export async function phaseCflags(opts: Omit<ApplyPhaseOptions, 'mode' | 'dryRun' | 'keygenDelaySeconds' | 'log'>): Promise<{ macro: string; file: string; line: number; cflags: string[] }> {
  const names = macroNames(opts);
  const disc = await discoverDefinitions({ files: opts.sources, searchRoot: opts.searchRoot ?? opts.projectRoot, names });
  const sw = selectSwitch(disc, names, opts.sources?.length ? undefined : (opts.searchRoot ?? opts.projectRoot));
  if (!sw.guarded) {
    throw new UsageError('PATCH_NOT_GUARDED', `${sw.file}:${sw.line}: ${sw.name} is not wrapped in #ifndef ${sw.name}, so -D${sw.name}=1 would be overridden by the source`, {
      hint: 'run `keyprov patch --mode guard` once (it is safe to commit), then use --print-cflags',
    });
  }
  return { macro: sw.name, file: sw.file, line: sw.line, cflags: guardCflags(sw.name, opts.phase) };
}
