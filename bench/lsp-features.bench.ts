// Language features on a 1,000-line hook script: latency of completions, hover, signature help
// and diagnostics on a fresh text version each time (as when typing: every keystroke is a new
// text, so the per-text caches miss), p50/p95/max in ms of wall time, and p50/p95 of this
// process's CPU time (the machine is shared: wall time includes waiting for a core). Peer measured in the same run: one
// acorn parse of the same text (what any feature that re-parses per keystroke pays at least).
import { readFileSync, readdirSync } from 'node:fs';
import * as acorn from 'acorn';
import { completions, diagnostics, hover, signatureHelp } from '../server/lsp/features/index';
import { NO_OBSERVATIONS } from '../server/session/observed';

const ROUNDS = 200;
const ctx = { observed: NO_OBSERVATIONS, es5Warning: true, envKeys: ['WEBHOOK_URL', 'ALERT_KFL'] };

/** The shipped examples, their functions renamed per copy, until 1,000 lines; one item hook at the end. */
function script(): string {
  const parts: string[] = [];
  const ex = readdirSync('examples/hooks').map((f) => readFileSync(`examples/hooks/${f}`, 'utf8'));
  let lines = 0;
  for (let k = 0; lines < 960; k++) {
    const src = ex[k % ex.length].replace(/function (on\w+|\w+)\(/g, (_m, n) => `function ${n}_${k}(`);
    parts.push(src);
    lines += src.split('\n').length;
  }
  parts.push([
    'function onItemCaptured(data) {',
    '  var r = data.request;',
    '  if (data.protocol.name === "dns") {',
    '    var q = r.questions;',
    '    /*CURSOR*/',
    '  }',
    '  if (kfl.match("http and response.status >= 500", data)) console.log(data.id);',
    '}',
  ].join('\n'));
  return parts.join('\n');
}

interface Times { wall: number[]; cpu: number[] }

function pct({ wall, cpu }: Times): string {
  const at = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(2);
  return `wall p50 ${at(wall, 0.5)} ms, p95 ${at(wall, 0.95)} ms, max ${at(wall, 1)} ms | cpu p50 ${at(cpu, 0.5)} ms, p95 ${at(cpu, 0.95)} ms`;
}

function measure(base: string, insert: string, run: (text: string, offset: number) => unknown): Times {
  const cut = base.indexOf('/*CURSOR*/');
  const out: Times = { wall: [], cpu: [] };
  for (let i = 0; i < ROUNDS; i++) {
    // A distinct text each round: a comment with the round number near the top changes the version.
    const text = `// v${i}\n${base.slice(0, cut)}${insert}${base.slice(cut + 10)}`;
    const offset = `// v${i}\n`.length + cut + insert.length;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    run(text, offset);
    out.wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    out.cpu.push((c.user + c.system) / 1000);
  }
  return out;
}

const base = script();
console.log(`hook script: ${base.split('\n').length} lines, ${(base.length / 1024).toFixed(1)} KB; ${ROUNDS} fresh versions each`);
const parse = measure(base, '', (t) => acorn.parse(t, { ecmaVersion: 'latest', allowReturnOutsideFunction: true }));
console.log(`  peer: acorn parse          ${pct(parse)}`);
console.log(`  completions data.request.  ${pct(measure(base, 'data.request.', (t, o) => completions(t, o, ctx)))}`);
console.log(`  completions q[0].          ${pct(measure(base, 'q[0].', (t, o) => completions(t, o, ctx)))}`);
console.log(`  completions headers["      ${pct(measure(base, 'data.request.headers["', (t, o) => completions(t, o, ctx)))}`);
console.log(`  hover r.questions          ${pct(measure(base, 'r.questions', (t, o) => hover(t, o - 2, ctx)))}`);
console.log(`  signature kfl.match(       ${pct(measure(base, 'kfl.match("dns", ', (t, o) => signatureHelp(t, o, ctx)))}`);
console.log(`  diagnostics (all lints)    ${pct(measure(base, 'var x = 1;', (t) => diagnostics(t, ctx)))}`);
