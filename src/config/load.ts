// Finding, reading, interpolating and validating keyprov.config.{yaml,yml,json}.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import { configSchema, type KeyprovConfig } from './schema.js';

export { CONFIG_NAMES, findConfigFile } from './find.js';
// Re-exported so that the library index takes the schema from the bundled loader (dist/config/load.js)
// instead of loading a second copy of zod through dist/config/schema.js.
export { configSchema };

export interface LoadedConfig {
  /** Absolute path of the file it came from. */
  file: string;
  /** The file's folder: relative paths resolve against it, and `.keyprov/` lives there. */
  dir: string;
  config: KeyprovConfig;
}

export async function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await fs.readFile(abs, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'it does not exist' : err.code === 'EISDIR' ? 'it is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new UsageError('CONFIG_UNREADABLE', `cannot read config file ${abs}: ${why}`, {
      hint: err.code === 'ENOENT' ? 'check the --config path, or run `keyprov init` to write a starter config' : 'make the file readable by this user',
    });
  }
  const raw = dropEmptySections(parseText(abs, text));
  const interpolated = interpolateEnv(raw, env, abs);
  const dir = path.dirname(abs);
  const schema = configSchema({ resolvePath: (p) => path.resolve(dir, p) });
  const result = schema.safeParse(interpolated ?? {}, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((i) => formatIssue(i));
    throw new UsageError('CONFIG_INVALID', `invalid config ${abs}:\n  ${lines.join('\n  ')}`, {
      hint: 'fix the entries named above; the JSON Schema in schema/keyprov.config.schema.json gives editor completion',
      details: { file: abs, issues: lines },
    });
  }
  return { file: abs, dir, config: result.data };
}

/** A section holding only comments parses as null: treat it as not set. */
function dropEmptySections(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== null));
}

function parseText(file: string, text: string): unknown {
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new UsageError('CONFIG_SYNTAX', `${file}: JSON syntax error: ${(e as Error).message}`, { hint: 'fix the JSON syntax' });
    }
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    throw new UsageError('CONFIG_SYNTAX', `${where}: YAML syntax error: ${e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "")}`, {
      hint: pos ? `fix line ${pos.line} of the config file` : 'fix the YAML syntax',
      details: { file, line: pos?.line, column: pos?.col },
    });
  }
  return doc.toJS();
}

const ENV_REF = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replace `${env:NAME}` in every string value. An unset variable is an error naming the config path. */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, file: string, at: (string | number)[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REF, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) {
        throw new UsageError('CONFIG_ENV_UNSET', `${formatPath(at)}: environment variable ${name} is not set (the config ${file} uses \${env:${name}})`, {
          hint: `export ${name}=... before running keyprov`,
          details: { variable: name, path: formatPath(at) },
        });
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, file, [...at, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateEnv(v, env, file, [...at, k]);
    return out;
  }
  return value;
}

export function formatPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) {
    if (typeof k === 'number') s += `[${k}]`;
    else s += s ? `.${String(k)}` : String(k);
  }
  return s || '(top level)';
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

const article = (t: string) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`);

/** Keys whose values are secrets: an error names their type, never the value (it may have come from ${env:...}). */
const SECRET_KEY = /^(pin|psk|token)$|password|passphrase$|secret/i;

function describeSecret(v: unknown): string {
  if (v === undefined || v === null || typeof v === 'object') return describeValue(v);
  return `${article(typeof v)} (value not shown)`;
}

export function formatIssue(i: z.core.$ZodIssue): string {
  const where = formatPath(i.path);
  const input = (i as { input?: unknown }).input;
  const secret = i.path.some((k) => typeof k === 'string' && SECRET_KEY.test(k));
  const describe = secret ? describeSecret : describeValue;
  switch (i.code) {
    case 'invalid_type': {
      const want = i.expected === 'object' ? 'mapping' : i.expected === 'array' ? 'list' : i.expected;
      return input === undefined ? `${where}: required (expected ${article(want)})` : `${where}: expected ${article(want)}, got ${describe(input)}`;
    }
    case 'unrecognized_keys':
      return i.keys.map((k) => `${where === '(top level)' ? k : `${where}.${k}`}: unknown key (check the spelling; see schema/keyprov.config.schema.json)`).join('\n  ');
    case 'invalid_value':
      return `${where}: expected one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(input)}`;
    case 'invalid_union':
      return `${where}: expected a string or a list of strings, got ${describe(input)}`;
    case 'too_small':
      return `${where}: ${i.origin === 'string' ? 'must not be empty' : i.origin === 'array' ? `needs at least ${i.minimum} entr${i.minimum === 1 ? 'y' : 'ies'}` : `must be at least ${i.minimum}${i.inclusive ? '' : ' (exclusive)'}`}, got ${describe(input)}`;
    case 'too_big':
      return `${where}: must be at most ${i.maximum}, got ${describe(input)}`;
    default:
      return `${where}: ${i.message}${input !== undefined ? `, got ${describe(input)}` : ''}`;
  }
}
