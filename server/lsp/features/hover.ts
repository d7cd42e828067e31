/** Hover on `data.…` paths (type, schema doc, values seen lately), helpers and hook names. */
import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { FeatureContext } from './index';
import type { Tok } from './lexer';
import { deref, elementOf, firstLine, MODEL, sigLabel, typeText } from './model';
import { chainEndingAt, hookParam, prop, resolveChain, type Val } from './resolve';
import { docOf, hooksIn, inComment, tokenBefore } from './structure';
import { rangeOf } from './text';

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;
const RECENT = 5;

export function hover(text: string, offset: number, ctx: FeatureContext): Hover | null {
  const d = docOf(text);
  if (inComment(d, offset)) return null;
  const i = tokenBefore(d, offset + 1);
  const t = d.toks[i];
  if (!t || offset > t.e) return null;
  const range = rangeOf(text, t.s, t.e);
  const hook = hooksIn(d).find((h) => h.tok === i);
  if (hook) {
    const h = MODEL.hooks.find((x) => x.name === hook.hook)!;
    return { contents: { kind: MarkupKind.Markdown, value: `\`\`\`ts\n${sigLabel(h.name, h.sig)}\n\`\`\`\n${h.doc}` }, range };
  }
  const decl = hooksIn(d).find((h) => i > h.fn.at && i < h.fn.open && t.type === 'name' && h.fn.params.includes(t.v));
  if (decl) {
    const v = hookParam(decl.hook, decl.fn.params.indexOf(t.v));
    return v ? { contents: { kind: MarkupKind.Markdown, value: describe(v, ctx) }, range } : null;
  }
  if (t.type === 'str' && isP(d.toks[i - 1], '(') && d.toks[i - 2]?.type === 'name' && /^(match|validate)$/.test(d.toks[i - 2].v) && d.toks[i - 4]?.v === 'kfl') {
    return kflHover(text, t, offset, ctx);
  }
  let end = -1;
  if (t.type === 'name') end = i;
  else if (t.type === 'str' && isP(d.toks[i - 1], '[') && isP(d.toks[i + 1], ']')) end = i + 1;
  if (end < 0) return null;
  const c = chainEndingAt(d, end);
  if (!c) return null;
  const v = resolveChain(d, c);
  if (!v) return null;
  return { contents: { kind: MarkupKind.Markdown, value: describe(v, ctx) }, range };
}

function describe(v: Val, ctx: FeatureContext): string {
  const t = deref(v.type);
  const lines: string[] = [];
  if (t.k === 'fn') {
    lines.push('```ts', ...t.sigs.map((s) => sigLabel(v.name, s)), '```');
    const doc = t.sigs[0].doc || v.doc;
    if (doc) lines.push(doc);
    return lines.join('\n');
  }
  const what = v.kind === 'param' ? 'parameter' : v.kind === 'global' ? 'helper' : 'field';
  const shown = v.path !== null && v.kind === 'member' ? `data.${v.path}` : v.name;
  const typ = v.text && !v.text.startsWith('{') ? v.text : typeText(v.type);
  lines.push('```ts', `(${what}) ${shown}: ${typ}`, '```');
  if (v.protos.length) lines.push(`*${v.protos.join(', ')} only*`);
  const doc = v.kind === 'member' ? firstLine(v.doc) : v.doc;
  if (doc) lines.push('', doc);
  if (v.path) {
    const seen = ctx.observed.recent(v.path, RECENT);
    if (seen.length) lines.push('', `Seen lately: ${seen.map((x) => `\`${short(x)}\``).join(', ')}`);
  }
  return lines.join('\n');
}

function short(x: unknown): string {
  const s = typeof x === 'string' ? JSON.stringify(x) : JSON.stringify(x) ?? String(x);
  return (s.length > 60 ? `${s.slice(0, 57)}…` : s).replace(/`/g, "'");
}

/** A field path inside a kfl.match("…") query: its schema type and doc, values seen lately. */
function kflHover(text: string, t: Tok, offset: number, ctx: FeatureContext): Hover | null {
  if (offset <= t.s || offset >= t.e) return null;
  const left = /[\w.[\]]*$/.exec(text.slice(t.s + 1, offset))![0];
  const right = /^\w*/.exec(text.slice(offset, t.e))![0]; // up to the end of the segment under the cursor
  const path = (left + right).replace(/^\.+|\.+$/g, '');
  let v: Val | null = { type: { k: 'ref', name: 'Item' }, path: '', text: 'Item', doc: '', protos: [], kind: 'param', name: 'data' };
  for (const k of path.split(/\.|(?=\[)/)) {
    if (!v || !k) return null;
    // `[0]` and a plain field after an array both mean an element (the path drops indices).
    if (/^\[\d+\]$/.test(k) || (deref(v.type).k === 'array' && k !== 'length')) {
      const el = elementOf(v.type, null);
      v = el ? { ...v, type: el, text: '' } : null;
      if (!v || k.startsWith('[')) continue;
    }
    v = prop(v, k, null);
  }
  if (!v || !path) return null;
  return { contents: { kind: MarkupKind.Markdown, value: describe(v, ctx) }, range: rangeOf(text, offset - left.length, offset + right.length) };
}
