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
  /** The value as written, comments and surrounding blanks removed ('' for `#define NAME`). */
  value: string;
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
  } finally {
    tree.delete();
  }
  return out.sort((a, b) => a.valueStart - b.valueStart);
}

function describe(n: SyntaxNode, name: string, file: string, text: string): MacroDefinition {
  const arg = n.childForFieldName('value');
  let value = '';
  let valueStart = n.childForFieldName('name')!.endIndex;
  let valueEnd = valueStart;
  if (arg) {
    const blanked = blankComments(arg.text.replace(/\\\r?\n/g, (m) => ' '.repeat(m.length)));
    const lead = blanked.length - blanked.trimStart().length;
    value = blanked.trim();
    valueStart = arg.startIndex + lead;
    valueEnd = valueStart + value.length;
    // Keep the value as written (a comment inside it stays blanked: it is not part of the value).
  }
  const { lineStart, lineEnd } = lineBounds(text, n);
  return {
    file,
    name,
    line: n.startPosition.row + 1,
    value,
    valueStart,
    valueEnd,
    lineStart,
    lineEnd,
    active: isActive(n),
    guarded: isGuarded(n, name),
  };
}
