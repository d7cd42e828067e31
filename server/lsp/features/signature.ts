/** Signature help for helper calls (`kfl.match(`, `vendor.s3.put(`, `console.log(` …). */
import { MarkupKind, type SignatureHelp, type SignatureInformation } from 'vscode-languageserver';
import type { FeatureContext } from './index';
import type { Tok } from './lexer';
import { deref, paramLabel, sigLabel } from './model';
import { chainEndingAt, resolveChain } from './resolve';
import { docOf, inComment, tokenBefore } from './structure';

const isP = (t: Tok | undefined, v: string) => !!t && t.type === 'punc' && t.v === v;

export function signatureHelp(text: string, offset: number, _ctx: FeatureContext): SignatureHelp | null {
  const d = docOf(text);
  if (inComment(d, offset)) return null;
  const i = tokenBefore(d, offset);
  if (i < 0) return null;
  const t = d.toks[i];
  let p = t.type === 'punc' && (t.v === '(' || t.v === '[' || t.v === '{') && offset >= t.e ? i : d.parent[i];
  while (p >= 0 && !isP(d.toks[p], '(')) {
    if (d.fns.has(p)) return null;
    p = d.parent[p];
  }
  if (p < 1) return null;
  const callee = d.toks[p - 1];
  if (callee.type !== 'name') return null;
  const c = chainEndingAt(d, p - 1);
  if (!c) return null;
  const v = resolveChain(d, c);
  const fn = v ? deref(v.type) : null;
  if (!v || fn?.k !== 'fn') return null;
  let arg = 0;
  for (let k = p + 1; k <= i; k++) if (d.parent[k] === p && isP(d.toks[k], ',') && d.toks[k].e <= offset) arg++;
  const signatures: SignatureInformation[] = fn.sigs.map((s) => {
    const name = v.name;
    const label = sigLabel(name, s);
    let at = name.length + 1;
    const parameters = s.params.map((prm) => {
      const pl = paramLabel(prm);
      const r: [number, number] = [at, at + pl.length];
      at += pl.length + 2;
      return { label: r };
    });
    const info: SignatureInformation = { label, parameters };
    if (s.doc) info.documentation = { kind: MarkupKind.Markdown, value: s.doc };
    return info;
  });
  const params = fn.sigs[0].params;
  const last = params.length - 1;
  const activeParameter = last >= 0 && arg > last && params[last].rest ? last : arg;
  return { signatures, activeSignature: 0, activeParameter };
}
