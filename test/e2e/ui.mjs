// UI scenarios the e2e suite asks the launcher to play in the real workbench (playwright-core
// reaches into the webview's nested iframes). Each returns plain JSON for the suite to assert.
import { FRAME_TRACE_CATEGORIES, frameFigures, scrollInPage } from './frames.mjs';

/** Runs `f` with the browser tracing; returns its result and the frame figures (frames.mjs). */
async function traced(page, f) {
  const browser = page.context().browser();
  await browser.startTracing(page, { categories: FRAME_TRACE_CATEGORIES });
  let r;
  try {
    r = await f();
  } finally {
    var buf = await browser.stopTracing();
  }
  return { ...r, trace: frameFigures(buf) };
}

/** The frame holding the items webview (`#app` with the filter box); the newest one wins. */
export async function itemsFrame(page, { timeoutMs = 30_000, mode } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const frames = page.frames().slice().reverse();
    for (const f of frames) {
      try {
        const sel = mode ? `body.mode-${mode} #app .filter-input` : '#app .filter-input';
        if (await f.$(sel)) return f;
      } catch {
        // a frame navigating away
      }
    }
    await page.waitForTimeout(100); // polling the frame tree: playwright has no event for "a frame gained an element"
  }
  throw new Error('items webview frame not found');
}

const scenarios = {
  /** The panel rendered: what the webview shows. */
  async panelState(page, { mode, backgroundNot }) {
    const f = await itemsFrame(page, { mode });
    await f.waitForFunction(() => !document.querySelector('.empty')?.hidden || document.querySelector('.row[data-id]'), null, { timeout: 20_000 });
    // After a theme change the webview's --vscode-* variables update a moment later.
    if (backgroundNot) await f.waitForFunction((bg) => getComputedStyle(document.body).backgroundColor !== bg, backgroundNot, { timeout: 10_000 });
    return f.evaluate(async () => ({
      codiconFontLoaded: (await document.fonts.load('16px codicon')).length > 0,
      filterPlaceholder: document.querySelector('.filter-input')?.getAttribute('placeholder') ?? '',
      emptyVisible: !document.querySelector('.empty')?.hidden,
      emptyText: document.querySelector('.empty-title')?.textContent ?? '',
      buttons: [...document.querySelectorAll('.empty-actions button')].map((b) => b.textContent.trim()),
      headers: [...document.querySelectorAll('.list-header span')].map((s) => s.textContent),
      background: getComputedStyle(document.body).backgroundColor,
      foreground: getComputedStyle(document.body).color,
      total: window.__wirehook?.total ?? -1,
    }));
  },

  /** Types a filter, waits for its check, applies it, clicks a row, expands the detail. */
  async filterAndInspect(page, { mode, query, invalidQuery }) {
    const f = await itemsFrame(page, { mode });
    const input = await f.waitForSelector('.filter-input');
    const out = {};
    if (invalidQuery) {
      await input.fill('');
      await input.type(invalidQuery, { delay: 10 });
      await f.waitForSelector('.filter-problem:not([hidden]) .filter-message', { timeout: 10_000 });
      out.invalid = await f.evaluate(() => ({
        message: document.querySelector('.filter-message')?.textContent ?? '',
        marked: document.querySelector('.filter-mark .at')?.textContent ?? '',
      }));
    }
    await input.fill('');
    await input.type(query, { delay: 10 });
    await f.waitForFunction(() => document.querySelector('.filter-problem')?.hidden && /match/.test(document.querySelector('.filter-count')?.textContent ?? ''), null, { timeout: 10_000 });
    out.checkedCount = await f.$eval('.filter-count', (e) => e.textContent);
    await input.press('Enter');
    await f.waitForFunction((q) => window.__wirehook?.activeQuery === q && document.querySelectorAll('.row[data-id]:not(.loading)').length > 0, query, { timeout: 15_000 });
    out.total = await f.evaluate(() => window.__wirehook.total);
    const first = await f.waitForSelector('.row[data-id]:not(.loading)');
    out.firstRow = await first.evaluate((r) => ({ text: r.innerText, status: r.querySelector('.status')?.textContent, badge: r.querySelector('.badge')?.textContent, badgeBg: r.querySelector('.badge')?.style.backgroundColor }));
    await first.click();
    await f.waitForSelector('.detail:not([hidden]) .section[data-section="request"]', { timeout: 10_000 });
    // Keyboard: down moves the selection, Enter opens the next row's detail.
    const clicked = await f.evaluate(() => window.__wirehook.selected);
    await f.focus('.list-scroller');
    await f.press('.list-scroller', 'ArrowDown');
    await f.press('.list-scroller', 'Enter');
    await f.waitForFunction((i) => window.__wirehook.selected === i + 1 || window.__wirehook.total <= i + 1, clicked, { timeout: 5_000 });
    out.clickedIndex = clicked;
    const raw = await f.waitForSelector('.section[data-section="raw"] > summary', { timeout: 10_000 });
    await raw.click();
    await f.waitForSelector('.section[data-section="raw"][open] pre.raw');
    out.detail = await f.evaluate(() => ({
      title: document.querySelector('.detail-title')?.textContent ?? '',
      sections: [...document.querySelectorAll('.detail .section')].map((s) => s.dataset.section),
      rawStartsWith: (document.querySelector('pre.raw')?.textContent ?? '').slice(0, 1),
      endpoints: [...document.querySelectorAll('.section[data-section="overview"] .leaf')].filter((l) => ['src', 'dst'].includes(l.querySelector('.key')?.textContent ?? '')).map((l) => l.querySelector('.value')?.textContent ?? ''),
      body: document.querySelector('pre.body')?.textContent?.slice(0, 200) ?? null,
      selectedIndex: document.querySelector('.row.selected')?.dataset.index ?? null,
      cachedRows: window.__wirehook.cachedRows,
      domRows: window.__wirehook.domRows,
    }));
    return out;
  },

  /**
   * Clicks "+" on a field in the open detail (hovering its line shows it): the clause is applied
   * at once. Returns the filter text and the list it produced.
   */
  async plusField(page, { mode, path }) {
    const f = await itemsFrame(page, { mode });
    const plus = await f.waitForSelector(`.leaf .plus[data-path="${path}"]`, { state: 'attached' });
    const before = await f.evaluate(() => ({ query: window.__wirehook.activeQuery, total: window.__wirehook.total }));
    await plus.evaluate((b) => b.closest('.leaf').scrollIntoView({ block: 'center' }));
    const leaf = await plus.evaluateHandle((b) => b.closest('.leaf'));
    await leaf.asElement().hover();
    await plus.click();
    const query = await f.$eval('.filter-input', (e) => e.value);
    // Applied without Enter: the active query becomes the text, and the rows are its matches.
    await f.waitForFunction((q) => window.__wirehook.activeQuery === q && document.querySelectorAll('.row[data-id]:not(.loading)').length > 0, query, { timeout: 15_000 });
    const after = await f.evaluate(() => ({
      total: window.__wirehook.total,
      summaries: [...document.querySelectorAll('.row[data-id]:not(.loading) .summary')].slice(0, 50).map((e) => e.textContent),
    }));
    return { query, before, ...after };
  },

  /**
   * Answers the workbench's quick inputs as a person would: `steps` are, in order, the text to
   * type into each quick input that opens (a QuickPick's label, or the save dialog's path),
   * each followed by Enter. With `fromPanel`, the panel's Export button opens the first one.
   */
  async quickInputs(page, { steps, fromPanel }) {
    if (fromPanel) {
      const f = await itemsFrame(page, { mode: 'panel' });
      await f.click('.toolbar button[title^="Export the filtered items"]');
    }
    const seen = [];
    const widget = page.locator('.quick-input-widget');
    const titleNow = () => page.evaluate(() => {
      const w = document.querySelector('.quick-input-widget');
      return !w || w.style.display === 'none' ? null : w.querySelector('.quick-input-title')?.textContent ?? '';
    });
    let prev;
    for (const text of steps) {
      // The next quick input is open: visible, and not the one just answered.
      await page.waitForFunction((p) => {
        const w = document.querySelector('.quick-input-widget');
        return w && w.style.display !== 'none' && (w.querySelector('.quick-input-title')?.textContent ?? '') !== p;
      }, prev ?? null, { timeout: 20_000 });
      const title = await titleNow();
      prev = title;
      const box = widget.locator('.quick-input-box input');
      // The save dialog puts its default path into the box a moment after it opens: typing
      // before that is overwritten (and the file goes to the default place). Wait until the
      // box's value holds still for a few polls, then type, and check it before Enter.
      let last = null;
      for (let same = 0; same < 3; ) {
        await page.waitForTimeout(100); // polling the input's value: no event says the dialog is ready
        const v = await box.inputValue();
        same = v === last ? same + 1 : 0;
        last = v;
      }
      await box.fill(text);
      if ((await box.inputValue()) !== text) await box.fill(text);
      // A QuickPick filters its items as you type; the save dialog lists the typed folder.
      // Enter is pressed again if the input is still the same one after a while (the save
      // dialog may take an Enter that arrives while it is still listing the folder).
      let gone = false;
      for (let attempt = 0; attempt < 4 && !gone; attempt++) {
        await box.press('Enter');
        gone = await page.waitForFunction((t) => {
          const w = document.querySelector('.quick-input-widget');
          return !w || w.style.display === 'none' || (w.querySelector('.quick-input-title')?.textContent ?? '') !== t;
        }, title, { timeout: 5_000 }).then(() => true, () => false);
        if (!gone && (await box.inputValue().catch(() => text)) !== text) await box.fill(text);
      }
      if (!gone) throw new Error(`the quick input "${title}" stayed open after Enter with ${JSON.stringify(text)} (value now ${JSON.stringify(await box.inputValue().catch(() => '?'))}, message ${JSON.stringify(await widget.locator('.quick-input-message').textContent().catch(() => ''))})`);
      seen.push(title);
    }
    return seen;
  },

  /**
   * The panel's title bar actions (their labels); with `click`, clicks the one whose label
   * starts with it, then waits for one starting with `waitFor` to be shown.
   */
  async panelActions(page, { click, waitFor }) {
    const sel = '.part.panel .title-actions .action-item .action-label';
    await page.waitForSelector(sel, { timeout: 10_000 });
    if (waitFor && !click) await page.waitForSelector(`${sel}[aria-label^="${waitFor}"]`, { timeout: 10_000 });
    if (click) {
      await page.click(`${sel}[aria-label^="${click}"]`);
      if (waitFor) await page.waitForSelector(`${sel}[aria-label^="${waitFor}"]`, { timeout: 10_000 });
      await page.mouse.move(1, 1); // no hover tooltip in the next screenshot
    }
    return page.$$eval(sel, (els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  },

  /** The getting-started walkthrough page: its title and step titles as shown. */
  async walkthrough(page, { title }) {
    await page.getByText(title, { exact: true }).first().waitFor({ timeout: 20_000 });
    return page.$$eval('.gettingStartedContainer .step-title', (els) => els.map((e) => e.textContent.trim()).filter(Boolean));
  },

  /** Rows coloured by test.pass/fail: re-applies the filter, waits for both kinds, returns their statuses. */
  async rowMarks(page, { mode }) {
    const f = await itemsFrame(page, { mode });
    // onItemQueried runs when a query is applied (and on new matches): re-apply the filter.
    await f.press('.filter-input', 'Enter');
    // Marks arrive as live previews after the script ran on the matches: wait until every
    // shown 2xx row is green and 5xx row red (and both are there).
    await f.waitForFunction(() => {
      const rows = [...document.querySelectorAll('.row[data-id]')];
      const st = (r) => r.querySelector('.status')?.textContent ?? '';
      return rows.some((r) => r.classList.contains('passed')) && rows.some((r) => r.classList.contains('failed'))
        && rows.every((r) => (/^2\d\d/.test(st(r)) ? r.classList.contains('passed') : /^5\d\d/.test(st(r)) ? r.classList.contains('failed') : true));
    }, null, { timeout: 20_000 });
    return f.evaluate(() => {
      const of = (sel) => [...document.querySelectorAll(sel)].map((r) => ({ status: r.querySelector('.status')?.textContent ?? '', border: getComputedStyle(r).borderLeftColor }));
      return { passed: of('.row.passed[data-id]'), failed: of('.row.failed[data-id]'), plain: of('.row[data-id]:not(.passed):not(.failed)') };
    });
  },

  /** In the panel: clicks the first row, then (if given) the detail's button titled `button`. */
  async detailButton(page, { button }) {
    const f = await itemsFrame(page, { mode: 'panel' });
    const row = await f.waitForSelector('.row[data-id]:not(.loading)', { timeout: 15_000 });
    await row.click();
    await f.waitForSelector('.detail:not([hidden]) .section[data-section="request"]', { timeout: 10_000 });
    const id = await f.evaluate(() => document.querySelector('.row.selected')?.dataset.id ?? '');
    if (button) await f.click(`.detail-actions button[title="${button}"]`);
    return { id };
  },

  /**
   * The floor for the speed figures: the same scrolling, in the same webview, of a static
   * element as tall as 100k rows (a gradient, no rows, no script). Frames slower than this
   * are the browser's and the workbench's, not the list's.
   */
  async measureFloor(page, { mode, ms = 3000 }) {
    const f = await itemsFrame(page, { mode });
    await f.evaluate((dur) => {
      const host = document.querySelector('.list-scroller');
      const r = host.getBoundingClientRect();
      const sc = document.createElement('div');
      sc.className = 'wirehook-floor';
      sc.style.cssText = `position:fixed;left:${r.left}px;top:${r.top}px;width:${r.width}px;height:${r.height}px;overflow:auto;contain:strict;z-index:10;background:var(--vscode-panel-background)`;
      const tall = document.createElement('div');
      tall.style.cssText = 'height:2200000px;background:repeating-linear-gradient(transparent 0 21px, var(--vscode-panel-border, #888) 21px 22px)';
      sc.append(tall);
      document.body.append(sc);
    }, ms);
    const r = await traced(page, () => f.evaluate(scrollInPage, { selector: '.wirehook-floor', ms, wrap: false }));
    await f.evaluate(() => document.querySelector('.wirehook-floor')?.remove());
    return r;
  },

  /**
   * Speed figures (docs/extension.md): scrolls the list for `ms`, traced (main-thread CPU per
   * frame) and timed (rAF intervals, Long Animation Frames); then applies `query` and times
   * until the visible rows re-render, and until the count is known.
   */
  async measure(page, { mode, ms = 3000, query }) {
    const f = await itemsFrame(page, { mode });
    const frames = await traced(page, () => f.evaluate(scrollInPage, { selector: '.list-scroller', ms }));
    Object.assign(frames, await f.evaluate(() => {
      const shown = [...document.querySelectorAll('.row')].filter((r) => r.style.display !== 'none');
      return {
        render: window.__wirehook.renderStats(),
        cachedRows: window.__wirehook.cachedRows,
        total: window.__wirehook.total,
        // Rows still waiting for their preview when the scroll ended (a slow host shows "…").
        loadingAtEnd: `${shown.filter((r) => r.classList.contains('loading')).length}/${shown.length}`,
        counting: window.__wirehook.counting,
        lastMessages: window.__wirehook.trail.slice(-6),
      };
    }));
    const filter = query === undefined ? null : await timeFilter(f, query, true);
    return { ...frames, filter };
  },

  /**
   * `times` × (apply `query`, then clear it): Enter → rows of each, not waiting for counts. Each
   * time the query's text differs by trailing spaces, so the server compiles and scans it anew
   * (the same text would be answered from its compile cache and the store's hit cache).
   */
  async filterRepeat(page, { mode, query, times = 5 }) {
    const f = await itemsFrame(page, { mode });
    const out = [];
    for (let i = 0; i < times; i++) {
      for (const q of [query + ' '.repeat(i + 1), '']) {
        const r = await timeFilter(f, q, false);
        out.push({ query: q, answeredMs: r.answeredMs, renderedMs: r.renderedMs, enterAt: r.enterAt });
        await new Promise((res) => setTimeout(res, 300));
      }
    }
    return out;
  },
};

/**
 * Types `query` into the filter box and presses Enter; timed in the page, from Enter: the answer
 * (active query), every shown row one of the new query's (with a filter, rows of the previous
 * query still on screen do not count), and (with `count`) the count known (no longer `counting`).
 */
async function timeFilter(f, query, count) {
  const input = await f.waitForSelector('.filter-input');
  await input.fill(query);
  return f.evaluate(
    async ({ q, count }) => {
      const t0 = performance.now();
      const ms = () => Math.round(performance.now() - t0);
      const w = window.__wirehook;
      const out = { answeredMs: null, renderedMs: null, countedMs: null };
      document.querySelector('.filter-input').dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
      await new Promise((done) => {
        const check = () => {
          if (out.answeredMs === null && w.activeQuery === q) out.answeredMs = ms();
          if (out.answeredMs !== null && out.renderedMs === null) {
            const rows = [...document.querySelectorAll('.row')].filter((r) => r.style.display !== 'none');
            if (rows.length > 0 && rows.every((r) => r.dataset.id && !r.classList.contains('loading') && (!q || r.querySelector('.status')?.classList.contains('error')))) out.renderedMs = ms();
          }
          if (out.answeredMs !== null && out.countedMs === null && !w.counting) out.countedMs = ms();
          if ((out.renderedMs !== null && (out.countedMs !== null || !count)) || performance.now() - t0 > 90_000) done();
          else later();
        };
        // Checked once the frame's animation callbacks have all run (the list renders in one
        // of them): a check that ran before the list's callback counted the frame that drew
        // the rows as one later (~16 ms).
        const later = () => requestAnimationFrame(() => setTimeout(check, 0));
        later();
      });
      // What the webview received meanwhile (the host's messages), when rendering waited.
      const trail = out.renderedMs - out.answeredMs > 50 ? w.trail.filter((l) => Number(l.split(' ')[0]) >= t0).map((l) => `${Math.round(Number(l.split(' ')[0]) - t0)}${l.slice(l.indexOf(' '))}`) : undefined;
      return { ...out, renderStats: w.renderStats(), trail, enterAt: Math.round(performance.timeOrigin + t0) };
    },
    { q: query, count },
  );
}

export async function runScenario(page, name, args) {
  const s = scenarios[name];
  if (!s) throw new Error(`unknown UI scenario ${name}`);
  return s(page, args);
}
