// Finds `#define NAME value` in one C file with tree-sitter, and decides which of them
// the compiler actually sees: copies in comments and string literals are not
// preproc_def nodes at all; copies under `#if 0` (or the dead branch of `#if 1`) are
// inactive. All offsets are byte offsets into the file (see bytesAsText).
import { bytesAsText, type CParser, type SyntaxNode } from './parser.js';

export interface MacroDefinition {
  file: string;
  name: string;
  /** 1-based line of the `#define`. */
  line: number;
  /** The value's bytes as written, without surrounding blanks or a trailing comment ('' for `#define NAME`). */
  value: string;
  /** `value` with comments and line continuations blanked (same length): what to match against. */
  code: string;
  /** Byte range of `value` in the file. */
  valueStart: number;
  valueEnd: number;
  /** Byte offsets: start of the `#define` line, end of the definition's last line (before CR/LF). */
  lineStart: number;
  lineEnd: number;
  /** Not excluded by a constant-false `#if`/`#elif` (or the `#else` of a constant-true one). */
  active: boolean;
  /** Wrapped in `#ifndef NAME` (a default that a compile definition can override). */
  guarded: boolean;
  /** The parser could not read this definition (it sits in an ERROR node): never edited, always refused. */
  unparsable?: boolean;
}

/** Blank out comments inside a preproc_arg (tree-sitter keeps `// ...` there), keeping offsets. */
function blankComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?(\*\/|$)|\/\/.*$/g, (m) => ' '.repeat(m.length));
}

/** Value of a constant condition (`0`, `(1)`, `!0`), or undefined when it depends on anything else. */
function constantCondition(n: SyntaxNode | null): number | undefined {
  if (!n) return undefined;
  if (n.type === 'number_literal') {
    const v = Number.parseInt(n.text.replace(/[uUlL]+$/, ''), n.text.startsWith('0x') || n.text.startsWith('0X') ? 16 : 10);
    return Number.isNaN(v) ? undefined : v;
  }
  if (n.type === 'true') return 1;
  if (n.type === 'false') return 0;
  if (n.type === 'parenthesized_expression' && n.namedChildCount === 1) return constantCondition(n.namedChild(0));
  if (n.type === 'unary_expression' && n.child(0)?.type === '!') {
    const v = constantCondition(n.childForFieldName('argument'));
    return v === undefined ? undefined : v ? 0 : 1;
  }
  return undefined;
}

function isActive(def: SyntaxNode): boolean {
  let child: SyntaxNode = def;
  for (let p = def.parent; p; child = p, p = p.parent) {
    if (p.type !== 'preproc_if' && p.type !== 'preproc_elif') continue;
    const cond = constantCondition(p.childForFieldName('condition'));
    if (cond === undefined) continue;
    const inAlternative = p.childForFieldName('alternative')?.id === child.id;
    if (cond === 0 && !inAlternative) return false;
    if (cond !== 0 && inAlternative) return false;
  }
  return true;
}

function isGuarded(def: SyntaxNode, name: string): boolean {
  for (let p = def.parent; p; p = p.parent) {
    if (p.type === 'preproc_ifdef' && p.child(0)?.type === '#ifndef' && p.childForFieldName('name')?.text === name) return true;
  }
  return false;
}

/** From the start of the `#define` line to the end of the definition's last line (before CR/LF). */
function lineBounds(text: string, n: SyntaxNode): { lineStart: number; lineEnd: number } {
  const lineStart = text.lastIndexOf('\n', n.startIndex - 1) + 1;
  let lineEnd = n.endIndex;
  if (text[lineEnd - 1] === '\n') lineEnd--;
  if (text[lineEnd - 1] === '\r') lineEnd--;
  return { lineStart, lineEnd };
}

/** Every `#define` of one of `names` in `buf`, active or not. */
export function findDefinitions(parser: CParser, file: string, buf: Buffer, names: readonly string[]): MacroDefinition[] {
  const text = bytesAsText(buf);
  const tree = parser.parse(text);
  if (!tree) return [];
  const wanted = new Set(names);
  const out: MacroDefinition[] = [];
  try {
    // descendantsOfType walks the tree inside wasm: far cheaper than visiting every node from JS.
    for (const n of tree.rootNode.descendantsOfType('preproc_def')) {
      const name = n?.childForFieldName('name')?.text;
      if (n && name && wanted.has(name)) out.push(describe(n, name, file, text));
    }
    out.push(...unparsableDefinitions(tree.rootNode, wanted, file, text, out));
  } finally {
    tree.delete();
  }
  return out.sort((a, b) => a.valueStart - b.valueStart);
}

/**
 * `#define NAME ...` lines that tree-sitter-c could not parse (e.g. a comment inside the
 * value, between the parentheses). They are reported so that keyprov refuses instead of saying
 * "not found" or editing another definition.
 */
function unparsableDefinitions(root: SyntaxNode, wanted: Set<string>, file: string, text: string, parsed: MacroDefinition[]): MacroDefinition[] {
  const out: MacroDefinition[] = [];
  const re = /#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)/g;
  for (const err of root.descendantsOfType('ERROR')) {
    if (!err) continue;
    // Comments and strings the parser did recognise inside the broken region are still not definitions.
    const skip = err.descendantsOfType(['comment', 'string_literal']).filter((n): n is SyntaxNode => !!n);
    for (const m of text.slice(err.startIndex, err.endIndex).matchAll(re)) {
      const at = err.startIndex + m.index!;
      if (!wanted.has(m[1]) || skip.some((n) => n.startIndex <= at && at < n.endIndex) || parsed.some((d) => d.lineStart <= at && at <= d.lineEnd) || out.some((d) => d.lineStart <= at && at <= d.lineEnd)) continue;
      const lineStart = text.lastIndexOf('\n', at) + 1;
      let lineEnd = text.indexOf('\n', at);
      if (lineEnd < 0) lineEnd = text.length;
      if (text[lineEnd - 1] === '\r') lineEnd--;
      const valueStart = at + m[0].length;
      const line = text.slice(0, at).split('\n').length;
      const value = text.slice(valueStart, lineEnd).trim();
      out.push({ file, name: m[1], line, value, code: value, valueStart, valueEnd: lineEnd, lineStart, lineEnd, active: true, guarded: false, unparsable: true });
    }
  }
  return out;
}

function describe(n: SyntaxNode, name: string, file: string, text: string): MacroDefinition {
  const arg = n.childForFieldName('value');
  let code = '';
  let valueStart = n.childForFieldName('name')!.endIndex;
  let valueEnd = valueStart;
  if (arg) {
    const blanked = blankComments(arg.text.replace(/\\\r?\n/g, (m) => ' '.repeat(m.length)));
    const lead = blanked.length - blanked.trimStart().length;
    code = blanked.trim();
    valueStart = arg.startIndex + lead;
    valueEnd = valueStart + code.length;
  }
  const { lineStart, lineEnd } = lineBounds(text, n);
  return {
    file,
    name,
    line: n.startPosition.row + 1,
    value: text.slice(valueStart, valueEnd),
    code,
    valueStart,
    valueEnd,
    lineStart,
    lineEnd,
    active: isActive(n),
    guarded: isGuarded(n, name),
  };
}
