import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { startHttpServer, httpScenario, type HttpExchange } from '../helpers/traffic';
import { recordRelay, collector, replayTcp, type Recorded } from './harness';
import { http, detectHttp } from '../../capture/dissectors/http';
import { splitTarget, parseQuery } from '../../capture/dissectors/http-fields';
import { HeadMemo, addHeaderBytes, addHeaderBytesMemo, addHeaderLines, type Head } from '../../capture/dissectors/http-wire';
import type { HttpRequest, HttpResponse } from '../../capture/item/schema';
import type { L7Message, Timestamp } from '../../capture/types';
import { HTTP_SAMPLE } from '../runtime/fixture';

let recs: Recorded[] = [];
let sent: HttpExchange[] = [];

before(async () => {
  const srv = await startHttpServer();
  try {
    recs = await recordRelay(srv.port, async (port) => { sent = await httpScenario(port); });
  } finally {
    await srv.close();
  }
});

function dissect(rec: Recorded, split = 0, cap = 64 * 1024) {
  const c = collector('tcp', cap);
  replayTcp(http.tcp!(c.ctx), rec, split);
  return c;
}

function all(split = 0): L7Message[] {
  return recs.flatMap((r) => dissect(r, split).msgs);
}

const req = (m: L7Message) => m.request as unknown as HttpRequest;
const res = (m: L7Message) => m.response as unknown as HttpResponse;
const find = (msgs: L7Message[], method: string, url: string) => msgs.find((m) => req(m).method === method && req(m).url === url)!;
const T0: Timestamp = { sec: 1, nsec: 0 };

test('every exchange of the real scenario becomes one item, in order, with the right status', () => {
  const msgs = all();
  assert.deepEqual(msgs.map((m) => ({ method: req(m).method, url: req(m).url, status: res(m).status })), sent);
  for (const m of msgs) assert.equal(m.error ?? null, null, `${req(m).url}: ${m.error?.msg}`);
});

test('1-byte chunks and 7-byte chunks give exactly the same items as whole chunks', () => {
  const whole = JSON.stringify(all());
  assert.equal(JSON.stringify(all(1)), whole);
  assert.equal(JSON.stringify(all(7)), whole);
});

test('request fields: canonical headers, cookies, query arrays, path segments', () => {
  const msgs = all();
  const first = req(msgs[0]);
  assert.equal(first.headers['User-Agent'], 'wirehook-test/1.0');
  assert.equal(first.headers['Accept'], 'application/json');
  assert.deepEqual(first.cookies, { session: 'abc123', theme: 'dark' });
  assert.equal(first.httpVersion, 'HTTP/1.1');
  assert.equal(first.headersSize, -1);
  assert.equal(first.postData, undefined);
  const s = req(find(msgs, 'GET', '/api/search?q=wire&q=hook&lang=en&empty=&sp=a%20b'));
  assert.equal(s.path, '/api/search');
  assert.deepEqual(s.pathSegments, ['api', 'search']);
  assert.deepEqual(s.queryString, { q: ['wire', 'hook'], lang: 'en', empty: '', sp: 'a b' });
  assert.equal(s.targetUri, s.url);
  assert.equal(msgs[0].protocol.version, '1.1');
});

test('request and response carry exactly the keys of a real Kubeshark 2023 HTTP item', () => {
  // Key sets read from the POST item in shared/reference/samples/kubeshark-http-item-2023.json.
  const sample = HTTP_SAMPLE as unknown as { request: HttpRequest; response: HttpResponse };
  assert.equal(sample.request.method, 'POST');
  const keys = (o: object) => Object.keys(o).sort();
  const m = all().find((x) => req(x).method === 'POST')!;
  assert.deepEqual(keys(req(m)), keys(sample.request));
  assert.deepEqual(keys(req(m).postData!), keys(sample.request.postData!));
  assert.deepEqual(keys(res(m)), keys(sample.response));
  assert.deepEqual(keys(res(m).content), keys(sample.response.content).concat(keys(res(m).content).includes('text') ? ['text'] : []).sort(), 'content: the sample\'s keys (+ text when there is a body)');
  const empty = all().find((x) => res(x).status === 204)!;
  assert.deepEqual(res(empty).content, { size: 0, mimeType: '', encoding: 'base64' });
});

test('POST bodies: JSON text, form params, chunked upload, 100-continue', () => {
  const msgs = all();
  const posts = msgs.filter((m) => req(m).url === '/api/echo' && req(m).method === 'POST');
  const j = req(posts[0]);
  assert.equal(j.postData?.mimeType, 'application/json');
  assert.deepEqual(JSON.parse(j.postData!.text), { name: 'grace', tags: ['a', 'b'] });
  assert.equal(j.bodySize, Buffer.byteLength(j.postData!.text));
  const f = req(posts[1]);
  assert.deepEqual(f.postData?.params, [
    { name: 'user', value: 'ada' }, { name: 'lang', value: 'en' }, { name: 'lang', value: 'fr' }, { name: 'note', value: 'hello world!' },
  ]);
  const put = find(msgs, 'PUT', '/upload');
  assert.equal(req(put).headers['Transfer-Encoding'], 'chunked');
  assert.equal(req(put).postData?.text, 'part one\npart two\npart three\n');
  assert.equal(req(put).bodySize, 29);
  const cont = find(msgs, 'POST', '/upload');
  assert.equal(res(cont).status, 201);
  assert.equal(req(cont).headers['Expect'], '100-continue');
  // The interim "HTTP/1.1 100 Continue\r\n\r\n" (25 bytes) counts into the exchange's response bytes.
  const body = Buffer.from(res(cont).content.text!, 'base64').toString();
  assert.deepEqual(JSON.parse(body), { received: req(cont).bodySize });
  assert.ok(cont.responseSize > 25 + res(cont).bodySize);
});

test('response fields: compressed bodies decoded, chunked, HEAD, 204, redirect, cookies, caps', () => {
  const msgs = all();
  const text = Buffer.from('hello wirehook '.repeat(200));
  for (const enc of ['gzip', 'deflate', 'br']) {
    const r = res(find(msgs, 'GET', `/${enc}`));
    assert.equal(r.headers['Content-Encoding'], enc);
    assert.ok(r.bodySize < text.length, 'bodySize is the compressed wire size');
    assert.equal(r.content.size, text.length);
    assert.deepEqual(Buffer.from(r.content.text!, 'base64'), text);
  }
  const ch = res(find(msgs, 'GET', '/chunked'));
  assert.equal(Buffer.from(ch.content.text!, 'base64').toString(), [0, 1, 2, 3, 4].map((i) => `chunk ${i}\n`).join(''));
  const head = find(msgs, 'HEAD', '/api/users');
  assert.ok(Number(res(head).headers['Content-Length']) > 0);
  assert.equal(res(head).bodySize, 0);
  assert.equal(res(head).content.text, undefined);
  const nc = res(find(msgs, 'DELETE', '/api/empty'));
  assert.equal(nc.status, 204);
  assert.equal(nc.statusText, 'No Content');
  assert.equal(nc.content.text, undefined);
  const redirect = res(find(msgs, 'GET', '/old'));
  assert.equal(redirect.redirectURL, '/api/users');
  assert.equal(redirect.statusText, 'Moved Permanently');
  const ck = res(find(msgs, 'GET', '/cookie'));
  assert.deepEqual(ck.cookies, { session: 'abc123', theme: 'dark' });
  assert.equal(ck.headers['Set-Cookie'], 'session=abc123; Path=/; HttpOnly,theme=dark');
  const large = find(msgs, 'GET', '/large');
  assert.equal(res(large).bodySize, 256 * 1024);
  assert.equal(res(large).content.size, 256 * 1024);
  assert.equal(Buffer.from(res(large).content.text!, 'base64').length, 64 * 1024);
  assert.ok(large.responseSize > 256 * 1024);
});

test('multipart/form-data (sent by fetch) becomes HAR params with fileName and contentType', () => {
  const m = all().at(-1)!;
  assert.equal(req(m).url, '/upload');
  assert.match(req(m).postData!.mimeType, /^multipart\/form-data; boundary=/);
  assert.deepEqual(req(m).postData!.params, [
    { name: 'title', value: 'holiday' },
    { name: 'photo', value: 'not really a jpeg', fileName: 'beach.jpg', contentType: 'image/jpeg' },
  ]);
});

test('pipelined requests pair with responses in order; HTTP/1.0 is its own protocol entry', () => {
  const msgs = all().slice(0, -1);
  const tail = msgs.slice(-4);
  assert.deepEqual(tail.map((m) => [req(m).url, res(m).status]), [['/api/users/1', 200], ['/api/echo', 200], ['/api/fail', 500], ['/api/users', 200]]);
  assert.equal(Buffer.from(res(tail[1]).content.text!, 'base64').toString(), 'hello');
  assert.equal(tail[3].protocol.version, '1.0');
  assert.equal(req(tail[3]).httpVersion, 'HTTP/1.0');
  for (const m of msgs) assert.ok(m.responseTs && (m.responseTs.sec > m.requestTs.sec || (m.responseTs.sec === m.requestTs.sec && m.responseTs.nsec >= m.requestTs.nsec)));
});

function feed(chunks: [0 | 1, string | Buffer][], cap = 64 * 1024, endReason: 'fin' | 'eof' | 'timeout' = 'fin') {
  const c = collector('tcp', cap);
  const p = http.tcp!(c.ctx);
  let n = 0;
  for (const [dir, data] of chunks) p.data(dir, Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'), { sec: 100, nsec: ++n });
  p.end(null, { sec: 200, nsec: 0 }, endReason);
  return c;
}

test('garbage before a request is skipped; a malformed request mid-stream resyncs at the next request line', () => {
  const c = feed([
    [0, '\x00\x01binary junk\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    [0, 'NOT A REQUEST\r\n\r\nGET /b HTTP/1.1\r\n\r\n'],
    [1, 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'],
  ]);
  assert.deepEqual(c.msgs.map((m) => [req(m).url, res(m).status]), [['/a', 200], ['/b', 404]]);
  assert.ok(c.warnings.some((w) => w.includes('malformed request line')));
});

test('a gap inside a body is counted and flagged; a gap in a head resyncs at the next request', () => {
  const c = collector();
  const p = http.tcp!(c.ctx);
  p.data(0, Buffer.from('POST /u HTTP/1.1\r\nContent-Length: 10\r\n\r\nab'), T0);
  p.gap(0, 5, T0);
  p.data(0, Buffer.from('xyz'), T0);
  p.data(1, Buffer.from('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n'), T0);
  p.data(0, Buffer.from('GET /half HTTP/1.1\r\nHos'), T0);
  p.gap(0, 100, T0);
  p.data(0, Buffer.from('t: x\r\n\r\nGET /next HTTP/1.1\r\n\r\n'), T0);
  p.end(null, T0, 'eof');
  assert.equal(req(c.msgs[0]).bodySize, 10);
  assert.equal(c.msgs[0].error?.type, 'dissection');
  assert.equal(req(c.msgs[1]).url, '/half');
  assert.equal(c.msgs[1].error?.type, 'pair-not-found');
  assert.equal(req(c.msgs[2]).url, '/next');
  assert.equal(c.msgs[2].error?.type, 'pair-not-found');
});

test('whole messages lost in a gap: the next request and response right after the hole are kept', () => {
  const c = collector();
  const p = http.tcp!(c.ctx);
  p.data(0, Buffer.from('GET /a HTTP/1.1\r\n\r\n'), T0);
  p.data(1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), T0);
  p.gap(0, 40, T0);
  p.gap(1, 80, T0);
  p.data(0, Buffer.from('GET /c HTTP/1.1\r\n\r\n'), T0);
  p.data(1, Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'), T0);
  p.end(null, T0, 'fin');
  assert.deepEqual(c.msgs.map((m) => [req(m).url, res(m).status, m.error?.type ?? null]), [['/a', 200, null], ['/c', 404, null]]);
});

test('an unanswered request becomes an item with a pair-not-found (or timeout) error', () => {
  const c = feed([[0, 'GET /lonely HTTP/1.1\r\n\r\n']]);
  assert.equal(c.msgs.length, 1);
  assert.equal(c.msgs[0].error?.type, 'pair-not-found');
  assert.equal(c.msgs[0].responseTs, null);
  assert.equal(res(c.msgs[0]).status, 0);
  assert.deepEqual(res(c.msgs[0]).headers, {});
  const t = feed([[0, 'GET /slow HTTP/1.1\r\n\r\n']], undefined, 'timeout');
  assert.equal(t.msgs[0].error?.type, 'timeout');
});

test('a response without a request (capture began mid-stream) still yields an item', () => {
  assert.equal(detectHttp(Buffer.from('HTTP/1.1 200 OK\r\n'), 1), true);
  const c = feed([[1, 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc']]);
  assert.equal(c.msgs.length, 1);
  assert.equal(res(c.msgs[0]).status, 200);
  assert.equal(req(c.msgs[0]).method, '');
  assert.equal(c.msgs[0].error?.type, 'pair-not-found');
});

test('body delimited by connection close, chunk trailers merged into headers, 304 and 1xx', () => {
  const c = feed([
    [0, 'GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.0\r\n\r\n'],
    [1, 'HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n'],
    [1, 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'],
    [1, 'HTTP/1.0 200 OK\r\n\r\nuntil the end'],
  ]);
  assert.deepEqual(c.msgs.map((m) => res(m).status), [200, 304, 200]);
  assert.equal(res(c.msgs[0]).headers['X-Checksum'], '42');
  assert.equal(Buffer.from(res(c.msgs[0]).content.text!, 'base64').toString(), 'abc');
  assert.equal(res(c.msgs[1]).bodySize, 0);
  assert.equal(Buffer.from(res(c.msgs[2]).content.text!, 'base64').toString(), 'until the end');
  assert.equal(c.msgs.every((m) => !m.error), true);
});

test('CONNECT and Upgrade: parsing stops after 101 / 2xx, but resumes if the upgrade is refused', () => {
  const ws = feed([
    [0, 'GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n'],
    [0, Buffer.from([0x81, 0x85, 1, 2, 3, 4, 5, 6, 7, 8, 9])],
    [1, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'],
    [1, Buffer.from([0x81, 0x03, 0x61, 0x62, 0x63])],
  ]);
  assert.equal(ws.msgs.length, 1);
  assert.equal(res(ws.msgs[0]).status, 101);
  assert.deepEqual(ws.warnings, []);
  const tunnel = feed([[0, 'CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n'], [1, 'HTTP/1.1 200 Connection established\r\n\r\n'], [0, '\x16\x03\x01binary'], [1, '\x16\x03\x03more']]);
  assert.equal(tunnel.msgs.length, 1);
  assert.equal(req(tunnel.msgs[0]).path, 'db:5432');
  assert.deepEqual(tunnel.warnings, []);
  const refused = feed([
    [0, 'GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\nGET /after HTTP/1.1\r\n\r\n'],
    [1, 'HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ]);
  assert.deepEqual(refused.msgs.map((m) => [req(m).url, res(m).status]), [['/ws', 400], ['/after', 200]]);
});

test('stacked content codings (gzip, then br) are undone last first', () => {
  const body = zlib.brotliCompressSync(zlib.gzipSync(Buffer.from('twice encoded')));
  const c = feed([
    [0, 'GET /twice HTTP/1.1\r\n\r\n'],
    [1, `HTTP/1.1 200 OK\r\nContent-Encoding: gzip, br\r\nContent-Length: ${body.length}\r\n\r\n`],
    [1, body],
  ]);
  assert.equal(Buffer.from(res(c.msgs[0]).content.text!, 'base64').toString(), 'twice encoded');
});

test('a gzip bomb is decoded only up to the body cap', () => {
  const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024));
  assert.ok(bomb.length < 100 * 1024);
  const cap = 16 * 1024;
  const c = feed([
    [0, 'GET /bomb HTTP/1.1\r\n\r\n'],
    [1, `HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`],
    [1, bomb],
  ], cap);
  const r = res(c.msgs[0]);
  assert.equal(r.bodySize, bomb.length);
  const shown = Buffer.from(r.content.text!, 'base64');
  assert.ok(shown.length > 0 && shown.length <= cap, `preview ${shown.length}`);
  assert.ok(shown.every((b) => b === 0));
});

test('malformed framing never throws: bad Content-Length, bad chunk size, huge head', () => {
  const c = feed([
    [0, 'POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\nGET /y HTTP/1.1\r\n\r\n'],
    [1, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    [0, 'GET /z HTTP/1.1\r\nX: ' + 'a'.repeat(70 * 1024)],
  ]);
  assert.ok(c.warnings.some((w) => w.includes('bad Content-Length')));
  assert.ok(c.warnings.some((w) => w.includes('bad chunk size')));
  assert.ok(c.warnings.some((w) => w.includes('head too large')));
  // The client side cannot be framed after the bad Content-Length: one exchange, with its error.
  assert.equal(c.msgs.length, 1, JSON.stringify(c.msgs.map((m) => m.error)));
  assert.equal((c.msgs[0].request as { path: string }).path, '/x');
  assert.equal(c.msgs[0].error?.type, 'dissection', JSON.stringify(c.msgs[0].error));
});

test('detection by content, not by port', () => {
  assert.equal(detectHttp(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n'), 0), true);
  assert.equal(detectHttp(Buffer.from('PROPFIND /dav HTTP/1.1\r\n'), 0), true);
  assert.equal(detectHttp(Buffer.from('GET /very/long'), 0), 'maybe');
  assert.equal(detectHttp(Buffer.from('HTTP/1.'), 1), 'maybe');
  assert.equal(detectHttp(Buffer.from('get / HTTP/1.1\r\n'), 0), false);
  assert.equal(detectHttp(Buffer.from('GET / HTTP/2.0\r\n'), 0), false);
  assert.equal(detectHttp(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), 0), false);
  assert.equal(detectHttp(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n'), 0), false);
  assert.equal(detectHttp(Buffer.from('*1\r\n$4\r\nPING\r\n'), 0), false);
});

test('pending() tracks the oldest request still owed an item', () => {
  const c = collector();
  const p = http.tcp!(c.ctx);
  p.data(0, Buffer.from('GET /a HTTP/1.1\r\n\r\n'), { sec: 5, nsec: 1 });
  assert.deepEqual(c.pendings.at(-1), { sec: 5, nsec: 1 });
  p.data(1, Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), { sec: 5, nsec: 2 });
  assert.equal(c.pendings.at(-1), null);
  assert.equal(c.msgs.length, 1);
});

// ---------------------------------------------------------------- fast paths vs the general code

/** The original splitTarget/parseQuery (before the one-pass fast path), as the reference. */
function refDecode(s: string, plus: boolean): string {
  const t = plus && s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!t.includes('%')) return t;
  try { return decodeURIComponent(t); } catch { return t; }
}
function refQuery(q: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (!q) return out;
  for (const part of q.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = refDecode(eq < 0 ? part : part.slice(0, eq), true);
    const v = eq < 0 ? '' : refDecode(part.slice(eq + 1), true);
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}
function refSplit(url: string) {
  let rest = url;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  if (!rest.startsWith('/')) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(rest);
    if (m) rest = rest.slice(m[0].length);
    else return { path: url, pathSegments: [url], queryString: {} };
  }
  const qm = rest.indexOf('?');
  const path = refDecode(qm < 0 ? rest : rest.slice(0, qm), false);
  const segs = path.split('/');
  if (segs[0] === '') segs.shift();
  return { path, pathSegments: segs, queryString: qm < 0 ? {} : refQuery(rest.slice(qm + 1)) };
}

test('splitTarget and parseQuery fast paths give what the general code gives', () => {
  const alphabet = ['/', '/', 'a', 'b', '?', '&', '=', '=', '#', '%', '%41', '%zz', '+', 'x', '1', '__proto__', ':', '.', 'http://h'];
  let seed = 7;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const urls = ['/', '//', '/a/', '/a?', '/a?&&', '/a?=', '/a?b=1&b=2&b=3', '/a#x?y', '/a?x#y?z', '/%41/b', '/a+b?c+d=e+f', '*', 'h:443', 'http://h', 'http://h?x=1', 'http://h/a/b?c'];
  for (let i = 0; i < 4000; i++) {
    let u = rnd(4) === 0 ? '' : '/';
    const len = rnd(12);
    for (let k = 0; k < len; k++) u += alphabet[rnd(alphabet.length)];
    urls.push(u);
  }
  for (const u of urls) {
    assert.equal(JSON.stringify(splitTarget(u)), JSON.stringify(refSplit(u)), u);
    assert.equal(JSON.stringify(parseQuery(u)), JSON.stringify(refQuery(u)), u);
  }
});

test('header blocks: the byte parser and its memo give what the text parser gives', () => {
  const lines = ['Host: a', 'host: b', 'HOST:c', 'Content-Type: text/plain', 'content-length: 5', 'X-A:  spaced  ', 'X-A: again',
    '\tfolded', ' folded too', 'Bad Name: v', 'NoColon', ':empty', 'X-Empty:', 'X-Tab:\tv\t', 'Set-Cookie: a=1; Path=/',
    'set-cookie: b=2', 'X-Lat: caf\u00e9\u00a0', 'X-\u00e9: v', 'Name : v', 'X-Colon: a:b', '__proto__: p', 'Constructor: c', '123: n'];
  let seed = 11;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const memo = new HeadMemo();
  let prev = '';
  for (let i = 0; i < 3000; i++) {
    let block = '';
    if (i % 3 === 0 && prev) block = prev;
    else {
      const n = rnd(7);
      for (let k = 0; k < n; k++) block += lines[rnd(lines.length)] + (rnd(5) === 0 ? '\n' : '\r\n');
      block += rnd(5) === 0 ? '\n' : '\r\n';
    }
    prev = block;
    const bytes = Buffer.from('HTTP/1.1 200 OK\r\n' + block + 'BODY', 'latin1');
    const s = bytes.indexOf(10) + 1;
    const line = { version: 'HTTP/1.1', status: 200, reason: 'OK' };
    const want: Head = { line, headers: {}, setCookies: [] };
    addHeaderLines(want, block.replace(/\r?\n$/, ''));
    const got: Head = { line, headers: {}, setCookies: [] };
    const end = addHeaderBytesMemo(got, bytes, s, memo);
    assert.equal(end, s + block.length, JSON.stringify(block));
    assert.equal(JSON.stringify(got), JSON.stringify(want), JSON.stringify(block));
    // A fresh memo: the first read remembers the block, the second is a hit.
    const fresh = new HeadMemo();
    const first: Head = { line, headers: {}, setCookies: [] };
    const second: Head = { line, headers: {}, setCookies: [] };
    addHeaderBytesMemo(first, bytes, s, fresh);
    assert.equal(addHeaderBytesMemo(second, bytes, s, fresh), s + block.length);
    assert.equal(JSON.stringify(second), JSON.stringify(want), JSON.stringify(block));
    assert.notEqual(second.headers, first.headers);
    const plain: Head = { line, headers: {}, setCookies: [] };
    assert.equal(addHeaderBytes(plain, bytes, s), s + block.length);
    assert.equal(JSON.stringify(plain), JSON.stringify(want), JSON.stringify(block));
    // Incomplete blocks are reported as such.
    const cut: Head = { line, headers: {}, setCookies: [] };
    assert.equal(addHeaderBytesMemo(cut, bytes.subarray(0, s + block.length - 1), s, memo), -1);
  }
});

test('a body borrowed from the caller survives the caller reusing its buffer', () => {
  const c = collector();
  const p = http.tcp!(c.ctx);
  p.data(0, Buffer.from('GET /a HTTP/1.1\r\n\r\n'), T0);
  // The response body arrives in one buffer but the message is not finished: it must be copied.
  const buf = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc');
  p.data(1, buf, T0);
  buf.fill(0x7a);
  p.data(1, Buffer.from('def'), T0);
  assert.equal(c.msgs.length, 1);
  assert.equal(Buffer.from(res(c.msgs[0]).content.text!, 'base64').toString(), 'abcdef');
  // A request body is emitted only with its response: also copied.
  const rq = Buffer.from('POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz');
  p.data(0, rq, T0);
  rq.fill(0x30);
  p.data(1, Buffer.from('HTTP/1.1 204 No Content\r\n\r\n'), T0);
  assert.equal(c.msgs.length, 2);
  assert.equal(req(c.msgs[1]).postData?.text, 'xyz');
});
