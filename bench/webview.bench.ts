// The items webview alone in headless Chromium (the same browser and flags as the e2e
// launcher), to find what a frame costs without code-server, the server and the extension
// host beside it. dist/webview.js runs as built; the extension side is played from Node over
// playwright bindings (so its data is not on the page's heap): previews of demo.pcap's real
// items (server/session/preview.ts) repeated to N stored, ~1k/s arriving in batches every
// 250 ms (RATES.itemsIntervalMs), rows answered from the array, setQuery filtering it.
// setQuery is answered as the server does (server/lsp/items.ts): the newest page at once with
// `counting`, the `partial` answer, the total COUNT_MS later.
// Figures (docs/extension.md, "What a frame time is here"): main-thread CPU per frame from a
// trace, rAF intervals and Long Animation Frames while scrolling, the time from Enter to the
// visible rows of a new filter, and the page's JS heap after GC at 10k and at 100k stored.
// The whole-system figures (code-server, real server) come from the e2e speed test
// (WIREHOOK_E2E_PERF=1, docs/extension.md).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { openWebview } from '../test/e2e/unit/webview-page';
// @ts-expect-error: plain JS module shared with the e2e launcher
import { FRAME_TRACE_CATEGORIES, frameFigures, scrollInPage } from '../test/e2e/frames.mjs';
import { preview } from '../server/session/preview';
import type { ItemPreview } from '../server/protocol';

const items = spawnSync(process.execPath, ['dist/cli.js', 'items', '--pcap', 'examples/captures/demo.pcap'], { encoding: 'utf8', maxBuffer: 1 << 28 })
  .stdout.trim().split('\n').map((l) => JSON.parse(l));
const base = items.map((i) => preview(i));
const make = (n: number): ItemPreview => {
  const b = base[n % base.length];
  // Every ~7th row passed/failed so the marked styles are part of what is painted.
  return { ...b, id: String(n + 1), passed: n % 7 === 3, failed: n % 7 === 5 };
};

const SCROLL_MS = Number(process.env.SCROLL_MS ?? 4000);
/** How long the emulated server takes to count a new query's matches (~1 s per 100k under load). */
const COUNT_MS = Number(process.env.COUNT_MS ?? 500);
const PAGE = 200;

async function run(stored: number, rate: number): Promise<Record<string, unknown>> {
  const all: ItemPreview[] = [];
  for (let i = 0; i < stored; i++) all.push(make(i));
  let query = '';
  let view: ItemPreview[] = all;
  /** While a new query is being counted: the lower bound the server reports (page + arrivals). */
  let lowerBound: number | null = null;
  let countTimer: NodeJS.Timeout | undefined;
  const match = (q: string) => (q ? all.filter((p) => p.statusError) : all);
  const w = await openWebview((m: any, post) => {
    switch (m.type) {
      case 'ready':
        void post({ type: 'status', text: 'bench', running: true, source: 'bench', serverReady: true });
        void post({ type: 'items', previews: [], matched: view.length, reset: true, evicted: 0, counting: false });
        return;
      case 'rows':
        setImmediate(() => void post({ type: 'rows', seq: m.seq, offset: m.offset, total: view.length, items: view.slice(m.offset, m.offset + m.limit) }));
        return;
      case 'check':
        void post({ type: 'check', seq: m.seq, ok: true, language: m.query ? 'kfl2' : 'empty', matched: match(m.query).length });
        return;
      case 'setQuery': {
        query = m.query;
        view = match(query);
        clearTimeout(countTimer);
        const page = view.slice(-PAGE);
        const exact = view.length <= PAGE;
        lowerBound = exact ? null : page.length;
        void post({ type: 'items', previews: page, matched: page.length, reset: true, evicted: 0, counting: !exact });
        void post({ type: 'query', query, ok: true, language: query ? 'kfl2' : 'empty', matched: page.length, ...(exact ? {} : { partial: true }) });
        if (!exact) {
          countTimer = setTimeout(() => {
            lowerBound = null;
            void post({ type: 'items', previews: [], matched: view.length, reset: false, evicted: 0, counting: false });
          }, COUNT_MS);
        }
        return;
      }
    }
  });
  const { page, browser } = w;
  await page.waitForFunction(() => document.querySelectorAll('.row[data-id]').length > 0);
  // Follow the tail like a live capture would, then start the arrivals.
  let next = stored;
  const timer = rate > 0 ? setInterval(() => {
    const batch: ItemPreview[] = [];
    for (let i = 0; i < rate / 4; i++) {
      const p = make(next++);
      all.push(p);
      if (!query || p.statusError) batch.push(p);
    }
    view = match(query);
    if (lowerBound !== null) lowerBound += batch.length;
    void w.post({ type: 'items', previews: batch.slice(-200), matched: lowerBound ?? view.length, reset: false, evicted: 0, counting: lowerBound !== null });
  }, 250) : undefined;
  let traced = 0; // TRACE=file keeps the first scroll's trace
  const scroll = async (ms: number) => {
    await page.evaluate(() => { document.querySelector('.list-scroller')!.scrollTop = 0; });
    await browser.startTracing(page, { path: traced++ ? undefined : process.env.TRACE, categories: FRAME_TRACE_CATEGORIES });
    const frames = (await page.evaluate(scrollInPage, { selector: '.list-scroller', ms })) as Record<string, unknown>;
    const trace = frameFigures(await browser.stopTracing());
    return { ...frames, trace, script: await page.evaluate(() => (window as any).__wirehook.renderStats()) };
  };
  const frames = await scroll(SCROLL_MS);
  const filter = async (q: string) => {
    const f = page.locator('.filter-input');
    await f.fill(q);
    return page.evaluate(async (qq) => {
      const input = document.querySelector<HTMLInputElement>('.filter-input')!;
      const t = performance.now();
      input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      await new Promise<void>((done) => {
        const check = () => {
          const rows = Array.from(document.querySelectorAll<HTMLElement>('.row')).filter((r) => r.style.display !== 'none' && r.offsetParent);
          // With a filter, every shown row must be one of its matches (all have an error
          // status): rows of the previous query still on screen do not count as rendered.
          const ok = (r: HTMLElement) => r.dataset.id && !r.classList.contains('loading') && (!qq || r.querySelector('.status')?.classList.contains('error'));
          if ((window as any).__wirehook.activeQuery === qq && rows.length > 0 && rows.every(ok)) done();
          else requestAnimationFrame(check);
        };
        requestAnimationFrame(check);
      });
      return +(performance.now() - t).toFixed(1);
    }, q);
  };
  const filterMs = await filter('http && status_code >= 400');
  // Scrolled while the count runs and after it: the page, then the whole match list.
  const filteredFrames = await scroll(Math.min(SCROLL_MS, 2000));
  const unfilterMs = await filter('');
  if (timer) clearInterval(timer);
  clearTimeout(countTimer);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const dom = await page.evaluate(() => ({ rows: document.querySelectorAll('.row').length, held: (window as any).__wirehook.cachedRows, nodes: document.getElementsByTagName('*').length }));
  await w.close();
  return { stored, arrivingPerS: rate, scrolling: frames, filterMs, filteredScrolling: filteredFrames, unfilterMs, heapMB: +(heap.usedSize / 1e6).toFixed(2), ...dom };
}

/**
 * The floor on this machine right now: the same scrolling of a static 2.2M px list (a repeating
 * gradient, no script, no rows). Frames slower than this are not the webview's.
 */
async function floor(): Promise<Record<string, unknown>> {
  const browser = await chromium.launch({ executablePath: process.env.WIREHOOK_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 420 } });
  await page.setContent(`<div class="list-scroller" style="height:400px;overflow:auto;contain:strict"><div style="height:2200000px;background:repeating-linear-gradient(#222 0 21px,#444 21px 22px)"></div></div>`);
  await page.evaluate('window.__name = (f) => f');
  await browser.startTracing(page, { categories: FRAME_TRACE_CATEGORIES });
  const r = (await page.evaluate(scrollInPage, { selector: '.list-scroller', ms: SCROLL_MS, wrap: false })) as Record<string, unknown>;
  const trace = frameFigures(await browser.stopTracing());
  await browser.close();
  return { ...r, trace };
}

async function main(): Promise<void> {
  const chrome = process.env.WIREHOOK_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chrome)) return console.log(`webview bench skipped: no ${chrome} (scripts/setup-e2e.sh installs it)`);
  if (process.env.FLOOR) return console.log('floor', JSON.stringify(await floor()));
  if (process.env.ONLY) return console.log(JSON.stringify(await run(Number(process.env.ONLY), Number(process.env.RATE ?? 0))));
  const small = await run(10_000, 1000);
  const big: any = await run(100_000, 1000);
  const still = await run(100_000, 0);
  const fl = await floor();
  for (const r of [small, big, still]) console.log(JSON.stringify(r));
  console.log(`floor ${JSON.stringify(fl)}`);
  const s = big.scrolling;
  console.log(`webview (taken under whatever load the machine has): 100k stored + 1k/s: main-thread work per frame p50/p95/max ${s.trace.workP50}/${s.trace.workP95}/${s.trace.workMax} ms (${s.trace.over16} of ${s.trace.frames} over 16.7 ms); rAF interval p50/p95/max ${s.p50}/${s.p95}/${s.max} ms (static-scroll floor p95 ${(fl as any).p95} ms); long animation frames ${s.loaf?.count ?? '?'}; filter → rows ${big.filterMs} ms; JS heap 10k ${small.heapMB} MB vs 100k ${big.heapMB} MB`);
}

void main();
