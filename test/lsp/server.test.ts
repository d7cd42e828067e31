/**
 * The real language server over stdio, driven as an editor would: a hook script is opened,
 * completed, hovered; a capture of real loopback traffic plays and its console lines arrive
 * with the right line numbers; saves reload (and replay the finished recording), a broken save
 * leaves the old version running with a diagnostic at the right line; queries, HAR export and a
 * live capture on lo.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { CompletionItem, CompletionList, Hover } from 'vscode-languageserver-protocol';
import {
  ExportItems,
  GetItem,
  QueryItems,
  SetQuery,
  StartCapture,
  StopCapture,
  type ConsoleLine,
} from '../../server/protocol';
import { OUT_DIR, scenarioCapture, type ScenarioCapture } from '../helpers/capture';
import { startServer, uriOf, type LspClient } from './client';
import { FIRST_ANSWER, FIRST_PAGE } from '../../server/lsp/items';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const harValidator = require('har-validator') as { har(d: unknown): Promise<unknown> };

const V1 = `// Status codes
function onItemCaptured(data) {
  if (data.protocol.name === "http") {
    console.log("v1 " + data.request.method + " " + data.request.path + " " + data.response.status);
  }
}
`;
const V2 = `// Status codes, second version
var seen = 0;
function onItemCaptured(data) {
  seen++;
  if (data.protocol.name === "http") console.log("v2 #" + seen + " " + data.request.path);
}
`;
const BROKEN = `// Status codes, broken
function onItemCaptured(data) {
  console.log("v3" + data.request.path;
}
`;

let ws: string;
let cap: ScenarioCapture;
let c: LspClient;
let script: string;
let uri: string;

before(async () => {
  cap = await scenarioCapture();
  ws = fs.mkdtempSync(path.join(OUT_DIR, 'lsp-ws-'));
  script = path.join(ws, 'status.js');
  fs.writeFileSync(script, V1);
  uri = uriOf(script);
  c = await startServer(ws);
});

after(async () => {
  await c?.close();
});

const linesOf = (prefix: string, from = 0): ConsoleLine[] => c.console.slice(from).filter((l) => l.text.startsWith(prefix));
const labels = (r: CompletionItem[] | CompletionList | null): string[] => (Array.isArray(r) ? r : (r?.items ?? [])).map((i) => i.label);
const httpCount = () => cap.http.length;

test('opens a hook script and offers typed completions, narrowed in a DNS branch', async () => {
  c.open(uri, V1);
  const probe = `function onItemCaptured(data) {\n  data.request.\n  if (data.protocol.name === "dns") {\n    data.request.\n  }\n}\n`;
  const probeUri = uriOf(path.join(ws, 'probe.js'));
  c.open(probeUri, probe);
  const all = await c.conn.sendRequest<CompletionItem[] | CompletionList>('textDocument/completion', { textDocument: { uri: probeUri }, position: { line: 1, character: 15 } });
  const a = labels(all);
  assert.ok(a.includes('method') && a.includes('questions'), `union of HTTP and DNS requests: ${a.join(',')}`);
  const dns = await c.conn.sendRequest<CompletionItem[] | CompletionList>('textDocument/completion', { textDocument: { uri: probeUri }, position: { line: 3, character: 17 } });
  const d = labels(dns);
  assert.ok(d.includes('questions') && !d.includes('method'), `narrowed to DNS: ${d.join(',')}`);

  const at = V1.split('\n')[3].indexOf('data.request.path') + 'data.request.'.length + 1;
  const hover = await c.conn.sendRequest<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: at } });
  const text = JSON.stringify(hover?.contents ?? '');
  assert.match(text, /path/, 'hover on data.request.path names the field');
  assert.match(text, /string/, 'and its type');
});

test('a capture of real traffic prints console lines at the right line, and item batches', async () => {
  const r = await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  assert.ok(r.session >= 1);
  await c.until('v1 lines for every HTTP exchange', () => linesOf('v1 ').length >= httpCount());
  for (const l of linesOf('v1 ')) {
    assert.equal(l.uri, uri);
    assert.equal(l.line, 4, 'console.log is on line 4');
    assert.equal(l.col, 5);
    assert.equal(l.replay, false);
  }
  assert.ok(linesOf('v1 GET /api/users 200').length >= 1);
  await c.until('the capture to finish', () => c.states.some((s) => s.session === r.session && s.finished));
  await c.until('item previews', () => c.items.some((b) => b.previews.length > 0));
  const previews = c.items.flatMap((b) => b.previews);
  const p = previews.find((x) => x.summary.includes('/api/users'));
  assert.ok(p, 'a preview for /api/users');
  assert.equal(p.protocol.abbr, 'HTTP');
  const full = await c.conn.sendRequest(GetItem, { id: p.id });
  assert.equal((full.item as { id: string }).id, p.id);
});

test('saving a new version replays the finished recording through it', async () => {
  const from = c.console.length;
  c.save(uri, V2);
  await c.until('v2 replayed lines', () => linesOf('v2 ', from).length >= httpCount());
  const v2 = linesOf('v2 ', from);
  assert.ok(v2.every((l) => l.replay && l.line === 5), 'replayed, from line 5');
  // Nothing survives a reload, and the replay starts from the first stored item.
  assert.match(v2[0].text, /^v2 #\d+ \//);
  assert.equal(linesOf('v1 ', from).length, 0, 'the old version no longer runs');
});

test('a broken save shows the error at its line, and the old version keeps running', async () => {
  c.save(uri, BROKEN);
  await c.until('a load-error diagnostic', () => (c.diagnostics.get(uri) ?? []).some((d) => d.code === 'load-error'));
  const diag = c.diagnostics.get(uri)!.find((d) => d.code === 'load-error')!;
  assert.equal(diag.range.start.line, 2, 'on line 3 (0-based 2)');
  const from = c.console.length;
  await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  await c.until('v2 still printing', () => linesOf('v2 ', from).length >= httpCount());
  assert.ok(linesOf('v2 ', from).every((l) => !l.replay));
  c.save(uri, V2);
  await c.until('the load error to go', () => !(c.diagnostics.get(uri) ?? []).some((d) => d.code === 'load-error'));
});

test('an invalid query reports its position; a valid one selects items', async () => {
  const bad = await c.conn.sendRequest(SetQuery, { query: 'http and (' });
  assert.equal(bad.ok, false);
  assert.ok(bad.error && bad.error.line === 1 && bad.error.col >= 9, JSON.stringify(bad));
  const good = await c.conn.sendRequest(SetQuery, { query: 'http && status_code >= 400' });
  assert.equal(good.ok, true);
  assert.equal(good.language, 'kfl2');
  const expect = cap.http.filter((h) => h.status >= 400).length;
  assert.ok(expect > 0);
  assert.equal(good.matched, expect);
  const q = await c.conn.sendRequest(QueryItems, { offset: 0, limit: 100 });
  assert.equal(q.total, expect);
  assert.ok(q.items.every((i) => i.statusError));
  await c.conn.sendRequest(SetQuery, { query: '' });
});

test('HAR export passes a HAR validator', async () => {
  const file = path.join(ws, 'out.har');
  const r = await c.conn.sendRequest(ExportItems, { query: 'http', format: 'har', path: file });
  assert.equal(r.items, httpCount());
  const har = JSON.parse(fs.readFileSync(file, 'utf8'));
  await harValidator.har(har); // rejects with the schema errors when invalid
  assert.equal(har.log.entries.length, httpCount());
});

test('a live capture on lo sees traffic the test makes', async () => {
  const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const from = c.console.length;
    const r = await c.conn.sendRequest(StartCapture, { source: { interface: 'lo', filter: `tcp port ${port}` } });
    assert.equal(r.source, 'local/lo');
    for (let i = 0; i < 3; i++) await fetch(`http://127.0.0.1:${port}/live/${i}`).then((x) => x.text());
    await c.until('live lines', () => linesOf('v2 ', from).filter((l) => l.text.includes('/live/')).length === 3);
    const st = await c.conn.sendRequest(StopCapture);
    assert.equal(st.running, false);
  } finally {
    server.close();
  }
});

test('runtime errors are diagnostics at the line that threw, counted, gone when the hook runs clean; CodeLens counts calls', async () => {
  const file = path.join(ws, 'thrower.js');
  const u = uriOf(file);
  const throwing = `function onItemCaptured(data) {\n  if (data.protocol.name === "http") {\n    data.nothing.here = 1;\n  }\n}\n`;
  fs.writeFileSync(file, throwing);
  c.open(u, throwing);
  await c.conn.sendRequest(StartCapture, { source: { command: ['cat', cap.file] } });
  await c.until('a counted runtime-error diagnostic', () => {
    const d = (c.diagnostics.get(u) ?? []).find((x) => x.code === 'runtime-error');
    return !!d && new RegExp(`×${httpCount()}\\)`).test(String(d.message));
  });
  const d = c.diagnostics.get(u)!.find((x) => x.code === 'runtime-error')!;
  assert.equal(d.range.start.line, 2, 'at the line that threw');
  await c.until('CodeLens figures', () => (c.stats.at(-1)?.hooks ?? []).some((h) => h.uri === u && h.calls > 0));
  const lenses = await c.conn.sendRequest<{ command?: { title: string } }[]>('textDocument/codeLens', { textDocument: { uri: u } });
  assert.ok(lenses.some((l) => /call/.test(l.command?.title ?? '') && /error/.test(l.command?.title ?? '')), JSON.stringify(lenses));
  // A version that does not throw: once its hook runs clean the diagnostic goes.
  c.save(u, `function onItemCaptured(data) {\n  var p = data.protocol.name;\n}\n`);
  await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  await c.until('the runtime error to go', () => !(c.diagnostics.get(u) ?? []).some((x) => x.code === 'runtime-error'));
  c.conn.sendNotification('textDocument/didClose', { textDocument: { uri: u } });
});

test('onItemQueried marks what the query selects; its marks reach previews and items', async () => {
  const file = path.join(ws, 'queried.js');
  const u = uriOf(file);
  const text = `function onItemQueried(data) {\n  if (data.response.status >= 500) test.fail(data); else test.pass(data);\n}\n`;
  fs.writeFileSync(file, text);
  c.open(u, text);
  await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  await c.until('the capture to finish', () => c.states.at(-1)?.finished === true);
  const from = c.items.length;
  const r = await c.conn.sendRequest(SetQuery, { query: 'http' });
  assert.equal(r.matched, httpCount());
  const fails = cap.http.filter((h) => h.status >= 500).length;
  assert.ok(fails > 0);
  await c.until('failed marks in previews', () => c.items.slice(from).flatMap((b) => b.previews).filter((p) => p.failed).length >= fails);
  const q = await c.conn.sendRequest(QueryItems, { offset: 0, limit: 1000 });
  assert.equal(q.items.filter((p) => p.failed).length, fails);
  assert.equal(q.items.filter((p) => p.passed).length, httpCount() - fails);
  const full = await c.conn.sendRequest(GetItem, { id: q.items.find((p) => p.failed)!.id });
  assert.equal((full.item as { failed: boolean }).failed, true);
  await c.conn.sendRequest(SetQuery, { query: '' });
  c.conn.sendNotification('textDocument/didClose', { textDocument: { uri: u } });
});

test('a new query over a store larger than a page answers with the newest page first; the count follows', async () => {
  // Copies of the recording, one after the other: many more stored items than a page (200).
  const copies = Math.ceil(700 / httpCount());
  const r = await c.conn.sendRequest(StartCapture, { source: { command: [process.execPath, 'test/e2e/pcap-feed.mjs', cap.file, String(copies), '0', '0'] } });
  await c.until('the copies to be stored', () => c.states.some((s) => s.session === r.session && !s.running));
  const all = await c.conn.sendRequest(QueryItems, { query: 'http', offset: 0, limit: 5000 });
  assert.ok(all.total >= 700, `${all.total} http items stored`);
  // The items throttle is idle by now (250 ms since its last batch): the reset and its page
  // must still come as one batch, not a bare reset on the throttle's leading edge.
  await new Promise((r) => setTimeout(r, 300));
  const from = c.items.length;
  const q = await c.conn.sendRequest(SetQuery, { query: 'http' });
  assert.equal(q.ok, true);
  assert.equal(q.partial, true, 'answered before every item was tested');
  // It answers with the newest screenful (FIRST_ANSWER); the rest of the page (FIRST_PAGE)
  // follows as older rows before the count.
  assert.equal(q.matched, FIRST_ANSWER);
  await c.until('the total', () => c.items.slice(from).some((b) => !b.counting && b.matched === all.total));
  const batches = c.items.slice(from);
  const at = batches.findIndex((b) => b.reset);
  const first = batches[at];
  assert.equal(first.counting, true);
  // The answer's rows: the newest matches, oldest first, as the previews of a reset always come.
  const shown = first.previews.map((p) => p.id);
  assert.deepEqual(shown, all.items.slice(-FIRST_ANSWER).map((p) => p.id));
  const rest = batches.slice(at + 1).flatMap((b) => b.older ?? []).map((p) => p.id);
  assert.deepEqual([...rest, ...shown], all.items.slice(-FIRST_PAGE).map((p) => p.id), 'then the rest of the page, older');
  assert.ok(batches.slice(at + 1).every((b) => !b.reset));
  const after = await c.conn.sendRequest(QueryItems, { offset: all.total - 3, limit: 10 });
  assert.deepEqual(after.items.map((p) => p.id), all.items.slice(-3).map((p) => p.id));
  await c.conn.sendRequest(SetQuery, { query: '' });
});

test('item ids never repeat across captures of the same file', async () => {
  const ids = async () => (await c.conn.sendRequest(QueryItems, { query: '', offset: 0, limit: 1000 })).items.map((p) => p.id);
  await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  await c.until('finished', () => c.states.at(-1)?.finished === true);
  const a = await ids();
  await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  await c.until('finished again', () => c.states.at(-1)?.finished === true && c.states.at(-1)!.session > 0);
  const b = await ids();
  assert.ok(a.length > 0 && b.length === a.length);
  assert.equal(a.filter((id) => b.includes(id)).length, 0);
});

test('bad sources get clear errors and the server keeps working', async () => {
  await assert.rejects(c.conn.sendRequest(StartCapture, { source: { pcap: path.join(ws, 'nope.pcap') } }), /no such capture file/);
  await assert.rejects(c.conn.sendRequest(StartCapture, { source: { pcap: '-' } }), /stdin/);
  // A command fails after it started: the state says how.
  const f = await c.conn.sendRequest(StartCapture, { source: { command: ['false'] } });
  await c.until('the failed command in the state', () => c.states.some((s) => s.session === f.session && !s.running && /exit|status|code/i.test(s.error ?? '')));
  await assert.rejects(c.conn.sendRequest(StartCapture, { source: { interface: 'no-such-if0' } }), /no-such-if0/);
  const r = await c.conn.sendRequest(StartCapture, { source: { pcap: cap.file } });
  await c.until('a capture after the failures', () => c.states.some((s) => s.session === r.session && s.finished));
});
