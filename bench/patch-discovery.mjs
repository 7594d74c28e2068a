// Discovery of the keygen switch over a generated firmware tree (default 3,000 C/H files,
// ~50 MB), side by side with `grep -rl` over the same tree in the same run.
// Usage: npm run build && node bench/patch-discovery.mjs [files=3000] [runs=3]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const FILES = Number(process.argv[2] ?? 3000);
const RUNS = Number(process.argv[3] ?? 3);
const K = 'keyprovisioningFORCE_GENERATE_NEW_KEY_PAIR';
const repo = fileURLToPath(new URL('..', import.meta.url));
const { discoverDefinitions } = await import(path.join(repo, 'dist/source/index.js'));

// ~17 KB of C-like text per file: functions, comments, includes, defines.
function body(i) {
  const parts = [`/* file ${i}: generated for the keyprov discovery bench */\n#include <stdint.h>\n#include "module_${i % 97}.h"\n\n`];
  let n = 0;
  while (parts.join('').length < 17_000) {
    n++;
    parts.push(
      `/**\n * @brief Handles event ${n} of module ${i}.\n * Returns pdPASS when the queue accepted the item.\n */\n` +
        `#define MODULE_${i}_EVENT_${n}_TIMEOUT    ( ${n * 10}U )\n` +
        `static int32_t prvHandleEvent_${i}_${n}( const uint8_t * pucBuffer, size_t xLength )\n{\n` +
        `    int32_t lResult = 0;\n    for( size_t x = 0; x < xLength; x++ )\n    {\n        lResult += ( int32_t ) pucBuffer[ x ] * ${n};\n    }\n` +
        `    if( lResult > MODULE_${i}_EVENT_${n}_TIMEOUT ) { lResult = -1; }\n    return lResult;\n}\n\n`,
    );
  }
  return parts.join('');
}

const root = mkdtempSync(path.join(os.tmpdir(), 'keyprov-bench-'));
let bytes = 0;
try {
  for (let i = 0; i < FILES; i++) {
    const dir = path.join(root, `lib${i % 40}`, `mod${i % 7}`);
    mkdirSync(dir, { recursive: true });
    let text = body(i);
    // A few files mention the switch without defining it (parsed, then rejected); one defines it.
    if (i % 150 === 7) text += `/*\n * #define ${K} 1\n */\n#if 0\n#define ${K} 1\n#endif\nstatic const char s[] = "#define ${K} 1";\n`;
    if (i === FILES - 1) text += `#define ${K}    0\n`;
    bytes += Buffer.byteLength(text);
    writeFileSync(path.join(dir, `file${i}.${i % 3 === 0 ? 'h' : 'c'}`), text);
  }

  // Wall time, plus CPU time (user + sys): the machine may be shared, and CPU time is what
  // the work itself costs. Child CPU comes from GNU time when it is installed.
  const time = async (fn) => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const r = await fn();
    const c = process.cpuUsage(c0);
    return [Number(process.hrtime.bigint() - t0) / 1e6, r, (c.user + c.system) / 1000];
  };
  const gnuTime = existsSync('/usr/bin/time');
  const spawnTimed = (cmd, args, opts) => {
    if (!gnuTime) return { ...spawnSync(cmd, args, opts), cpu: NaN };
    const r = spawnSync('/usr/bin/time', ['-f', 'KEYPROV_BENCH_CPU %U %S', cmd, ...args], opts);
    const m = /KEYPROV_BENCH_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
    return { ...r, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const names = [K, 'FORCE_GENERATE_NEW_KEY_PAIR'];
  const grep = () => {
    const r = spawnTimed('grep', ['-rlF', 'FORCE_GENERATE_NEW_KEY_PAIR', root], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`grep exited ${r.status}`);
    return { files: r.stdout.trim().split('\n').length, cpu: r.cpu };
  };
  const cli = () => {
    const r = spawnTimed(process.execPath, [path.join(repo, 'bin/keyprov.js'), 'patch', '--phase', 'keygen', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`keyprov exited ${r.status}: ${r.stderr}`);
    return { line: JSON.parse(r.stdout).line, cpu: r.cpu };
  };

  const [first, firstDisc] = await time(() => discoverDefinitions({ searchRoot: root, names }));
  const ours = [], theirs = [], ends = [], oursCpu = [], theirsCpu = [], endsCpu = [];
  let found = 0, grepped = 0;
  for (let i = 0; i < RUNS; i++) { // interleaved so both see the same machine load and page cache
    const [a, d, ac] = await time(() => discoverDefinitions({ searchRoot: root, names }));
    const [b, g] = await time(grep);
    const [c, e] = await time(cli);
    ours.push(a); theirs.push(b); ends.push(c);
    oursCpu.push(ac); theirsCpu.push(g.cpu); endsCpu.push(e.cpu);
    found = d.candidates.length; grepped = g.files;
  }
  const [mo, mg, me] = [ours, theirs, ends].map(median);
  const [co, cg, ce] = [oursCpu, theirsCpu, endsCpu].map(median);
  const ms = (x) => (Number.isNaN(x) ? 'n/a' : `${x.toFixed(0)} ms`);
  console.log(`tree: ${FILES} C/H files, ${(bytes / 1e6).toFixed(1)} MB (page cache warm: just written); load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`);
  console.log(`medians over ${RUNS} interleaved runs          wall       CPU`);
  console.log(`keyprov discovery (in process)          ${ms(mo).padStart(9)} ${ms(co).padStart(9)}   ${found} candidate files parsed, ${firstDisc.definitions.length} definitions`);
  console.log(`keyprov patch --phase keygen --dry-run  ${ms(me).padStart(9)} ${ms(ce).padStart(9)}   whole CLI in a new process (goal < 1500 ms wall)`);
  console.log(`grep -rlF FORCE_GENERATE_NEW_KEY_PAIR   ${ms(mg).padStart(9)} ${ms(cg).padStart(9)}   ${grepped} files listed`);
  console.log(`first discovery call in this process (loads the C parser): ${ms(first)}`);
  console.log(`ratio vs grep, wall: discovery ${(mo / mg).toFixed(1)}x, whole CLI ${(me / mg).toFixed(1)}x; CPU: discovery ${(co / cg).toFixed(1)}x, whole CLI ${(ce / cg).toFixed(1)}x`);
} finally {
  if (process.env.KEYPROV_BENCH_KEEP) console.log(`kept ${root}`); else rmSync(root, { recursive: true, force: true });
}
