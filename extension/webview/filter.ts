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

export class FilterBox {
  readonly root = el('div', 'filter');
  readonly input = el('input', 'filter-input');
  private readonly lang = el('span', 'filter-lang');
  private readonly count = el('span', 'filter-count');
  private readonly problem = el('div', 'filter-problem');
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  active = '';

  constructor(private readonly cb: FilterCallbacks) {
    this.input.type = 'text';
    this.input.spellcheck = false;
    this.input.placeholder = 'Filter: http && status_code >= 400   (KFL2 or legacy KFL; Enter applies)';
    this.input.setAttribute('aria-label', 'Items filter');
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
    this.timer = setTimeout(() => this.cb.check(this.input.value, ++this.seq), delay);
  }

  /** A check result; stale ones (older seq) are ignored. */
  checked(seq: number, ok: boolean, language: string, error: SourcePos | undefined, matched: number | undefined): void {
    if (seq !== this.seq) return;
    this.showResult(ok, language, error, matched);
  }

  showResult(ok: boolean, language: string, error: SourcePos | undefined, matched: number | undefined): void {
    this.root.classList.toggle('invalid', !ok);
    this.lang.textContent = language === 'empty' ? '' : language.toUpperCase();
    if (matched !== undefined && ok) this.count.textContent = `${matched.toLocaleString()} match${matched === 1 ? '' : 'es'}`;
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

  setMatched(n: number): void {
    this.count.textContent = `${n.toLocaleString()} match${n === 1 ? '' : 'es'}`;
  }
}
