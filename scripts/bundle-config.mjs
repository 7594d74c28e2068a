// Replaces dist/config/load.js (config loading: yaml + zod + the schema) with one minified
// file. zod 4 alone is ~95 ESM modules; resolving and compiling them one by one was most
// of `keyprov render`'s start-up when run before every build (see bench/render-noop.mjs).
// src/errors.js stays a shared import so that `instanceof KeyprovError` still holds.
// Without esbuild, the unbundled modules stay (slower start-up, same behaviour).
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle-config: esbuild not installed; keeping the unbundled config loader (slower start-up)');
  process.exit(0);
}
const src = path.join(root, 'src') + path.sep;
const shared = {
  name: 'keep-shared-modules',
  setup(build) {
    // Our own modules outside src/config/ stay imports of the dist/ files beside the bundle.
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      if (!args.importer.startsWith(src) || target.startsWith(path.join(src, 'config') + path.sep)) return undefined;
      return { path: path.relative(path.join(src, 'config'), target).replace(/\.ts$/, '.js').split(path.sep).join('/'), external: true };
    });
  },
};
await esbuild.build({
  entryPoints: [path.join(root, 'src/config/load.ts')],
  outfile: path.join(root, 'dist/config/load.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'eof',
  plugins: [shared],
  // yaml is CommonJS and requires node built-ins.
  banner: { js: "import { createRequire as keyprovCreateRequire } from 'node:module'; const require = keyprovCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
