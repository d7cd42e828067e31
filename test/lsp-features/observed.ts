/**
 * A small ObservedValues over real items (the store's implementation is written elsewhere): the
 * demo capture run through the real pipeline, every leaf value recorded under its dotted path
 * (array indices dropped, map keys as path segments, `path.*` for the keys of a map).
 */
import { runPipeline } from '../../capture/pipeline';
import { openSourceSpec } from '../../capture/sources/open';
import type { Item } from '../../capture/item/schema';
import type { ObservedValues } from '../../server/session/observed';

const MAPS = new Set(['headers', 'cookies', 'queryString']);

export class TestObserved implements ObservedValues {
  private counts = new Map<string, Map<string, number>>();
  private last = new Map<string, unknown[]>();
  private paths = new Set<string>();
  itemCount = 0;

  add(item: Item): void {
    this.itemCount++;
    this.visit(item, '');
  }

  private visit(v: unknown, path: string): void {
    if (path) this.paths.add(path);
    if (Array.isArray(v)) { for (const x of v) this.visit(x, path); return; }
    if (v && typeof v === 'object') {
      const leafMap = MAPS.has(path.split('.').pop()!);
      for (const [k, x] of Object.entries(v)) {
        if (leafMap) this.note(`${path}.*`, k);
        this.visit(x, path ? `${path}.${k}` : k);
      }
      return;
    }
    if (path) this.note(path, v);
  }

  private note(path: string, v: unknown): void {
    let m = this.counts.get(path);
    if (!m) this.counts.set(path, (m = new Map()));
    const key = String(v);
    m.set(key, (m.get(key) ?? 0) + 1);
    const l = this.last.get(path) ?? [];
    l.unshift(v);
    if (l.length > 10) l.pop();
    this.last.set(path, l);
  }

  values(path: string, limit = 20): string[] {
    const m = this.counts.get(path);
    if (!m) return [];
    return [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k]) => k);
  }
  recent(path: string, limit = 5): unknown[] {
    return (this.last.get(path) ?? []).slice(0, limit);
  }
  hasPath(path: string): boolean {
    return this.paths.has(path);
  }
}

export async function observeDemo(): Promise<{ observed: TestObserved; items: Item[] }> {
  const observed = new TestObserved();
  const items: Item[] = [];
  const src = await openSourceSpec({ pcap: 'examples/captures/demo.pcap' });
  await runPipeline(src, { item: (i) => { items.push(i); observed.add(i); } });
  return { observed, items };
}
