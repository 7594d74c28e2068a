// After tsc: replace two start-up-heavy corners of dist/ with single minified files.
// - dist/cli/yargs.js (a plain re-export of yargs): yargs' ~40 ESM modules took ~95 ms
//   to load here, the bundle ~14 ms; this keeps `keyprov --help` within its budget.
// - dist/util/zod.js (the one place every module imports zod from): zod 4 is ~95 ESM
//   modules, which was most of `keyprov render`'s start-up before every build
//   (bench/render-noop.mjs). One shared file means one zod instance per process.
// - dist/config/load.js (yaml + the schema sections). Our modules outside src/config/
//   (errors.js for `instanceof KeyprovError`, util/zod.js) stay shared imports.
// Without esbuild all stay unbundled: slower start-up, same behaviour.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle: esbuild not installed; keeping the unbundled yargs and config loader (slower start-up)');
  process.exit(0);
}
const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', minify: true, legalComments: 'eof', logLevel: 'warning' };

await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/cli/yargs.ts')],
  outfile: path.join(root, 'dist/cli/yargs.js'),
  alias: { 'string-width': path.join(root, 'scripts/shims/string-width.mjs') },
});

await esbuild.build({
  ...common,
  entryPoints: [path.join(root, 'src/util/zod.ts')],
  outfile: path.join(root, 'dist/util/zod.js'),
});

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
  ...common,
  entryPoints: [path.join(root, 'src/config/load.ts')],
  outfile: path.join(root, 'dist/config/load.js'),
  plugins: [shared],
  // yaml is CommonJS and requires node built-ins.
  banner: { js: "import { createRequire as keyprovCreateRequire } from 'node:module'; const require = keyprovCreateRequire(import.meta.url);" },
});
