/// <reference lib="dom" />
/**
 * The virtualised item list (@tanstack/virtual-core): a fixed pool of row elements positioned
 * over a spacer as tall as all matches; rows come from the RowWindow, missing ones are
 * requested from the extension in one range per frame.
 */
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core';
import type { ItemPreview } from '../../server/protocol';
import { el } from './api';
import { RowWindow, formatElapsed, formatSize } from './rows';

export const ROW_HEIGHT = 22;
const OVERSCAN = 12;
/** Rows fetched around the visible range per request. */
const FETCH_MARGIN = 40;

export interface ListCallbacks {
  fetch(offset: number, limit: number, generation: number): void;
  select(index: number, item: ItemPreview | undefined, open: boolean): void;
}

interface RowEl {
  root: HTMLDivElement;
  badge: HTMLSpanElement;
  ends: HTMLSpanElement;
  summary: HTMLSpanElement;
  status: HTMLSpanElement;
  elapsed: HTMLSpanElement;
  size: HTMLSpanElement;
  key: string;
}

export class ItemList {
  readonly scroller = el('div', 'list-scroller');
  private readonly spacer = el('div', 'list-spacer');
  private readonly pool: RowEl[] = [];
  readonly rows = new RowWindow(2000);
  total = 0;
  selected = -1;
  selectedId = '';
  private readonly virt: Virtualizer<HTMLDivElement, HTMLDivElement>;
  private frame = 0;
  private pending: { start: number; end: number; generation: number; at: number } | undefined;
  /** Held rows may have moved (eviction shifts offsets): re-ask for the visible range once. */
  private stale = false;
  private unmount: () => void;

  constructor(private readonly cb: ListCallbacks) {
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'listbox');
    this.scroller.setAttribute('aria-label', 'Captured items');
    this.scroller.append(this.spacer);
    this.virt = new Virtualizer<HTMLDivElement, HTMLDivElement>({
      count: 0,
      getScrollElement: () => this.scroller,
      estimateSize: () => ROW_HEIGHT,
      overscan: OVERSCAN,
      observeElementRect,
      observeElementOffset,
      scrollToFn: elementScroll,
      onChange: () => this.schedule(),
    });
    this.unmount = this.virt._didMount();
    this.virt._willUpdate();
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    this.scroller.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.row');
      if (row?.dataset.index) this.setSelected(Number(row.dataset.index), true);
    });
  }

  get atBottom(): boolean {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < ROW_HEIGHT * 2;
  }

  setTotal(total: number, follow: boolean): void {
    const wasBottom = this.atBottom;
    this.total = total;
    this.rows.truncate(total);
    this.virt.setOptions({ ...this.virt.options, count: total });
    this.virt._willUpdate();
    this.spacer.style.height = `${this.virt.getTotalSize()}px`;
    if (follow && wasBottom && total > 0) this.virt.scrollToIndex(total - 1, { align: 'end' });
    this.schedule();
  }

  /** Re-render on the next frame (several updates in one frame render once). */
  schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** A live batch (see RowWindow.live). */
  live(previews: ItemPreview[], generation: number): void {
    if (generation === this.rows.generation) this.rows.live(previews, this.total);
    this.schedule();
  }

  /** Rows arrived for [offset, offset+items.length) of `generation`. */
  receive(offset: number, items: ItemPreview[], generation: number): void {
    if (generation === this.rows.generation) this.rows.put(offset, items);
    if (this.pending && this.pending.generation === generation) this.pending = undefined;
    this.schedule();
  }

  /** Durations of the last renders (ms of script time), for the speed figures. */
  readonly renderMs: number[] = [];

  render(): void {
    const t0 = performance.now();
    this.renderRows();
    if (this.renderMs.push(performance.now() - t0) > 512) this.renderMs.shift();
  }

  private renderRows(): void {
    const items = this.virt.getVirtualItems();
    this.spacer.style.height = `${this.virt.getTotalSize()}px`;
    while (this.pool.length < items.length) this.pool.push(this.makeRow());
    let start = Infinity;
    let end = -1;
    for (let i = 0; i < this.pool.length; i++) {
      const r = this.pool[i];
      const v = items[i];
      if (!v) {
        if (r.root.style.display !== 'none') r.root.style.display = 'none';
        continue;
      }
      start = Math.min(start, v.index);
      end = Math.max(end, v.index + 1);
      r.root.style.display = '';
      r.root.style.transform = `translateY(${v.start}px)`;
      this.fill(r, v.index, this.rows.get(v.index));
    }
    if (end > start) {
      this.rows.trim(start - FETCH_MARGIN, end + FETCH_MARGIN);
      this.requestMissing(start, end);
    }
  }

  private requestMissing(start: number, end: number): void {
    if (!this.stale && this.rows.firstMissing(start, end) < 0) return;
    const gen = this.rows.generation;
    const now = performance.now();
    // One request in flight per generation; a lost answer is given up after 2 s.
    if (this.pending && this.pending.generation === gen && now - this.pending.at < 2000 && (this.stale || (this.pending.start <= start && this.pending.end >= end))) return;
    const from = Math.max(0, start - FETCH_MARGIN);
    const to = Math.min(this.total, end + FETCH_MARGIN);
    if (to <= from) return;
    this.stale = false;
    this.pending = { start: from, end: to, generation: gen, at: now };
    this.cb.fetch(from, to - from, gen);
  }

  /**
   * Items were evicted: what is held is shown until fresh rows for the visible range arrive
   * (dropping it would blank the list while the store turns over under a fast capture).
   */
  markStale(): void {
    this.stale = true;
    this.schedule();
  }

  private makeRow(): RowEl {
    const root = el('div', 'row');
    root.setAttribute('role', 'option');
    const badge = el('span', 'badge');
    const ends = el('span', 'ends');
    const summary = el('span', 'summary');
    const status = el('span', 'status');
    const elapsed = el('span', 'elapsed');
    const size = el('span', 'size');
    root.append(badge, ends, summary, status, elapsed, size);
    this.scroller.append(root);
    return { root, badge, ends, summary, status, elapsed, size, key: '' };
  }

  private fill(r: RowEl, index: number, p: ItemPreview | undefined): void {
    const sel = index === this.selected;
    const key = p ? `${index}:${p.id}:${p.passed ? 1 : 0}${p.failed ? 1 : 0}:${sel ? 1 : 0}` : `${index}:-:${sel ? 1 : 0}`;
    if (r.key === key) return;
    r.key = key;
    r.root.dataset.index = String(index);
    r.root.setAttribute('aria-selected', String(sel));
    r.root.className = `row${sel ? ' selected' : ''}${p?.passed ? ' passed' : ''}${p?.failed ? ' failed' : ''}${p ? '' : ' loading'}`;
    if (!p) {
      delete r.root.dataset.id;
      r.badge.textContent = '';
      r.badge.style.cssText = '';
      r.ends.textContent = '';
      r.summary.textContent = '…';
      r.status.textContent = '';
      r.elapsed.textContent = '';
      r.size.textContent = '';
      return;
    }
    r.root.dataset.id = p.id;
    r.badge.textContent = p.protocol.abbr;
    r.badge.style.backgroundColor = p.protocol.backgroundColor;
    r.badge.style.color = p.protocol.foregroundColor;
    r.ends.textContent = `${p.src} → ${p.dst}`;
    r.summary.textContent = p.queried !== undefined && p.queried !== null ? String(typeof p.queried === 'object' ? JSON.stringify(p.queried) : p.queried) : p.summary;
    r.status.textContent = p.status;
    r.status.classList.toggle('error', p.statusError);
    r.elapsed.textContent = formatElapsed(p.elapsedMs);
    r.size.textContent = formatSize(p.size);
  }

  setSelected(index: number, open: boolean): void {
    if (this.total === 0) return;
    const i = Math.max(0, Math.min(this.total - 1, index));
    this.selected = i;
    const p = this.rows.get(i);
    this.selectedId = p?.id ?? '';
    this.virt.scrollToIndex(i, { align: 'auto' });
    this.scroller.setAttribute('aria-activedescendant', '');
    this.render();
    this.cb.select(i, p, open);
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const cur = this.selected < 0 ? -1 : this.selected;
    let next: number | undefined;
    switch (e.key) {
      case 'ArrowDown': next = cur + 1; break;
      case 'ArrowUp': next = Math.max(0, cur - 1); break;
      case 'PageDown': next = cur + page; break;
      case 'PageUp': next = Math.max(0, cur - page); break;
      case 'Home': next = 0; break;
      case 'End': next = this.total - 1; break;
      case 'Enter':
        if (cur >= 0) this.setSelected(cur, true);
        e.preventDefault();
        return;
      default:
        return;
    }
    e.preventDefault();
    this.setSelected(next, false);
  }

  reset(): void {
    this.rows.invalidate();
    this.pending = undefined;
    this.selected = -1;
    this.selectedId = '';
    for (const r of this.pool) r.key = '';
  }

  dispose(): void {
    this.unmount();
  }
}
