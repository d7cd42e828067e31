/**
 * The webview's window of rows: previews by index in the active query's matches, bounded so
 * memory does not grow with the store (the extension asks the server for what is shown).
 */
import type { ItemPreview } from '../../server/protocol';

export class RowWindow {
  private readonly rows = new Map<number, ItemPreview>();
  private readonly index = new Map<string, number>();
  /** Bumped whenever indices stop meaning what they meant (reset, new query, eviction). */
  generation = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.rows.size;
  }

  get(i: number): ItemPreview | undefined {
    return this.rows.get(i);
  }

  invalidate(): void {
    this.rows.clear();
    this.index.clear();
    this.generation++;
  }

  put(offset: number, items: ItemPreview[]): void {
    for (let i = 0; i < items.length; i++) this.set(offset + i, items[i]);
  }

  private set(i: number, p: ItemPreview): void {
    const old = this.rows.get(i);
    // The same item again (rows answers overlap what is held): keep the held object, so the
    // list sees it unchanged and does not redraw the row. Redrawing every visible row on each
    // answer relaid out the whole list (~400 layout objects, 4-8 ms: one frame in ten).
    if (old && old.id === p.id && sameMarks(old, p)) return;
    if (old && old.id !== p.id) this.index.delete(old.id);
    this.rows.set(i, p);
    this.index.set(p.id, i);
  }

  /**
   * A live batch: previews whose id is held replace it in place (marks from onItemQueried come
   * that way); the new ones are the newest matches, the last indices before `total`.
   */
  live(previews: ItemPreview[], total: number): void {
    const fresh: ItemPreview[] = [];
    for (const p of previews) {
      const at = this.index.get(p.id);
      if (at === undefined) fresh.push(p);
      else if (!sameMarks(this.rows.get(at)!, p)) this.rows.set(at, p);
    }
    this.put(total - fresh.length, fresh);
  }

  /**
   * Rows older than every held one (the rest of a new query's first page, oldest first): they
   * take the first indices and the held rows move up by as many. Ids already held are skipped
   * (a live arrival the page also found). Returns how many were added.
   */
  prepend(previews: ItemPreview[]): number {
    const add = previews.filter((p) => !this.index.has(p.id));
    const k = add.length;
    if (!k) return 0;
    const held = [...this.rows];
    this.rows.clear();
    this.index.clear();
    for (let i = 0; i < k; i++) this.set(i, add[i]);
    for (const [i, p] of held) this.set(i + k, p);
    return k;
  }

  /** First missing index in [start, end), or -1. */
  firstMissing(start: number, end: number): number {
    for (let i = start; i < end; i++) if (!this.rows.has(i)) return i;
    return -1;
  }

  /**
   * Past `capacity`, drops the rows farthest from [start, end) down to 80 % of it (so the sort
   * runs once per few hundred rows fetched, not on every frame of a scroll).
   */
  trim(start: number, end: number): void {
    if (this.rows.size <= this.capacity) return;
    const keep = Math.floor(this.capacity * 0.8);
    const mid = (start + end) / 2;
    const keys = [...this.rows.keys()].sort((a, b) => Math.abs(b - mid) - Math.abs(a - mid));
    for (const k of keys) {
      if (this.rows.size <= keep) break;
      if (k >= start && k < end) continue;
      const p = this.rows.get(k);
      if (p && this.index.get(p.id) === k) this.index.delete(p.id);
      this.rows.delete(k);
    }
  }

  /** Drops rows at or past `total` (the match count shrank). */
  truncate(total: number): void {
    for (const [k, p] of this.rows) {
      if (k < total) continue;
      if (this.index.get(p.id) === k) this.index.delete(p.id);
      this.rows.delete(k);
    }
  }
}

/** Previews of one item differ only in what onItemQueried marked. */
function sameMarks(a: ItemPreview, b: ItemPreview): boolean {
  if (a.passed !== b.passed || a.failed !== b.failed) return false;
  if (a.queried === b.queried) return true;
  return typeof a.queried === 'object' && typeof b.queried === 'object' && JSON.stringify(a.queried) === JSON.stringify(b.queried);
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function formatElapsed(ms: number): string {
  if (ms < 1) return '<1 ms';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
