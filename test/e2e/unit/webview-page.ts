/**
 * The items webview as built (dist/webview.js + css) in Debian's headless Chromium, with the
 * extension side played from Node: every message the webview sends reaches `onHost`, and
 * `post` (also passed to `onHost`: the webview says `ready` before openWebview returns) delivers a message to it as the extension host would (window `message` events).
 * Used by the webview tests and bench/webview.bench.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.WIREHOOK_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = (): boolean => existsSync(CHROMIUM) && existsSync('dist/webview.js');

export interface WebviewPage {
  browser: Browser;
  page: Page;
  post(m: unknown): Promise<void>;
  close(): Promise<void>;
}

const THEME = '--vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace; --vscode-foreground:#ccc; --vscode-panel-background:#1e1e1e; --vscode-testing-iconPassed:#73c991; --vscode-testing-iconFailed:#f14c4c';

export async function openWebview(onHost: (m: any, post: (m: unknown) => Promise<void>) => void, opts: { height?: number; dist?: string; tracing?: boolean } = {}): Promise<WebviewPage> {
  const dist = opts.dist ?? process.env.WEBVIEW_DIST ?? 'dist';
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage', '--enable-precise-memory-info'],
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: opts.height ?? 420 } });
  await page.route('http://webview.invalid/**', (r) => {
    const f = new URL(r.request().url()).pathname.slice(1);
    if (f === 'index.html') {
      return r.fulfill({ contentType: 'text/html', body: `<!DOCTYPE html><html><head><link rel="stylesheet" href="codicon.css"><link rel="stylesheet" href="webview.css"></head><body class="mode-panel" style="${THEME}"><div id="app"></div><script src="webview.js"></script></body></html>` });
    }
    return r.fulfill({ body: readFileSync(`${dist}/${f}`), contentType: f.endsWith('.css') ? 'text/css' : f.endsWith('.js') ? 'text/javascript' : 'font/ttf' });
  });
  // As a JSON string: playwright's own argument serialisation costs the page ~14 ms of main
  // thread for a 250-preview batch (seen in a trace), which the real host's postMessage does not.
  const post = (m: unknown) => page.evaluate((json) => window.postMessage(JSON.parse(json), '*'), JSON.stringify(m)).catch(() => undefined);
  await page.exposeFunction('__hostReceive', (m: any) => onHost(m, post));
  // tsx compiles with esbuild's keepNames: functions sent to the page call __name.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.addInitScript(() => {
    (window as any).acquireVsCodeApi = () => ({ postMessage: (m: unknown) => (window as any).__hostReceive(m), getState: () => undefined, setState: () => undefined });
  });
  page.on('pageerror', (e) => console.error('[page]', e.message));
  await page.goto('http://webview.invalid/index.html');
  return { browser, page, post, close: () => browser.close() };
}
