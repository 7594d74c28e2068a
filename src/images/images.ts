// Per-board credential images for firmware CI: for every board with an issued certificate,
// render its headers into build/<board>/generated, build out of tree in build/<board>, and
// collect dist/<board>/<image> with a manifest. The keygen switch is a compile definition
// (guard mode), so no build mutates the shared source and builds can run side by side.
import path from 'node:path';
import os from 'node:os';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, promises as fs } from 'node:fs';
import { KeyprovError, ToolError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KeyprovConfig } from '../config/schema.js';
import { resolveBoard } from '../config/boards.js';
import { boardFiles, stateDir } from '../project.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { runBuild } from '../runners/build.js';
import { formatCommand } from '../runners/exec.js';
import { buildTool, keyprovVersion, versionLine } from '../runners/tool-versions.js';
import { applyPhase } from '../source/index.js';
import { renderHeaders } from '../render/render.js';

export interface ImagesOptions {
  projectRoot: string;
  config: KeyprovConfig;
  /** 'all' (default): every board with .keyprov/boards/<id>/device-cert.pem; or these ids. */
  boards?: 'all' | string[];
  /** Builds at once. Default: the number of CPUs, at most the number of boards. */
  jobs?: number;
  /** Default <root>/dist. */
  outDir?: string;
  /** Per-board build folders go in here. Default <root>/build. */
  buildDir?: string;
  /** The image, relative to the board's build folder. Default: the file name of build.image. */
  image?: string;
  log: Logger;
  dryRun?: boolean;
  verbose?: boolean;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface BoardManifest {
  board: string;
  thingName: string;
  image: { file: string; sha256: string; bytes: number };
  certificate: { file: string; serial: string; subject: string; notAfter: string; sha256Fingerprint: string };
  publicKey: { sha256Fingerprint: string };
  headers: { file: string; sha256: string }[];
  build: { command: string; cwd: string; env: Record<string, string>; durationMs: number; log: string };
  tools: ToolVersions;
  builtAt: string;
}

export interface ToolVersions {
  keyprov: string;
  node: string;
  /** First line of `<build tool> --version`, when it answers. */
  build?: string;
  /** First line of `$CC --version` (else `cc --version`), when it answers. */
  compiler?: string;
}

export interface ImagesResult {
  outDir: string;
  manifest: string;
  boards: BoardManifest[];
  failed: { board: string; code: string; message: string }[];
  cflags: string[];
  dryRun: boolean;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export async function buildImages(opts: ImagesOptions): Promise<ImagesResult> {
  const { projectRoot: root, config, log } = opts;
  const build = config.build;
  if (!build?.command) {
    throw new UsageError('BUILD_NOT_CONFIGURED', 'build.command is not set', {
      hint: 'set build.command; it runs once per board with KEYPROV_BUILD_DIR, KEYPROV_GENERATED_DIR and KEYPROV_CFLAGS in its environment',
    });
  }
  const imageRel = opts.image ?? (build.image ? path.basename(build.image) : undefined);
  if (!imageRel) {
    throw new UsageError('IMAGES_NO_IMAGE', 'keyprov images does not know which file the build produces', { hint: 'set build.image (its file name is looked for in build/<board>/), or pass --image PATH relative to build/<board>' });
  }
  const outDir = path.resolve(root, opts.outDir ?? 'dist');
  const buildRoot = path.resolve(root, opts.buildDir ?? 'build');
  const boards = selectBoards(root, config, opts.boards ?? 'all', log);

  // Once for all boards: the switch becomes `#ifndef NAME / #define NAME 0` (safe to commit),
  // and each build gets the phase as -D.
  const fw = config.firmware;
  let cflags: string[] = [];
  try {
    const guard = await applyPhase({
      projectRoot: root,
      sources: fw?.provisioningSource ? [fw.provisioningSource].flat() : undefined,
      searchRoot: fw?.root ?? root,
      macros: fw?.macros,
      phase: 'credential',
      mode: 'guard',
      dryRun: opts.dryRun,
      log,
    });
    cflags = guard.cflags;
  } catch (e) {
    // A firmware without developer-mode key provisioning has no switch to set: its images
    // are credential images anyway. Anything else (ambiguous, a pending keygen patch) stops here.
    if ((e as KeyprovError).code !== 'PATCH_DEFINITION_NOT_FOUND') throw e;
    log.warn(`no keygen switch found (${(e as Error).message}); building without a phase definition`);
  }
  const tools = await toolVersions(build.command, build.cwd ?? root, opts);

  const jobs = Math.max(1, Math.min(opts.jobs ?? os.cpus().length, boards.length));
  log.info(`building ${boards.length} image${boards.length === 1 ? '' : 's'} (${boards.join(', ')}), ${jobs} at a time`);
  const done: BoardManifest[] = [];
  const failed: ImagesResult['failed'] = [];
  const queue = [...boards];
  let tail: Promise<unknown> = Promise.resolve();
  const oneAtATime = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => undefined);
    return run;
  };
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          const m = await buildBoard(id, { ...opts, outDir, buildRoot, imageRel, cflags, tools, oneAtATime });
          if (m) done.push(m);
        } catch (e) {
          const err = e as KeyprovError;
          failed.push({ board: id, code: err.code ?? 'ERROR', message: err.message });
          log.error(`${id}: ${err.message}`);
        }
      }
    }),
  );
  done.sort((a, b) => a.board.localeCompare(b.board));
  const manifest = path.join(outDir, 'manifest.json');
  if (!opts.dryRun) {
    const top = {
      keyprov: tools.keyprov,
      createdAt: new Date().toISOString(),
      cflags,
      boards: done.map((m) => ({
        board: m.board,
        thingName: m.thingName,
        image: path.join(m.board, m.image.file),
        sha256: m.image.sha256,
        certificateSerial: m.certificate.serial,
        certificateSha256Fingerprint: m.certificate.sha256Fingerprint,
        manifest: path.join(m.board, 'manifest.json'),
      })),
      failed,
    };
    await fs.mkdir(outDir, { recursive: true });
    await writeFileAtomic(manifest, JSON.stringify(top, null, 2) + '\n');
  }
  return { outDir, manifest, boards: done, failed, cflags, dryRun: !!opts.dryRun };
}

/** Boards with an issued certificate: from boards[] when the config lists any, else from .keyprov/boards/. */
function selectBoards(root: string, config: KeyprovConfig, which: 'all' | string[], log: Logger): string[] {
  const hasCert = (id: string) => existsSync(boardFiles(root, id).certificate);
  if (which !== 'all') {
    if (!which.length) throw new UsageError('IMAGES_NO_BOARDS', '--boards names no board', { hint: 'pass --boards all or a comma-separated list of ids' });
    for (const id of which) {
      resolveBoard(config, id); // unknown ids fail here, with the list of known ones
      if (!hasCert(id)) {
        throw new UsageError('IMAGES_NO_CERTIFICATE', `board "${id}" has no certificate (${boardFiles(root, id).certificate})`, { hint: `issue it first: keyprov issue --board ${id}` });
      }
    }
    return [...new Set(which)];
  }
  const listed = (config.boards ?? []).map((b) => b.id);
  let ids: string[];
  if (listed.length) {
    ids = listed.filter(hasCert);
    const without = listed.filter((id) => !hasCert(id));
    if (without.length) log.warn(`no certificate yet, skipped: ${without.join(', ')}`);
  } else {
    let names: string[] = [];
    try {
      names = readdirSync(path.join(stateDir(root), 'boards'));
    } catch {
      /* no boards folder yet */
    }
    ids = names.filter((n) => !n.startsWith('.') && hasCert(n)).sort();
  }
  if (!ids.length) {
    throw new UsageError('IMAGES_NO_BOARDS', 'no board has an issued certificate (.keyprov/boards/<id>/device-cert.pem)', { hint: 'provision the boards first (keyprov provision --board ID), or issue their certificates with keyprov issue' });
  }
  return ids;
}

interface BoardJob extends ImagesOptions {
  outDir: string;
  buildRoot: string;
  imageRel: string;
  cflags: string[];
  tools: ToolVersions;
  /** Renders run one at a time: they share the render cache in .keyprov/ (read-modify-write). */
  oneAtATime: <T>(fn: () => Promise<T>) => Promise<T>;
}

async function buildBoard(id: string, o: BoardJob): Promise<BoardManifest | undefined> {
  const { projectRoot: root, config, log } = o;
  const board = resolveBoard(config, id);
  const files = boardFiles(root, id);
  const cert = readCertificate(files.certificate);
  // The certificate must carry the key captured from this board (when keyprov captured it).
  if (existsSync(files.publicKeyDer)) {
    const captured = sha256(readFileSync(files.publicKeyDer));
    if (captured !== cert.publicKeyFingerprint) {
      throw new KeyprovError('IMAGES_KEY_MISMATCH', `${files.certificate} is not for the key captured from board "${id}" (${files.publicKeyDer})`, {
        hint: `issue a certificate for the captured key: keyprov issue --board ${id} --force`,
      });
    }
  }
  const buildDir = path.join(o.buildRoot, id);
  const generatedDir = path.join(buildDir, 'generated');
  const rendered = await o.oneAtATime(() => renderHeaders({ projectRoot: root, config, boardId: id, outDir: generatedDir, dryRun: o.dryRun, log }));
  const env = { ...config.build?.env, KEYPROV_BUILD_DIR: buildDir, KEYPROV_GENERATED_DIR: generatedDir, KEYPROV_CFLAGS: o.cflags.join(' ') };
  const logFile = path.join(buildDir, 'build.log');
  (o.dryRun ? log.info.bind(log) : log.debug.bind(log))(`${id}: ${Object.entries(env).filter(([k]) => k.startsWith('KEYPROV_')).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (!o.dryRun) await fs.mkdir(buildDir, { recursive: true });
  const b = await runBuild({
    // build.image names the default build's output; this build's image is checked below.
    build: { ...config.build, image: undefined, env },
    phase: 'credential',
    board: id,
    cwd: root,
    log,
    dryRun: o.dryRun,
    verbose: o.verbose,
    logFile: o.dryRun ? undefined : logFile,
    env: o.env,
    signal: o.signal,
  });
  if (o.dryRun) return undefined;
  const image = path.join(buildDir, o.imageRel);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(image);
  } catch {
    throw new ToolError('BUILD_NO_IMAGE', `the build for board "${id}" finished but ${image} does not exist`, {
      hint: 'the build must write into $KEYPROV_BUILD_DIR; or pass --image PATH (relative to build/<board>) naming the file it produces',
    });
  }
  const dest = path.join(o.outDir, id);
  await fs.mkdir(dest, { recursive: true });
  const imageName = path.basename(o.imageRel);
  await writeFileAtomic(path.join(dest, imageName), bytes, { mode: (await fs.stat(image)).mode & 0o777 });
  const headers = await Promise.all(rendered.files.map(async (f) => ({ file: path.relative(root, f.path), sha256: sha256(await fs.readFile(f.path)) })));
  const manifest: BoardManifest = {
    board: id,
    thingName: board.thingName ?? id,
    image: { file: imageName, sha256: sha256(bytes), bytes: bytes.length },
    certificate: { file: path.relative(root, files.certificate), serial: cert.serial, subject: cert.subject, notAfter: cert.notAfter, sha256Fingerprint: cert.fingerprint },
    publicKey: { sha256Fingerprint: cert.publicKeyFingerprint },
    headers,
    build: { command: b.command, cwd: path.relative(root, config.build?.cwd ?? root) || '.', env, durationMs: b.durationMs, log: path.relative(root, logFile) },
    tools: o.tools,
    builtAt: new Date().toISOString(),
  };
  await writeFileAtomic(path.join(dest, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  log.ok(`${id}: ${path.relative(root, path.join(dest, imageName))} (sha256 ${manifest.image.sha256.slice(0, 16)}..., certificate serial ${cert.serial})`);
  return manifest;
}

function readCertificate(file: string) {
  let x: X509Certificate;
  try {
    x = new X509Certificate(readFileSync(file));
  } catch (e) {
    throw new UsageError('IMAGES_BAD_CERTIFICATE', `cannot read the device certificate ${file}: ${(e as Error).message}`, { hint: 'issue it again with keyprov issue --board ID --force' });
  }
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return {
    serial: x.serialNumber.toUpperCase(),
    subject: x.subject.replace(/\n/g, ', '),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint: sha256(x.raw),
    publicKeyFingerprint: sha256(spki),
  };
}

async function toolVersions(command: string | string[], cwd: string, o: ImagesOptions): Promise<ToolVersions> {
  const v: ToolVersions = { keyprov: keyprovVersion(), node: process.version };
  if (o.dryRun) return v;
  const first = buildTool(command);
  const env = o.env ?? process.env;
  const ask = (exe: string) => versionLine(exe, { cwd, env });
  v.build = await ask(first);
  v.compiler = await ask(env.CC || 'cc');
  o.log.debug(`tool versions: ${formatCommand([first])} ${v.build ?? '?'}; compiler ${v.compiler ?? '?'}`);
  return v;
}
