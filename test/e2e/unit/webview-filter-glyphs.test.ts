/**
 * The filter box draws every glyph of a query: with `line-height: normal` Chromium clipped
 * what hangs below the font's descent, so an underscore vanished and `status_code` read
 * "status code" in the workbench screenshots (code-server's editor font, 14px). The box is
 * filled with underscores only, photographed, and its bright pixels counted in the page.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { hasChromium, openWebview } from './webview-page';

test('the filter box shows underscores (nothing hangs below its clip) at the editor font sizes', { skip: !hasChromium() && 'no Chromium or dist/webview.js (npm run build; scripts/setup-e2e.sh)' }, async () => {
  const w = await openWebview(() => {});
  try {
    for (const size of ['12px', '13px', '14px', '16px']) {
      await w.page.evaluate((s) => document.body.style.setProperty('--vscode-editor-font-size', s), size);
      const lit = async (text: string) => {
        await w.page.fill('.filter-input', text);
        const png = (await w.page.locator('.filter-input').screenshot()).toString('base64');
        return w.page.evaluate(async (b64) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.width;
          c.height = img.height;
          const g = c.getContext('2d')!;
          g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 300) n++;
          return n;
        }, png);
      };
      const blank = await lit(' '); // not empty: the placeholder would show
      const underscores = await lit('_'.repeat(12));
      const letters = await lit('x'.repeat(12));
      assert.ok(letters > blank, `${size}: letters draw (${letters} bright pixels, ${blank} blank)`);
      assert.ok(underscores > blank + 12, `${size}: twelve underscores draw (${underscores} bright pixels against ${blank} blank)`);
    }
  } finally {
    await w.close();
  }
});
