// Text -> C string literals whose compiled bytes equal the input exactly.
//
// Why each rule exists:
// - `\` and `"` end or alter a literal: escaped.
// - `??x` is a trigraph (translation phase 1, before escapes are read), so a `?` that
//   follows another `?` in the source text is written `\?`.
// - Control and non-ASCII bytes become 3-digit octal escapes: an octal escape stops after
//   three digits, so (unlike `\x`) it never swallows a following hex digit.
// - Literals are split after every `\n` and before `maxChunk` source characters, never
//   inside an escape; adjacent literals are concatenated in phase 6, after trigraphs.

export interface CStringOptions {
  /** Source characters per literal before a split (escapes count by their length). Default 72. */
  maxChunk?: number;
  /** Indentation of continuation lines. Default 4 spaces. */
  indent?: string;
}

const SIMPLE: Record<number, string> = { 0x0a: '\\n', 0x09: '\\t', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/** Escape one byte string into the literals' contents (without quotes), split as described above. */
export function cStringChunks(input: string | Uint8Array, opts: CStringOptions = {}): string[] {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const max = Math.max(8, opts.maxChunk ?? 72);
  const chunks: string[] = [];
  let cur = '';
  let prevQuestion = false;
  for (const b of bytes) {
    let piece: string;
    if (b === 0x3f) {
      piece = prevQuestion ? '\\?' : '?';
      prevQuestion = true;
    } else {
      prevQuestion = false;
      piece = SIMPLE[b] ?? (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '\\' + b.toString(8).padStart(3, '0'));
    }
    if (cur.length + piece.length > max && cur.length > 0) {
      chunks.push(cur);
      cur = '';
      prevQuestion = b === 0x3f; // a new literal starts a new source run
      if (piece === '\\?') piece = '?';
    }
    cur += piece;
    if (b === 0x0a) {
      chunks.push(cur);
      cur = '';
      prevQuestion = false;
    }
  }
  if (cur.length > 0 || chunks.length === 0) chunks.push(cur);
  return chunks;
}

/** Literals joined for a macro body: inline when one short literal, else one per line with backslash continuations. */
export function cStringLiteral(input: string | Uint8Array, opts: CStringOptions & { multiline?: boolean } = {}): string {
  const chunks = cStringChunks(input, opts);
  if (chunks.length === 1 && !opts.multiline) return `"${chunks[0]}"`;
  const indent = opts.indent ?? '    ';
  return '\\\n' + chunks.map((c) => `${indent}"${c}"`).join(' \\\n');
}

/** PEM text as stored in a header: CRLF (and lone CR) made LF, a final newline added. */
export function normalisePem(text: string): string {
  const lf = text.replace(/\r\n?/g, '\n');
  return lf.endsWith('\n') ? lf : lf + '\n';
}

/** A PEM block as one literal per line, `\n`-terminated, with continuations. */
export function cPemLiteral(pem: string, opts: CStringOptions = {}): string {
  return cStringLiteral(normalisePem(pem), { maxChunk: 80, ...opts, multiline: true });
}

/** A C integer constant, validated (never pasted raw). */
export function cInteger(value: unknown, range: { min?: number; max?: number } = {}): string {
  const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new RangeError(`expected an integer, got ${JSON.stringify(value)}`);
  if (range.min !== undefined && n < range.min) throw new RangeError(`expected an integer >= ${range.min}, got ${n}`);
  if (range.max !== undefined && n > range.max) throw new RangeError(`expected an integer <= ${range.max}, got ${n}`);
  return String(n);
}

/** A C identifier, validated (optionally against a list of allowed names). */
export function cIdentifier(value: unknown, allowed?: readonly string[]): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new RangeError(`expected a C identifier, got ${JSON.stringify(value)}`);
  if (allowed && !allowed.includes(value)) throw new RangeError(`expected one of ${allowed.join(', ')}, got ${value}`);
  return value;
}

/** Text safe inside a C block comment on one line. */
export function cCommentText(text: string): string {
  return text.replace(/\*\//g, '* /').replace(/[\x00-\x1f\x7f]/g, ' ');
}
