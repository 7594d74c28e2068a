// Renders the credential headers for one board and writes only what changed.
// Deliberately light: PEM files are read as text (no x509, no serial, no parser), and
// Handlebars is the only dependency loaded, so this runs cheaply as a pre-build step.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { KeyprovError, UsageError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KeyprovConfig } from '../config/schema.js';
import { resolveBoard } from '../config/boards.js';
import { awsEndpointPath, boardFiles, caFiles } from '../project.js';
import { writeIfChanged } from '../util/fs-atomic.js';
import { loadTemplates, renderTemplate, BUILTIN_TEMPLATE_DIR } from './templates.js';
import { withBanner, headerState } from './banner.js';
import { backupOriginal } from './backup.js';
import { renderKey, upToDate, remember } from './cache.js';
import { WIFI_SECURITY, DEFAULT_MQTT_PORT, DEFAULT_GREENGRASS_PORT, DEFAULT_WIFI_SECURITY } from './values.js';

export interface RenderOptions {
  projectRoot: string;
  /** The parsed config (LoadedConfig.config); optional when the files are given as options. */
  config?: KeyprovConfig;
  /** Board whose certificate and thing name to use (see resolveBoard). */
  boardId?: string;
  /** Device certificate PEM. Default: .keyprov/boards/<id>/device-cert.pem. */
  certificateFile?: string;
  /** CA certificate PEM for keyJITR_DEVICE_CERTIFICATE_AUTHORITY_PEM. Giving it turns JITR on. Default (with render.jitr): .keyprov/ca.pem. */
  caCertificateFile?: string;
  /** Write here (out-dir mode) whatever the config says. */
  outDir?: string;
  /** Write nothing; report which files are stale. */
  check?: boolean;
  /** Overwrite hand-edited generated headers and headers keyprov did not write. */
  force?: boolean;
  /** Put this private key into keyCLIENT_PRIVATE_KEY_PEM (boards that cannot generate a key). */
  importPrivateKeyFile?: string;
  dryRun?: boolean;
  log: Logger;
}

export type StaleReason = 'missing' | 'changed' | 'edited' | 'foreign';

export interface RenderedFile {
  path: string;
  /** Written in this run. */
  written: boolean;
  /** Differs from what would be rendered (before this run, when written). */
  stale: boolean;
  reason?: StaleReason;
}

export interface RenderResult {
  files: RenderedFile[];
  mode: 'in-place' | 'out-dir';
  dir: string;
  boardId: string;
  /** What the headers were made from: files read and template folders listed (for build dependency tracking). */
  inputs: { files: string[]; dirs: string[] };
}

export async function renderHeaders(opts: RenderOptions): Promise<RenderResult> {
  const { projectRoot: root, config, log } = opts;
  const board = resolveBoard(config, opts.boardId);
  const rel = (p: string) => {
    const r = path.relative(root, p);
    return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : p;
  };

  const certFile = path.resolve(root, opts.certificateFile ?? boardFiles(root, board.id).certificate);
  const certificate = await readPem(certFile, 'CERTIFICATE', {
    what: 'device certificate',
    hint: opts.certificateFile ? 'check the --certificate path' : `issue the board's certificate first, or pass --certificate FILE`,
  });
  const jitr = opts.caCertificateFile !== undefined || config?.render?.jitr === true;
  let caFile: string | undefined;
  let caCertificate: string | null = null;
  if (jitr) {
    caFile = path.resolve(root, opts.caCertificateFile ?? caFiles(root).cert);
    caCertificate = await readPem(caFile, 'CERTIFICATE', {
      what: 'CA certificate',
      hint: opts.caCertificateFile ? 'check the --ca-certificate path' : 'create the lab CA first, pass --ca-certificate FILE, or set render.jitr: false',
    });
  }
  let privateKey: string | null = null;
  if (opts.importPrivateKeyFile) {
    const keyFile = path.resolve(root, opts.importPrivateKeyFile);
    privateKey = await readPem(keyFile, /^(?:EC |RSA )?PRIVATE KEY$/, { what: 'private key', hint: 'give an unencrypted PEM private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)' });
    log.warn(
      `IMPORTING A PRIVATE KEY into keyCLIENT_PRIVATE_KEY_PEM from ${keyFile}. The firmware will import it and DESTROY the key pair generated on the board; ` +
        'the key now sits in a source header (written 0600): keep it out of version control and out of build logs. Use this only for boards that cannot generate a key.',
    );
  }

  const cred = config?.credentials ?? {};
  // credentials.endpoint wins; else the endpoint `keyprov aws register` looked up (a one-line
  // file, so that this path never loads SQLite). The file is an input even while missing, so
  // that its appearing invalidates the no-op stamp.
  const endpointFile = cred.endpoint ? undefined : awsEndpointPath(root);
  const recorded = endpointFile ? await readRecordedEndpoint(endpointFile) : undefined;
  const values = {
    endpoint: cred.endpoint || recorded || '',
    thingName: board.thingName ?? board.id,
    mqttPort: cred.mqttPort ?? DEFAULT_MQTT_PORT,
    greengrassPort: cred.greengrassPort ?? DEFAULT_GREENGRASS_PORT,
    wifi: { ssid: cred.wifi?.ssid ?? '', password: cred.wifi?.password ?? '', security: cred.wifi?.security ?? DEFAULT_WIFI_SECURITY },
  };
  checkValues(values);
  const data = { ...values, certificate, caCertificate, privateKey, jitr, board: { id: board.id } };

  const sources = [
    `certificate: ${rel(certFile)}`,
    `CA: ${caFile ? rel(caFile) : 'none (JITR/JITP off)'}`,
    `private key: ${opts.importPrivateKeyFile ? `${rel(path.resolve(root, opts.importPrivateKeyFile))} (imported)` : 'none (generated and kept on the board)'}`,
    `board: ${board.id}`,
    ...(recorded ? [`endpoint: ${rel(endpointFile!)} (recorded by keyprov aws register)`] : []),
  ];

  const { mode, dir } = target(opts, root, board.id);
  const templates = await loadTemplates(config?.render?.templates);
  const inputs = {
    files: [certFile, ...(endpointFile ? [endpointFile] : []), ...(caFile ? [caFile] : []), ...(opts.importPrivateKeyFile ? [path.resolve(root, opts.importPrivateKeyFile)] : []), ...templates.map((t) => t.file)],
    dirs: [BUILTIN_TEMPLATE_DIR, ...(config?.render?.templates ? [config.render.templates] : [])],
  };
  const key = renderKey({ v: 1, templates: templates.map((t) => [t.file, t.builtin, t.source]), data, sources });
  const outputs = templates.map((t) => t.output);
  if (await upToDate(root, dir, key, outputs)) {
    log.debug(`render cache: inputs unchanged and headers as written in ${dir}`);
    return { files: outputs.map((o) => ({ path: path.join(dir, o), written: false, stale: false })), mode, dir, boardId: board.id, inputs };
  }
  const planned: { file: string; content: string; existing?: string; reason?: StaleReason }[] = [];
  for (const t of templates) {
    const body = renderTemplate(t, data);
    const content = withBanner(body.endsWith('\n') ? body : body + '\n', {
      template: t.builtin ? `templates/${path.basename(t.file)} (built in)` : rel(t.file),
      sources,
    });
    const file = path.join(dir, t.output);
    const existing = await readIfExists(file);
    let reason: StaleReason | undefined;
    if (existing === undefined) reason = 'missing';
    else if (existing !== content) {
      const s = headerState(existing);
      reason = s.kind === 'generated' ? 'changed' : s.kind;
    }
    planned.push({ file, content, existing, reason });
  }

  if (!opts.check && !opts.force) {
    const refused = planned.filter((p) => p.reason === 'edited' || (p.reason === 'foreign' && mode !== 'in-place'));
    if (refused.length) {
      const why = refused.map((p) => `${p.file} (${p.reason === 'edited' ? 'edited by hand since keyprov generated it' : 'not written by keyprov'})`);
      throw new KeyprovError('RENDER_WOULD_OVERWRITE', `refusing to overwrite ${why.join(', ')}; nothing written`, {
        hint: refused.some((p) => p.reason === 'edited')
          ? 'put your changes in a template (render.templates), or pass --force to overwrite them'
          : 'render into a generated folder with --out-dir, choose render.mode: in-place (the original is backed up), or pass --force',
        details: { files: refused.map((p) => ({ path: p.file, reason: p.reason })) },
      });
    }
  }

  const files: RenderedFile[] = [];
  // Said only when headers change, so that a no-op pre-build step stays silent.
  if (!opts.check && !values.endpoint && planned.some((p) => p.reason)) {
    log.warn('credentials.endpoint is not set and no endpoint is recorded: clientcredentialMQTT_BROKER_ENDPOINT is "" and the board will not know where to connect (set it, or run `keyprov aws register`)');
  }
  if (!opts.check && !opts.dryRun && planned.some((p) => p.reason)) await fs.mkdir(dir, { recursive: true });
  for (const p of planned) {
    if (!p.reason) {
      files.push({ path: p.file, written: false, stale: false });
      log.debug(`unchanged ${p.file}`);
      continue;
    }
    if (opts.check || opts.dryRun) {
      if (opts.dryRun && !opts.check) log.info(`would write ${p.file} (${describeReason(p.reason)})`);
      files.push({ path: p.file, written: false, stale: true, reason: p.reason });
      continue;
    }
    if (mode === 'in-place' && (p.reason === 'foreign' || p.reason === 'missing')) {
      if (await backupOriginal(root, p.file)) log.info(`backed up the original ${p.file} (keyprov restore brings it back)`);
    }
    if (p.reason === 'edited' || (p.reason === 'foreign' && mode !== 'in-place')) log.warn(`--force: overwriting ${p.file} (${describeReason(p.reason)})`);
    const secret = privateKey !== null && p.content.includes('PRIVATE KEY-----');
    const written = await writeIfChanged(p.file, p.content, secret ? { mode: 0o600, forceMode: true } : {});
    files.push({ path: p.file, written, stale: true, reason: p.reason });
    log.info(`wrote ${p.file} (${describeReason(p.reason)})`);
  }
  if (!opts.check && !opts.dryRun) {
    await remember(root, dir, key, Object.fromEntries(planned.map((p) => [path.basename(p.file), p.content])));
  }
  return { files, mode, dir, boardId: board.id, inputs };
}

/** What a render for these options reads and writes, without reading the PEMs or rendering:
 *  for build systems (`keyprov render --print-inputs`, `--depfile`). Works before the certificate exists. */
export async function renderPlan(opts: Omit<RenderOptions, 'log' | 'check' | 'force' | 'dryRun'>): Promise<{ dir: string; boardId: string; outputs: string[]; inputs: { files: string[]; dirs: string[] } }> {
  const { projectRoot: root, config } = opts;
  const board = resolveBoard(config, opts.boardId);
  const certFile = path.resolve(root, opts.certificateFile ?? boardFiles(root, board.id).certificate);
  const jitr = opts.caCertificateFile !== undefined || config?.render?.jitr === true;
  const caFile = jitr ? path.resolve(root, opts.caCertificateFile ?? caFiles(root).cert) : undefined;
  const keyFile = opts.importPrivateKeyFile ? path.resolve(root, opts.importPrivateKeyFile) : undefined;
  // The endpoint recorded by `keyprov aws register`, as renderHeaders reads it; only once it
  // exists (a missing file as a build dependency would re-run the render on every build).
  const endpointFile = config?.credentials?.endpoint ? undefined : awsEndpointPath(root);
  const recordedEndpoint = endpointFile && (await fs.access(endpointFile).then(() => true, () => false)) ? [endpointFile] : [];
  const templates = await loadTemplates(config?.render?.templates);
  const { dir } = target(opts as RenderOptions, root, board.id);
  return {
    dir,
    boardId: board.id,
    outputs: templates.map((t) => path.join(dir, t.output)),
    inputs: {
      files: [certFile, ...recordedEndpoint, ...(caFile ? [caFile] : []), ...(keyFile ? [keyFile] : []), ...templates.map((t) => t.file)],
      dirs: [BUILTIN_TEMPLATE_DIR, ...(config?.render?.templates ? [config.render.templates] : [])],
    },
  };
}

function describeReason(r: StaleReason): string {
  return { missing: 'new', changed: 'inputs changed', edited: 'edited by hand', foreign: 'not written by keyprov' }[r];
}

/** Where the headers go: --out-dir, else the config's mode (in-place: firmware.headerDir), else the board's generated folder. */
function target(opts: RenderOptions, root: string, boardId: string): { mode: 'in-place' | 'out-dir'; dir: string } {
  if (opts.outDir) return { mode: 'out-dir', dir: path.resolve(root, opts.outDir) };
  const r = opts.config?.render;
  if (r?.mode === 'in-place') {
    const dir = opts.config?.firmware?.headerDir;
    if (!dir) {
      throw new UsageError('RENDER_NO_HEADER_DIR', 'render.mode is in-place but firmware.headerDir is not set', {
        hint: 'set firmware.headerDir to the folder holding aws_clientcredential.h (keyprov init finds it), or use --out-dir',
      });
    }
    return { mode: 'in-place', dir };
  }
  const out = r?.outDir?.replace(/\{\{\s*id\s*\}\}/g, boardId);
  return { mode: 'out-dir', dir: out ?? boardFiles(root, boardId).generatedDir };
}

function checkValues(v: { endpoint: string; thingName: string; wifi: { ssid: string; password: string; security: string } }): void {
  const strings: [string, string][] = [
    ['credentials.endpoint', v.endpoint],
    ['credentials.thingName', v.thingName],
    ['credentials.wifi.ssid', v.wifi.ssid],
    ['credentials.wifi.password', v.wifi.password],
  ];
  for (const [key, s] of strings) {
    if (typeof s !== 'string') throw new UsageError('RENDER_BAD_VALUE', `${key}: expected a string, got ${typeof s}`, { hint: `fix ${key} in the config` });
    if (s.includes('\0')) throw new UsageError('RENDER_BAD_VALUE', `${key} contains a NUL character, which would end the C string early`, { hint: `remove it from ${key}` });
  }
  if (!(WIFI_SECURITY as readonly string[]).includes(v.wifi.security)) {
    throw new UsageError('RENDER_BAD_VALUE', `credentials.wifi.security: expected one of ${WIFI_SECURITY.join(', ')}, got ${JSON.stringify(v.wifi.security)}`, {
      hint: 'use one of the eWiFiSecurity identifiers named above',
    });
  }
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** The endpoint recorded by AWS registration, or undefined when there is none. */
async function readRecordedEndpoint(file: string): Promise<string | undefined> {
  const endpoint = (await readIfExists(file))?.trim();
  if (!endpoint) return undefined;
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(endpoint)) {
    throw new UsageError('RENDER_INPUT_INVALID', `${file} does not hold a host name: ${JSON.stringify(endpoint.slice(0, 80))}`, {
      hint: 'delete it and run `keyprov aws register` again, or set credentials.endpoint',
    });
  }
  return endpoint;
}

/** Read a PEM file as text and check that it holds only PEM blocks of the expected label. */
async function readPem(file: string, label: string | RegExp, info: { what: string; hint: string }): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError('RENDER_INPUT_MISSING', `cannot read the ${info.what} ${file}: ${code === 'ENOENT' ? 'it does not exist' : code === 'EISDIR' ? 'it is a folder' : (e as Error).message}`, {
      hint: info.hint,
    });
  }
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n \t]*?)-----END \1-----/g)];
  const rest = text.replace(/-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n \t]*?)-----END \1-----/g, '').trim();
  const ok = (l: string) => (typeof label === 'string' ? l === label : label.test(l));
  const bad = blocks.find((b) => !ok(b[1]!));
  if (blocks.length === 0 || rest !== '' || bad) {
    const problem = bad ? `it holds a "${bad[1]}" block` : blocks.length === 0 ? 'it holds no PEM block' : 'it holds text outside the PEM blocks';
    throw new UsageError('RENDER_INPUT_INVALID', `the ${info.what} ${file} is not usable: ${problem}`, { hint: `${info.hint}; the file must contain only PEM (${typeof label === 'string' ? label : 'PRIVATE KEY'}) blocks` });
  }
  return text;
}
