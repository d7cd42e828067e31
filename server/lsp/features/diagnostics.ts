/**
 * Diagnostics for hook scripts: the syntax error (acorn) and the lints, each with a stable code
 * (docs/language-features.md lists them). A lint's quick fixes travel in `data.fixes` and are
 * recomputed from the current text when asked for (actions.ts).
 */
import { DiagnosticSeverity, type Diagnostic, type TextEdit } from 'vscode-languageserver';
import type { FeatureContext } from './index';
import type { Tok } from './lexer';
import { editDistance } from './distance';
import { kflDiagnostics } from './kfl';
import { deref, HOOK_NAMES, membersOf } from './model';
import { chainStartingAt, prop, resolveRoot, walkSteps, type Val } from './resolve';
import { docOf, type Doc } from './structure';
import { es5Findings, parse } from './syntax';
import { rangeOf } from './text';

export const CODES = {
  syntax: 'syntax-error',
  hookName: 'hook-name-typo',
  goCase: 'go-cased-field',
  s3Order: 's3-legacy-order',
  kflSyntax: 'kfl-syntax',
  kflLint: 'kfl-lint',
  kflField: 'kfl-unknown-field',
  packetConsole: 'console-in-packet-hook',
  es5: 'es5-syntax',
} as const;

export interface Fix { title: string; edits: TextEdit[] }

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;
const isDot = (t: Tok | undefined) => isP(t, '.') || isP(t, '?.');

export function mkDiag(text: string, s: number, e: number, code: string, message: string, severity: DiagnosticSeverity, fixes: Fix[] = []): Diagnostic {
  const d: Diagnostic = { range: rangeOf(text, s, e), severity, source: 'wirehook', code, message };
  if (fixes.length) d.data = { fixes };
  return d;
}

export function diagnostics(text: string, ctx: FeatureContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const p = parse(text);
  const d = docOf(text);
  if (p.error) {
    const e = Math.min(text.length, p.error.pos + Math.max(1, (/^[\w$]+/.exec(text.slice(p.error.pos))?.[0].length ?? 1)));
    out.push(mkDiag(text, p.error.pos, e, CODES.syntax, p.error.message, DiagnosticSeverity.Error));
  }
  // One lint's bug must not hide the others' findings (nor take the server down).
  const run = (name: string, f: () => void) => {
    try {
      f();
    } catch (e) {
      console.error(`wirehook lint ${name}: ${(e as Error).stack ?? e}`);
    }
  };
  run('hook names', () => hookTypos(d, out));
  run('go-cased', () => goCased(d, out));
  run('s3 order', () => s3Order(d, out));
  run('packet console', () => packetConsole(d, out));
  run('kfl', () => kflDiagnostics(d, ctx, out));
  const ast = p.ast;
  if (ctx.es5Warning && ast) run('es5', () => {
    for (const f of es5Findings(ast, text)) {
      const fixes = f.fix ? [{ title: `Use "var"`, edits: [{ range: rangeOf(text, f.fix.s, f.fix.e), newText: f.fix.text }] }] : [];
      out.push(mkDiag(text, f.s, f.e, CODES.es5, `${cap(f.what)} are newer than ES5; Kubeshark runs hook scripts in an ES5 engine (wirehook.es5Warning: false hides this).`, DiagnosticSeverity.Warning, fixes));
    }
  });
  return out;
}

const cap = (s: string) => s[0].toUpperCase() + s.slice(1);

/** `function onItemCapture(data)` at the top level: almost a hook name, so never called. */
function hookTypos(d: Doc, out: Diagnostic[]): void {
  for (const fn of d.fns.values()) {
    if (!fn.top || !fn.name || HOOK_NAMES.includes(fn.name) || !/^on/i.test(fn.name)) continue;
    let best: string | null = null;
    let bestD = 3;
    for (const h of HOOK_NAMES) {
      const dist = editDistance(fn.name.toLowerCase(), h.toLowerCase(), 2); // 0: only the case differs
      if (dist < bestD) { best = h; bestD = dist; }
    }
    if (!best) continue;
    const t = d.toks[fn.at];
    out.push(mkDiag(d.text, t.s, t.e, CODES.hookName,
      `"${fn.name}" is not a hook name, so Wirehook never calls it. Did you mean "${best}"?`, DiagnosticSeverity.Warning,
      [{ title: `Rename to ${best}`, edits: [{ range: rangeOf(d.text, t.s, t.e), newText: best }] }]));
  }
}

/** `data.Protocol.Name`: Go-cased names from Kubeshark's Go structs; item fields are lowerCamel. */
function goCased(d: Doc, out: Diagnostic[]): void {
  const { toks } = d;
  const rootCache = new Map<string, Val | null>();
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.type !== 'name' || isDot(toks[i - 1]) || !isDot(toks[i + 1])) continue;
    const c = chainStartingAt(d, i) ?? callChain(d, i);
    if (!c || !c.steps.length) continue;
    const key = `${t.v}@${d.parent[i]}`;
    let root = rootCache.get(key);
    if (root === undefined) {
      root = resolveRoot(d, t.v, i, 0);
      rootCache.set(key, root);
    }
    if (!root || (root.kind !== 'param' && root.path === null)) continue;
    let cur: Val | null = root;
    const bad: { tok: number; name: string }[] = [];
    for (const st of c.steps) {
      if (!cur) break;
      if (st.k !== 'prop') { cur = walkSteps(cur, [st], null); continue; }
      // Before prop(): the request/response unions end in a catch-all map that accepts any key.
      const ms = membersOf(deref(cur.type), null);
      const m = ms.some((x) => x.name === st.name) ? null : ms.find((x) => x.name.toLowerCase() === st.name.toLowerCase());
      if (!m) { cur = prop(cur, st.name, null); continue; }
      bad.push({ tok: st.tok, name: m.name });
      cur = prop(cur, m.name, null);
    }
    if (!bad.length) continue;
    const s = toks[bad[0].tok].s;
    const e = toks[bad[bad.length - 1].tok].e;
    const wrong = bad.map((b) => toks[b.tok].v).join(', ');
    const right = bad.map((b) => b.name).join(', ');
    out.push(mkDiag(d.text, s, e, CODES.goCase,
      `Go-cased field name (${wrong}): item fields are lowerCamel as in Kubeshark's JSON (${right}); the Go-cased name is undefined here.`, DiagnosticSeverity.Warning,
      [{ title: `Use ${right}`, edits: bad.map((b) => ({ range: rangeOf(d.text, toks[b.tok].s, toks[b.tok].e), newText: b.name })) }]));
    i = c.end;
  }
}

/** A chain whose forward read stopped at a call (`data.Request.Path.indexOf(`): the part before the call. */
function callChain(d: Doc, i: number) {
  let j = i;
  while (isDot(d.toks[j + 1]) && d.toks[j + 2]?.type === 'name' && !isP(d.toks[j + 3], '(')) j += 2;
  if (j === i) return null;
  const toks = d.toks;
  const steps = [];
  for (let k = i + 2; k <= j; k += 2) steps.push({ k: 'prop' as const, name: toks[k].v, tok: k });
  return { root: toks[i].v, rootTok: i, steps, end: j };
}

/** Arguments of the call whose `(` is token p: [first token, last token] of each. */
export function callArgs(d: Doc, p: number): [number, number][] {
  const close = d.match[p];
  if (close < 0) return [];
  const args: [number, number][] = [];
  let start = p + 1;
  for (let k = p + 1; k <= close; k++) {
    if (k === close || (d.parent[k] === p && isP(d.toks[k], ','))) {
      if (k > start) args.push([start, k - 1]);
      start = k + 1;
    }
  }
  return args;
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/** vendor.s3.put(region, keyID, secret, bucket, path): the 2023 order; today it is (bucket, path, region, keyID, secret). */
function s3Order(d: Doc, out: Diagnostic[]): void {
  const { toks, text } = d;
  for (let i = 0; i + 5 < toks.length; i++) {
    if (toks[i].v !== 'vendor' || !isDot(toks[i + 1]) || toks[i + 2].v !== 's3' || !isDot(toks[i + 3]) || toks[i + 4].v !== 'put' || !isP(toks[i + 5], '(')) continue;
    const args = callArgs(d, i + 5);
    if (args.length < 5) continue;
    const src = (a: [number, number]) => text.slice(toks[a[0]].s, toks[a[1]].e);
    const first = toks[args[0][0]];
    const looksRegion = (a: [number, number]) => {
      const t = toks[a[0]];
      return (a[0] === a[1] && t.type === 'str' && REGION.test(t.v.slice(1, -1))) || /region/i.test(src(a));
    };
    if (!looksRegion(args[0]) || looksRegion(args[3])) continue;
    const [region, key, secret, bucket, path] = args.slice(0, 5).map(src);
    const s = first.s;
    const e = toks[args[4][1]].e;
    out.push(mkDiag(text, toks[i].s, toks[i + 4].e, CODES.s3Order,
      'vendor.s3.put(region, keyID, secret, bucket, path) is the legacy argument order (Kubeshark 2023 examples); the current one is (bucket, path, region, keyID, secret). Wirehook accepts both, with a warning at run time.',
      DiagnosticSeverity.Warning,
      [{ title: 'Reorder to (bucket, path, region, keyID, secret)', edits: [{ range: rangeOf(text, s, e), newText: [bucket, path, region, key, secret].join(', ') }] }]));
  }
}

/** console.* in onPacketCaptured runs for every packet: Kubeshark advises arithmetic only there. */
function packetConsole(d: Doc, out: Diagnostic[]): void {
  const { toks } = d;
  for (const fn of d.fns.values()) {
    if (!fn.top || fn.name !== 'onPacketCaptured') continue;
    const end = fn.close < 0 ? toks.length : fn.close;
    for (let k = fn.open + 1; k < end - 3; k++) {
      if (toks[k].v === 'console' && !isDot(toks[k - 1]) && isDot(toks[k + 1]) && /^(log|error|info)$/.test(toks[k + 2].v) && isP(toks[k + 3], '(')) {
        out.push(mkDiag(d.text, toks[k].s, toks[k + 2].e, CODES.packetConsole,
          `console.${toks[k + 2].v} in onPacketCaptured runs for every packet: keep this hook to arithmetic and report from a job (jobs.schedule), as Kubeshark advises.`,
          DiagnosticSeverity.Warning));
      }
    }
  }
}
