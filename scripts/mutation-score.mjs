// Per-file figures from a Stryker JSON report (reports/mutation/mutation.json by default):
//   node scripts/mutation-score.mjs [report.json] [--survivors]
// score = (killed + timed out) / (all - compile errors - ignored), as Stryker counts it.
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const showSurvivors = args.includes('--survivors');
const file = args.find((a) => !a.startsWith('--')) ?? 'reports/mutation/mutation.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
for (const [name, f] of Object.entries(report.files)) {
  const n = {};
  for (const m of f.mutants) n[m.status] = (n[m.status] ?? 0) + 1;
  const killed = n.Killed ?? 0, timeout = n.Timeout ?? 0, survived = n.Survived ?? 0, nocov = n.NoCoverage ?? 0;
  const valid = f.mutants.length - (n.CompileError ?? 0) - (n.RuntimeError ?? 0) - (n.Ignored ?? 0);
  const detected = killed + timeout;
  const score = valid ? ((100 * detected) / valid).toFixed(1) : '-';
  console.log(`${name}: ${detected}/${valid} = ${score}% (killed ${killed}, timeout ${timeout}, survived ${survived}, no coverage ${nocov}${n.RuntimeError ? `, runtime error ${n.RuntimeError}` : ''}${n.CompileError ? `, compile error ${n.CompileError}` : ''})`);
  if (showSurvivors) {
    const lines = f.source.split('\n');
    for (const m of f.mutants.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage')) {
      const { start, end } = m.location;
      const l = start.line;
      const orig = start.line === end.line ? lines[l - 1].slice(start.column - 1, end.column - 1) : `${lines[l - 1].slice(start.column - 1)}…`;
      console.log(`  ${l}:${start.column} ${m.status === 'NoCoverage' ? '(no coverage) ' : ''}${m.mutatorName}: ${JSON.stringify(orig.slice(0, 60))} → ${JSON.stringify((m.replacement ?? '').slice(0, 60))}`);
    }
  }
}
