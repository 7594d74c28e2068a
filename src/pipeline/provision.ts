// `keyprov provision`: the two-phase flow of DESIGN.md as named, resumable steps.
// The source is restored by an `always` step, so a failure, SIGINT or SIGTERM never
// leaves the keygen patch behind; after a SIGKILL the patch lock lets the next keyprov
// command restore it (see patch-lock.ts).
import path from 'node:path';
import { promises as fs, existsSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import { resolveBoard, type ResolvedBoard } from '../config/boards.js';
import { boardFiles, caFiles } from '../project.js';
import { UsageError, VerificationError, isKeyprovError } from '../errors.js';
import type { Logger } from '../log.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { runSteps, type Step, type StepRecord } from './steps.js';
import { acquirePatchLock, releasePatchLock } from './patch-lock.js';
import type { ConsoleHandle } from '../serial/console.js';
import type { CaptureResult } from '../serial/capture.js';
import type { ApplyPhaseResult } from '../source/apply.js';
import type { IssuedCertificate } from '../pki/device-cert.js';
import type { IoTClient } from '@aws-sdk/client-iot';

/** Matches the virtual board's success line; real firmware names its own in provision.verify.success. */
export const DEFAULT_SUCCESS = 'MQTT mutual-auth demo: connected as \\S+, published to';
export const DEFAULT_ERROR = 'MQTT mutual-auth demo: (.* failed: |broker refused CONNECT|no private key|.*does not parse|not started|expected (CONNACK|PUBACK))';
const NO_CERTIFICATE = /Warning: the client certificate should be updated/;
/** Lines demo firmware prints once it is done (the virtual board; FreeRTOS's demo runner): the probe stops there. */
const DEMO_DONE = 'Demo finished|Demo completed|Error running demo';
/** The auto probe gives up on a board that prints nothing at all for this long after a reset. */
const SILENT_BOARD_MS = 3000;

export const STEP_NAMES = ['preflight', 'probe', 'patch-keygen', 'build-keygen', 'flash-keygen', 'capture', 'restore', 'issue', 'register', 'render', 'build-credential', 'flash-credential', 'verify'] as const;

export interface ProvisionOptions {
  projectRoot: string;
  loaded: LoadedConfig;
  boardId?: string;
  from?: string;
  keygen?: 'auto' | 'force';
  createCa?: boolean;
  /** Issue a new certificate even when the board folder already has one for this key under another CN. */
  reissue?: boolean;
  dryRun?: boolean;
  verbose?: boolean;
  env?: NodeJS.ProcessEnv;
  log: Logger;
  signal?: AbortSignal;
  /** The AWS IoT client of the register step (default: one from the config and the standard credential chain; tests pass a mocked one). */
  awsClient?: IoTClient;
  // --- For `keyprov fleet` (src/fleet/): one keygen image for many boards. ---
  /** A keygen image built once by the caller: no probe, patch, keygen build or restore; flash-keygen writes this file. */
  keygenImage?: string;
  /** Replaces the credential build (e.g. a per-board out-of-tree build); returns the image to flash. */
  buildCredential?: (ctx: { boardId: string; generatedDir: string; signal?: AbortSignal }) => Promise<string>;
  /** Called when a step starts and after it ends (live tables, ledgers). */
  onProgress?: (report: ProvisionReport) => void | Promise<void>;
}

export interface ProvisionReport {
  board: string;
  thingName: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  outcome: 'ok' | 'failed' | 'interrupted';
  keygen: 'auto' | 'force';
  /** How many keygen builds and flashes this run did (0 when --keygen auto reused the board's key). */
  keygenBuilds: number;
  publicKeyFingerprint?: string;
  certificate?: { serial: string; subjectCn: string; fingerprint: string; notAfter: string };
  connected?: string;
  /** `keyprov` and `node` versions; `build` (build.command's program) and `flash` (the runner): `{ executable, version }`, the first line of `--version`. */
  tools: Record<string, unknown>;
  steps: StepRecord[];
  error?: { code: string; message: string; hint?: string };
}

interface Run {
  opts: ProvisionOptions;
  cfg: LoadedConfig['config'];
  root: string;
  board: ResolvedBoard;
  thingName: string;
  files: ReturnType<typeof boardFiles>;
  console?: ConsoleHandle;
  /** Byte offset of the console at the start of each phase (for per-phase logs). */
  phaseStart: Record<string, number>;
  key?: { der: Buffer; pem: string; fingerprint: string; recommendedCn?: string };
  reusedKey: boolean;
  toolVersions?: Promise<void>;
  patch?: ApplyPhaseResult;
  cert?: IssuedCertificate;
  /** Set by opts.buildCredential. */
  credentialImage?: string;
  /** This run holds the source-tree lock (patch-lock.ts): from the keygen patch to the restore, and from the credential build to its flash. */
  treeLock: boolean;
  report: ProvisionReport;
}

/** Wait for other keyprov runs to leave the source tree, then hold it. */
async function lockTree(run: Run): Promise<void> {
  if (run.opts.dryRun || run.treeLock) return;
  await acquirePatchLock(run.root, run.board.id, { log: run.opts.log, signal: run.opts.signal });
  run.treeLock = true;
}

function unlockTree(run: Run): void {
  if (!run.treeLock) return;
  releasePatchLock(run.root);
  run.treeLock = false;
}

const PORT_HINT = 'set serial.port to the console device, or serial.serialNumber to find the USB adapter by its serial number (per board: boards[].serial)';

const ms = (s: number | undefined, dflt: number) => Math.round((s ?? dflt) * 1000);

async function openBoardConsole(run: Run): Promise<ConsoleHandle> {
  if (run.console) return run.console;
  const port = run.board.serial.port;
  if (!port) throw new UsageError('SERIAL_PORT_UNSET', `no serial port for board ${run.board.id}`, { hint: PORT_HINT });
  const { openConsole } = await import('../serial/console.js');
  run.console = await openConsole({ port, baud: run.board.serial.baud, vendorId: run.board.serial.vendorId, productId: run.board.serial.productId, serialNumber: run.board.serial.serialNumber, log: run.opts.log });
  return run.console;
}

async function savePhaseLog(run: Run, phase: string): Promise<void> {
  if (!run.console || run.phaseStart[phase] === undefined) return;
  await fs.mkdir(run.files.dir, { recursive: true });
  await writeFileAtomic(run.files.consoleLog(phase), run.console.bytes().subarray(run.phaseStart[phase]));
}

function runnerOpts(run: Run, extra: { image?: string } = {}) {
  return {
    board: run.board,
    configDir: run.opts.loaded.dir,
    log: run.opts.log,
    dryRun: run.opts.dryRun,
    verbose: run.opts.verbose,
    logFile: path.join(run.files.dir, 'flash.log'),
    env: run.opts.env,
    timeoutMs: run.board.flash.timeout ? run.board.flash.timeout * 1000 : undefined,
    signal: run.opts.signal,
    ...extra,
  };
}

/** Load the modules of the later steps while the compiler and the board work (the main thread is idle then). */
function prefetchLaterSteps(): void {
  for (const load of [() => import('../pki/ca-load.js'), () => import('../pki/device-cert.js'), () => import('../store/db.js'), () => import('../store/certificates.js'), () => import('../render/render.js'), () => import('../serial/capture.js')]) {
    load().catch(() => {}); // a real failure shows when the step imports it
  }
}

async function build(run: Run, phase: 'keygen' | 'credential'): Promise<string | undefined> {
  const { runBuild } = await import('../runners/build.js');
  if (phase === 'keygen') setTimeout(prefetchLaterSteps, 50).unref();
  const cflags = phase === 'keygen' ? (run.patch?.cflags ?? []) : run.patch?.cflags.length ? run.patch.cflags.map((f) => f.replace(/=1$/, '=0')) : [];
  const r = await runBuild({
    build: run.cfg.build,
    phase,
    board: run.board.id,
    cwd: run.root,
    log: run.opts.log,
    dryRun: run.opts.dryRun,
    verbose: run.opts.verbose,
    logFile: path.join(run.files.dir, `build-${phase}.log`),
    // The keygen image needs no credentials: its build sees the default headers only.
    env: { ...(run.opts.env ?? process.env), KEYPROV_CFLAGS: cflags.join(' '), KEYPROV_GENERATED_DIR: phase === 'credential' ? generatedDir(run) : '' },
    signal: run.opts.signal,
  });
  return r.image;
}

function generatedDir(run: Run): string {
  const mode = run.cfg.render?.mode ?? 'out-dir';
  if (mode === 'in-place') return run.cfg.firmware?.headerDir ?? '';
  return (run.cfg.render?.outDir ?? run.files.generatedDir).replace(/\{\{\s*id\s*\}\}/g, run.board.id);
}

/** Flash, then reset unless the runner already started the board; the console is open before either. */
async function flashAndReset(run: Run, phase: string, image: string | undefined): Promise<void> {
  if (!run.opts.dryRun) {
    const c = await openBoardConsole(run);
    run.phaseStart[phase] = c.size;
  }
  const { flashBoard, resetBoard } = await import('../runners/run.js');
  const r = await flashBoard(runnerOpts(run, { image }));
  if (!r.resetDone) await resetBoard(runnerOpts(run));
}

function keygenSkipped(run: Run): string | undefined {
  return run.reusedKey ? 'the board already printed its key (--keygen auto)' : undefined;
}

/** The patch and keygen build steps are skipped when the caller built the keygen image (keyprov fleet). */
function prebuiltKeygen(run: Run): string | undefined {
  return run.opts.keygenImage ? 'the keygen image was built once for the fleet' : undefined;
}

function steps(): Step<Run>[] {
  return [
    {
      name: 'preflight',
      title: 'preflight: config, tools, port, CA',
      async run(run, ctl) {
        const { planRunner, runnerToolVersion } = await import('../runners/run.js');
        if (!run.cfg.build?.command) throw new UsageError('BUILD_NOT_CONFIGURED', 'build.command is not set', { hint: 'set build.command in keyprov.config.yaml' });
        if (!run.board.flash.runner) throw new UsageError('FLASH_NOT_CONFIGURED', 'flash.runner is not set', { hint: 'set flash.runner in keyprov.config.yaml (see `keyprov flash --help`)' });
        if (!run.board.serial.port) throw new UsageError('SERIAL_PORT_UNSET', `no serial port for board ${run.board.id}`, { hint: PORT_HINT });
        const plan = planRunner('flash', { board: run.board, configDir: run.opts.loaded.dir, image: run.cfg.build.image ?? 'image' });
        const { requireTool } = await import('../runners/exec.js');
        // Fail here, before the source is patched and a keygen image built for nothing.
        requireTool(plan.input.exe, { env: run.opts.env, cwd: run.opts.loaded.dir, tool: plan.runner.tool });
        const port = run.board.serial.port;
        if (port !== 'auto' && !run.opts.dryRun && !existsSync(port)) {
          throw new UsageError('PORT_MISSING', `serial port ${port} does not exist`, {
            hint: 'plug the board in (a virtual board: `vboard serve --board DIR`), or fix serial.port / boards[].serial.port',
          });
        }
        const cmd = run.cfg.build.command;
        if (Array.isArray(cmd)) requireTool(cmd[0]!, { env: run.opts.env, cwd: run.cfg.build.cwd ?? run.root, tool: { name: cmd[0]!, install: 'install the build tool, or fix build.command' } });
        // Asking the tools for their versions spawns them: let that run beside the next steps.
        const { keyprovVersion, buildTool, versionLine } = await import('../runners/tool-versions.js');
        Object.assign(run.report.tools, { keyprov: keyprovVersion(), node: process.version });
        const buildExe = buildTool(cmd);
        run.toolVersions = Promise.all([
          runnerToolVersion({ board: run.board, configDir: run.opts.loaded.dir, env: run.opts.env }).then((tool) => void (run.report.tools.flash = tool)),
          versionLine(buildExe, { cwd: run.cfg.build.cwd ?? run.root, env: run.opts.env }).then((version) => void (run.report.tools.build = { executable: buildExe, version })),
        ]).then(
          () => {},
          () => {},
        );
        // A patch left by a killed run was already restored by the CLI hook; one left by `keyprov patch` is the user's: refuse.
        const { pendingPatch } = await import('../source/journal.js');
        const pending = run.opts.keygenImage ? [] : pendingPatch(run.root); // the fleet restored its own patch; another process may hold one
        // The patch of another live keyprov run is its own to restore: this run waits for the tree at patch-keygen.
        const { patchLockHeldByOther } = await import('./patch-lock.js');
        if (pending.length && !patchLockHeldByOther(run.root)) {
          throw new UsageError('PATCH_PENDING', `a keygen patch is still applied to ${pending.map((e) => e.file).join(', ')}`, { hint: 'run `keyprov restore --only patch` first; provision applies and restores its own patch' });
        }
        const ca = run.cfg.pki?.ca?.cert ?? caFiles(run.root).cert;
        if (!existsSync(ca) && (run.cfg.pki?.ca?.backend ?? 'file') === 'file') {
          if (!run.opts.createCa) throw new UsageError('CA_MISSING', `no CA at ${ca}`, { hint: 'pass --create-ca to make a lab CA, or run `keyprov ca create` / `keyprov ca import`' });
          if (run.opts.dryRun) ctl.detail(`would create a CA at ${ca}`);
          else {
            const { createCa } = await import('../pki/ca-create.js');
            await createCa({ projectRoot: run.root, config: run.cfg, env: run.opts.env, log: run.opts.log });
            ctl.detail(`created a lab CA at ${ca}`);
          }
        }
        ctl.fact('board', run.board.id);
        ctl.fact('thingName', run.thingName);
      },
    },
    {
      name: 'probe',
      title: 'probe: does the board already print a key?',
      async run(run, ctl) {
        if (run.report.keygen === 'force') return ctl.skip('--keygen force');
        if (run.opts.dryRun) return ctl.skip('dry run');
        const c = await openBoardConsole(run);
        run.phaseStart.probe = c.size;
        const { resetBoard } = await import('../runners/run.js');
        const { captureKey } = await import('../serial/capture.js');
        await resetBoard(runnerOpts(run));
        let got: CaptureResult | undefined;
        // A board with no firmware (or a dead one) says nothing at all: give up after a few
        // silent seconds instead of the whole probe timeout.
        const probe = new AbortController();
        const onOuterAbort = () => probe.abort();
        run.opts.signal?.addEventListener('abort', onOuterAbort);
        const silence = setInterval(() => {
          if (c.size === run.phaseStart.probe) probe.abort();
        }, SILENT_BOARD_MS);
        // A board already past key provisioning (connected, failed to, finished its demo) will
        // print no key this boot: stop there instead of waiting out the probe timeout.
        const v = run.cfg.provision?.verify;
        const past = new RegExp(`(?:${v?.success ?? DEFAULT_SUCCESS})|(?:${v?.error ?? DEFAULT_ERROR})|(?:${DEMO_DONE})`);
        try {
          got = await captureKey(c, { timeoutMs: ms(run.cfg.provision?.probeTimeout, 15), fromOffset: run.phaseStart.probe, stopAt: past, log: run.opts.log, progress: ctl.progress, signal: probe.signal });
        } catch (e) {
          if (run.opts.signal?.aborted) throw e;
          await savePhaseLog(run, 'probe');
          const pastLine = c.bytes().subarray(run.phaseStart.probe).toString('latin1').split(/\r?\n/).find((l) => past.test(l))?.trim();
          const why = probe.signal.aborted ? `the board said nothing for ${SILENT_BOARD_MS / 1000} s` : pastLine ? `it went on to "${pastLine}"` : isKeyprovError(e) ? e.code : 'error';
          return ctl.detail(`no key on the current firmware (${why}); doing the keygen build`);
        } finally {
          clearInterval(silence);
          run.opts.signal?.removeEventListener('abort', onOuterAbort);
        }
        await savePhaseLog(run, 'probe');
        const text = c.bytes().subarray(run.phaseStart.probe).toString('latin1');
        if (!NO_CERTIFICATE.test(text)) return ctl.detail('the board printed a key but already has a certificate; doing the keygen build');
        run.key = { der: got.der, pem: got.pem, fingerprint: got.sha256Fingerprint, recommendedCn: got.recommendedSubjectCn };
        run.reusedKey = true;
        const { writeCaptureFiles, captureFilesForBoard } = await import('../serial/capture.js');
        await writeCaptureFiles(captureFilesForBoard(run.root, run.board.id), got);
        ctl.detail(`reusing key ${got.sha256Fingerprint.slice(0, 16)}... (no certificate on the board yet)`);
      },
    },
    {
      name: 'patch-keygen',
      title: 'patch the source for the keygen build',
      async run(run, ctl) {
        const skip = keygenSkipped(run) ?? prebuiltKeygen(run);
        if (skip) return ctl.skip(skip);
        const { applyPhase } = await import('../source/apply.js');
        const fw = run.cfg.firmware;
        const sources = fw?.provisioningSource === undefined ? undefined : Array.isArray(fw.provisioningSource) ? fw.provisioningSource : [fw.provisioningSource];
        await lockTree(run);
        run.patch = await applyPhase({
          projectRoot: run.root,
          sources,
          searchRoot: fw?.root ?? run.root,
          macros: fw?.macros,
          phase: 'keygen',
          mode: run.cfg.provision?.patchMode ?? 'edit',
          keygenDelaySeconds: run.cfg.provision?.keygenDelay,
          dryRun: run.opts.dryRun,
          log: run.opts.log,
        });
        ctl.detail(`${run.patch.macro} = 1 in ${path.relative(run.root, run.patch.file)}:${run.patch.line}${run.patch.cflags.length ? ` (${run.patch.cflags.join(' ')})` : ''}`);
      },
    },
    {
      name: 'build-keygen',
      title: 'build the keygen image',
      async run(run, ctl) {
        const skip = keygenSkipped(run) ?? prebuiltKeygen(run);
        if (skip) return ctl.skip(skip);
        const image = await build(run, 'keygen');
        run.report.keygenBuilds++;
        ctl.fact('image', image);
      },
    },
    {
      name: 'flash-keygen',
      title: 'flash the keygen image and reset',
      async run(run, ctl) {
        const skip = keygenSkipped(run);
        if (skip) return ctl.skip(skip);
        await flashAndReset(run, 'keygen', run.opts.keygenImage ?? run.cfg.build?.image);
      },
    },
    {
      name: 'capture',
      title: 'capture the public key from the console',
      async run(run, ctl) {
        if (run.key) return ctl.skip(keygenSkipped(run) ?? 'key already captured');
        const files = boardFiles(run.root, run.board.id);
        if (run.opts.dryRun) return ctl.skip(`dry run: would read ${run.board.serial.port}`);
        if (run.phaseStart.keygen === undefined) {
          // Resumed with --from capture: use the key captured before, if any.
          if (existsSync(files.publicKeyDer)) {
            const der = await fs.readFile(files.publicKeyDer);
            const { spkiDerToPem, spkiFingerprint } = await import('../serial/spki.js');
            const cap = JSON.parse(await fs.readFile(files.captureJson, 'utf8').catch(() => '{}')) as { recommendedSubjectCn?: string };
            run.key = { der, pem: spkiDerToPem(der), fingerprint: spkiFingerprint(der), recommendedCn: cap.recommendedSubjectCn ?? undefined };
            return ctl.detail(`using the key captured before (${run.key.fingerprint.slice(0, 16)}...)`);
          }
        }
        const c = await openBoardConsole(run);
        const { captureKey, writeCaptureFiles, captureFilesForBoard } = await import('../serial/capture.js');
        let got: CaptureResult;
        try {
          got = await captureKey(c, {
            timeoutMs: ms(run.board.serial.timeout, 60),
            fromOffset: run.phaseStart.keygen ?? 0,
            log: run.opts.log,
            progress: ctl.progress,
            signal: run.opts.signal,
          });
        } finally {
          await savePhaseLog(run, 'keygen');
        }
        await writeCaptureFiles(captureFilesForBoard(run.root, run.board.id), got);
        run.key = { der: got.der, pem: got.pem, fingerprint: got.sha256Fingerprint, recommendedCn: got.recommendedSubjectCn };
        ctl.detail(`key ${got.sha256Fingerprint.slice(0, 16)}...${got.recommendedSubjectCn ? `, recommended CN=${got.recommendedSubjectCn}` : ''}`);
      },
    },
    {
      name: 'restore',
      title: 'restore the source (keygen switch back to 0)',
      always: true,
      async run(run, ctl) {
        if (run.opts.dryRun) return ctl.skip('dry run');
        if (run.opts.keygenImage) return ctl.skip('no patch by this run (the fleet restored the source after its keygen build)');
        const { restoreAll } = await import('../source/restore.js');
        const r = await restoreAll({ projectRoot: run.root, log: run.opts.log });
        unlockTree(run);
        if (!r.restored.length) return ctl.skip('nothing to restore');
        ctl.detail(`restored ${r.restored.map((f) => path.relative(run.root, f.file)).join(', ')}`);
      },
    },
    {
      name: 'issue',
      title: 'issue the device certificate',
      async run(run, ctl) {
        if (run.opts.dryRun) return ctl.skip('dry run: would issue a certificate for the captured key');
        const key = run.key ?? (await keyFromFiles(run));
        const cn = key.recommendedCn ?? run.thingName;
        const { loadCa } = await import('../pki/ca-load.js');
        const { issueDeviceCertificate } = await import('../pki/device-cert.js');
        const { openStore, storePath } = await import('../store/db.js');
        const { CertificateLedger } = await import('../store/certificates.js');
        const ca = await loadCa({ projectRoot: run.root, config: run.cfg, env: run.opts.env, log: run.opts.log });
        const db = openStore(storePath(run.root));
        try {
          run.cert = await issueDeviceCertificate({
            ca,
            publicKey: key.der,
            publicKeySource: run.files.publicKeyDer,
            cn,
            days: run.cfg.pki?.days,
            allowedKeyAlgorithms: run.cfg.pki?.deviceKeyAlgorithms,
            store: new CertificateLedger(db),
            reissue: run.opts.reissue,
            boardId: run.board.id,
            out: { certificate: run.files.certificate, chain: run.files.chain },
            log: run.opts.log,
          });
        } finally {
          db.close();
          ca.close();
        }
        run.report.certificate = { serial: run.cert.serial, subjectCn: run.cert.subjectCn, fingerprint: run.cert.fingerprints.certificate, notAfter: run.cert.notAfter.toISOString() };
        ctl.detail(`CN=${run.cert.subjectCn}, serial ${run.cert.serial}`);
      },
    },
    {
      name: 'register',
      title: 'register with AWS IoT',
      async run(run, ctl) {
        const enabled = run.cfg.provision?.aws ?? run.cfg.aws?.enabled ?? false;
        if (!enabled) return ctl.skip('AWS registration off (aws.enabled)');
        if (run.opts.dryRun) return ctl.skip('dry run: `keyprov aws register --dry-run` prints the AWS calls');
        const { registerBoard } = await import('../aws/board.js');
        const reg = await registerBoard({ projectRoot: run.root, config: run.cfg, boardId: run.board.id, thingName: run.thingName, client: run.opts.awsClient, log: run.opts.log });
        // Before `render`, so an endpoint looked up here (credentials.endpoint empty) reaches the headers.
        ctl.detail(`thing ${run.thingName} registered with AWS IoT${reg.endpoint ? `; endpoint ${reg.endpoint}` : ''}`);
      },
    },
    {
      name: 'render',
      title: 'render the credential headers',
      async run(run, ctl) {
        if (run.opts.dryRun && !existsSync(run.files.certificate)) return ctl.skip(`dry run: would render the headers into ${path.relative(run.root, generatedDir(run)) || '.'}`);
        const { renderHeaders } = await import('../render/render.js');
        const r = await renderHeaders({ projectRoot: run.root, config: run.cfg, boardId: run.board.id, dryRun: run.opts.dryRun, log: run.opts.log });
        const written = r.files.filter((f) => f.written).length;
        ctl.detail(`${written} of ${r.files.length} header(s) written in ${path.relative(run.root, r.dir) || '.'}`);
      },
    },
    {
      name: 'build-credential',
      title: 'build the credential image',
      async run(run, ctl) {
        if (run.opts.buildCredential) {
          run.credentialImage = await run.opts.buildCredential({ boardId: run.board.id, generatedDir: generatedDir(run), signal: run.opts.signal });
          return ctl.fact('image', run.credentialImage);
        }
        // The tree stays locked until the image is flashed: another run's build would overwrite it.
        await lockTree(run);
        ctl.fact('image', await build(run, 'credential'));
      },
    },
    {
      name: 'flash-credential',
      title: 'flash the credential image and reset',
      async run(run) {
        await flashAndReset(run, 'credential', run.credentialImage ?? run.cfg.build?.image);
        unlockTree(run);
      },
    },
    {
      name: 'verify',
      title: 'verify on the console: same key, connected',
      async run(run, ctl) {
        if (run.opts.dryRun) return ctl.skip('dry run');
        const key = run.key ?? (await keyFromFiles(run));
        const c = await openBoardConsole(run);
        const { watchConsole } = await import('../serial/console-watcher.js');
        const v = run.cfg.provision?.verify;
        try {
          const r = await watchConsole(c, {
            success: new RegExp(v?.success ?? DEFAULT_SUCCESS),
            error: new RegExp(v?.error ?? DEFAULT_ERROR),
            expectPublicKey: key.der,
            requirePublicKey: false,
            timeoutMs: ms(v?.timeout, 60),
            fromOffset: run.phaseStart.credential ?? 0,
            log: run.opts.log,
            signal: run.opts.signal,
          });
          run.report.connected = r.successLine;
          ctl.detail(r.publicKeySeen ? `${r.successLine} (the board reprinted the same key)` : (r.successLine ?? 'ok'));
        } catch (e) {
          if (isKeyprovError(e) && e.code === 'KEY_MISMATCH') {
            throw new VerificationError(
              'KEY_CHANGED',
              `board ${run.board.id} now holds a different key than the one its certificate was issued for: ${e.message}. ` +
                'It generated a new key pair after the capture - most likely it booted the keygen image again (the stale-key race: a reset during or right after the credential flash ran the previous image, which regenerates the key).',
              {
                hint: `run \`keyprov provision --board ${run.board.id} --keygen force\` again; to avoid the race, keep the board from resetting before the credential image is written, or use provision.keygenDelay / \`keyprov patch --keygen-delay\``,
                details: e.details,
              },
            );
          }
          throw e;
        } finally {
          await savePhaseLog(run, 'credential');
        }
      },
    },
  ];
}

async function keyFromFiles(run: Run): Promise<NonNullable<Run['key']>> {
  let der: Buffer;
  try {
    der = await fs.readFile(run.files.publicKeyDer);
  } catch {
    throw new UsageError('NO_CAPTURED_KEY', `no captured public key for board ${run.board.id} (${run.files.publicKeyDer})`, { hint: 'run provision from the start (or from the capture step)' });
  }
  const { spkiDerToPem, spkiFingerprint } = await import('../serial/spki.js');
  const cap = JSON.parse(await fs.readFile(run.files.captureJson, 'utf8').catch(() => '{}')) as { recommendedSubjectCn?: string | null };
  run.key = { der, pem: spkiDerToPem(der), fingerprint: spkiFingerprint(der), recommendedCn: cap.recommendedSubjectCn ?? undefined };
  return run.key;
}

export async function provision(opts: ProvisionOptions): Promise<ProvisionReport> {
  const cfg = opts.loaded.config;
  const board = resolveBoard(cfg, opts.boardId);
  const files = boardFiles(opts.projectRoot, board.id);
  const thingName = board.thingName ?? board.id;
  const started = Date.now();
  const run: Run = {
    opts,
    cfg,
    root: opts.projectRoot,
    board,
    thingName,
    files,
    phaseStart: {},
    reusedKey: false,
    treeLock: false,
    report: { board: board.id, thingName, startedAt: new Date(started).toISOString(), outcome: 'failed', keygen: opts.keygenImage ? 'force' : (opts.keygen ?? cfg.provision?.keygen ?? 'auto'), keygenBuilds: 0, tools: {}, steps: [] },
  };
  if (!opts.dryRun) await fs.mkdir(files.dir, { recursive: true });
  const writeReport = async (records: StepRecord[]) => {
    run.report.steps = records;
    run.report.publicKeyFingerprint = run.key?.fingerprint;
    if (!opts.dryRun) await writeFileAtomic(files.report, JSON.stringify(run.report, null, 2) + '\n');
    await opts.onProgress?.(run.report);
  };
  const onStart = async (records: StepRecord[]) => {
    run.report.steps = records;
    await opts.onProgress?.(run.report);
  };
  try {
    const records = await runSteps(steps(), run, { log: opts.log, from: opts.from, signal: opts.signal, onRecord: writeReport, onStart });
    run.report.outcome = 'ok';
    run.report.steps = records;
  } catch (e) {
    run.report.outcome = isKeyprovError(e) && e.exitCode === 130 ? 'interrupted' : 'failed';
    run.report.error = isKeyprovError(e) ? { code: e.code, message: e.message, hint: e.hint } : { code: 'INTERNAL', message: String(e) };
    throw e;
  } finally {
    unlockTree(run);
    await run.console?.close().catch(() => {});
    await run.toolVersions;
    run.report.finishedAt = new Date().toISOString();
    run.report.durationMs = Date.now() - started;
    await writeReport(run.report.steps).catch(() => {});
  }
  return run.report;
}

