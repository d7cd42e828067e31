/**
 * The small JSONPath subset Kubeshark's KFL builds (ojg `jp` expressions): `.name`, `.*`,
 * `[n]`, `["key"]`, `..name` (recursive descent). Paths are built as strings exactly the way
 * Kubeshark concatenates them (so its quirks carry over), then compiled once into getters.
 * Hand-written rather than a JSONPath library: we need ojg's exact "result list" semantics and a
 * specialised fast path for plain dotted paths (measured: the hot loop of every filter).
 */

export type Frag =
  | { k: 'child'; name: string }
  | { k: 'nth'; i: number }
  | { k: 'wild' }
  | { k: 'descent' };

export class PathSyntaxError extends Error {}

export function parsePath(src: string): Frag[] {
  const out: Frag[] = [];
  let i = 0;
  const n = src.length;
  if (src[0] === '$') i = 1;
  while (i < n) {
    const c = src[i];
    if (c === '.') {
      let dots = 0;
      while (src[i] === '.') { dots++; i++; }
      if (dots >= 2) out.push({ k: 'descent' });
      if (i >= n) {
        if (dots >= 2 || out.length > 0) throw new PathSyntaxError(`invalid path "${src}"`);
        break;
      }
      if (src[i] === '[') continue; // ".[0]" is how Kubeshark spells an index after json()
      if (src[i] === '*') { out.push({ k: 'wild' }); i++; continue; }
      const m = /^[^.[\]]+/.exec(src.slice(i));
      if (!m) throw new PathSyntaxError(`invalid path "${src}"`);
      out.push({ k: 'child', name: m[0] });
      i += m[0].length;
      continue;
    }
    if (c === '[') {
      const close = src.indexOf(']', i);
      if (close < 0) throw new PathSyntaxError(`invalid path "${src}"`);
      const inner = src.slice(i + 1, close);
      if (/^-?\d+$/.test(inner)) out.push({ k: 'nth', i: Number(inner) });
      else if (inner === '*') out.push({ k: 'wild' });
      else if (inner.length >= 2 && inner[0] === '"' && inner[inner.length - 1] === '"') out.push({ k: 'child', name: inner.slice(1, -1) });
      else throw new PathSyntaxError(`invalid path "${src}"`);
      i = close + 1;
      continue;
    }
    const m = /^[^.[\]]+/.exec(src.slice(i));
    if (!m) throw new PathSyntaxError(`invalid path "${src}"`);
    out.push({ k: 'child', name: m[0] });
    i += m[0].length;
  }
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Value of a JSON object's own key, or undefined (missing); `undefined` fields count as missing, as in JSON. */
export function childOf(v: unknown, name: string): unknown {
  if (!isMap(v)) return undefined;
  const r = v[name];
  return r !== undefined && hasOwn.call(v, name) ? r : undefined;
}

/** All results of the path (ojg `Get`), in document order. */
export function getAll(frags: Frag[], root: unknown): unknown[] {
  let cur: unknown[] = [root];
  for (let f = 0; f < frags.length; f++) {
    const fr = frags[f];
    const next: unknown[] = [];
    for (const v of cur) {
      switch (fr.k) {
        case 'child': {
          const r = childOf(v, fr.name);
          if (r !== undefined) next.push(r);
          break;
        }
        case 'nth':
          if (Array.isArray(v)) {
            const idx = fr.i < 0 ? v.length + fr.i : fr.i;
            if (idx >= 0 && idx < v.length && v[idx] !== undefined) next.push(v[idx]);
          }
          break;
        case 'wild':
          if (Array.isArray(v)) { for (const x of v) if (x !== undefined) next.push(x); }
          else if (isMap(v)) { for (const k of Object.keys(v)) if (v[k] !== undefined) next.push(v[k]); }
          break;
        case 'descent':
          walk(v, next);
          break;
      }
    }
    cur = next;
    if (cur.length === 0) return cur;
  }
  return cur;
}

function walk(v: unknown, out: unknown[]): void {
  out.push(v);
  if (Array.isArray(v)) { for (const x of v) if (x !== undefined) walk(x, out); }
  else if (isMap(v)) { for (const k of Object.keys(v)) if (v[k] !== undefined) walk(v[k], out); }
}

/** Sentinel for "the path matched nothing". */
export const NONE: unique symbol = Symbol('none');

/**
 * Straight-line JS statements walking `v` down a plain child/index chain, running `miss` (a
 * statement) when a step is missing; null when the path needs the general walker (wildcards,
 * descent). Keys are embedded with JSON.stringify, so they are inert string literals.
 */
export function walkCode(frags: Frag[], miss: string): string | null {
  if (!frags.every((f) => f.k === 'child' || f.k === 'nth')) return null;
  let code = '';
  for (const f of frags) {
    if (f.k === 'child') {
      const key = JSON.stringify(f.name);
      code += `if (typeof v !== 'object' || v === null || Array.isArray(v)) ${miss}\n`;
      code += f.name in Object.prototype
        ? `if (!HAS_OWN.call(v, ${key})) ${miss}\nv = v[${key}];\n`
        : `v = v[${key}];\n`;
    } else {
      code += `if (!Array.isArray(v)) ${miss}\n`;
      code += f.i < 0 ? `v = v[v.length + ${f.i}];\n` : `v = v[${f.i}];\n`;
    }
    code += `if (v === undefined) ${miss}\n`;
  }
  return code;
}

/**
 * Compile a path to a getter returning the single result, an array of results when there are
 * several (wildcards, descent), or NONE. Plain chains get their own generated function (see
 * fresh() in compile.ts for why).
 */
export function compileGetter(frags: Frag[]): (root: unknown) => unknown {
  const code = walkCode(frags, 'return NONE;');
  if (code === null) {
    return (root) => {
      const r = getAll(frags, root);
      return r.length === 0 ? NONE : r.length === 1 ? r[0] : r;
    };
  }
  return new Function('NONE', 'HAS_OWN', `return (root) => {\nlet v = root;\n${code}return v;\n};`)(NONE, hasOwn);
}
