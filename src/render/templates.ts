// The header templates: the built-in set in templates/*.h.hbs, overridden by file name
// (and extended) by the files of `render.templates`. Errors name the template file and line.
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { UsageError } from '../errors.js';
import { registerCHelpers, TemplateValueError, C_HELPERS } from './helpers.js';

/** templates/ at the package root (from src/render or dist/render). */
export const BUILTIN_TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const SUFFIX = '.hbs';

export interface TemplateFile {
  /** Output file name: the template's name without `.hbs`. */
  output: string;
  file: string;
  builtin: boolean;
  source: string;
}

async function listTemplates(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.endsWith(SUFFIX) && n.length > SUFFIX.length).sort();
}

/** Built-in templates, with the user's folder (if any) overriding by name and adding files. */
export async function loadTemplates(userDir?: string): Promise<TemplateFile[]> {
  const byOutput = new Map<string, TemplateFile>();
  for (const name of await listTemplates(BUILTIN_TEMPLATE_DIR)) {
    const file = path.join(BUILTIN_TEMPLATE_DIR, name);
    byOutput.set(name.slice(0, -SUFFIX.length), { output: name.slice(0, -SUFFIX.length), file, builtin: true, source: await fs.readFile(file, 'utf8') });
  }
  if (userDir) {
    let names: string[];
    try {
      names = await listTemplates(userDir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError('TEMPLATE_DIR_UNREADABLE', `render.templates: cannot read ${userDir}: ${code === 'ENOENT' ? 'it does not exist' : code === 'ENOTDIR' ? 'it is not a folder' : (e as Error).message}`, {
        hint: 'point render.templates at a folder of *.h.hbs files, or remove the key to use the built-in templates',
      });
    }
    for (const name of names) {
      const file = path.join(userDir, name);
      byOutput.set(name.slice(0, -SUFFIX.length), { output: name.slice(0, -SUFFIX.length), file, builtin: false, source: await fs.readFile(file, 'utf8') });
    }
  }
  return [...byOutput.values()];
}

type HB = typeof import('handlebars');
let handlebars: HB | undefined;

/** One Handlebars environment with the C helpers (loaded on first use: it is the render path's largest import). */
function env(): HB {
  if (!handlebars) {
    const require = createRequire(import.meta.url);
    const hb = (require('handlebars') as HB).create();
    registerCHelpers(hb);
    handlebars = hb;
  }
  return handlebars;
}

/** Render one template. Any error becomes TEMPLATE_ERROR naming `file:line`. */
export function renderTemplate(t: TemplateFile, data: Record<string, unknown>): string {
  const fail = (msg: string, line?: number, column?: number): never => {
    const where = line ? `${t.file}:${line}${column !== undefined ? `:${column + 1}` : ''}` : t.file;
    throw new UsageError('TEMPLATE_ERROR', `${where}: ${msg}`, {
      hint: t.builtin ? 'a value given to the built-in template is invalid; fix the config value named above' : 'fix the template named above (see docs/render.md for the helpers and values)',
      details: { template: t.file, line },
    });
  };
  try {
    const hb = env();
    const ast = hb.parse(t.source);
    checkMustaches(ast);
    return hb.compile(ast, { strict: true })(data);
  } catch (e) {
    if (e instanceof TemplateValueError) return fail(e.message, e.line, e.column);
    const err = e as Error & { lineNumber?: number; column?: number };
    const parse = /^Parse error on line (\d+):\n([\s\S]*)$/.exec(err.message);
    if (parse) return fail(`syntax error: ${parse[2]!.split('\n').slice(-1)[0]}`, Number(parse[1]));
    if (err.lineNumber) return fail(err.message.replace(/ - \d+:\d+$/, '').replace(/ in \[object Object\]/, ''), err.lineNumber, err.column);
    // Strict mode does not cover helper arguments: `{{cstring no.such}}` fails inside Handlebars as a TypeError.
    const missing = /^Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)$/.exec(err.message)?.[1];
    const path = missing === undefined ? undefined : findPath(hbParse(t.source), missing);
    if (path) return fail(`"${path.original}" is not a value keyprov provides ("${path.parts.slice(0, path.parts.indexOf(missing!)).join('.')}" is not set); values: ${Object.keys(data).join(', ')}`, path.loc?.start.line, path.loc?.start.column);
    return fail(err.message);
  }
}

const hbParse = (source: string): AstNode => env().parse(source) as unknown as AstNode;

/** The first path expression (`a.b.c`) that reads `part` from a parent, anywhere in the template. */
function findPath(node: AstNode | undefined, part: string): (AstNode & { original: string; parts: string[] }) | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const n = node as AstNode & { original?: unknown; parts?: unknown };
  if (n.type === 'PathExpression' && Array.isArray(n.parts) && n.parts.indexOf(part) > 0) return n as AstNode & { original: string; parts: string[] };
  for (const v of Object.values(node)) {
    const children = Array.isArray(v) ? v : [v];
    for (const c of children) {
      const hit = c && typeof c === 'object' && 'type' in c ? findPath(c as AstNode, part) : undefined;
      if (hit) return hit;
    }
  }
  return undefined;
}

interface AstNode {
  type: string;
  escaped?: boolean;
  path?: { original?: unknown };
  loc?: { start: { line: number; column: number } };
  body?: AstNode[];
  program?: AstNode;
  inverse?: AstNode;
}

/**
 * `{{x}}` would paste a value HTML-escaped, which is wrong in C whatever the value. Every
 * escaped mustache must call one of the C helpers; `{{{x}}}` pastes raw on purpose.
 */
function checkMustaches(node: AstNode | undefined): void {
  if (!node) return;
  if (node.type === 'MustacheStatement' && node.escaped && !C_HELPERS.includes(String(node.path?.original))) {
    const name = String(node.path?.original);
    throw new TemplateValueError(
      `{{${name}}} would paste the value without C escaping; use {{cstring ${name}}}, {{cint ${name}}}, {{cident ${name}}} or {{pem ${name}}} (or {{{${name}}}} to paste it raw on purpose)`,
      node.loc?.start.line,
      node.loc?.start.column,
    );
  }
  for (const child of node.body ?? []) checkMustaches(child);
  checkMustaches(node.program);
  checkMustaches(node.inverse);
}
