// The items webview alone in headless Chromium (the same browser and flags as the e2e
// launcher), to find what a frame costs without code-server, the server and the extension
// host beside it. dist/webview.js runs as built; the extension side is played from Node over
// playwright bindings (so its data is not on the page's heap): previews of demo.pcap's real
// items (server/session/preview.ts) repeated to N stored, ~1k/s arriving in batches every
// 250 ms (RATES.itemsIntervalMs), rows answered from the array, setQuery filtering it.
// Figures: rAF frame times while scrolling, the time from Enter to the visible rows of a new
// filter, and the page's JS heap after GC at 10k and at 100k stored.
// The whole-system figures (code-server, real server) come from the e2e speed test
// (WIREHOOK_E2E_PERF=1, docs/extension.md).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
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

/**
 * CPU the page's main thread and the compositor/raster threads used per frame while scrolling
 * (thread time from the trace, so less sensitive to other processes than frame times are).
 */
function cpuPerFrame(trace: Buffer, frames: number): { mainCpuMsPerFrame: number; otherCpuMsPerFrame: number } {
  const events: any[] = JSON.parse(trace.toString('utf8')).traceEvents;
  const names = new Map<string, string>();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  let main = 0;
  let other = 0;
  for (const e of events) {
    if (e.ph !== 'X' || e.name !== 'RunTask' || !e.tdur) continue;
    const t = names.get(`${e.pid}:${e.tid}`) ?? '';
    if (t === 'CrRendererMain') main += e.tdur / 1000;
    else if (/Compositor|Raster|VizCompositor/i.test(t)) other += e.tdur / 1000;
  }
  return { mainCpuMsPerFrame: +(main / frames).toFixed(2), otherCpuMsPerFrame: +(other / frames).toFixed(2) };
}

const SCROLL_MS = Number(process.env.SCROLL_MS ?? 4000);

async function run(stored: number, rate: number): Promise<Record<string, unknown>> {
  const all: ItemPreview[] = [];
  for (let i = 0; i < stored; i++) all.push(make(i));
  let query = '';
  let view: ItemPreview[] = all;
  const match = (q: string) => (q ? all.filter((p) => p.statusError) : all);
  const browser = await chromium.launch({
    executablePath: process.env.WIREHOOK_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--enable-precise-memory-info'],
  });
  const page: Page = await browser.newPage({ viewport: { width: 1440, height: 420 } });
  await page.route('http://bench.invalid/**', (r) => {
    const f = new URL(r.request().url()).pathname.slice(1);
    if (f === 'index.html') {
      return r.fulfill({ contentType: 'text/html', body: `<!DOCTYPE html><html><head><link rel="stylesheet" href="codicon.css"><link rel="stylesheet" href="webview.css"></head><body class="mode-panel" style="--vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace; --vscode-foreground:#ccc; --vscode-panel-background:#1e1e1e; --vscode-testing-iconPassed:#73c991; --vscode-testing-iconFailed:#f14c4c"><div id="app"></div><script src="webview.js"></script></body></html>` });
    }
    return r.fulfill({ body: readFileSync(`${process.env.WEBVIEW_DIST ?? "dist"}/${f}`), contentType: f.endsWith('.css') ? 'text/css' : f.endsWith('.js') ? 'text/javascript' : 'font/ttf' });
  });
  const post = (m: unknown) => page.evaluate((msg) => window.postMessage(msg, '*'), m as any).catch(() => undefined);
  await page.exposeFunction('__hostReceive', (m: any) => {
    switch (m.type) {
      case 'ready':
        void post({ type: 'status', text: 'bench', running: true, source: 'bench', serverReady: true });
        void post({ type: 'items', previews: [], matched: view.length, reset: true, evicted: 0 });
        return;
      case 'rows':
        setImmediate(() => void post({ type: 'rows', seq: m.seq, offset: m.offset, total: view.length, items: view.slice(m.offset, m.offset + m.limit) }));
        return;
      case 'check':
        void post({ type: 'check', seq: m.seq, ok: true, language: m.query ? 'kfl2' : 'empty', matched: match(m.query).length });
        return;
      case 'setQuery':
        query = m.query;
        view = match(query);
        void post({ type: 'query', query, ok: true, language: query ? 'kfl2' : 'empty', matched: view.length });
        void post({ type: 'items', previews: [], matched: view.length, reset: true, evicted: 0 });
        return;
    }
  });
  // tsx compiles this file with esbuild's keepNames: functions sent to the page call __name.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.addInitScript(() => {
    (window as any).acquireVsCodeApi = () => ({ postMessage: (m: unknown) => (window as any).__hostReceive(m), getState: () => undefined, setState: () => undefined });
  });
  page.on('pageerror', (e) => console.error('[page]', e.message));
  await page.goto('http://bench.invalid/index.html');
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
    void post({ type: 'items', previews: batch.slice(-200), matched: view.length, reset: false, evicted: 0 });
  }, 250) : undefined;
  const scroll = (ms: number) => page.evaluate(async (dur) => {
    const sc = document.querySelector('.list-scroller')!;
    const times: number[] = [];
    let last = performance.now();
    const end = last + dur;
    sc.scrollTop = 0;
    await new Promise<void>((done) => {
      const step = (now: number) => {
        times.push(now - last);
        last = now;
        sc.scrollTop += 97;
        if (sc.scrollTop + sc.clientHeight >= sc.scrollHeight) sc.scrollTop = 0;
        if (now < end) requestAnimationFrame(step);
        else done();
      };
      requestAnimationFrame(step);
    });
    times.shift();
    times.sort((a, b) => a - b);
    const pct = (p: number) => +times[Math.min(times.length - 1, Math.floor(times.length * p))].toFixed(1);
    return { frames: times.length, p50: pct(0.5), p95: pct(0.95), max: pct(1) };
  }, ms);
  await browser.startTracing(page, { path: process.env.TRACE, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'cc', 'viz', 'blink'] });
  const frames = await scroll(SCROLL_MS);
  const cpu = cpuPerFrame(await browser.stopTracing(), frames.frames);
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
  const filteredFrames = await scroll(Math.min(SCROLL_MS, 2000));
  const unfilterMs = await filter('');
  if (timer) clearInterval(timer);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
  const dom = await page.evaluate(() => ({ rows: document.querySelectorAll('.row').length, held: (window as any).__wirehook.cachedRows, nodes: document.getElementsByTagName('*').length }));
  await browser.close();
  return { stored, arrivingPerS: rate, scrolling: { ...frames, ...cpu }, filterMs, filteredScrolling: filteredFrames, unfilterMs, heapMB: +(heap.usedSize / 1e6).toFixed(2), ...dom };
}

/**
 * The floor on this machine right now: the same scrolling of a static 2.2M px list (a repeating
 * gradient, no script, no rows). Frames slower than this are not the webview's.
 */
async function floor(): Promise<Record<string, number>> {
  const browser = await chromium.launch({ executablePath: process.env.WIREHOOK_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'] });
  const page = await browser.newPage({ viewport: { width: 1440, height: 420 } });
  await page.setContent(`<div class="list-scroller" style="height:400px;overflow:auto;contain:strict"><div style="height:2200000px;background:repeating-linear-gradient(#222 0 21px,#444 21px 22px)"></div></div>`);
  await page.evaluate('window.__name = (f) => f');
  const r = await page.evaluate(async (dur) => {
    const sc = document.querySelector('.list-scroller')!;
    const times: number[] = [];
    let last = performance.now();
    const end = last + dur;
    await new Promise<void>((done) => {
      const step = (now: number) => {
        times.push(now - last);
        last = now;
        sc.scrollTop += 97;
        if (now < end) requestAnimationFrame(step);
        else done();
      };
      requestAnimationFrame(step);
    });
    times.shift();
    times.sort((a, b) => a - b);
    const pct = (p: number) => +times[Math.min(times.length - 1, Math.floor(times.length * p))].toFixed(1);
    return { frames: times.length, p50: pct(0.5), p95: pct(0.95), max: pct(1) };
  }, SCROLL_MS);
  await browser.close();
  return r;
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
  console.log(`webview (taken under whatever load the machine has): 100k stored + 1k/s: scroll frame p50/p95/max ${big.scrolling.p50}/${big.scrolling.p95}/${big.scrolling.max} ms (static-scroll floor p95 ${fl.p95} ms), main-thread CPU ${big.scrolling.mainCpuMsPerFrame} ms/frame; filter → rows ${big.filterMs} ms; JS heap 10k ${small.heapMB} MB vs 100k ${big.heapMB} MB`);
}

void main();
