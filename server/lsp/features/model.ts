/**
 * The type model the features work from, generated from capture/item/schema.ts and
 * server/runtime/api.d.ts.txt by scripts/gen-lsp-model.mjs (never edited by hand), plus the few
 * operations on it: members of a type (protocol-tagged, narrowed), element types, display text.
 */
import raw from './model.generated.json';

export type T =
  | { k: 'prim'; text: string }
  | { k: 'ref'; name: string }
  | { k: 'array'; of: T }
  | { k: 'map'; of: T }
  | { k: 'union'; of: T[] }
  | { k: 'object'; members: Member[] }
  | { k: 'fn'; sigs: Sig[] };

export interface Member { name: string; type: T; text: string; optional: boolean; doc: string }
export interface Param { name: string; type: string; optional: boolean; rest: boolean }
export interface Sig { params: Param[]; ret: string; doc: string }
export interface HookDecl { name: string; doc: string; params: { name: string; type: T; text: string }[]; sig: Sig }
export interface Model {
  interfaces: Record<string, { doc: string; members: Member[] }>;
  aliases: Record<string, T>;
  protocols: { name: string; request: string; response: string }[];
  hooks: HookDecl[];
  globals: Record<string, { type: T; text: string; doc: string }>;
}

export const MODEL = raw as unknown as Model;
export const HOOK_NAMES: readonly string[] = MODEL.hooks.map((h) => h.name);
export const PROTOCOL_NAMES: readonly string[] = MODEL.protocols.map((p) => p.name);

/** Interface name → protocol, for the protocol-specific request/response shapes. */
const PROTO_OF = new Map<string, string>();
for (const p of MODEL.protocols) {
  PROTO_OF.set(p.request, p.name);
  PROTO_OF.set(p.response, p.name);
}

/** A member as seen through a (possibly union) type: which protocols it belongs to, if any. */
export interface SeenMember { name: string; type: T; text: string; doc: string; optional: boolean; protos: string[] }

/** Protocols to keep when a union has protocol-specific parts; null = all. */
export type Narrow = ReadonlySet<string> | null;

export function deref(t: T, seen = 0): T {
  while (t.k === 'ref' && MODEL.aliases[t.name] && seen++ < 10) t = MODEL.aliases[t.name];
  return t;
}

/** The parts of a union after narrowing (a narrowed union drops the parts of other protocols and the catch-all). */
function parts(t: T, narrow: Narrow): { t: T; proto: string | null }[] {
  t = deref(t);
  if (t.k !== 'union') return [{ t, proto: t.k === 'ref' ? PROTO_OF.get(t.name) ?? null : null }];
  const all = t.of.flatMap((x) => parts(x, null));
  if (!narrow || !all.some((p) => p.proto)) return all;
  const kept = all.filter((p) => p.proto && narrow.has(p.proto));
  return kept.length ? kept : all;
}

export function membersOf(t: T, narrow: Narrow): SeenMember[] {
  const out = new Map<string, SeenMember>();
  for (const { t: p, proto } of parts(t, narrow)) {
    const ms = p.k === 'ref' ? MODEL.interfaces[p.name]?.members ?? [] : p.k === 'object' ? p.members : [];
    for (const m of ms) {
      const prev = out.get(m.name);
      if (!prev) {
        out.set(m.name, { name: m.name, type: m.type, text: m.text, doc: m.doc, optional: m.optional, protos: proto ? [proto] : [] });
      } else {
        if (proto && !prev.protos.includes(proto)) prev.protos.push(proto);
        if (prev.text !== m.text) {
          prev.type = { k: 'union', of: [prev.type, m.type] };
          prev.text = `${prev.text} | ${m.text}`;
        }
      }
    }
  }
  return [...out.values()];
}

export function memberOf(t: T, name: string, narrow: Narrow): SeenMember | null {
  return membersOf(t, narrow).find((m) => m.name === name) ?? null;
}

/** `x[i]` / `x["k"]`: the element of an array, the value of a map. */
export function elementOf(t: T, narrow: Narrow): T | null {
  const ps = parts(t, narrow).map((p) => p.t).filter((p) => p.k === 'array' || p.k === 'map') as { k: 'array' | 'map'; of: T }[];
  if (!ps.length) return null;
  return ps.length === 1 ? ps[0].of : { k: 'union', of: ps.map((p) => p.of) };
}

export function isMap(t: T, narrow: Narrow): boolean {
  return parts(t, narrow).some((p) => p.t.k === 'map');
}
export function isArray(t: T, narrow: Narrow): boolean {
  return parts(t, narrow).some((p) => p.t.k === 'array');
}

export function typeText(t: T): string {
  switch (t.k) {
    case 'prim': return t.text;
    case 'ref': return t.name;
    case 'array': return `${typeText(t.of)}[]`;
    case 'map': return `Record<string, ${typeText(t.of)}>`;
    case 'union': return t.of.map(typeText).join(' | ');
    case 'object': return `{ ${t.members.map((m) => m.name).join(', ')} }`;
    case 'fn': return 'function';
  }
}

export function sigLabel(name: string, s: Sig): string {
  return `${name}(${s.params.map(paramLabel).join(', ')}): ${s.ret}`;
}
export function paramLabel(p: Param): string {
  return `${p.rest ? '...' : ''}${p.name}${p.optional ? '?' : ''}: ${p.type}`;
}

/** The first sentence of a doc comment (hover's one-liner). */
export function firstLine(doc: string): string {
  const para = (doc.split(/\n\s*\n/)[0] ?? '').replace(/\s*\n\s*/g, ' ').trim();
  const m = /^([\s\S]*?[.!?])(?=\s+[A-Z(]|\s*$)/.exec(para);
  return m ? m[1] : para;
}
