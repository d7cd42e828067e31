/// <reference lib="dom" />
/**
 * The filter box: KFL2 or legacy KFL, checked as you type (`wirehook/checkQuery`), the error's
 * position marked under the text, applied with Enter (`wirehook/setQuery`).
 */
import type { SourcePos } from '../../server/protocol';
import { button, el, icon } from './api';

export interface FilterCallbacks {
  check(query: string, seq: number): void;
  apply(query: string): void;
}

/** How long a check may take before the count says it is counting (no flicker while typing). */
const SLOW_CHECK_MS = 250;

const matches = (n: number) => `${n.toLocaleString()} match${n === 1 ? '' : 'es'}`;

export class FilterBox {
  readonly root = el('div', 'filter');
  readonly input = el('input', 'filter-input');
  private readonly lang = el('span', 'filter-lang');
  private readonly count = el('span', 'filter-count');
  private readonly problem = el('div', 'filter-problem');
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private slow: ReturnType<typeof setTimeout> | undefined;
  active = '';
  /** The active query's matches (live); `counting`: a lower bound, the server is still counting. */
  private activeCount: { n: number; counting: boolean } | undefined;
  /** The typed text's check: its count once answered (undefined while it is being counted). */
  private typed: { text: string; n: number | undefined; slow: boolean } | undefined;

  constructor(private readonly cb: FilterCallbacks) {
    this.input.type = 'text';
    this.input.spellcheck = false;
    this.input.placeholder = 'Filter: http && status_code >= 400   (KFL2 or legacy KFL; Enter applies)';
    this.input.setAttribute('aria-label', 'Items filter');
    this.count.setAttribute('aria-live', 'polite');
    const row = el('div', 'filter-row');
    const ic = icon('filter');
    row.append(ic, this.input, this.lang, this.count, button('check', 'Apply filter (Enter)', () => this.apply()), button('clear-all', 'Clear filter', () => this.set('', true)));
    this.problem.hidden = true;
    this.problem.setAttribute('role', 'alert');
    this.root.append(row, this.problem);
    this.input.addEventListener('input', () => this.scheduleCheck());
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.apply();
      } else if (e.key === 'Escape') {
        this.set(this.active, false);
      }
    });
  }

  set(query: string, apply: boolean): void {
    this.input.value = query;
    this.scheduleCheck(0);
    if (apply) this.apply();
  }

  apply(): void {
    this.cb.apply(this.input.value);
  }

  private scheduleCheck(delay = 120): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const text = this.input.value;
      this.typed = { text, n: undefined, slow: false };
      this.cb.check(text, ++this.seq);
      // A check counts the whole store (~1 s per 100k items under load): say so if it is slow.
      if (this.slow) clearTimeout(this.slow);
      const typed = this.typed;
      this.slow = setTimeout(() => {
        typed.slow = true;
        this.renderCount();
      }, SLOW_CHECK_MS);
    }, delay);
  }

  /** A check result; stale ones (older seq) are ignored. */
  checked(seq: number, ok: boolean, language: string, error: SourcePos | undefined, matched: number | undefined): void {
    if (seq !== this.seq) return;
    if (ok && matched === undefined) {
      // Not counted: the server stopped the check for an applied query. Its count is shown
      // if that was this text; else the text is checked again.
      if (this.typed && this.typed.text !== this.active) this.scheduleCheck(0);
      return;
    }
    if (this.slow) clearTimeout(this.slow);
    if (this.typed) this.typed.n = ok ? matched! : -1;
    this.showResult(ok, language, error);
  }

  /** An applied query's answer; `partial`: `matched` is a lower bound, the count follows. */
  applied(ok: boolean, language: string, error: SourcePos | undefined, matched: number | undefined, partial: boolean): void {
    if (ok && matched !== undefined) this.activeCount = { n: matched, counting: partial };
    this.showResult(ok, language, error);
  }

  private showResult(ok: boolean, language: string, error: SourcePos | undefined): void {
    this.root.classList.toggle('invalid', !ok);
    this.lang.textContent = language === 'empty' ? '' : language.toUpperCase();
    this.renderCount();
    if (ok || !error) {
      this.problem.hidden = true;
      this.problem.replaceChildren();
      return;
    }
    this.problem.hidden = false;
    const lines = this.input.value.split('\n');
    const text = lines[error.line - 1] ?? this.input.value;
    const col = Math.max(1, Math.min(error.col, text.length + 1));
    const mark = el('div', 'filter-mark');
    mark.append(document.createTextNode(text.slice(0, col - 1)), el('span', 'at', text.slice(col - 1, col) || ' '), document.createTextNode(text.slice(col)));
    this.problem.replaceChildren(mark, el('div', 'filter-message', `${error.line}:${error.col}: ${error.message}`));
  }

  /** The active query's live count (every items batch); `counting` while the server counts a new query's stored matches. */
  setMatched(n: number, counting: boolean): void {
    this.activeCount = { n, counting };
    this.renderCount();
  }

  /**
   * The count shown: the typed text's (checked, not applied yet) while it differs from the
   * active query, else the active query's, which live batches keep current. A count still
   * being made says so: "≥ 1,234 matching…" (applied), "counting…" (a slow check).
   */
  private renderCount(): void {
    const typedText = this.input.value;
    const t = this.typed;
    let text = '';
    let title = '';
    let busy = false;
    if (t && t.text === typedText && typedText !== this.active) {
      if (t.n === undefined) {
        if (t.slow) {
          text = 'counting…';
          busy = true;
          title = 'Counting the stored items this filter matches';
        } else text = this.count.textContent ?? '';
      } else if (t.n >= 0) {
        text = matches(t.n);
        title = 'Stored items this filter matches (Enter applies it)';
      }
    } else if (this.activeCount) {
      const { n, counting } = this.activeCount;
      busy = counting;
      text = counting ? `≥ ${n.toLocaleString()} matching…` : matches(n);
      title = counting ? `Still counting the stored items that match: ${n.toLocaleString()} so far` : 'Stored items that match the filter';
    }
    if (this.count.textContent !== text) this.count.textContent = text;
    this.count.title = title;
    this.count.classList.toggle('counting', busy);
  }
}
