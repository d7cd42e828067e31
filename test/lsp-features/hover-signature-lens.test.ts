// Hover (type, schema doc, values seen lately), signature help, hook detection and code lenses.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MarkupContent } from 'vscode-languageserver';
import { codeLenses, hookDeclarations, hover, isHookScript, signatureHelp } from '../../server/lsp/features/index';
import { observeDemo, type TestObserved } from './observed';
import { at, ctxOf } from './util';

let observed: TestObserved;
before(async () => {
  ({ observed } = await observeDemo());
});

const hoverText = (src: string) => {
  const [t, o] = at(src);
  const h = hover(t, o, ctxOf(observed));
  return h ? (h.contents as MarkupContent).value : null;
};

test('hover on a data.… path: type, one-line schema doc, the last values seen', () => {
  const v = hoverText('function onItemCaptured(data) {\n  if (data.response.sta|tus >= 500) {}\n}')!;
  assert.match(v, /\(field\) data\.response\.status: number/);
  assert.match(v, /http only/);
  assert.match(v, /Seen lately: `\d{3}`/);
  const recent = observed.recent('response.status', 5).map(String);
  assert.ok(recent.every((r) => v.includes(`\`${r}\``)), 'shows observed.recent(path)');
  const e = hoverText('function onItemCaptured(item) { var t = item.elapsed|Time; }')!;
  assert.match(e, /elapsedTime: number/);
  assert.match(e, /^Response time minus request time in \*\*milliseconds\*\*, rounded, ≥ 0 — the unit Kubeshark's dissectors compute and legacy KFL\/scripts expect\.$/m, 'first sentence of the JSDoc');
  assert.doesNotMatch(e, /KFL2/);
  // Through an alias and a string key.
  assert.match(hoverText('function onItemCaptured(d) { var h = d.request.headers; h["Ho|st"]; }')!, /data\.request\.headers\.Host[\s\S]*127\.0\.0\.1:8080/);
  assert.match(hoverText('function onItemCaptured(da|ta) {}')!, /\(parameter\) data: Item[\s\S]*every dissected item/);
  assert.equal(hoverText('var x = 1; x|;'), null);
});

test('hover on a field path inside a kfl.match("…") query', () => {
  const v = hoverText('if (kfl.match("dns and request.questions.na|me == \\"x\\"", data)) {}')!;
  assert.match(v, /\(field\) data\.request\.questions\.name: string/);
  assert.match(v, /Seen lately: `"[\w.-]+"`/);
  assert.match(hoverText('kfl.match("dns and request.questions[0].na|me == \\"x\\"", data)')!, /data\.request\.questions\.name: string/);
  assert.match(hoverText('kfl.match("http and respon|se.status == 500", data)')!, /data\.response: ItemResponse/);
  assert.equal(hoverText('kfl.match("dns and nothing.he|re", data)'), null);
});

test('hover on helpers and hook names', () => {
  assert.match(hoverText('kfl.mat|ch("dns", data)')!, /match\(query: string, data: object\): boolean[\s\S]*legacy KFL/);
  assert.match(hoverText('function onPacketCap|tured(info) {}')!, /Runs for every captured packet/);
});

test('signature help for helpers, with the active parameter', () => {
  const sh = (src: string) => {
    const [t, o] = at(src);
    return signatureHelp(t, o, ctxOf());
  };
  const s = sh('vendor.s3.put("bucket", |')!;
  assert.equal(s.signatures[0].label, 'vendor.s3.put(bucket: string, path: string, region: string, keyID?: string, secret?: string): string');
  assert.equal(s.activeParameter, 1);
  const [a, b] = s.signatures[0].parameters![1].label as [number, number];
  assert.equal(s.signatures[0].label.slice(a, b), 'path: string');
  assert.equal(sh('kfl.match(|')!.activeParameter, 0);
  assert.equal(sh('kfl.match("a, b", {x: [1, 2], y: 3}|')!.activeParameter, 1, 'commas inside strings and literals do not count');
  assert.equal(sh('console.log(1, 2, 3, |')!.activeParameter, 0, 'rest parameter');
  assert.equal(sh('jobs.schedule("t", "* * * * * *", function () { |')!, null, 'inside a function body: no signature');
  assert.equal(sh('setTimeout(f, |')!.signatures[0].label.startsWith('setTimeout(fn:'), true);
  assert.equal(sh('foo(|'), null);
});

test('hook scripts are the documents that declare a top-level hook', () => {
  assert.equal(isHookScript('function onItemCaptured(data) {}'), true);
  assert.equal(isHookScript('var onHubAction = function (a, o) {};'), true);
  assert.equal(isHookScript('function f() { function onItemCaptured(data) {} }'), false);
  assert.equal(isHookScript('// onItemCaptured\nvar x = "function onItemCaptured() {}";'), false);
  assert.deepEqual(hookDeclarations('// t\nfunction onItemCaptured(data) {}\n\n  function onJobFailed(t, c, l, e) {}'), [
    { hook: 'onItemCaptured', line: 2, col: 10 },
    { hook: 'onJobFailed', line: 4, col: 12 },
  ]);
});

test('code lenses: one per hook with calls, errors and µs per call; "not run yet" before stats', () => {
  const text = 'function onItemCaptured(data) {}\nfunction onPacketCaptured(info) {}\n';
  assert.deepEqual(codeLenses(text, []).map((l) => l.command!.title), ['not run yet', 'not run yet']);
  const lenses = codeLenses(text, [
    { uri: 'file:///x.js', hook: 'onItemCaptured', line: 1, calls: 1204, errors: 3, meanUs: 4.1 },
    { uri: 'file:///x.js', hook: 'onPacketCaptured', line: 2, calls: 1, errors: 0, meanUs: 212.4 },
  ]);
  assert.deepEqual(lenses.map((l) => l.command!.title), ['1,204 calls · 3 errors · 4.1 µs/call', '1 call · 0 errors · 212 µs/call']);
  assert.deepEqual(lenses.map((l) => l.range.start), [{ line: 0, character: 9 }, { line: 1, character: 9 }]);
});
