// Every feature on every prefix of the shipped example scripts (as while typing them): nothing
// throws. The internal modules are called directly, without index.ts's catch-all, so a bug fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { completions } from '../../server/lsp/features/complete';
import { hover } from '../../server/lsp/features/hover';
import { signatureHelp } from '../../server/lsp/features/signature';
import { diagnostics } from '../../server/lsp/features/diagnostics';
import { codeLenses } from '../../server/lsp/features/lenses';
import { ctxOf } from './util';

test('no feature throws on any prefix of the example scripts, with the cursor anywhere', () => {
  const ctx = ctxOf();
  let calls = 0;
  for (const f of readdirSync('examples/hooks')) {
    const full = readFileSync(`examples/hooks/${f}`, 'utf8');
    for (let cut = 0; cut <= full.length; cut += 7) {
      const text = full.slice(0, cut);
      for (const off of [cut, Math.floor(cut / 2)]) {
        completions(text, off, ctx);
        hover(text, off, ctx);
        signatureHelp(text, off, ctx);
        calls += 3;
      }
      if (cut % 49 === 0) {
        diagnostics(text, ctx);
        codeLenses(text, []);
      }
    }
  }
  assert.ok(calls > 1000);
});

test('odd inputs: empty, only brackets, stray closers, unterminated template and regex', () => {
  const ctx = ctxOf();
  for (const text of ['', '}', ')))', '(((', '`${', '/[', 'a./', '"\\', "'", 'function', 'function onItemCaptured(', 'function onItemCaptured(data) { data[', 'var = data.', '.', '?.', 'x?.5:1']) {
    for (let off = 0; off <= text.length; off++) {
      completions(text, off, ctx);
      hover(text, off, ctx);
      signatureHelp(text, off, ctx);
    }
    diagnostics(text, ctx);
  }
});
