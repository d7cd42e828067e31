/// <reference lib="dom" />
/**
 * Detail pane of the selected item: request and response as collapsible trees (native
 * <details>, keyboard-accessible), the decoded body, and the raw JSON. "+" on a leaf adds
 * `field == value` to the filter.
 */
import { button, el, icon } from './api';
import { previewContent, previewText } from './body';

export interface DetailCallbacks {
  addFilter(path: (string | number)[], value: unknown): void;
  copy(format: 'json' | 'curl' | 'har'): void;
  open(): void;
  exportOne(): void;
  close(): void;
}

const OVERVIEW_FIELDS = ['id', 'timestamp', 'startTime', 'elapsedTime', 'requestSize', 'responseSize', 'stream', 'worker', 'error'];

export class Detail {
  readonly root = el('div', 'detail');
  private readonly header = el('div', 'detail-header');
  private readonly body = el('div', 'detail-body');

  constructor(private readonly cb: DetailCallbacks) {
    this.root.setAttribute('role', 'region');
    this.root.setAttribute('aria-label', 'Item detail');
    this.root.append(this.header, this.body);
    this.root.hidden = true;
  }

  loading(id: string): void {
    this.root.hidden = false;
    this.renderHeader(`Item ${id}`, false);
    this.body.replaceChildren(el('div', 'muted', 'Loading…'));
  }

  show(id: string, item: any): void {
    this.root.hidden = false;
    if (!item) {
      this.renderHeader(`Item ${id}`, false);
      this.body.replaceChildren(el('div', 'muted', 'This item is no longer stored (evicted, or from an earlier capture).'));
      return;
    }
    const http = item.protocol?.name === 'http';
    const title = http ? `${item.request?.method ?? ''} ${item.request?.url ?? ''}` : `${item.protocol?.abbr ?? ''} ${item.request?.questions?.[0]?.name ?? ''}`;
    this.renderHeader(title, http);
    const parts: HTMLElement[] = [];
    parts.push(this.section('Overview', this.overview(item), true));
    if (item.request) parts.push(this.section('Request', this.tree(item.request, ['request']), true, 'request'));
    if (item.response) parts.push(this.section('Response', this.tree(item.response, ['response']), true, 'response'));
    const bodies = el('div');
    const reqBody = item.request?.postData?.text ? previewText(String(item.request.postData.text), String(item.request.postData.mimeType ?? '')) : undefined;
    const resBody = previewContent(item.response?.content);
    if (reqBody) bodies.append(this.bodyBlock('Request body', reqBody.kind, reqBody.text, reqBody.bytes));
    if (resBody.kind !== 'none') bodies.append(this.bodyBlock('Response body', resBody.kind, resBody.text, resBody.bytes));
    if (bodies.childElementCount) parts.push(this.section('Body', bodies, true, 'body'));
    const raw = el('pre', 'raw', JSON.stringify(item, null, 2));
    parts.push(this.section('Raw JSON', raw, false, 'raw'));
    this.body.replaceChildren(...parts);
  }

  hide(): void {
    this.root.hidden = true;
  }

  private renderHeader(title: string, http: boolean): void {
    const t = el('span', 'detail-title', title);
    t.title = title;
    const actions = el('span', 'detail-actions');
    actions.append(
      button('json', 'Copy as JSON', () => this.cb.copy('json')),
      ...(http ? [button('terminal', 'Copy as cURL', () => this.cb.copy('curl')), button('archive', 'Copy as HAR', () => this.cb.copy('har'))] : []),
      button('go-to-file', 'Open as JSON document', () => this.cb.open()),
      button('export', 'Export this item…', () => this.cb.exportOne()),
      button('close', 'Close detail', () => this.cb.close()),
    );
    this.header.replaceChildren(t, actions);
  }

  private section(title: string, content: HTMLElement, open: boolean, name = title.toLowerCase()): HTMLElement {
    const d = el('details', 'section');
    d.dataset.section = name;
    d.open = open;
    const s = el('summary', 'section-title', title);
    d.append(s, content);
    return d;
  }

  private overview(item: any): HTMLElement {
    const box = el('div', 'tree');
    const p = item.protocol;
    if (p) box.append(this.leaf('protocol', `${p.abbr} (${p.longName ?? p.name})`, ['protocol', 'abbr'], p.abbr));
    for (const side of ['src', 'dst'] as const) {
      const e = item[side];
      if (!e) continue;
      // A name that is the address itself (an IP-literal Host header) is said once.
      const name = e.name && e.name !== e.ip ? `${e.name} ` : '';
      box.append(this.leaf(side, `${name}${e.ip}:${e.port}`, [side, 'ip'], e.ip));
    }
    for (const k of OVERVIEW_FIELDS) if (item[k] !== undefined && item[k] !== null && item[k] !== '') box.append(this.node(k, item[k], [k]));
    return box;
  }

  private bodyBlock(title: string, kind: string, text: string, bytes: number): HTMLElement {
    const box = el('div', 'body-block');
    box.append(el('div', 'muted', `${title} — ${kind}, ${bytes} bytes`), el('pre', `body ${kind}`, text));
    return box;
  }

  private tree(obj: any, path: (string | number)[]): HTMLElement {
    const box = el('div', 'tree');
    for (const [k, v] of Object.entries(obj ?? {})) box.append(this.node(k, v, [...path, Array.isArray(obj) ? Number(k) : k]));
    return box;
  }

  private node(key: string, value: unknown, path: (string | number)[]): HTMLElement {
    if (value !== null && typeof value === 'object') {
      const entries = Object.keys(value as object).length;
      const d = el('details', 'branch');
      d.open = entries > 0 && entries <= 12 && path.length <= 2;
      const s = el('summary');
      s.append(el('span', 'key', key), el('span', 'muted', Array.isArray(value) ? ` [${entries}]` : ` {${entries}}`));
      d.append(s);
      // Children are built when first opened: big items stay cheap.
      let built = false;
      const build = () => {
        if (built) return;
        built = true;
        d.append(this.tree(value, path));
      };
      if (d.open) build();
      d.addEventListener('toggle', build);
      return d;
    }
    return this.leaf(key, value === null ? 'null' : typeof value === 'string' ? JSON.stringify(value) : String(value), path, value);
  }

  private leaf(key: string, shown: string, path: (string | number)[], value: unknown): HTMLElement {
    const row = el('div', 'leaf');
    const plus = button('add', `Filter: ${path.join('.')} == ${shown}`, () => this.cb.addFilter(path, value));
    plus.classList.add('plus');
    plus.dataset.path = path.join('.');
    const v = el('span', `value ${typeof value}`, shown);
    v.title = shown;
    row.append(plus, el('span', 'key', key), el('span', 'sep', ': '), v);
    return row;
  }
}

export { icon };
