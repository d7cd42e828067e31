/**
 * Lints for legacy KFL inside `kfl.match("…", data)` / `kfl.validate("…")` string literals: the
 * syntax error and server/kfl's quirk warnings (with their rewrites), positions mapped from the
 * query into the literal (escapes included); and, once traffic has been seen, selectors that no
 * stored item has (legacy KFL silently matches nothing on a missing field).
 */
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { QueryError } from '../../kfl/api';
import { lintLegacy } from '../../kfl/legacy/lint';
import { validateLegacy } from '../../kfl/legacy/index';
import { prepare, srcOffset } from '../../kfl/legacy/prepare';
import type { Node } from '../../kfl/legacy/parser';
import type { FeatureContext } from './index';
import { cook, type Tok } from './lexer';
import { editDistance } from './distance';
import { CODES, mkDiag, type Fix } from './diagnostics';
import { itemPaths } from './paths';
import { rangeOf } from './text';
import type { Doc } from './structure';

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;
const isDot = (t: Tok | undefined) => isP(t, '.') || isP(t, '?.');

export function kflDiagnostics(d: Doc, ctx: FeatureContext, out: Diagnostic[]): void {
  const { toks } = d;
  for (let i = 0; i + 4 < toks.length; i++) {
    if (toks[i].v !== 'kfl' || isDot(toks[i - 1]) || !isDot(toks[i + 1]) || !/^(match|validate)$/.test(toks[i + 2].v) || !isP(toks[i + 3], '(')) continue;
    const lit = toks[i + 4];
    if (lit.type !== 'str' || !lit.closed || !(isP(toks[i + 5], ',') || isP(toks[i + 5], ')'))) continue;
    checkQuery(d, lit, ctx, out);
  }
}

function checkQuery(d: Doc, lit: Tok, ctx: FeatureContext, out: Diagnostic[]): void {
  const { value: q, map } = cook(lit);
  // Query offset → document offset (inside the literal, escapes accounted for).
  const at = (off: number) => lit.s + map[Math.max(0, Math.min(off, map.length - 1))];
  const qOff = (line: number, col: number) => {
    let o = 0;
    for (let l = 1; l < line; l++) o = q.indexOf('\n', o) + 1;
    return o + col - 1;
  };
  const quote = lit.v[0];
  try {
    validateLegacy(q);
  } catch (e) {
    if (!(e instanceof QueryError)) throw e;
    const s = qOff(e.line, e.col);
    const end = Math.max(s + 1, s + (/^[\w.]+/.exec(q.slice(s))?.[0].length ?? 1));
    const lints = lintLegacy(q).filter((l) => l.fix);
    const fixes = lints.map((l) => fixOf(d, l.fix!, qOff, at, quote, l.message));
    out.push(mkDiag(d.text, at(s), Math.min(at(end), lit.e - 1), CODES.kflSyntax, `KFL: ${e.text} (kfl.match throws on this query)`, DiagnosticSeverity.Error, fixes));
    return;
  }
  for (const l of lintLegacy(q)) {
    const s = qOff(l.line, l.col);
    const e = qOff(l.line, l.endCol);
    const fixes = l.fix ? [fixOf(d, l.fix, qOff, at, quote, 'Rewrite the KFL')] : [];
    out.push(mkDiag(d.text, at(s), at(Math.max(e, s + 1)), CODES.kflLint, `KFL: ${l.message}`, DiagnosticSeverity.Warning, fixes));
  }
  if (ctx.observed.itemCount > 0) unknownFields(d, q, at, quote, ctx, out);
}

function fixOf(d: Doc, f: { line: number; col: number; endCol: number; text: string }, qOff: (l: number, c: number) => number, at: (o: number) => number, quote: string, title: string): Fix {
  const s = qOff(f.line, f.col);
  const e = qOff(f.line, f.endCol);
  return { title: title.length > 80 ? `Write ${f.text}` : title, edits: [{ range: rangeOf(d.text, at(s), at(e)), newText: escapeFor(f.text, quote) }] };
}

function escapeFor(v: string, quote: string): string {
  const j = JSON.stringify(v).slice(1, -1);
  return quote === "'" ? j.replace(/\\"/g, '"').replace(/'/g, "\\'") : j;
}

/** Plain selectors (`request.pth`) of the query that no stored item has. */
function unknownFields(d: Doc, q: string, at: (o: number) => number, quote: string, ctx: FeatureContext, out: Diagnostic[]): void {
  let p;
  try {
    p = prepare(q);
  } catch {
    return;
  }
  const seen = new Set<string>();
  const visit = (n: Node | null | undefined): void => {
    if (!n) return;
    switch (n.t) {
      case 'bin': visit(n.left); visit(n.right); return;
      case 'unary': visit(n.operand); return;
      case 'sub': visit(n.expr); return;
      case 'call': {
        const c = n.call;
        if (c.params) { for (const prm of c.params) visit(prm.expr); return; }
        const s = srcOffset(p.exp, c.identPos);
        const e = srcOffset(p.exp, c.identEnd);
        // Only names as written (not from a macro), plain dotted fields.
        if (q.slice(s, e) !== c.ident || !/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(c.ident) || c.select?.expr) return;
        if (c.ident === 'true' || c.ident === 'false' || c.ident === 'nil' || seen.has(`${s}`)) return;
        seen.add(`${s}`);
        if (ctx.observed.hasPath(c.ident)) return;
        const near = nearest(c.ident, ctx);
        const fixes: Fix[] = near ? [{ title: `Use ${near}`, edits: [{ range: rangeOf(d.text, at(s), at(e)), newText: escapeFor(near, quote) }] }] : [];
        out.push(mkDiag(d.text, at(s), at(e), CODES.kflField,
          `KFL: no stored item has "${c.ident}" (of ${ctx.observed.itemCount} seen), so this term is false${near ? `; did you mean "${near}"?` : '.'}`,
          DiagnosticSeverity.Warning, fixes));
        return;
      }
      default: return;
    }
  };
  visit(p.ast);
}

function nearest(path: string, ctx: FeatureContext): string | null {
  let best: string | null = null;
  let bestD = 3;
  for (const cand of itemPaths()) {
    const dist = editDistance(path, cand, 2);
    if (dist < bestD && ctx.observed.hasPath(cand)) { best = cand; bestD = dist; }
  }
  return best;
}
