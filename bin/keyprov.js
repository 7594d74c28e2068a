#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm ci` through `prepare`).
import v8 from 'node:v8';

// keyprov parses a few C files with tree-sitter's wasm grammar and exits. V8's background
// optimising compile of that wasm module kept both cores busy for ~0.5 s after every
// patch (measured with bench/provision-overhead.mjs); the baseline compiler is plenty.
// Set here, in keyprov's own process only, never by the library.
v8.setFlagsFromString('--liftoff-only');

const { main } = await import('../dist/cli/main.js');
main(process.argv.slice(2));
