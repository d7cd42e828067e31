// `npm run bench`: runs every bench/*.bench.{mjs,ts} in turn (one at a time: they compare
// against a peer measured side by side, so they must not compete for the 2 cores).
// Extra args select benches by substring, e.g. `npm run bench -- kfl`; `--big` is passed through.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const pass = args.filter((a) => a.startsWith('--'));
const filters = args.filter((a) => !a.startsWith('--'));
const benches = readdirSync('bench')
  .filter((f) => /\.bench\.(mjs|ts)$/.test(f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
let failed = 0;
for (const f of benches) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${f}`, ...pass], { stdio: 'inherit' });
  if (r.status !== 0) { failed++; console.log(`(${f} exited ${r.status})`); }
}
process.exit(failed ? 1 : 0);
