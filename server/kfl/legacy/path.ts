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
 * Compile a path to a getter returning the single result, an array of results when there are
 * several (wildcards, descent), or NONE. Plain child/index chains get a loop with no allocation.
 */
export function compileGetter(frags: Frag[]): (root: unknown) => unknown {
  const simple = frags.every((f) => f.k === 'child' || f.k === 'nth');
  if (!simple) {
    return (root) => {
      const r = getAll(frags, root);
      return r.length === 0 ? NONE : r.length === 1 ? r[0] : r;
    };
  }
  const names = frags.map((f) => (f.k === 'child' ? f.name : null));
  const idx = frags.map((f) => (f.k === 'nth' ? f.i : 0));
  // Keys that also exist on Object.prototype need an own-property check; others don't.
  const guarded = names.map((nm) => nm !== null && nm in Object.prototype);
  const len = frags.length;
  if (len === 1 && names[0] !== null && !guarded[0]) {
    const a = names[0];
    return (root) => {
      if (typeof root !== 'object' || root === null || Array.isArray(root)) return NONE;
      const v = (root as Record<string, unknown>)[a];
      return v === undefined ? NONE : v;
    };
  }
  return (root) => {
    let v: unknown = root;
    for (let f = 0; f < len; f++) {
      const nm = names[f];
      if (nm !== null) {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) return NONE;
        const o = v as Record<string, unknown>;
        v = o[nm];
        if (v === undefined || (guarded[f] && !hasOwn.call(o, nm))) return NONE;
      } else {
        if (!Array.isArray(v)) return NONE;
        const i = idx[f] < 0 ? v.length + idx[f] : idx[f];
        v = v[i];
        if (v === undefined) return NONE;
      }
    }
    return v;
  };
}
