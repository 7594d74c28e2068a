// `keyprov doctor`: one line per check with what is wrong and how to fix it.
import path from 'node:path';
import { promises as fs, constants as fsc } from 'node:fs';
import { spawnSync } from 'node:child_process';
import type { CommandContext } from '../cli/context.js';
import type { LoadedConfig } from '../config/load.js';
import { resolveBoard } from '../config/boards.js';
import { DEFAULT_KEYGEN_MACROS } from '../config/sections/firmware.js';
import { patchJournalPath, stateDir } from '../project.js';
import { journalFile, pendingPatch } from '../source/journal.js';
import { describeHolder, patchLockHeldByOther } from '../pipeline/patch-lock.js';
import { portHolders } from '../serial/port-holders.js';
import { which, searchPath } from '../util/which.js';
import { isKeyprovError } from '../errors.js';
import { RUNNER_EXECUTABLES, RUNNERS } from '../runners/registry.js';
import { resolveExecutable } from '../runners/base.js';
import { boardFlashOptions } from '../runners/run.js';

export type CheckStatus = 'ok' | 'warn' | 'problem' | 'skip';
export interface CheckResult {
  check: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
}

/** The executable each flash runner drives (used to check it is installed); declared by the runners. */
export const RUNNER_TOOLS: Record<string, string | undefined> = RUNNER_EXECUTABLES;

/** The flasher a board will run: flash.options.executable, else what the runner's options name, else its default. */
function flashExecutable(runner: keyof typeof RUNNERS, options: Record<string, unknown>, configDir: string): string | undefined {
  if (typeof options.executable === 'string') return resolveExecutable(configDir, options.executable);
  if (runner === 'custom') return Array.isArray(options.argv) && options.argv.length ? resolveExecutable(configDir, String(options.argv[0])) : undefined;
  if (runner === 'vboard' && typeof options.vboard === 'string') return resolveExecutable(configDir, options.vboard);
  return RUNNER_TOOLS[runner];
}

function toolVersion(exe: string): string | undefined {
  const r = spawnSync(exe, ['--version'], { encoding: 'utf8', timeout: 5000 });
  const line = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim());
  return line?.trim().slice(0, 80);
}

function checkTool(check: string, exe: string | undefined, ctx: CommandContext, howToInstall: string): CheckResult {
  if (!exe) return { check, status: 'skip', detail: 'not configured' };
  const found = which(exe, ctx.env, ctx.cwd);
  if (!found) {
    return { check, status: 'problem', detail: `${exe} not found on PATH (${searchPath(ctx.env).join(':')})`, fix: howToInstall };
  }
  const v = toolVersion(found);
  return { check, status: 'ok', detail: `${found}${v ? ` (${v})` : ''}` };
}

async function readable(p: string): Promise<boolean> {
  return fs.access(p, fsc.R_OK).then(() => true, () => false);
}

/**
 * The keygen switch as `keyprov patch` sees it: the same C parser and selection (so a
 * copy under `#if 0` or in a comment is no finding, and an alias is followed), loaded
 * only here. A 1 is a problem unless a live provisioning run set it and restores it itself.
 */
async function switchCheck(root: string, files: string[], macros: string[]): Promise<CheckResult> {
  const check = 'provisioning source';
  let sw;
  try {
    const { discoverDefinitions } = await import('../source/find.js');
    const { selectSwitch } = await import('../source/select.js');
    sw = selectSwitch(await discoverDefinitions({ files, names: macros }), macros);
  } catch (e) {
    if (!isKeyprovError(e)) throw e;
    return { check, status: 'problem', detail: e.message, fix: e.hint ?? 'fix firmware.provisioningSource' };
  }
  const where = `${sw.file}:${sw.line}: #define ${sw.name} ${sw.value}${sw.aliases.length ? ` (via ${sw.aliases.map((a) => `${a.file}:${a.line}`).join(', ')})` : ''}`;
  if (sw.digit === 0) return { check, status: 'ok', detail: where };
  let journaled = false;
  try {
    journaled = pendingPatch(root).some((e) => e.file === journalFile(sw.file));
  } catch {
    /* an unreadable journal is reported by the keygen patch check */
  }
  const running = journaled ? patchLockHeldByOther(root) : undefined;
  if (running) return { check, status: 'warn', detail: `${where}: set for the keygen build by ${describeHolder(running)}, which restores it itself`, fix: 'wait for that run to finish' };
  return { check, status: 'problem', detail: `${sw.file} forces key generation (${where})`, fix: 'run `keyprov restore --only patch`, or set the define back to 0' };
}

export async function runChecks(ctx: CommandContext, opts: { board?: string } = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  results.push(
    major > 20 || (major === 20 && minor >= 19)
      ? { check: 'node', status: 'ok', detail: `Node ${process.versions.node}` }
      : { check: 'node', status: 'problem', detail: `Node ${process.versions.node} is too old`, fix: 'install Node 20.19 or newer' },
  );

  let loaded: LoadedConfig | undefined;
  try {
    loaded = await ctx.loadConfig();
    results.push(loaded ? { check: 'config', status: 'ok', detail: loaded.file } : { check: 'config', status: 'problem', detail: `no keyprov.config.yaml in ${ctx.cwd} or above`, fix: 'run `keyprov init` in the firmware tree' });
  } catch (e) {
    results.push({ check: 'config', status: 'problem', detail: isKeyprovError(e) ? e.message : String(e), fix: isKeyprovError(e) ? e.hint : undefined });
  }
  const root = await ctx.projectRoot().catch(() => ctx.cwd);
  const cfg = loaded?.config;

  // The provisioning source: present, and not left forcing key generation.
  const sources = cfg?.firmware?.provisioningSource;
  const sourceList = sources === undefined ? [] : Array.isArray(sources) ? sources : [sources];
  if (!cfg) results.push({ check: 'provisioning source', status: 'skip', detail: 'no config' });
  else if (sourceList.length === 0) results.push({ check: 'provisioning source', status: 'warn', detail: 'firmware.provisioningSource not set; the firmware tree will be searched', fix: 'set firmware.provisioningSource to speed up patching' });
  const present: string[] = [];
  for (const src of sourceList) {
    if (await readable(src)) present.push(src);
    else results.push({ check: 'provisioning source', status: 'problem', detail: `${src} is missing or unreadable`, fix: 'fix firmware.provisioningSource' });
  }
  if (present.length) results.push(await switchCheck(root, present, cfg?.firmware?.macros ?? DEFAULT_KEYGEN_MACROS));
  if (cfg?.firmware?.headerDir) {
    const ok = await fs.stat(cfg.firmware.headerDir).then((s) => s.isDirectory(), () => false);
    results.push(ok ? { check: 'header folder', status: 'ok', detail: cfg.firmware.headerDir } : { check: 'header folder', status: 'problem', detail: `${cfg.firmware.headerDir} is not a folder`, fix: 'fix firmware.headerDir' });
  }

  // Build and flash tools.
  const buildCmd = cfg?.build?.command;
  const buildExe = buildCmd === undefined ? undefined : Array.isArray(buildCmd) ? buildCmd[0] : buildCmd.trim().split(/\s+/)[0];
  results.push(checkTool('build tool', buildExe, ctx, 'install the build tool or fix build.command'));
  let board;
  try {
    board = cfg ? resolveBoard(cfg, opts.board) : undefined;
  } catch (e) {
    results.push({ check: 'board', status: 'problem', detail: isKeyprovError(e) ? e.message : String(e), fix: isKeyprovError(e) ? e.hint : undefined });
  }
  const runner = board?.flash.runner;
  const flashExe = runner ? flashExecutable(runner, (board && boardFlashOptions(board)) ?? {}, loaded?.dir ?? ctx.cwd) : undefined;
  const install = runner ? RUNNERS[runner].tool.install : undefined;
  results.push(checkTool(`flash tool${runner ? ` (${runner})` : ''}`, flashExe, ctx, install ?? `install ${flashExe ?? 'the flasher'} or fix flash.runner`));

  // Serial port.
  const port = board?.serial.port;
  if (!port) results.push({ check: 'serial port', status: 'skip', detail: 'serial.port not set' });
  else if (port === 'auto') results.push({ check: 'serial port', status: 'skip', detail: 'auto: chosen when the board is captured' });
  else {
    const present = await fs.stat(port).then(() => true, () => false);
    const rw = present && (await fs.access(port, fsc.R_OK | fsc.W_OK).then(() => true, () => false));
    const holders = rw ? await portHolders(port) : [];
    results.push(
      !present
        ? { check: 'serial port', status: 'problem', detail: `${port} does not exist`, fix: 'plug the board in, or fix serial.port (ls /dev/serial/by-id/)' }
        : !rw
          ? { check: 'serial port', status: 'problem', detail: `no read/write permission on ${port}`, fix: 'add yourself to the dialout group (sudo usermod -aG dialout $USER, then log in again) or add a udev rule' }
          : holders.length
            ? { check: 'serial port', status: 'warn', detail: `${port} is open in ${holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ')}`, fix: 'close that serial monitor before provisioning: two readers split the console output' }
            : { check: 'serial port', status: 'ok', detail: port },
    );
  }

  // CA.
  const sd = stateDir(root);
  const caCert = cfg?.pki?.ca?.cert ?? path.join(sd, 'ca.pem');
  const backend = cfg?.pki?.ca?.backend ?? 'file';
  const caKey = backend === 'file' ? (cfg?.pki?.ca?.key ?? path.join(sd, 'ca.key')) : undefined;
  const haveCert = await readable(caCert);
  const haveKey = caKey ? await readable(caKey) : true;
  results.push(
    haveCert && haveKey
      ? { check: 'CA', status: 'ok', detail: `${caCert}${caKey ? ` + ${caKey}` : ' (key in PKCS #11 token)'}` }
      : haveCert || haveKey
        ? { check: 'CA', status: 'problem', detail: `${haveCert ? caKey : caCert} is missing`, fix: 'restore the missing file, or create a new CA with `keyprov ca create --force`' }
        : { check: 'CA', status: 'warn', detail: `no CA yet (${caCert})`, fix: 'create one with `keyprov ca create`, or import one with `keyprov ca import`' },
  );

  // Leftover keygen patch.
  try {
    const files = pendingPatch(root).map((e) => e.file);
    const running = files.length ? patchLockHeldByOther(root) : undefined;
    results.push(
      !files.length
        ? { check: 'keygen patch', status: 'ok', detail: 'none pending' }
        : running
          ? { check: 'keygen patch', status: 'warn', detail: `applied to ${files.join(', ')} by ${describeHolder(running)}, which restores it itself`, fix: 'wait for that run to finish' }
          : { check: 'keygen patch', status: 'problem', detail: `still applied to ${files.join(', ')}`, fix: 'run `keyprov restore --only patch`' },
    );
  } catch (e) {
    results.push({ check: 'keygen patch', status: 'problem', detail: (e as Error).message, fix: isKeyprovError(e) && e.hint ? e.hint : `inspect ${patchJournalPath(root)}` });
  }
  return results;
}
