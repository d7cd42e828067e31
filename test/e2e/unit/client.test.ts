/**
 * The extension's pure parts, on real items (the pipeline over examples/captures/demo.pcap):
 * HAR (checked by har-validator) and cURL built client-side, the "+" filter clauses (compiled by
 * the real KFL facade and matched against the item they came from), the webview's row window,
 * body previews and command-line splitting.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureItems } from '../../session/items';
import { toCurl, toHar, fullUrl } from '../../../extension/items/formats';
import { addClause, clauseFor } from '../../../extension/webview/filterField';
import { RowWindow } from '../../../extension/webview/rows';
import { previewContent } from '../../../extension/webview/body';
import { splitArgs } from '../../../extension/argv';
import { compileQuery } from '../../../server/kfl/index';
import type { ItemPreview } from '../../../server/protocol';
// har-validator has no types; its promise API rejects with the schema errors.
const harValidator = require('har-validator') as { har(d: unknown): Promise<unknown> };

test('HAR from real HTTP items passes har-validator; DNS items are refused with a reason', async () => {
  const { items } = await captureItems();
  const http = items.filter((i) => i.protocol.name === 'http');
  assert.ok(http.length > 10);
  const har = toHar(http as any[]);
  await harValidator.har(har); // rejects on a schema error
  assert.equal(har.log.entries.length, http.length);
  const dns = items.find((i) => i.protocol.name === 'dns');
  assert.throws(() => toHar([dns as any]), /HAR needs an HTTP item; this one is DNS/);
});

test('cURL from a real POST item repeats it against a real server', async () => {
  const { items } = await captureItems();
  const post = items.find((i) => i.protocol.name === 'http' && (i.request as any).method === 'POST' && (i.request as any).postData?.text);
  assert.ok(post, 'demo.pcap has a POST with a body');
  let seen: { method?: string; url?: string; body: string; headers: Record<string, unknown> } = { body: '', headers: {} };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      seen = { method: req.method, url: req.url, body, headers: req.headers };
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    // Point the item at our server: the command is what is under test, not the address.
    const item = structuredClone(post) as any;
    for (const k of Object.keys(item.request.headers)) if (k.toLowerCase() === 'host') item.request.headers[k] = `127.0.0.1:${port}`;
    const cmd = toCurl(item);
    assert.match(cmd, /^curl -X 'POST' 'http:\/\/127\.0\.0\.1:\d+\//);
    await promisify(execFile)('bash', ['-c', `${cmd} -s -o /dev/null --max-time 10`]);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, item.request.url);
    assert.equal(seen.body, item.request.postData.text);
  } finally {
    server.close();
  }
});

test('fullUrl uses the Host header, else the destination', () => {
  assert.equal(fullUrl({ request: { url: '/a?b=1', headers: { Host: 'example.com:8080' } } }), 'http://example.com:8080/a?b=1');
  assert.equal(fullUrl({ request: { url: '/x', headers: {} }, dst: { ip: '10.0.0.1', port: '8081', name: '' } }), 'http://10.0.0.1:8081/x');
  assert.equal(fullUrl({ request: { url: 'http://h/p' } }), 'http://h/p');
});

test('"+" clauses compile in their language and match the item they came from', async () => {
  const { items } = await captureItems();
  const http = items.find((i) => i.protocol.name === 'http' && Object.keys((i.request as any).headers).length > 1)!;
  const dns = items.find((i) => i.protocol.name === 'dns')!;
  const fields: [any, (string | number)[]][] = [
    [http, ['request', 'method']], [http, ['request', 'path']], [http, ['response', 'status']], [http, ['src', 'ip']],
    [http, ['dst', 'port']], [http, ['protocol', 'abbr']], [http, ['elapsedTime']], [http, ['request', 'httpVersion']],
    [http, ['request', 'headers', Object.keys((http.request as any).headers)[0]]], [http, ['response', 'statusText']],
    [dns, ['request', 'questions', 0, 'name']], [dns, ['response', 'code']],
  ];
  for (const [item, path] of fields) {
    const value = path.reduce((o: any, k) => o[k], item);
    const c = clauseFor(path, value);
    const q = compileQuery(c.text, c.language);
    assert.ok(q.match(item), `${c.text} (${c.language}) matches its own item`);
  }
  assert.equal(clauseFor(['request', 'method'], 'GET').text, 'method == "GET"');
  assert.equal(clauseFor(['response', 'status'], 404).text, 'status_code == 404');
  assert.equal(clauseFor(['request', 'headers', 'Content-Type'], 'a').text, 'request.headers["content-type"] == "a"');
  assert.equal(clauseFor(['response', 'statusText'], 'OK').language, 'kfl');
});

test('addClause joins with the query language, parenthesising an or', () => {
  const kfl2 = { text: 'method == "GET"', language: 'kfl2' as const };
  assert.equal(addClause('', kfl2), 'method == "GET"');
  assert.equal(addClause('http', kfl2), 'http && method == "GET"');
  assert.equal(addClause('http || dns', kfl2), '(http || dns) && method == "GET"');
  assert.equal(addClause('http and response.status == 200', { text: 'x == 1', language: 'kfl' }), 'http and response.status == 200 and x == 1');
  assert.equal(addClause('"a and b" == path', kfl2), '"a and b" == path && method == "GET"');
});

const preview = (id: string): ItemPreview => ({
  id, protocol: { name: 'http', abbr: 'HTTP', backgroundColor: '#000', foregroundColor: '#fff' }, src: 'a', dst: 'b', summary: id,
  status: '200', statusError: false, timestamp: 0, elapsedMs: 0, size: 0, passed: false, failed: false,
});

test('row window: bounded, keeps the visible range, live batches replace by id and append the rest', () => {
  const w = new RowWindow(100);
  w.put(0, Array.from({ length: 300 }, (_, i) => preview(`r${i}`)));
  w.trim(150, 180);
  // Trimmed to 80 % of capacity, nearest the visible range kept.
  assert.equal(w.size, 80);
  w.trim(150, 180);
  assert.equal(w.size, 80, 'under capacity: nothing dropped');
  for (let i = 150; i < 180; i++) assert.equal(w.get(i)?.id, `r${i}`);
  assert.equal(w.get(0), undefined);
  assert.equal(w.firstMissing(150, 180), -1);
  assert.ok(w.firstMissing(100, 200) >= 100);
  const marked = { ...preview('r160'), passed: true };
  w.live([marked, preview('n1'), preview('n2')], 302);
  assert.equal(w.get(160)?.passed, true);
  assert.equal(w.get(300)?.id, 'n1');
  assert.equal(w.get(301)?.id, 'n2');
  w.truncate(301);
  assert.equal(w.get(301), undefined);
  const g = w.generation;
  w.invalidate();
  assert.equal(w.size, 0);
  assert.equal(w.generation, g + 1);
});

test('body previews: base64 JSON pretty-printed, text as is, binary as hex', async () => {
  const { items } = await captureItems();
  const json = items.find((i) => i.protocol.name === 'http' && /json/.test((i.response as any).content?.mimeType ?? '') && (i.response as any).content?.text);
  assert.ok(json);
  const p = previewContent((json.response as any).content);
  assert.equal(p.kind, 'json');
  assert.deepEqual(JSON.parse(p.text), JSON.parse(Buffer.from((json.response as any).content.text, 'base64').toString('utf8')));
  assert.match(p.text, /\n {2}/);
  assert.equal(previewContent({ text: Buffer.from('hello').toString('base64'), encoding: 'base64', mimeType: 'text/plain' }).text, 'hello');
  const bin = previewContent({ text: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' });
  assert.equal(bin.kind, 'binary');
  assert.match(bin.text, /^000000 {2}00 01 02 ff/);
  assert.equal(previewContent(undefined).kind, 'none');
});

test('command lines split like a shell would, without one', () => {
  assert.deepEqual(splitArgs(`ssh host "tcpdump -U -w -" 'port 80' a\\ b`), ['ssh', 'host', 'tcpdump -U -w -', 'port 80', 'a b']);
  assert.deepEqual(splitArgs(`x ""`), ['x', '']);
  assert.throws(() => splitArgs(`a "b`), /unterminated " quote/);
});
