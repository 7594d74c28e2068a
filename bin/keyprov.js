#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/ (built by `npm ci` through `prepare`).
import { main } from '../dist/cli/main.js';
main(process.argv.slice(2));
