// Replaces dist/cli/yargs.js (a plain re-export of yargs) with a single minified file.
// Loading yargs' ~40 ESM modules takes ~95 ms here, the bundle ~14 ms: this is what
// keeps `keyprov --help` under its start-up budget. Without esbuild, the re-export stays.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle-yargs: esbuild not installed; keeping the unbundled yargs (slower start-up)');
  process.exit(0);
}
await esbuild.build({
  entryPoints: [path.join(root, 'src/cli/yargs.ts')],
  outfile: path.join(root, 'dist/cli/yargs.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  alias: { 'string-width': path.join(root, 'scripts/shims/string-width.mjs') },
  logLevel: 'warning',
});
