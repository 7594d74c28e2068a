// Handlebars helpers for C output. Each returns a SafeString (Handlebars would otherwise
// HTML-escape `"` and `&`) and validates its input; a bad value throws a TemplateValueError
// carrying the template line, which templates.ts turns into "file:line: message".
import type HandlebarsNS from 'handlebars';
import { cStringLiteral, cPemLiteral, cInteger, cIdentifier, cCommentText } from './c-string.js';

type HB = typeof HandlebarsNS;
interface HelperOptions {
  hash: Record<string, unknown>;
  name: string;
  loc?: { start: { line: number; column: number } };
}

export class TemplateValueError extends Error {
  constructor(message: string, readonly line?: number, readonly column?: number) {
    super(message);
    this.name = 'TemplateValueError';
  }
}

function wrap(hb: HB, name: string, fn: (value: unknown, hash: Record<string, unknown>) => string) {
  return function (this: unknown, ...args: unknown[]) {
    const options = args.pop() as HelperOptions;
    if (args.length !== 1) throw new TemplateValueError(`helper "${name}" takes one value, got ${args.length}`, options.loc?.start.line, options.loc?.start.column);
    try {
      return new hb.SafeString(fn(known(args[0]), options.hash ?? {}));
    } catch (e) {
      throw new TemplateValueError(`{{${name}}}: ${(e as Error).message}`, options.loc?.start.line, options.loc?.start.column);
    }
  };
}

/** Names of the helpers below; templates.ts requires every `{{...}}` to call one. */
export const C_HELPERS = ['cstring', 'cstringOrNull', 'pem', 'cint', 'cident', 'comment'];

/**
 * keyprov passes every value it knows (null when not set), so `undefined` means a name
 * the data does not have: most likely a typo in the template.
 */
function known(value: unknown): unknown {
  if (value === undefined) throw new RangeError('no such value (check the spelling; docs/render.md lists the values)');
  return value;
}

function text(value: unknown, what: string): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string') throw new RangeError(`expected ${what}, got ${value === null ? 'null' : typeof value}`);
  return value;
}

/**
 * `{{cstring x}}`  string literal(s); undefined/null gives `""`.
 * `{{cstringOrNull x}}`  like cstring, but undefined/null/"" gives `NULL`.
 * `{{pem x}}`  PEM text, one literal per line; undefined/null gives `NULL`.
 * `{{cint x min=1 max=65535}}`  a validated integer.
 * `{{cident x}}`  a validated C identifier.
 * `{{comment x}}`  text safe inside a block comment.
 */
export function registerCHelpers(hb: HB): void {
  hb.registerHelper('cstring', wrap(hb, 'cstring', (v) => cStringLiteral(v == null ? '' : text(v, 'a string'))));
  hb.registerHelper('cstringOrNull', wrap(hb, 'cstringOrNull', (v) => (v == null || v === '' ? 'NULL' : cStringLiteral(text(v, 'a string')))));
  hb.registerHelper('pem', wrap(hb, 'pem', (v) => (v == null ? 'NULL' : cPemLiteral(text(v, 'PEM text')))));
  hb.registerHelper(
    'cint',
    wrap(hb, 'cint', (v, h) => cInteger(v, { min: typeof h.min === 'number' ? h.min : undefined, max: typeof h.max === 'number' ? h.max : undefined })),
  );
  hb.registerHelper('cident', wrap(hb, 'cident', (v) => cIdentifier(v)));
  hb.registerHelper('comment', wrap(hb, 'comment', (v) => cCommentText(v == null ? '' : text(v, 'text'))));
}
