// The fleet's keygen image: built ONCE per run and copied aside, so every board is flashed
// from one file. In edit mode the source carries the keygen patch only for the length of
// that build (patch, build, restore right away); in guard mode it is never changed (the
// switch comes in as -D...=1). A lock file serialises keygen builds of concurrent keyprov
// processes, and their credential builds wait while another process's patch is in the tree.
import path from 'node:path';
import { promises as fs, openSync, closeSync, writeSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadedConfig } from '../config/load.js';
import { stateDir } from '../project.js';
import { UsageError, KeyprovError } from '../errors.js';
import type { Logger } from '../log.js';
import { processAlive } from './ledger.js';

export function fleetDir(root: string): string {
  return path.join(stateDir(root), 'fleet');
}

export function keygenImagePath(root: string): string {
  return path.join(fleetDir(root), 'keygen-image');
}

const lockPath = (root: string) => path.join(fleetDir(root), 'keygen.lock');

interface LockInfo {
  pid: number;
  host: string;
}

function readLock(root: string): LockInfo | undefined {
  try {
    return JSON.parse(readFileSync(lockPath(root), 'utf8')) as LockInfo;
  } catch {
    return undefined;
  }
}

/** Another live process holds the keygen lock (its patch may be in the tree). */
export function keygenLockHeldByOther(root: string): LockInfo | undefined {
  const l = readLock(root);
  if (!l || l.pid === process.pid) return undefined;
  return l.host !== hostname() || processAlive(l.pid) ? l : undefined;
}

/** Waits while another process builds its keygen image (edit mode patches the shared source). */
export async function waitForKeygenLock(root: string, signal?: AbortSignal, log?: Logger): Promise<void> {
  let said = false;
  while (keygenLockHeldByOther(root)) {
    if (signal?.aborted) throw new KeyprovError('INTERRUPTED', 'interrupted while waiting for another keygen build', { exitCode: 130 });
    if (!said) log?.info(`waiting for the keygen build of pid ${readLock(root)?.pid} (its patch is in the source tree)`);
    said = true;
    await sleep(100);
  }
}

async function acquireKeygenLock(root: string, signal?: AbortSignal, log?: Logger): Promise<void> {
  mkdirSync(fleetDir(root), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(lockPath(root), 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname() }));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readLock(root);
    if (!keygenLockHeldByOther(root)) {
      // Left by a dead process (or half-written): take it over. O_EXCL on the retry keeps two
      // takers apart; remove only the lock seen dead, not one another taker wrote meanwhile.
      const now = readLock(root);
      if (!now || (now.pid === seen?.pid && now.host === seen?.host)) rmSync(lockPath(root), { force: true });
      continue;
    }
    await waitForKeygenLock(root, signal, log);
  }
}

function releaseKeygenLock(root: string): void {
  if (readLock(root)?.pid === process.pid) rmSync(lockPath(root), { force: true });
}

export interface KeygenImageOptions {
  root: string;
  loaded: LoadedConfig;
  log: Logger;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  verbose?: boolean;
}

export interface KeygenImage {
  image: string;
  mode: 'edit' | 'guard';
  /** The -D flags of the credential build in guard mode (empty in edit mode). */
  credentialCflags: string[];
  /** The file that defines the keygen switch. */
  switchFile: string;
  durationMs: number;
}

/** Patch (or guard), build once, restore, copy the image to .keyprov/fleet/keygen-image. */
export async function buildKeygenImage(opts: KeygenImageOptions): Promise<KeygenImage> {
  const { root, loaded, log } = opts;
  const cfg = loaded.config;
  if (!cfg.build?.command) throw new UsageError('BUILD_NOT_CONFIGURED', 'build.command is not set', { hint: 'set build.command in keyprov.config.yaml' });
  const started = performance.now();
  const mode = cfg.provision?.patchMode ?? 'edit';
  const fw = cfg.firmware;
  const sources = fw?.provisioningSource === undefined ? undefined : Array.isArray(fw.provisioningSource) ? fw.provisioningSource : [fw.provisioningSource];
  const { applyPhase } = await import('../source/apply.js');
  const { restoreAll } = await import('../source/restore.js');
  const { acquirePatchLock, releasePatchLock } = await import('../pipeline/patch-lock.js');
  const { runBuild } = await import('../runners/build.js');
  const { guardCflags } = await import('../source/guard.js');
  const build = fleetBuild(root, cfg, 'keygen', path.join(fleetDir(root), 'keygen-build'));
  await acquireKeygenLock(root, opts.signal, log);
  try {
    if (mode === 'edit') await acquirePatchLock(root, 'fleet', { log, signal: opts.signal });
    let patched = mode === 'edit'; // restore even if applyPhase fails half way
    try {
      const patch = await applyPhase({
        projectRoot: root,
        sources,
        searchRoot: fw?.root ?? root,
        macros: fw?.macros,
        phase: 'keygen',
        mode,
        keygenDelaySeconds: cfg.provision?.keygenDelay,
        log,
      });
      await fs.mkdir(fleetDir(root), { recursive: true });
      // In the tree, the objects may come from a credential build with the same sources and
      // other -D flags, which make cannot see: touch the switch's file so it is recompiled.
      if (!build.outOfTree) await touch(patch.file);
      await runBuild({
        build: { ...cfg.build, image: build.image },
        phase: 'keygen',
        cwd: root,
        log,
        verbose: opts.verbose,
        logFile: path.join(fleetDir(root), 'build-keygen.log'),
        env: { ...(opts.env ?? process.env), KEYPROV_CFLAGS: patch.cflags.join(' '), KEYPROV_GENERATED_DIR: '', KEYPROV_BUILD_DIR: build.dir ?? '' },
        signal: opts.signal,
      });
      if (!build.image) throw new UsageError('BUILD_IMAGE_UNSET', 'build.image (or fleet.image) is not set: the fleet needs the image file to flash', { hint: 'set build.image, or fleet.image for per-board builds' });
      // Restore before anything else: the tree is clean again while the boards are flashed.
      if (patched) {
        await restoreAll({ projectRoot: root, log });
        patched = false;
      }
      const out = keygenImagePath(root);
      const tmp = `${out}.${process.pid}.tmp`;
      await fs.copyFile(build.image, tmp);
      await fs.rename(tmp, out);
      return { image: out, mode, credentialCflags: mode === 'guard' ? guardCflags(patch.macro, 'credential') : [], switchFile: patch.file, durationMs: Math.round(performance.now() - started) };
    } finally {
      if (patched) await restoreAll({ projectRoot: root, log });
      if (mode === 'edit') releasePatchLock(root);
    }
  } finally {
    releaseKeygenLock(root);
  }
}

/** Newer mtime, same bytes: an mtime-based build recompiles what depends on the file. */
export async function touch(file: string): Promise<void> {
  const now = new Date();
  await fs.utimes(file, now, now).catch(() => {});
}

const expand = (template: string, vars: Record<string, string>) => template.replace(/\{\{\s*(\w+)\s*\}\}/g, (m, k: string) => vars[k] ?? m);

/** Where a build of this fleet goes: per board (or 'keygen') when fleet.image is set, else build.image in the tree. */
export function fleetBuild(root: string, cfg: LoadedConfig['config'], id: string, dirOverride?: string): { dir?: string; image?: string; outOfTree: boolean } {
  const f = cfg.fleet;
  if (!f?.image) return { image: cfg.build?.image, outOfTree: false };
  const dir = dirOverride ?? path.resolve(root, expand(f.buildDir ?? '.keyprov/boards/{{id}}/build', { id }));
  return { dir, image: path.resolve(root, expand(f.image, { id, buildDir: dir })), outOfTree: true };
}
