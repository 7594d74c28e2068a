// The C parser: web-tree-sitter with tree-sitter-c's wasm, loaded once and only when a
// command needs it (loading costs ~50 ms; `keyprov --help` must not pay it).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Parser as TSParser, Node as TSNode } from 'web-tree-sitter';
import { ToolError } from '../errors.js';

export type CParser = TSParser;
export type SyntaxNode = TSNode;

let loading: Promise<CParser> | undefined;
let loaded: CParser | undefined;

/** The shared C parser, loaded on first use. */
export function loadCParser(): Promise<CParser> {
  loading ??= (async () => {
    try {
      const { Parser, Language } = await import('web-tree-sitter');
      await Parser.init();
      const wasm = createRequire(import.meta.url).resolve('tree-sitter-c/tree-sitter-c.wasm');
      const language = await Language.load(readFileSync(wasm));
      const parser = new Parser();
      parser.setLanguage(language);
      loaded = parser;
      return parser;
    } catch (e) {
      loading = undefined;
      throw new ToolError('C_PARSER_LOAD_FAILED', `could not load the C parser (web-tree-sitter + tree-sitter-c.wasm): ${(e as Error).message}`, {
        hint: 'reinstall keyprov so that node_modules/tree-sitter-c/tree-sitter-c.wasm exists',
        cause: e,
      });
    }
  })();
  return loading;
}

/** The parser if it was already loaded (for synchronous callers such as a signal handler). */
export function loadedCParser(): CParser | undefined {
  return loaded;
}

/**
 * Source bytes as a string whose UTF-16 indices are byte offsets. tree-sitter reports
 * UTF-16 indices; decoding as latin1 maps every byte to exactly one code unit, so any
 * encoding (UTF-8 comments, stray bytes) round-trips and offsets index the Buffer directly.
 */
export function bytesAsText(buf: Buffer): string {
  return buf.toString('latin1');
}
