// Diagnostics: the syntax error, each lint with its stable code, and each quick fix applied to
// the text giving the expected text.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import { codeActions, diagnostics, type FeatureContext } from '../../server/lsp/features/index';
import { observeDemo, type TestObserved } from './observed';
import { applyEdits, ctxOf } from './util';

let observed: TestObserved;
before(async () => {
  ({ observed } = await observeDemo());
});

const URI = 'file:///w/hook.js';
const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);
const slice = (text: string, d: Diagnostic) => {
  const lines = text.split('\n');
  assert.equal(d.range.start.line, d.range.end.line);
  return lines[d.range.start.line].slice(d.range.start.character, d.range.end.character);
};

/** The one diagnostic with `code`, and the text after applying its first quick fix. */
function fixOne(text: string, code: string, ctx: FeatureContext = ctxOf()): { d: Diagnostic; fixed: string; title: string } {
  const ds = diagnostics(text, ctx).filter((d) => d.code === code);
  assert.equal(ds.length, 1, `one ${code} in ${JSON.stringify(diagnostics(text, ctx))}`);
  const d = ds[0];
  assert.equal(d.source, 'wirehook');
  const actions = codeActions(text, URI, d.range, [d], ctx);
  assert.ok(actions.length >= 1, `a quick fix for ${code}`);
  assert.equal(actions[0].kind, 'quickfix');
  const edits = actions[0].edit!.changes![URI];
  return { d, fixed: applyEdits(text, edits), title: actions[0].title };
}

test('a clean ES5 script has no diagnostics (the shipped examples)', async () => {
  const fs = await import('node:fs');
  for (const f of fs.readdirSync('examples/hooks')) {
    const text = fs.readFileSync(`examples/hooks/${f}`, 'utf8');
    assert.deepEqual(diagnostics(text, ctxOf(observed)), [], f);
  }
});

test('syntax error while typing, at the parser position', () => {
  const text = 'function onItemCaptured(data) {\n  if (data.request.\n}\n';
  const ds = diagnostics(text, ctxOf());
  assert.deepEqual(codes(ds), ['syntax-error']);
  assert.equal(ds[0].severity, DiagnosticSeverity.Error);
  assert.equal(ds[0].range.start.line, 2);
  assert.match(String(ds[0].message), /Unexpected token/);
});

test('misspelled hook name → rename', () => {
  const { d, fixed } = fixOne('function onItemCapture(data) {\n  console.log(data.id);\n}\n', 'hook-name-typo');
  assert.match(String(d.message), /onItemCaptured/);
  assert.equal(fixed, 'function onItemCaptured(data) {\n  console.log(data.id);\n}\n');
  assert.equal(fixOne('function onpacketcaptured(i) {}', 'hook-name-typo').fixed, 'function onPacketCaptured(i) {}');
  // Far from every hook name, or an exact hook: quiet.
  assert.deepEqual(diagnostics('function onStartup() {}\nfunction onJobFailed(t, c, l, e) {}', ctxOf()), []);
});

test('Go-cased fields → lowerCamel (through aliases, before a method call)', () => {
  const text = 'function onItemCaptured(data) {\n  if (data.Protocol.Name === "http") console.log(data.request.path);\n}\n';
  const { d, fixed } = fixOne(text, 'go-cased-field');
  assert.equal(slice(text, d), 'Protocol.Name');
  assert.equal(fixed, text.replace('data.Protocol.Name', 'data.protocol.name'));
  const t2 = 'function onItemCaptured(data) {\n  var r = data.request;\n  if (r.Path.indexOf("/api") === 0) {}\n}\n';
  assert.equal(fixOne(t2, 'go-cased-field').fixed, t2.replace('r.Path', 'r.path'));
  assert.equal(fixOne('function onItemQueried(data) { return data.Src.IP; }', 'go-cased-field').fixed, 'function onItemQueried(data) { return data.src.ip; }');
  // Not an item: quiet.
  assert.deepEqual(diagnostics('var o = { A: 1 };\nfunction onItemCaptured(data) { o.A; }', ctxOf()), []);
});

test('legacy vendor.s3.put argument order → reordered', () => {
  const text = 'vendor.s3.put("us-east-1", env.KEY, env.SECRET, "my-bucket", path);\n';
  const { fixed } = fixOne(text, 's3-legacy-order');
  assert.equal(fixed, 'vendor.s3.put("my-bucket", path, "us-east-1", env.KEY, env.SECRET);\n');
  assert.equal(fixOne('vendor.s3.put(env.AWS_REGION, k, s, env.S3_BUCKET, f)', 's3-legacy-order').fixed, 'vendor.s3.put(env.S3_BUCKET, f, env.AWS_REGION, k, s)');
  assert.deepEqual(diagnostics('vendor.s3.put("b", "f", "us-east-1", k, s);', ctxOf()), []);
});

test('invalid KFL in kfl.match("…"): error positioned inside the literal, with the slip fix', () => {
  const text = 'function onItemCaptured(data) {\n  if (kfl.match("http and response.status === 500", data)) {}\n}\n';
  const { d, fixed } = fixOne(text, 'kfl-syntax');
  assert.equal(d.severity, DiagnosticSeverity.Error);
  assert.equal(slice(text, d), '=');
  assert.equal(text.split('\n')[1].indexOf('==='), d.range.start.character - 2, 'the third "=" is where the parser fails');
  assert.equal(fixed, text.replace('===', '=='));
  // Escapes before the error shift the position in the literal, not in the query.
  const t2 = 'kfl.validate("request.headers[\\"X\\"] == \\"a\\" and ?");';
  const d2 = diagnostics(t2, ctxOf()).find((x) => x.code === 'kfl-syntax')!;
  assert.equal(slice(t2, d2), '?');
});

test('KFL quirk warnings from server/kfl, with their rewrites in the literal', () => {
  const text = "kfl.match('http and request.path == r\"/api*\"', data);";
  const { d, fixed } = fixOne(text, 'kfl-lint');
  assert.match(String(d.message), /not a glob/);
  assert.equal(fixed, "kfl.match('http and request.path == r\"^/api\"', data);");
  const t2 = 'kfl.match("response.status == 500 or dns", data);';
  const r = fixOne(t2, 'kfl-lint');
  assert.match(String(r.d.message), /missing/);
  assert.equal(r.fixed, 'kfl.match("(response.status == 500) or dns", data);');
});

test('a KFL field no stored item has (once traffic was seen) → nearest field that exists', () => {
  const text = 'function onItemCaptured(data) {\n  if (kfl.match("http and request.pth == \\"/api\\"", data)) {}\n}\n';
  assert.ok(!codes(diagnostics(text, ctxOf())).includes('kfl-unknown-field'), 'quiet before any item');
  const { d, fixed } = fixOne(text, 'kfl-unknown-field', ctxOf(observed));
  assert.equal(slice(text, d), 'request.pth');
  assert.equal(fixed, text.replace('request.pth', 'request.path'));
  assert.ok(!codes(diagnostics('kfl.match("dns and request.questions[0].name == \\"x\\"", d)', ctxOf(observed))).includes('kfl-unknown-field'));
});

test('console.log inside onPacketCaptured (not elsewhere)', () => {
  const text = 'function onPacketCaptured(info) {\n  console.log(info.length);\n}\nfunction onItemCaptured(data) { console.log(data.id); }\n';
  const ds = diagnostics(text, ctxOf()).filter((d) => d.code === 'console-in-packet-hook');
  assert.equal(ds.length, 1);
  assert.equal(slice(text, ds[0]), 'console.log');
  assert.equal(ds[0].range.start.line, 1);
});

test('ES5 warnings: one per construct, precise ranges, let/const → var, off with es5Warning=false', () => {
  const text = [
    'const seen = {};',
    'function onItemCaptured(data, q = 1) {',
    '  let { request } = data;',
    '  const f = (x) => x + 1;',
    '  var s = `${data.id}`;',
    '  for (const k of Object.keys(seen)) f(...[k]);',
    '  class A {}',
    '}',
  ].join('\n');
  const ds = diagnostics(text, ctxOf()).filter((d) => d.code === 'es5-syntax');
  const got = ds.map((d) => `${d.range.start.line}:${slice(text, d)}`);
  assert.deepEqual(got, [
    '0:const', '1:q = 1', '2:let', '2:{ request }', '3:const', '3:(x) =>', '4:`${data.id}`',
    '5:for (const k of ', '5:const', '5:...[k]', '6:class A ',
  ]);
  assert.ok(ds.every((d) => d.severity === DiagnosticSeverity.Warning));
  assert.deepEqual(diagnostics(text, ctxOf(undefined, { es5Warning: false })).filter((d) => d.code === 'es5-syntax'), []);
  const { fixed } = fixOne('let n = 0;\n', 'es5-syntax');
  assert.equal(fixed, 'var n = 0;\n');
});

test('quick fixes only for the diagnostics asked about, on the current text', () => {
  const text = 'function onItemCapture(data) {}\n';
  const d = diagnostics(text, ctxOf())[0];
  assert.deepEqual(codeActions(text, URI, d.range, [], ctxOf()), []);
  assert.deepEqual(codeActions('function onItemCaptured(data) {}\n', URI, d.range, [d], ctxOf()), [], 'stale diagnostic: no fix');
});
