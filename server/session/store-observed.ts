/**
 * ObservedValues for the item store (server/session/observed.ts): what completions, hover and
 * the legacy-KFL unknown-field lint know about the traffic. Runs on every stored item, so the
 * per-item work is a fixed set of counters plus a key walk only for items of a new shape (and
 * one in SAMPLE_EVERY); anything else is answered on demand from the newest stored items.
 * Costs measured in docs/store.md.
 */
import type { Item } from '../../capture/item/schema';
import type { ObservedValues } from './observed';

/** Distinct values kept per counted path; pruned to half when twice this many. */
const KEEP = 200;
const SAMPLE_EVERY = 64;
const FIRST_WALKS = 32;
const MAX_CHILDREN = 1000;
const MAX_DEPTH = 12;
/** Items read back for paths that are not counted, and for `recent`. */
const SCAN_VALUES = 500;
const SCAN_RECENT = 50;

class Counter {
  private m = new Map<string, number>();
  add(v: string): void {
    const m = this.m;
    m.set(v, (m.get(v) ?? 0) + 1);
    if (m.size > KEEP * 2) this.prune();
  }
  /** Keeps the most frequent half: values seen once in a flood of distinct ones make room. */
  private prune(): void {
    const keep = [...this.m].sort((a, b) => b[1] - a[1]).slice(0, KEEP);
    this.m = new Map(keep.map(([k, n]) => [k, Math.max(1, n >> 1)]));
  }
  top(limit: number): string[] {
    return [...this.m].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k]) => k);
  }
}

interface PathNode {
  c: Map<string, PathNode>;
  /** Too many distinct keys to list: any child is taken to exist. */
  open: boolean;
}

const newNode = (): PathNode => ({ c: new Map(), open: false });

function child(n: PathNode, key: string): PathNode | null {
  let c = n.c.get(key);
  if (c) return c;
  if (n.open) return null;
  if (n.c.size >= MAX_CHILDREN) {
    n.open = true;
    return null;
  }
  n.c.set(key, (c = newNode()));
  return c;
}

/** `request.headers["User-Agent"]`, `answers[0].ip`, `a.*` → plain segments (array indices dropped). */
export function pathSegments(path: string): string[] {
  const out: string[] = [];
  const re = /\[\s*"((?:[^"\\]|\\.)*)"\s*\]|\[\s*'([^']*)'\s*\]|\[[^\]]*\]|([^.[\]]+)/g;
  for (let m; (m = re.exec(path)); ) {
    const seg = m[1] ?? m[2] ?? m[3];
    if (seg === undefined) continue; // [0], [*]
    if (m[3] !== undefined && /^\d+$/.test(seg)) continue; // .0
    out.push(seg);
  }
  return out;
}

/** Values at `segs` inside `v` (arrays are looked through). */
function valuesAt(v: unknown, segs: string[], i: number, out: unknown[]): void {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) {
    for (const e of v) valuesAt(e, segs, i, out);
    return;
  }
  if (i === segs.length) {
    out.push(v);
    return;
  }
  if (typeof v !== 'object') return;
  const k = segs[i];
  if (k === '*') {
    for (const key of Object.keys(v)) out.push(key);
    return;
  }
  if (Object.prototype.hasOwnProperty.call(v, k)) valuesAt((v as Record<string, unknown>)[k], segs, i + 1, out);
}

export class StoreObserved implements ObservedValues {
  private counters = new Map<string, Counter>();
  private root = newNode();
  private reqHeaders = newNode();
  private resHeaders = newNode();
  private shapes = new Map<string, Set<number>>();
  private count = 0;

  /** `recentItems(n)`: the newest n stored items, newest first. */
  constructor(private readonly recentItems: (n: number) => Item[]) {}

  get itemCount(): number {
    return this.count;
  }

  clear(): void {
    this.counters.clear();
    this.root = newNode();
    this.reqHeaders = newNode();
    this.resHeaders = newNode();
    this.shapes.clear();
    this.count = 0;
  }

  private counter(path: string): Counter {
    let c = this.counters.get(path);
    if (!c) this.counters.set(path, (c = new Counter()));
    return c;
  }

  private put(path: string, v: unknown): void {
    if (typeof v === 'string') {
      if (v !== '') this.counter(path).add(v);
    } else if (typeof v === 'number') this.counter(path).add(String(v));
  }

  observe(item: Item): void {
    this.count++;
    const proto = item.protocol?.name ?? '';
    this.put('protocol.name', proto);
    this.put('protocol.abbr', item.protocol?.abbr);
    for (const side of ['src', 'dst'] as const) {
      const e = item[side];
      if (!e) continue;
      this.put(`${side}.ip`, e.ip);
      this.put(`${side}.port`, e.port);
      this.put(`${side}.name`, e.name);
    }
    const req = item.request as Record<string, unknown> | undefined;
    const res = item.response as Record<string, unknown> | undefined;
    if (req) {
      this.put('request.method', req.method);
      this.put('request.path', req.path);
      const h = req.headers;
      if (h && typeof h === 'object') {
        this.names('request.headers.*', h as Record<string, unknown>, this.reqHeaders);
        this.put('request.host', (h as Record<string, unknown>).Host);
      }
      const qs = req.questions;
      if (Array.isArray(qs)) {
        for (const q of qs) {
          this.put('request.questions.name', q?.name);
          this.put('request.questions.type', q?.type);
        }
      }
    }
    if (res) {
      this.put('response.status', res.status);
      this.put('response.code', res.code);
      const h = res.headers;
      if (h && typeof h === 'object') this.names('response.headers.*', h as Record<string, unknown>, this.resHeaders);
    }
    if (this.newShape(proto, req, res, item.error != null)) this.walk(this.root, item, 0);
  }

  private names(path: string, map: Record<string, unknown>, node: PathNode): void {
    const c = this.counter(path);
    for (const k in map) {
      c.add(k);
      child(node, k);
    }
  }

  /** The first items of a protocol, one in SAMPLE_EVERY, and any with a new count of request/response keys. */
  private newShape(proto: string, req: object | undefined, res: object | undefined, err: boolean): boolean {
    let set = this.shapes.get(proto);
    if (!set) this.shapes.set(proto, (set = new Set()));
    let nReq = 0;
    let nRes = 0;
    for (const _ in req) nReq++;
    for (const _ in res) nRes++;
    const key = (nReq * 1024 + nRes) * 2 + (err ? 1 : 0);
    if (!set.has(key)) {
      set.add(key);
      return true;
    }
    return this.count <= FIRST_WALKS || this.count % SAMPLE_EVERY === 0;
  }

  private walk(node: PathNode, v: unknown, depth: number): void {
    if (depth > MAX_DEPTH || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      // Elements share the array's node; the first and last stand for the rest.
      if (v.length > 0) this.walk(node, v[0], depth + 1);
      if (v.length > 1) this.walk(node, v[v.length - 1], depth + 1);
      return;
    }
    for (const k in v as Record<string, unknown>) {
      const c = child(node, k);
      if (c) this.walk(c, (v as Record<string, unknown>)[k], depth + 1);
    }
  }

  values(path: string, limit = 20): string[] {
    const segs = pathSegments(path);
    const key = segs.join('.');
    const c = this.counters.get(key);
    if (c) return c.top(limit);
    // Not counted as items arrive: count over the newest stored items.
    const counts = new Map<string, number>();
    for (const it of this.recentItems(SCAN_VALUES)) {
      const out: unknown[] = [];
      valuesAt(it, segs, 0, out);
      for (const v of out) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') continue;
        const s = String(v);
        if (s !== '') counts.set(s, (counts.get(s) ?? 0) + 1);
      }
    }
    return [...counts].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k]) => k);
  }

  recent(path: string, limit = 5): unknown[] {
    const segs = pathSegments(path);
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (const it of this.recentItems(SCAN_RECENT)) {
      const vs: unknown[] = [];
      valuesAt(it, segs, 0, vs);
      for (const v of vs) {
        const k = JSON.stringify(v) ?? String(v);
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(v);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  hasPath(path: string): boolean {
    const segs = pathSegments(path);
    if (segs.length === 0) return true;
    let n: PathNode | undefined = this.root;
    for (let i = 0; i < segs.length; i++) {
      if (i === 2 && segs[1] === 'headers' && (segs[0] === 'request' || segs[0] === 'response')) {
        const h = segs[0] === 'request' ? this.reqHeaders : this.resHeaders;
        // Header values are strings: nothing lies below a header name.
        return h.open || (h.c.has(segs[2]) && segs.length === 3) || (n!.c.get(segs[2]) !== undefined && hasRest(n!.c.get(segs[2])!, segs, 3));
      }
      if (n.open) return true;
      n = n.c.get(segs[i]);
      if (!n) return false;
    }
    return true;
  }
}

function hasRest(n: PathNode, segs: string[], i: number): boolean {
  for (; i < segs.length; i++) {
    if (n.open) return true;
    const c = n.c.get(segs[i]);
    if (!c) return false;
    n = c;
  }
  return true;
}
