/**
 * The active query (Kubeshark's dashboard query) over the store: which items the previews
 * show, and onItemQueried on each stored match (newest first, bounded) and on every new match.
 * What the hook returns and its test.pass/fail marks are what the preview shows.
 */
import * as fs from 'node:fs';
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
/** The first page of a new query: the previews a reset shows (the rest of it follows the answer). */
export const FIRST_PAGE = 200;
/**
 * setQuery answers once this many of the page are found: a screen of rows (10–50) and the
 * webview's look-ahead (20). Scanning stored items costs ~12 µs each (JSON.parse), so a query
 * matching 12% filled 200 rows in ~20 ms at rest and ~40 ms while items arrived, against ~6 ms
 * for 64; the rest of the page is sent as older rows right after (finish()).
 */
export const FIRST_ANSWER = 64;
/**
 * setQuery answers by then with what it has found (a query matching little or nothing has no
 * page to wait for); the count and the rest of the page follow. 20 ms scans ~800 stored items,
 * enough for a screen of rows of any query matching ≥ 5%; 40 ms made the answer ~20 ms later
 * for sparse queries with no more rows on screen (bench lsp query, docs/protocol.md).
 * WIREHOOK_FIRST_PAGE_MS sets it (for the bench).
 */
const FIRST_PAGE_MS = Number(process.env.WIREHOOK_FIRST_PAGE_MS ?? 20);
const QUERY_TRACE = process.env.WIREHOOK_TRACE_QUERY;
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
  /**
   * The store's hit cache for the active query is complete (counted): the count then comes
   * from the store, so matches evicted from a full store stop counting. Until then arrivals
   * only add to the provisional count.
   */
  private exact = true;
  private queue: Item[] = [];
  private generation = 0;
  /** While a new query's first page is looked for: matching arrivals, shown after that page. */
  private arrived: Item[] | null = null;
  /** Stops the count of a query that is no longer active. */
  private counting: AbortController | null = null;

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
    // (count() is incremental here: the add path keeps the active query's cache current.)
    this.matched = this.exact ? this.store.count(matcher(this.active)) : this.matched + 1;
    if (this.arrived) {
      this.arrived.push(item);
      return;
    }
    this.outbox.setMatched(this.matched);
    this.outbox.previewOf(item.id, () => preview(item, this.store.marks(item.id)));
    if (this.wantsQueried()) this.queue.push(item);
  }

  /** After each capture batch: onItemQueried on the new matches (awaited: it backs up the capture, bounding the queue). */
  batch(): void | Promise<void> {
    // Arrivals that did not match may still have evicted matches from a full store.
    if (this.exact && this.arrived === null) {
      const n = this.store.count(matcher(this.active));
      if (n !== this.matched) this.outbox.setMatched((this.matched = n));
    }
    if (this.queue.length) return this.runQueried();
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

  /**
   * Makes `q` the active query. Answers once its first page is found (the newest matches,
   * tested from the newest stored item back: on a full store the visible rows come in well
   * under the ~1 s a count over 100k items takes); the previews reset to that page at once. The
   * count, and onItemQueried on the newest matches, follow in the background (`partial`, and
   * `counting` on the items notifications until the total is known: docs/protocol.md).
   */
  async setQuery(q: string): Promise<SetQueryResult> {
    const t0 = performance.now();
    const r = await this.setQueryNow(q);
    // WIREHOOK_TRACE_QUERY=<file>: one JSON line per setQuery (where a slow filter's time goes).
    if (QUERY_TRACE) fs.appendFileSync(QUERY_TRACE, JSON.stringify({ at: Date.now(), query: q, ms: +(performance.now() - t0).toFixed(1), ...this.traceSteps, matched: r.matched, partial: !!r.partial, stored: this.store.size }) + '\n');
    return r;
  }

  /** Where the last setQuery's time went (WIREHOOK_TRACE_QUERY). */
  private traceSteps: { compileMs?: number; pageMs?: number } = {};

  private async setQueryNow(q: string): Promise<SetQueryResult> {
    this.traceSteps = {}; // a query that does not compile has no steps: none of the last one's
    const t0 = performance.now();
    const c = compile(q);
    const t1 = performance.now();
    if (!c.ok) return { ok: false, language: c.language, error: c.error };
    const gen = ++this.generation;
    this.counting?.abort();
    this.counting = null;
    this.active = c.query;
    this.activeText = q;
    this.queue = [];
    const match = matcher(this.active);
    this.arrived = [];
    this.matched = 0;
    this.exact = false;
    let page: { items: Item[]; all: boolean };
    try {
      page = await this.store.newestFirst(match, FIRST_ANSWER, () => gen !== this.generation, FIRST_PAGE_MS);
      if (QUERY_TRACE) this.traceSteps = { compileMs: +(t1 - t0).toFixed(1), pageMs: +(performance.now() - t1).toFixed(1) };
    } finally {
      if (gen === this.generation) this.arrived = null;
    }
    if (gen !== this.generation) return { ok: true, language: c.language, matched: this.matched, partial: true };
    const arrived = this.arrived ?? [];
    this.arrived = null;
    // this.matched counted the arrivals; the page adds the stored matches found.
    this.matched += page.items.length;
    if (page.all) {
      this.exact = true;
      this.matched = this.store.count(match);
    }
    const shown = [...page.items.reverse(), ...arrived.slice(-FIRST_PAGE)];
    this.outbox.itemsBatch(() => {
      this.outbox.resetItems(this.matched, !page.all);
      for (const it of shown) this.outbox.previewOf(it.id, () => preview(it, this.store.marks(it.id)));
    });
    void this.finish(gen, match, page.all, page.items.length < FIRST_PAGE);
    return { ok: true, language: c.language, matched: this.matched, ...(page.all ? {} : { partial: true }) };
  }

  /** After a new query's first page: its count (unless the page was all of it), then onItemQueried on the newest matches. */
  private async finish(gen: number, match: ((it: Item) => boolean) | null, counted: boolean, short: boolean): Promise<void> {
    // Let setQuery's answer go first: the scan below runs a slice (up to 8 ms) before it yields,
    // and vscode-jsonrpc writes a response from a setImmediate queued after this call returns,
    // so one turn is not enough: two (the answer came 10–16 ms after setQuery returned with one).
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    if (gen !== this.generation) return;
    if (short && !counted) {
      // The time budget ran out before the page was full: the rest of it first (a common
      // query fills it in a few hundred items), then the count. The newest `shown` matches
      // (the page sent and every arrival since, all counted in this.matched) are on screen;
      // the page's rest is what the scan finds past them, sent as older rows.
      const shown = this.matched;
      const page = await this.store.newestFirst(match, FIRST_PAGE, () => gen !== this.generation);
      if (gen !== this.generation) return;
      const rest = page.items.slice(shown).reverse();
      this.matched += rest.length;
      this.outbox.olderPage(
        rest.map((it) => () => preview(it, this.store.marks(it.id))),
        this.matched,
      );
      // (A scan that saw every item filled the query's cache: the count below is then instant.)
    }
    if (!counted) {
      const abort = (this.counting = new AbortController());
      const n = await this.store.prepare(match, abort.signal);
      if (gen !== this.generation || abort.signal.aborted) return;
      this.counting = null;
      // prepare() tested up to the newest item: arrivals meanwhile are in n.
      this.matched = n;
      this.exact = true;
      this.outbox.setMatched(n, false);
    }
    if (this.wantsQueried()) {
      this.queue = this.store.newest(match, QUERIED_BACKLOG);
      await this.runQueried();
    }
  }

  /** A new capture started: the store was cleared. */
  reset(): void {
    this.generation++;
    this.counting?.abort();
    this.counting = null;
    this.arrived = null;
    this.queue = [];
    this.matched = 0;
    this.exact = true;
    this.outbox.resetItems(0);
  }
}
