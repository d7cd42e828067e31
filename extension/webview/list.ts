/// <reference lib="dom" />
/**
 * The virtualised item list: a pool of row elements over a spacer as tall as all matches; rows
 * come from the RowWindow, missing ones are requested from the extension in one range.
 *
 * Hand-rolled rather than @tanstack/virtual-core (measured, bench/webview.bench.ts): rows have
 * one fixed height, so the visible range is arithmetic, while tanstack keeps a measurement per
 * item (memory that grows with the store, rebuilt on every count change, 4 times a second
 * under a live capture). Per frame the costs that remained were layout and text shaping of
 * every row, so: row `k` always uses pool element `k % pool.length` (scrolling by a few rows
 * refills only the rows that came into view; the others keep their text and position), rows
 * are `contain: strict` and not layers of their own, and layout is read once per frame,
 * before anything is written.
 */
import type { ItemPreview } from '../../server/protocol';
import { el } from './api';
import { RowWindow, formatElapsed, formatSize } from './rows';

export const ROW_HEIGHT = 22;
const OVERSCAN = 6;
/** Rows fetched around the visible range per request. */
const FETCH_MARGIN = 40;
/** A request goes out once a row this close to the visible range is missing. */
const PREFETCH = 20;
/** Tallest spacer used; beyond it scroll positions are scaled (browsers cap element heights near 33M px). */
const MAX_SPACER_PX = 8_000_000;

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
  /** What it shows: index, preview object, selected; -1 = hidden. */
  index: number;
  p: ItemPreview | undefined | null;
  sel: boolean;
  y: number;
}

export class ItemList {
  readonly scroller = el('div', 'list-scroller');
  private readonly spacer = el('div', 'list-spacer');
  private pool: RowEl[] = [];
  readonly rows = new RowWindow(2000);
  total = 0;
  selected = -1;
  selectedId = '';
  private frame = 0;
  private pending: { start: number; end: number; generation: number; at: number } | undefined;
  /** Held rows may have moved (eviction shifts offsets): re-ask for the visible range once. */
  private stale = false;
  /**
   * The server is still counting a new query's stored matches: `total` is a lower bound and the
   * held rows (its first page and arrivals) are indexed from the oldest match found so far,
   * while `queryItems` would answer with offsets from the true oldest. Nothing is fetched until
   * the count comes (rebase); the rows shown meanwhile are the newest matches.
   */
  counting = false;
  /** Viewport height, from a ResizeObserver (never read in a frame). */
  private viewHeight = 0;
  private spacerPx = -1;
  /** The view was scrolled to the end at the last render: new items keep it there. */
  private pinned = true;
  private follow = false;
  private scrollTo: number | undefined;
  private readonly resize: ResizeObserver;

  constructor(private readonly cb: ListCallbacks) {
    this.scroller.tabIndex = 0;
    this.scroller.setAttribute('role', 'listbox');
    this.scroller.setAttribute('aria-label', 'Captured items');
    this.scroller.append(this.spacer);
    this.scroller.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.resize = new ResizeObserver((entries) => {
      const h = entries[entries.length - 1].contentRect.height;
      if (h === this.viewHeight) return;
      this.viewHeight = h;
      this.schedule();
    });
    this.resize.observe(this.scroller);
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    this.scroller.addEventListener('click', (e) => {
      const row = (e.target as HTMLElement).closest<HTMLElement>('.row');
      if (row?.dataset.index) this.setSelected(Number(row.dataset.index), true);
    });
  }

  setTotal(total: number, follow: boolean): void {
    if (total < this.total) this.rows.truncate(total);
    this.total = total;
    if (follow) this.follow = true;
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

  /** Content height (all rows) and the spacer's (capped); scroll offsets scale between them. */
  private geometry(): { content: number; spacer: number; scale: number } {
    const content = this.total * ROW_HEIGHT;
    const spacer = Math.min(content, MAX_SPACER_PX);
    const view = this.viewHeight;
    const scale = spacer > view && content > spacer ? (content - view) / (spacer - view) : 1;
    return { content, spacer, scale };
  }

  private renderRows(): void {
    // Reads first (one layout at most), then writes.
    const read = this.scroller.scrollTop;
    let top = this.scrollTo ?? read;
    const view = this.viewHeight || this.scroller.clientHeight;
    this.viewHeight = view;
    const g = this.geometry();
    const maxTop = Math.max(0, g.spacer - view);
    if (this.scrollTo === undefined && this.spacerPx >= 0) this.pinned = top >= Math.max(0, this.spacerPx - view) - ROW_HEIGHT;
    if (this.follow && this.pinned) top = maxTop;
    this.follow = false;
    top = Math.min(top, maxTop);
    if (g.spacer !== this.spacerPx) {
      this.spacerPx = g.spacer;
      this.spacer.style.height = `${g.spacer}px`;
    }
    if (top !== read) this.scroller.scrollTop = top;
    this.scrollTo = undefined;

    const virtualTop = top * g.scale;
    const first = Math.max(0, Math.floor(virtualTop / ROW_HEIGHT) - OVERSCAN);
    const end = Math.min(this.total, Math.ceil((virtualTop + view) / ROW_HEIGHT) + OVERSCAN);
    const need = Math.ceil(view / ROW_HEIGHT) + 1 + 2 * OVERSCAN;
    if (this.pool.length < need) this.grow(need);
    const n = this.pool.length;
    // Row k sits at k*H in content space; shifted into the (possibly scaled) spacer.
    const shift = top - virtualTop;
    for (let k = first; k < end; k++) {
      const r = this.pool[k % n];
      const y = Math.round(k * ROW_HEIGHT + shift);
      if (r.index !== k) {
        if (r.index < 0) r.root.style.display = '';
        r.p = null;
        r.index = k;
        r.root.dataset.index = String(k);
      }
      if (r.y !== y) {
        r.y = y;
        r.root.style.transform = `translateY(${y}px)`;
      }
      this.fill(r, k, this.rows.get(k));
    }
    for (let i = 0; i < n; i++) {
      const r = this.pool[i];
      if (r.index < 0 || (r.index >= first && r.index < end)) continue;
      this.hide(r);
    }
    const sel = this.selected >= first && this.selected < end ? this.pool[this.selected % n].root.id : '';
    if (this.scroller.getAttribute('aria-activedescendant') !== sel) this.scroller.setAttribute('aria-activedescendant', sel);
    if (end > first) {
      this.rows.trim(first - FETCH_MARGIN, end + FETCH_MARGIN);
      this.requestMissing(first, end);
    }
  }

  private requestMissing(start: number, end: number): void {
    if (this.counting) return;
    const gen = this.rows.generation;
    const now = performance.now();
    const inFlight = this.pending && this.pending.generation === gen && now - this.pending.at < 2000 ? this.pending : undefined;
    let from = Math.max(0, start - FETCH_MARGIN);
    let to = Math.min(this.total, end + FETCH_MARGIN);
    if (this.stale) {
      // One re-ask of the visible range after an eviction (a lost answer is given up after 2 s).
      if (inFlight && inFlight.start <= start && inFlight.end >= end) return;
    } else {
      // Asked ahead: once a row within PREFETCH rows of the view is missing (asking only when a
      // shown row was missing drew rows as "…" and again a frame later under load), for what
      // is missing within FETCH_MARGIN; nothing while a request in flight covers those rows.
      const lo = Math.max(0, start - PREFETCH);
      const hi = Math.min(this.total, end + PREFETCH);
      const need = this.rows.firstMissing(lo, hi);
      if (need < 0) return;
      let needEnd = hi;
      while (needEnd > need && this.rows.get(needEnd - 1)) needEnd--;
      if (inFlight && inFlight.start <= need && inFlight.end >= needEnd) return;
      from = this.rows.firstMissing(from, to);
      while (to > from && this.rows.get(to - 1)) to--;
    }
    if (to <= from) return;
    this.stale = false;
    this.pending = { start: from, end: to, generation: gen, at: now };
    this.cb.fetch(from, to - from, gen);
  }

  /**
   * A new query's count came (`total` was a lower bound): held rows' indices no longer hold, so
   * they are dropped and the visible range re-asked. The view keeps its distance from the
   * newest row (at the end it stays there; the selection moves with its row).
   */
  rebase(total: number): void {
    const delta = total - this.total;
    this.counting = false;
    this.rows.invalidate();
    this.pending = undefined;
    if (this.selected >= 0) this.selected += delta;
    if (!this.pinned && delta > 0) {
      const before = this.geometry();
      const virtualTop = this.scroller.scrollTop * before.scale + delta * ROW_HEIGHT;
      this.total = total;
      this.scrollTo = virtualTop / this.geometry().scale;
    }
    this.forgetShown();
    this.total = total;
    this.schedule();
  }

  /**
   * The rest of a new query's first page (older than every held row; only while counting, when
   * held rows are indexed from the oldest match found so far): inserted before them. The view
   * keeps its rows in place unless it is at the end (as rebase does).
   */
  prepend(older: ItemPreview[], generation: number): void {
    if (!this.counting || generation !== this.rows.generation) return;
    const k = this.rows.prepend(older);
    if (!k) return;
    if (this.selected >= 0) this.selected += k;
    if (!this.pinned) {
      const before = this.geometry();
      const virtualTop = this.scroller.scrollTop * before.scale + k * ROW_HEIGHT;
      this.total += k;
      this.scrollTo = virtualTop / this.geometry().scale;
    } else this.total += k;
    this.forgetShown();
    this.schedule();
  }

  /**
   * Items were evicted: what is held is shown until fresh rows for the visible range arrive
   * (dropping it would blank the list while the store turns over under a fast capture).
   */
  markStale(): void {
    this.stale = true;
    this.schedule();
  }

  /** A bigger pool (the view grew): the modulo mapping changes, so every row is refilled. */
  private grow(need: number): void {
    while (this.pool.length < need) this.pool.push(this.makeRow(this.pool.length));
    for (const r of this.pool) {
      this.hide(r);
      r.y = NaN;
    }
  }

  /** A pooled row out of the range: hidden, and no longer claiming an item. */
  private hide(r: RowEl): void {
    r.index = -1;
    r.p = null;
    r.root.style.display = 'none';
    delete r.root.dataset.id;
    delete r.root.dataset.index;
  }

  private makeRow(i: number): RowEl {
    const root = el('div', 'row');
    root.id = `row-${i}`;
    root.setAttribute('role', 'option');
    root.style.display = 'none';
    const badge = el('span', 'badge');
    const ends = el('span', 'ends');
    const summary = el('span', 'summary');
    const status = el('span', 'status');
    const elapsed = el('span', 'elapsed');
    const size = el('span', 'size');
    root.append(badge, ends, summary, status, elapsed, size);
    this.scroller.append(root);
    return { root, badge, ends, summary, status, elapsed, size, index: -1, p: null, sel: false, y: NaN };
  }

  private fill(r: RowEl, index: number, p: ItemPreview | undefined): void {
    const sel = index === this.selected;
    if (r.p === p && r.sel === sel && r.p !== null) return;
    const same = r.p === p;
    r.p = p;
    r.sel = sel;
    r.root.setAttribute('aria-selected', String(sel));
    r.root.className = `row${sel ? ' selected' : ''}${p?.passed ? ' passed' : ''}${p?.failed ? ' failed' : ''}${p ? '' : ' loading'}`;
    if (same) return;
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
    this.reveal(i);
    this.render();
    this.cb.select(i, p, open);
  }

  /** Scrolls just enough for row `i` to be fully visible. */
  private reveal(i: number): void {
    const view = this.viewHeight || this.scroller.clientHeight;
    const g = this.geometry();
    const vt = this.scroller.scrollTop * g.scale;
    const y = i * ROW_HEIGHT;
    let next: number | undefined;
    if (y < vt) next = y;
    else if (y + ROW_HEIGHT > vt + view) next = y + ROW_HEIGHT - view;
    if (next !== undefined) this.scrollTo = Math.max(0, next / g.scale);
  }

  private onKey(e: KeyboardEvent): void {
    const page = Math.max(1, Math.floor((this.viewHeight || this.scroller.clientHeight) / ROW_HEIGHT) - 1);
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
    this.forgetShown();
    this.schedule();
  }

  /**
   * The shown rows stop claiming their items now (no moment shows the old query's rows as the
   * new one's); they are refilled on the next frame. Rendering here instead (a layout read and
   * a rows request inside the message handler) made a filter change 10× slower in
   * bench/webview.bench.ts.
   */
  private forgetShown(): void {
    for (const r of this.pool) {
      r.p = null;
      if (r.index < 0) continue;
      r.root.classList.add('loading');
      delete r.root.dataset.id;
    }
  }

  dispose(): void {
    this.resize.disconnect();
  }
}
