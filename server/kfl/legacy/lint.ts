/**
 * Warnings for the legacy-KFL quirks we keep (kubeshark-compat §8), each with a rewrite when one
 * exists. A query that does not compile gets only the quick fixes for the common slips from
 * other languages (`===`, `!==`, `&&`, `||`); its error comes from validateLegacy.
 */
import type { QueryLint } from '../api';
import type { Token } from './lexer';
import type { Node, Call } from './parser';
import { prepare, lineCol, srcOffset, type Prepared } from './prepare';
import { HELPERS } from './compile';

type Span = { start: number; end: number }; // source offsets

function mk(src: string, span: Span, message: string, fixText?: string, fixSpan: Span = span): QueryLint {
  const a = lineCol(src, span.start);
  const b = lineCol(src, span.end);
  const lint: QueryLint = { line: a.line, col: a.col, endCol: a.line === b.line ? b.col : a.col + 1, message };
  if (fixText !== undefined) {
    const fa = lineCol(src, fixSpan.start);
    const fb = lineCol(src, fixSpan.end);
    lint.fix = { line: fa.line, col: fa.col, endCol: fa.line === fb.line ? fb.col : fa.col + 1, text: fixText };
  }
  return lint;
}

export function lintLegacy(source: string): QueryLint[] {
  let p: Prepared;
  try {
    p = prepare(source);
  } catch {
    return slipFixes(source);
  }
  const out: QueryLint[] = [];
  const span = (n: { pos: number; end: number }): Span => ({ start: srcOffset(p.exp, n.pos), end: srcOffset(p.exp, n.end) });
  const text = (s: Span) => source.slice(s.start, s.end);
  // A node that came out of a macro expansion maps to a zero/short span: skip those.
  const fromSource = (s: Span) => s.end > s.start;

  const walk = (n: Node, inParams: boolean): void => {
    switch (n.t) {
      case 'bin':
        if (n.level === 'logical' && n.op === 'or' && !inParams && contDepth === 0 && !orChainSeen.has(n)) orLint(n);
        if (n.level === 'eq' && !inParams && n.right.t === 'call' && /^[A-Z]\w*$/.test(n.right.call.ident) && !n.right.call.params && !n.right.call.select) {
          const s = span(n.right);
          if (fromSource(s)) out.push(mk(source, s, `${text(s)} is read as a field name (missing, so this is false), not as text; quote it.`, `"${text(s)}"`));
        }
        if (n.level === 'eq' && !inParams) {
          const [rx, other] = n.right.t === 'regex' ? [n.right, n.left] : n.left.t === 'regex' ? [n.left, n.right] : [null, null];
          if (rx && other?.t === 'call' && !other.call.params && (other.call.ident.includes('.*') || other.call.ident.includes('..'))) {
            const s = span(n);
            if (fromSource(s)) out.push(mk(source, s, `"${text(span(other))}" gives a list when several values match, and a list never matches a regex (each element is compared with ""): this is only true when exactly one value is found. Compare one element, e.g. [0], or use == "…" for any-element equality.`));
          }
        }
        if (n.level === 'logical' && n.right.t === 'bin' && n.right.level === 'logical' && n.right.op !== n.op) {
          const s = span(n);
          const l = span(n.left);
          const r = span(n.right);
          if (fromSource(s) && fromSource(r)) {
            out.push(mk(source, s,
              `"and" and "or" have no precedence in KFL and group to the right (not left to right): this reads as ${text(l)} ${n.op} (${text(r)}). Add parentheses to say which you mean.`,
              `${text(l)} ${n.op} (${text(r)})`));
          }
        }
        walk(n.left, inParams);
        walk(n.right, inParams);
        return;
      case 'unary': walk(n.operand, inParams); return;
      case 'sub': walk(n.expr, inParams); return;
      case 'str':
      case 'regex':
        if (n.t === 'regex' && !inParams) regexLint(n);
        return;
      case 'call': callLint(n, n.call, inParams); return;
      default: return;
    }
  };

  // A missing selector makes the whole expression false up to the nearest parentheses, through
  // "or": `response.status > 400 or tcp` is false on a TCP item. Worth saying when the other
  // terms of the "or" do not read that selector (then they would not be true anyway).
  const orChainSeen = new Set<Node>();
  let contDepth = 0;
  const orLint = (top: Node) => {
    const terms: Node[] = [];
    let cur: Node = top;
    while (cur.t === 'bin' && cur.level === 'logical' && cur.op === 'or') {
      orChainSeen.add(cur);
      terms.push(cur.left);
      cur = cur.right;
    }
    terms.push(cur);
    const sels = terms.map((t) => bareSelectors(t));
    terms.forEach((t, i) => {
      const mine = sels[i];
      if (!mine.length) return;
      const others = terms.some((_, j) => j !== i && !mine.every((x) => sels[j].includes(x)));
      if (!others) return;
      const s = span(t);
      if (!fromSource(s)) return;
      out.push(mk(source, s,
        `if ${mine.join(', ')} is missing (e.g. on an item of another protocol), the whole expression is false, not just this term: a missing field collapses everything up to the nearest parentheses, "or" included. Wrap the term in parentheses.`,
        `(${text(s)})`));
    });
  };

  const regexLint = (n: Extract<Node, { t: 'regex' }>) => {
    if (n.quote !== 'string') return;
    const pat = n.raw.replace(/^"+|"+$/g, '');
    const s = span(n);
    if (!fromSource(s) || pat.startsWith('^') || pat.startsWith('(?')) return;
    const glob = /^([\w./:-]+)\*$/.exec(pat);
    if (glob && !pat.endsWith('.*')) {
      out.push(mk(source, s, `regex r"${pat}": "*" repeats the character before it (this is not a glob) and the match is unanchored, so it matches any value containing "${pat.slice(0, -2)}". For a prefix write r"^${glob[1]}".`, `r"^${glob[1]}"`));
    } else if (!/[\\^$.*+?()[\]{}|]/.test(pat)) {
      out.push(mk(source, s, `regex r"${pat}" has no anchors, so it matches any value containing "${pat}". For equality write r"^${pat}$" (or == "${pat}").`, `r"^${pat}$"`));
    } else if (/^[\w-]+(\.\*|\.+|\.\+)$/.test(pat)) {
      out.push(mk(source, s, `regex r"${pat}" is unanchored: it matches anywhere in the value (as r"4.*" matches "204"). Anchor it to match from the start.`, `r"^${pat}"`));
    }
  };

  const callLint = (n: Node, call: Call, inParams: boolean) => {
    const name = call.ident.split('.').pop() ?? '';
    if ((call.ident === 'null' || call.ident === 'undefined') && !call.params && !call.select && !inParams) {
      const s = span(n);
      if (fromSource(s)) out.push(mk(source, s, `"${call.ident}" is read as a field name (missing, so the comparison collapses to false); legacy KFL writes nil.`, 'nil'));
    }
    if (call.params && !inParams && !HELPERS.has(name)) {
      const s = { start: srcOffset(p.exp, call.identPos), end: srcOffset(p.exp, call.identEnd) };
      if (fromSource(s)) {
        if (call.ident === 'not') {
          out.push(mk(source, s, '"not" is not an operator in legacy KFL: not(…) calls an unknown helper, which is always false. Negate with "!".', '!', { start: s.start, end: srcOffset(p.exp, call.parenPos!) }));
        } else {
          out.push(mk(source, s, `unknown helper "${name}": this term is always false (helpers: ${[...HELPERS].join(', ')}).`));
        }
      }
    }
    if (call.params) {
      for (const prm of call.params) {
        if (!inParams) argLint(prm.expr);
        walk(prm.expr, true);
      }
    }
    const sel = call.select;
    if (sel?.expr && !inParams && !call.params && (sel.index !== undefined || sel.key) && /(^|\.)(json|xml)$/.test(call.ident)) {
      const s = { start: srcOffset(p.exp, sel.pos), end: srcOffset(p.exp, sel.dotPos ?? sel.pos) };
      if (fromSource(s)) out.push(mk(source, s, `after ${call.ident.split('.').pop()}(), "${text(s)}" followed by "." is dropped: what follows is looked up from the root of the body (Kubeshark's precompute). Use a path without the index, or compare the element itself (${text(s)} == …).`));
    }
    if (sel?.expr && !inParams) {
      const swallowed = sel.expr.t === 'bin' && sel.expr.level === 'logical' ? sel.expr : null;
      if (swallowed) {
        const whole = span(n);
        const head = { start: whole.start, end: srcOffset(p.exp, swallowed.left.end) };
        const tail = { start: srcOffset(p.exp, swallowed.opTok.pos), end: whole.end };
        if (fromSource(head) && fromSource(tail)) {
          out.push(mk(source, tail,
            `everything after "${source.slice(whole.start, srcOffset(p.exp, sel.pos))}" is read inside that field (the "." continuation swallows the rest of the query), so "${text(tail).replace(/^(and|or)\s+/, '')}" is looked up under it. Wrap the first term in parentheses or move it last.`,
            `(${text(head)})${source.slice(head.end, whole.end)}`, whole));
        }
      }
      contDepth++;
      walk(sel.expr, inParams);
      contDepth--;
    }
  };

  const argLint = (e: Node) => {
    const bad = findSelector(e);
    if (!bad) return;
    const s = span(bad);
    if (!fromSource(s)) return;
    out.push(mk(source, s, `helper arguments are not evaluated against the item in KFL: "${text(s)}" here is just false (only literals work as arguments).`));
  };

  if (p.ast) walk(p.ast, false);

  for (const t of p.tokens) quoteLint(source, p, t, out);

  for (const u of p.exp.uses) {
    if (!u.insideIdent) continue;
    const m = /[\p{L}\p{Nd}_]*$/u.exec(source.slice(0, u.start))![0];
    const after = /^[\p{L}\p{Nd}_]*/u.exec(source.slice(u.end))![0];
    const word = m + source.slice(u.start, u.end) + after;
    const ws = u.start - m.length;
    const we = u.end + after.length;
    const dotted = source[ws - 1] === '.' && !/^[.[(]/.test(source.slice(we));
    out.push(mk(source, { start: ws, end: we },
      `"${u.macro}" inside "${word}" is replaced by the ${u.macro} macro (macros are textual, no word boundaries), so this is not the field "${word}".` +
        (dotted ? ` Write it as a quoted key: ["${word}"].` : ''),
      dotted ? `["${word}"]` : undefined, { start: ws - 1, end: we }));
  }
  return out;
}

/** Selector paths read by a term outside any parentheses, continuation or helper argument. */
function bareSelectors(e: Node): string[] {
  switch (e.t) {
    case 'call': {
      const c = e.call;
      if (c.params || c.select?.expr || /(^|\.)(json|xml)$/.test(c.ident)) return []; // helpers and continuations do not collapse
      return [c.ident];
    }
    case 'bin': return e.level === 'logical' ? [] : [...bareSelectors(e.left), ...bareSelectors(e.right)];
    case 'unary': return bareSelectors(e.operand);
    default: return [];
  }
}

function findSelector(e: Node): Node | null {
  switch (e.t) {
    case 'call': return e;
    case 'regex': return e;
    case 'bin': return findSelector(e.left) ?? findSelector(e.right);
    case 'unary': return findSelector(e.operand);
    case 'sub': return findSelector(e.expr);
    default: return null;
  }
}

function quoteLint(source: string, p: Prepared, t: Token, out: QueryLint[]): void {
  if (t.type !== 'char' && t.type !== 'raw') return;
  const s = { start: srcOffset(p.exp, t.pos), end: srcOffset(p.exp, t.end) };
  if (s.end <= s.start) return;
  const inner = t.value.slice(1, -1);
  const what = t.type === 'char' ? 'single-quoted' : 'backquoted';
  const canFix = !inner.includes('"') && !inner.includes('\n');
  out.push(mk(source, s,
    `${what} text keeps its quotes in KFL (${t.value} is compared including the ${t.type === 'char' ? "'" : '`'} characters); strings are double-quoted.`,
    canFix ? `"${inner}"` : undefined));
}

/** Quick fixes for an invalid query: operators from other languages. */
function slipFixes(source: string): QueryLint[] {
  const out: QueryLint[] = [];
  // Only outside double-quoted strings (the same rule macro expansion uses).
  const quotesAfter = (i: number) => (source.slice(i).match(/"/g) ?? []).length;
  const re = /===|!==|&&|\|\|/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(source))) {
    if (quotesAfter(m.index) % 2 !== 0) continue;
    const fix = { '===': '==', '!==': '!=', '&&': 'and', '||': 'or' }[m[0]]!;
    const pad = fix === 'and' || fix === 'or' ? ` ${fix} ` : fix;
    const before = source[m.index - 1] === ' ' || m.index === 0;
    const after = source[m.index + m[0].length] === ' ';
    const text = fix === 'and' || fix === 'or' ? (before ? '' : ' ') + fix + (after ? '' : ' ') : pad;
    out.push(mk(source, { start: m.index, end: m.index + m[0].length }, `"${m[0]}" is not legacy KFL; write "${fix}".`, text));
  }
  return out;
}
