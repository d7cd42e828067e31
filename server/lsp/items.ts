/**
 * The active query (Kubeshark's dashboard query) over the store: which items the previews
 * show, and onItemQueried on each stored match (newest first, bounded) and on every new match.
 * What the hook returns and its test.pass/fail marks are what the preview shows.
 */
import type { Item } from '../../capture/item/schema';
import { compileQuery } from '../kfl/index';
import type { CompiledQuery } from '../kfl/api';
import type { SetQueryResult, SourcePos } from '../protocol';
import { preview } from '../session/preview';
import type { ItemStore } from '../session/store';
import type { Outbox } from './outbox';
import type { ScriptHost } from './scripts';

/** Stored matches onItemQueried runs on when the query changes (newest first). */
export const QUERIED_BACKLOG = 1000;
/** New matches queued for onItemQueried before the capture waits for the runtime. */
const QUERIED_BATCH = 256;

/**
 * The store caches each query's hits by its match function, so the same query must always
 * come with the same function: compiled queries are kept by text (a few), their matchers by query.
 */
const compiledByText = new Map<string, Compiled>();
const matchers = new WeakMap<CompiledQuery, (it: Item) => boolean>();
export function matcher(q: CompiledQuery | null): ((it: Item) => boolean) | null {
  if (!q) return null;
  let m = matchers.get(q);
  if (!m) matchers.set(q, (m = (it: Item) => q.match(it)));
  return m;
}

export type Compiled = { ok: true; query: CompiledQuery | null; language: SetQueryResult['language'] } | { ok: false; error: SourcePos; language: SetQueryResult['language'] };

export function compile(q: string): Compiled {
  let c = compiledByText.get(q);
  if (!c) {
    c = compileUncached(q);
    if (compiledByText.size >= 16) compiledByText.delete(compiledByText.keys().next().value as string);
    compiledByText.set(q, c);
  }
  return c;
}

function compileUncached(q: string): Compiled {
  if (!q.trim()) return { ok: true, query: null, language: 'empty' };
  try {
    const c = compileQuery(q, 'auto');
    return { ok: true, query: c, language: c.language };
  } catch (e) {
    const err = e as Error & { line?: number; col?: number; text?: string; language?: 'kfl' | 'kfl2' };
    if (err.name !== 'QueryError') throw e;
    return { ok: false, error: { line: err.line ?? 1, col: err.col ?? 1, message: err.text ?? err.message }, language: err.language ?? 'kfl2' };
  }
}

export class ItemFeed {
  private active: CompiledQuery | null = null;
  private activeText = '';
  private matched = 0;
  private queue: Item[] = [];
  private generation = 0;

  constructor(
    private readonly store: ItemStore,
    private readonly scripts: ScriptHost,
    private readonly outbox: Outbox,
  ) {}

  get query(): CompiledQuery | null {
    return this.active;
  }

  matches(item: Item): boolean {
    return this.active === null || matcher(this.active)!(item);
  }

  /** A new item was stored. */
  item(item: Item): void {
    if (!this.matches(item)) return;
    this.matched++;
    this.outbox.setMatched(this.matched);
    this.outbox.previewOf(item.id, () => preview(item, this.store.marks(item.id)));
    if (this.wantsQueried()) this.queue.push(item);
  }

  /** After each capture batch: onItemQueried on the new matches (awaited: it backs up the capture, bounding the queue). */
  async batch(): Promise<void> {
    if (this.queue.length) await this.runQueried();
  }

  private wantsQueried(): boolean {
    return this.scripts.running.some((s) => s.loaded!.hooks.includes('onItemQueried'));
  }

  private async runQueried(): Promise<void> {
    const gen = this.generation;
    while (this.queue.length) {
      const batch = this.queue.splice(0, QUERIED_BATCH);
      const res = await this.scripts.queried(batch, this.activeText);
      if (gen !== this.generation) return;
      for (const r of res) {
        const it = batch[r.index];
        this.store.mark(it.id, { passed: r.passed, failed: r.failed, ...(r.replaced != null ? { queried: r.replaced } : {}) });
        if (r.passed || r.failed || r.replaced != null) this.outbox.preview(preview(it, this.store.marks(it.id)));
      }
    }
  }

  /** Makes `q` the active query; previews reset to its matches and onItemQueried runs on the newest. */
  async setQuery(q: string): Promise<SetQueryResult> {
    const c = compile(q);
    if (!c.ok) return { ok: false, language: c.language, error: c.error };
    this.generation++;
    this.active = c.query;
    this.activeText = q;
    this.queue = [];
    await this.refresh();
    return { ok: true, language: c.language, matched: this.matched };
  }

  /** Recounts and resends the list (new query, new capture, a script with onItemQueried loaded). */
  async refresh(): Promise<void> {
    const match = matcher(this.active);
    // The first pass over a new query runs in slices, so the server keeps answering meanwhile.
    this.matched = await this.store.prepare(match);
    this.outbox.resetItems(this.matched);
    const newest = this.store.newest(match, 200);
    for (let i = newest.length - 1; i >= 0; i--) this.outbox.preview(preview(newest[i], this.store.marks(newest[i].id)));
    if (this.wantsQueried()) {
      this.queue = this.store.newest(match, QUERIED_BACKLOG);
      await this.runQueried();
    }
  }

  /** A new capture started: the store was cleared. */
  reset(): void {
    this.generation++;
    this.queue = [];
    this.matched = 0;
    this.outbox.resetItems(0);
  }
}
