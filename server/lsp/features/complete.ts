/**
 * Completions: members after `.` (item fields typed from the schema, narrowed by protocol;
 * helpers from the runtime API), names at the start of an expression, and values seen in the
 * traffic inside string literals (`headers["…`, `=== "…`, `case "…`).
 */
import { CompletionItemKind, InsertTextFormat, MarkupKind, type CompletionItem, type MarkupContent } from 'vscode-languageserver';
import type { FeatureContext } from './index';
import { cook, type Tok } from './lexer';
import { deref, MODEL, membersOf, PROTOCOL_NAMES, sigLabel, typeText, type SeenMember } from './model';
import { chainEndingAt, narrowAt, resolveChain, type Val } from './resolve';
import { docOf, inComment, scopeOf, tokenBefore, type Doc } from './structure';
import { offsetToPosition } from './text';
import { itemPaths } from './paths';
import { LEGACY_MACROS } from '../../kfl/legacy/macros';

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;
const isDot = (t: Tok | undefined) => isP(t, '.') || isP(t, '?.');
const COMPARE = new Set(['===', '==', '!==', '!=']);

/** ES5 methods worth offering on strings and arrays (item fields are mostly these). */
const STRING_METHODS = ['indexOf', 'lastIndexOf', 'slice', 'substring', 'split', 'toLowerCase', 'toUpperCase', 'trim', 'replace', 'match', 'charAt', 'length'];
const ARRAY_METHODS = ['length', 'indexOf', 'join', 'slice', 'forEach', 'map', 'filter', 'some', 'every', 'reduce', 'concat', 'push'];

export function completions(text: string, offset: number, ctx: FeatureContext): CompletionItem[] {
  const d = docOf(text);
  if (inComment(d, offset)) return [];
  const i = tokenBefore(d, offset);
  const t = d.toks[i];
  if (!t) return globals(d, offset);
  if (t.type === 'str' && offset > t.s && (t.closed ? offset < t.e : offset <= t.e)) return stringValues(d, i, offset, ctx);
  if ((t.type === 'tpl' || t.type === 're' || t.type === 'num') && offset <= t.e) return [];
  if (t.type === 'name' && offset <= t.e) {
    if (isDot(d.toks[i - 1])) return members(d, i - 2, ctx);
    return isP(d.toks[i - 1], '.') ? [] : globals(d, i);
  }
  if (isDot(t)) return members(d, i - 1, ctx);
  if (isP(t, '[')) return bracketKeys(d, i, offset, ctx);
  return [];
}

function md(value: string): MarkupContent | undefined {
  return value ? { kind: MarkupKind.Markdown, value } : undefined;
}

const pad = (n: number) => String(n).padStart(4, '0');

/** Completions after `chain.` where the chain ends at token `end`. */
function members(d: Doc, end: number, ctx: FeatureContext): CompletionItem[] {
  const chain = chainEndingAt(d, end);
  if (!chain) return [];
  const v = resolveChain(d, chain);
  if (!v) return [];
  if (v.kind === 'global' && v.name === 'env') return ctx.envKeys.map((k, n) => ({ label: k, kind: CompletionItemKind.Constant, detail: 'env', sortText: pad(n) }));
  const narrow = v.path === null ? null : narrowAt(d, end);
  const t = deref(v.type);
  const ms = membersOf(t, narrow);
  if (ms.length) return ms.map((m, n) => memberItem(m, n));
  if (t.k === 'map' && v.path !== null) {
    return ctx.observed.values(`${v.path}.*`, 50).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k))
      .map((k, n) => ({ label: k, kind: CompletionItemKind.Field, detail: 'seen in traffic', sortText: pad(n) }));
  }
  if (t.k === 'array') return ARRAY_METHODS.map((m, n) => ({ label: m, kind: m === 'length' ? CompletionItemKind.Property : CompletionItemKind.Method, sortText: pad(n) }));
  if (t.k === 'prim' && /string/.test(t.text)) return STRING_METHODS.map((m, n) => ({ label: m, kind: m === 'length' ? CompletionItemKind.Property : CompletionItemKind.Method, sortText: pad(n) }));
  return [];
}

function memberItem(m: SeenMember, n: number): CompletionItem {
  const fn = m.type.k === 'fn' ? m.type : null;
  const proto = m.protos.length ? m.protos.join(', ') : '';
  const item: CompletionItem = {
    label: m.name,
    kind: fn ? CompletionItemKind.Method : deref(m.type).k === 'object' ? CompletionItemKind.Module : CompletionItemKind.Field,
    detail: fn ? sigLabel(m.name, fn.sigs[0]) : `${proto ? `(${proto}) ` : ''}${m.name}${m.optional ? '?' : ''}: ${m.text || typeText(m.type)}`,
    sortText: pad(n),
  };
  if (proto) item.labelDetails = { description: proto };
  const doc = md(fn ? fn.sigs[0].doc || m.doc : m.doc);
  if (doc) item.documentation = doc;
  if (fn) item.commitCharacters = ['('];
  return item;
}

/** Names at the start of an expression: helpers, hook parameters in scope, and hook skeletons at the top level. */
function globals(d: Doc, i: number): CompletionItem[] {
  const out: CompletionItem[] = [];
  let n = 0;
  const s = i >= 0 ? scopeOf(d, i) : -1;
  for (let sc = s; sc >= 0; sc = scopeOf(d, sc)) {
    const fn = d.fns.get(sc)!;
    for (const p of fn.params) out.push({ label: p, kind: CompletionItemKind.Variable, detail: fn.top && fn.name ? `${fn.name} parameter` : 'parameter', sortText: `0${pad(n++)}` });
  }
  for (const [name, g] of Object.entries(MODEL.globals)) {
    const fn = g.type.k === 'fn' ? g.type : null;
    const item: CompletionItem = {
      label: name,
      kind: fn ? CompletionItemKind.Function : CompletionItemKind.Module,
      detail: fn ? sigLabel(name, fn.sigs[0]) : g.text.startsWith('{') ? 'wirehook helper' : g.text,
      sortText: `1${pad(n++)}`,
    };
    const doc = md(fn ? fn.sigs[0].doc : g.doc);
    if (doc) item.documentation = doc;
    out.push(item);
  }
  if (s < 0 && (i < 0 || d.parent[i] === -1)) {
    const declared = new Set([...d.fns.values()].filter((f) => f.top).map((f) => f.name));
    for (const h of MODEL.hooks) {
      if (declared.has(h.name)) continue;
      const params = h.params.map((p, k) => `\${${k + 1}:${p.name}}`).join(', ');
      out.push({
        label: h.name,
        kind: CompletionItemKind.Function,
        detail: sigLabel(h.name, h.sig),
        documentation: md(h.doc),
        insertText: `function ${h.name}(${params}) {\n\t$0\n}`,
        insertTextFormat: InsertTextFormat.Snippet,
        sortText: `2${pad(n++)}`,
      });
    }
  }
  return out;
}

/** Values for the string literal at token i: map keys, compared values, switch cases. */
function stringValues(d: Doc, i: number, offset: number, ctx: FeatureContext): CompletionItem[] {
  const { toks } = d;
  const t = toks[i];
  const prev = toks[i - 1];
  let values: string[] = [];
  const detail = 'seen in traffic';
  if (isP(prev, '[')) {
    const v = chainAt(d, i - 2);
    if (!v) return [];
    values = keysOf(v, d, i, ctx);
  } else if (prev?.type === 'punc' && COMPARE.has(prev.v)) {
    const v = chainAt(d, i - 2);
    if (!v) return [];
    values = valuesAt(v, ctx);
  } else if (prev?.type === 'name' && prev.v === 'case') {
    const brace = d.parent[i];
    if (brace < 1 || !isP(toks[brace - 1], ')') || toks[d.rmatch[brace - 1] - 1]?.v !== 'switch') return [];
    const v = chainAt(d, brace - 2);
    if (!v) return [];
    values = valuesAt(v, ctx);
  } else if (isP(prev, '(') && /^(match|validate)$/.test(toks[i - 2]?.v ?? '') && isDot(toks[i - 3]) && toks[i - 4]?.v === 'kfl') {
    return kflWords(d, t, offset);
  } else {
    return [];
  }
  const quote = t.v[0];
  const start = offsetToPosition(d.text, t.s + 1);
  const endOff = t.closed ? t.e - 1 : t.e;
  const end = offsetToPosition(d.text, Math.max(endOff, offset));
  return values.map((v, n) => ({
    label: v,
    kind: CompletionItemKind.Value,
    detail,
    sortText: pad(n),
    filterText: v,
    textEdit: { range: { start, end }, newText: escapeFor(v, quote) },
  }));
}

/** After `chain[` with no quote yet: the keys, quoted. */
function bracketKeys(d: Doc, i: number, offset: number, ctx: FeatureContext): CompletionItem[] {
  const v = chainAt(d, i - 1);
  if (!v) return [];
  const pos = offsetToPosition(d.text, offset);
  return keysOf(v, d, i, ctx).map((k, n) => ({
    label: `"${k}"`,
    kind: CompletionItemKind.Value,
    detail: 'seen in traffic',
    sortText: pad(n),
    textEdit: { range: { start: pos, end: pos }, newText: JSON.stringify(k) },
  }));
}

function chainAt(d: Doc, end: number): Val | null {
  const t = d.toks[end];
  if (!t || !(t.type === 'name' || isP(t, ']'))) return null;
  const c = chainEndingAt(d, end);
  return c ? resolveChain(d, c) : null;
}

function keysOf(v: Val, d: Doc, i: number, ctx: FeatureContext): string[] {
  if (v.kind === 'global' && v.name === 'env') return ctx.envKeys;
  const t = deref(v.type);
  if (t.k === 'map' && v.path !== null) return ctx.observed.values(`${v.path}.*`, 100);
  const narrow = v.path === null ? null : narrowAt(d, i);
  return membersOf(t, narrow).map((m) => m.name);
}

function valuesAt(v: Val, ctx: FeatureContext): string[] {
  if (v.path === null) return [];
  const seen = ctx.observed.values(v.path, 100);
  if (v.path === 'protocol.name') for (const p of PROTOCOL_NAMES) if (!seen.includes(p)) seen.push(p);
  const lit = /^'[^']*'(\s*\|\s*'[^']*')*$/.test(v.text) ? v.text.split('|').map((s) => s.trim().slice(1, -1)) : [];
  for (const l of lit) if (!seen.includes(l)) seen.push(l);
  return seen;
}

function escapeFor(v: string, quote: string): string {
  const j = JSON.stringify(v).slice(1, -1);
  return quote === "'" ? j.replace(/\\"/g, '"').replace(/'/g, "\\'") : j;
}


/** Inside a kfl.match("…") query: macros and item field paths for the word being typed. */
function kflWords(d: Doc, t: Tok, offset: number): CompletionItem[] {
  const before = d.text.slice(t.s + 1, offset);
  const word = /[\w.]*$/.exec(before)![0];
  const start = offsetToPosition(d.text, offset - word.length);
  const end = offsetToPosition(d.text, offset);
  const range = { start, end };
  const out: CompletionItem[] = [];
  let n = 0;
  if (!word.includes('.')) {
    for (const [m, exp] of Object.entries(LEGACY_MACROS)) {
      out.push({ label: m, kind: CompletionItemKind.Keyword, detail: `macro: ${exp}`, sortText: `${PROTOCOL_NAMES.includes(m) ? 0 : 1}${pad(n++)}`, textEdit: { range, newText: m } });
    }
  }
  for (const p of itemPaths()) {
    out.push({ label: p, kind: CompletionItemKind.Field, detail: 'item field', sortText: `2${pad(n++)}`, textEdit: { range, newText: p } });
  }
  return out;
}
