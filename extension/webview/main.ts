/// <reference lib="dom" />
/** The items webview: filter box, virtualised list, detail pane; talks to extension/items/host.ts. */
import type { ItemPreview } from '../../server/protocol';
import { button, el, loadState, onMessage, saveState, send } from './api';
import type { ToView } from './messages';
import { Detail } from './detail';
import { FilterBox } from './filter';
import { addClause, clauseFor } from './filterField';
import { ItemList } from './list';

const app = document.getElementById('app')!;
const statusText = el('span', 'status-text');
let rowSeq = 0;
/** seq of a rows request → generation it was made for */
const rowGen = new Map<number, number>();
let lastEvicted = -1;
let detailId = '';
/**
 * A reset batch came since this view last sent setQuery. The server sends a new query's reset
 * (and its first page, in the same batch or the next) before its answer; only when none came
 * does the answer reset the list itself. Other views showing the same items get the server's
 * reset batch and never reset on an answer.
 */
let resetSinceApply = true;
/**
 * The live batches' `matched` counts arrivals but not evicted matches (server/lsp/items.ts):
 * once the store is full it climbs above the stored matches that rows answers count, and tail
 * rows past the true end would never load. Rows answers say the true total; live totals are
 * lowered by the excess seen then (until the next reset or count).
 */
let liveMatched = 0;
let excess = 0;

const filter = new FilterBox({
  check: (query, seq) => send({ type: 'check', seq, query }),
  apply(query) {
    resetSinceApply = false;
    send({ type: 'setQuery', query });
  },
});

const list = new ItemList({
  fetch(offset, limit, generation) {
    const seq = ++rowSeq;
    rowGen.set(seq, generation);
    send({ type: 'rows', seq, offset, limit });
  },
  select(_index, item: ItemPreview | undefined, open) {
    if (open && item) openDetail(item.id);
  },
});

const detail = new Detail({
  addFilter(path, value) {
    // As Kubeshark's dashboard does: the clause joins the active filter, applied at once.
    filter.set(addClause(filter.active, clauseFor(path, value)), true);
  },
  copy: (format) => detailId && send({ type: 'copy', id: detailId, format }),
  open: () => detailId && send({ type: 'open', id: detailId }),
  exportOne: () => detailId && send({ type: 'export', ids: [detailId] }),
  close() {
    detail.hide();
    detailId = '';
    list.scroller.focus();
  },
});

function openDetail(id: string): void {
  detailId = id;
  detail.loading(id);
  send({ type: 'getItem', id });
}

const empty = el('div', 'empty');
/** The capture status (`status` message): what the empty list says when no filter explains it. */
let statusLine = 'Starting…';
let hasSource = false;
let emptyShown = '';
function renderEmpty(): void {
  const act = (label: string, iconName: string, run: () => void) => {
    const b = el('button', 'text-button');
    b.append(el('span', `codicon codicon-${iconName}`), document.createTextNode(` ${label}`));
    b.addEventListener('click', run);
    return b;
  };
  const command = (c: string) => () => send({ type: 'command', command: c });
  // Empty because of the filter (or its count still running), or because nothing was captured.
  const why = list.counting ? 'counting' : hasSource && filter.active.trim() ? 'filtered' : 'status';
  const key = `${why}\n${statusLine}`;
  if (key === emptyShown) return;
  emptyShown = key;
  const actions = el('div', 'empty-actions');
  let text = statusLine;
  if (why === 'counting') text = 'Looking for matching items…';
  else if (why === 'filtered') {
    text = 'No stored item matches the filter.';
    actions.append(act('Clear the filter', 'clear-all', () => filter.set('', true)));
  } else actions.append(act('Open the demo capture', 'file-binary', command('wirehook.openDemo')), act('Open a capture file…', 'folder-opened', command('wirehook.openCaptureFile')), act('Capture live…', 'record', command('wirehook.startCapture')));
  empty.replaceChildren(el('div', 'empty-title', text), actions);
}

const toolbar = el('div', 'toolbar');
toolbar.append(
  filter.root,
  statusText,
  button('export', 'Export the filtered items…', () => send({ type: 'export' })),
  button('debug-stop', 'Stop capture', () => send({ type: 'command', command: 'wirehook.stopCapture' })),
);
const header = el('div', 'list-header');
for (const h of ['Proto', 'Source → Destination', 'Summary', 'Status', 'Time', 'Size']) header.append(el('span', '', h));
const listPane = el('div', 'list-pane');
listPane.append(header, list.scroller, empty);
const split = el('div', 'split');
split.append(listPane, detail.root);
app.append(toolbar, split);

function updateEmpty(): void {
  empty.hidden = list.total > 0;
  if (!empty.hidden) renderEmpty();
}

/** The last messages from the host, for the e2e speed figures (what a slow filter waited for). */
const trail: string[] = [];
/** Script time of the last 256 message handlers by type, ms (the speed figures). */
const handlerMs: Record<string, number[]> = {};
onMessage((m) => {
  const t0 = performance.now();
  handle(m);
  const times = (handlerMs[m.type] ??= []);
  if (times.push(performance.now() - t0) > 256) times.shift();
});

function handle(m: ToView): void {
  if (trail.push(`${Math.round(performance.now())} ${m.type}${m.type === 'items' ? ` ${m.previews.length}/${m.matched}${m.reset ? ' reset' : ''}${m.counting ? ' counting' : ''}` : m.type === 'rows' ? ` ${m.offset}+${m.items.length}/${m.total}` : m.type === 'query' ? ` ${m.matched}${m.partial ? ' partial' : ''}` : ''}`) > 40) trail.shift();
  switch (m.type) {
    case 'items': {
      // A reset drops what is held: a new query's (its page follows) or a new capture's.
      if (m.reset) excess = 0;
      liveMatched = m.matched;
      if (m.reset) list.reset();
      // The count came: held rows were indexed from the oldest match found so far.
      else if (list.counting && !m.counting) {
        excess = 0;
        list.rebase(m.matched);
      } else if (lastEvicted >= 0 && m.evicted !== lastEvicted) list.markStale();
      if (m.reset) resetSinceApply = true;
      lastEvicted = m.evicted;
      list.counting = m.counting;
      const gen = list.rows.generation;
      // The rest of a new query's first page goes before the rows held, the live ones after.
      if (m.older?.length) list.prepend(m.older, gen);
      list.setTotal(Math.max(0, m.matched - excess), true);
      if (m.previews.length) list.live(m.previews, gen);
      filter.setMatched(list.total, m.counting);
      updateEmpty();
      return;
    }
    case 'rows': {
      const gen = rowGen.get(m.seq);
      rowGen.delete(m.seq);
      if (gen === undefined) return;
      if (m.total >= 0 && gen === list.rows.generation) {
        excess = Math.max(0, liveMatched - m.total);
        if (m.total !== list.total) {
          list.setTotal(m.total, false);
          filter.setMatched(m.total, list.counting);
        }
      }
      list.receive(m.offset, m.items, gen);
      updateEmpty();
      return;
    }
    case 'check':
      filter.checked(m.seq, m.ok, m.language, m.error, m.matched);
      return;
    case 'query':
      if (m.ok) {
        if (!resetSinceApply && (m.query !== filter.active || m.matched !== undefined)) {
          list.reset();
          list.counting = !!m.partial;
          list.setTotal(m.matched ?? list.total, false);
          updateEmpty();
        }
        resetSinceApply = true;
        filter.active = m.query;
        if (filter.input.value !== m.query && document.activeElement !== filter.input) filter.input.value = m.query;
        saveState({ query: m.query });
      }
      filter.applied(m.ok, m.language ?? (m.query.trim() ? '' : 'empty'), m.error, m.matched, !!m.partial);
      updateEmpty();
      return;
    case 'item':
      if (m.id === detailId) detail.show(m.id, m.item);
      return;
    case 'status':
      statusText.textContent = m.source ?? '';
      statusText.title = m.text;
      statusLine = m.text;
      hasSource = !!m.source;
      updateEmpty();
      return;
  }
}

const saved = loadState<{ query?: string }>();
if (saved?.query) filter.input.value = saved.query;
updateEmpty();
send({ type: 'ready' });

// For the e2e suite and the speed figures (docs/extension.md): what the webview holds.
(window as any).__wirehook = {
  get total() {
    return list.total;
  },
  get selected() {
    return list.selected;
  },
  get activeQuery() {
    return filter.active;
  },
  /** The server is still counting the active query's matches (`total` is a lower bound). */
  get counting() {
    return list.counting;
  },
  /** p95 and max script time of the last 512 renders, ms. */
  renderStats() {
    const stat = (xs: number[]) => {
      const t = xs.slice().sort((a, b) => a - b);
      return { n: t.length, p95: +(t[Math.floor(t.length * 0.95)] ?? 0).toFixed(2), max: +(t[t.length - 1] ?? 0).toFixed(2) };
    };
    const r = stat(list.renderMs);
    return { renders: r.n, p95: r.p95, max: r.max, handlers: Object.fromEntries(Object.entries(handlerMs).map(([k, v]) => [k, stat(v)])) };
  },
  get trail() {
    return trail.slice();
  },
  get cachedRows() {
    return list.rows.size;
  },
  get domRows() {
    return list.scroller.querySelectorAll('.row').length;
  },
};
