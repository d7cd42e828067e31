/**
 * Projection: the analysis picks the `data.…` paths a hook reads, and a hook must print the
 * same thing on the projected item as on the whole item (forced by a dynamic use of `data`).
 * Items are the real ones dissected from a loopback capture, plus the Kubeshark sample.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeScript } from '../../server/runtime/analyze';
import { compileProjection } from '../../server/runtime/projection';
import type { Item } from '../../capture/item/schema';
import { HTTP_SAMPLE, itemsOf, scenarioPcap } from './fixture';
import { harness } from './harness';

const reads = (src: string, hook = 'onItemCaptured') => analyzeScript(src).hooks[hook]!.reads;

test('analysis: member paths, aliases, method calls, computed literals', () => {
  assert.deepEqual(reads(`function onItemCaptured(data) {
    var r = data.request, h = r.headers;
    if (r.path.indexOf('/api') === 0 && h['User-Agent'] && data.response.status >= 500) console.log(data.src.ip);
  }`), { request: { path: true, headers: { 'User-Agent': true } }, response: { status: true }, src: { ip: true } });
  // A method call reads the object it is called on whole; Object.prototype names read the parent whole.
  assert.deepEqual(reads('function onItemCaptured(d) { d.request.headers.hasOwnProperty("X"); d.response.answers.length; }'), {
    request: { headers: true }, response: { answers: { length: true } },
  });
  // Passing data to kfl.match / test.pass needs no fields: the host has the whole item.
  assert.deepEqual(reads('function onItemCaptured(d) { if (kfl.match("http", d)) test.pass(d); }'), {});
  // Computed keys: the object is read whole from there.
  assert.deepEqual(reads('function onItemCaptured(d) { var k = "Host"; return d.request.headers[k]; }'), { request: { headers: true } });
  // No parameter: nothing to move.
  assert.deepEqual(reads('function onItemCaptured() { n++ }'), {});
});

test('analysis: dynamic uses fall back to the whole item', () => {
  const whole = [
    'function onItemCaptured(d) { console.log(JSON.stringify(d)); }',
    'function onItemCaptured(d) { keep.push(d); }',
    'function onItemCaptured(d) { for (var k in d) n++; }',
    'function onItemCaptured(d) { var x = d; x = other; x.y; }',
    'function onItemCaptured(d) { d.request.path = "x"; }',
    'function onItemCaptured(d) { delete d.src; }',
    'function onItemCaptured(d) { d = {}; }',
    'function onItemCaptured(d) { return arguments[0].id; }',
    'function onItemCaptured(d) { eval("d.id"); }',
    'function onItemCaptured({ request }) { request.path; }',
    'function onItemCaptured(d) { function inner(d) { return d; } inner(1); }',
    'var onItemCaptured = (d) => d.request.path;',
    'this.onItemCaptured = function (d) {};', // not statically found
  ];
  for (const src of whole) assert.equal(reads(src), true, src);
  // onItemQueried that returns (the shown item) or writes needs everything.
  assert.equal(reads('function onItemQueried(d) { return test.fail(d); }', 'onItemQueried'), true);
  assert.deepEqual(reads('function onItemQueried(d) { if (d.response.status >= 500) test.fail(d); }', 'onItemQueried'), { response: { status: true } });
});

test('projector copies exactly the projected fields, arrays and primitives whole', () => {
  const p = compileProjection({ request: { path: true, headers: { Host: true } }, response: { status: true, answers: { length: true } }, nope: { x: true } });
  assert.deepEqual(p(HTTP_SAMPLE), { request: { path: '/license', headers: { Host: '192.168.4.120:8897' } }, response: { status: 200 } });
  assert.deepEqual(p({ request: 'str', response: { answers: [1, 2] } }), { request: 'str', response: { answers: [1, 2] } });
  assert.equal(p(null), null);
  assert.equal(compileProjection(true)(HTTP_SAMPLE), HTTP_SAMPLE);
  // Keys are quoted, never spliced into the generated code.
  const odd = compileProjection({ 'a"];process.exit(1);//': true });
  assert.deepEqual(odd({ 'a"];process.exit(1);//': 5 }), { 'a"];process.exit(1);//': 5 });
});

const HOOKS = [
  `function onItemCaptured(data) {
    if (data.protocol.name === 'http') console.log(data.request.method, data.request.path, data.response.status, data.request.headers['User-Agent'], data.src.ip, data.dst.port, data.elapsedTime);
    else console.log(data.request.questions.length, data.request.questions[0].name, data.response.code, data.response.answers.map(function (a) { return a.type + '=' + a.ip; }).join(','));
  }`,
  `function onItemCaptured(data) {
    var req = data.request, res = data.response;
    var q = req.queryString, h = res.headers;
    console.log(JSON.stringify(q), h && h['Content-Type'], Object.keys(req.cookies || {}).join('|'), res.content && res.content.size, kfl.match('http and response.status >= 400', data), kfl.match('dns', data));
  }`,
  `function onItemCaptured(d) {
    var s = d.src;
    console.log(s.ip + ':' + s.port, d.stream, d.index, d.request.path ? d.request.path.split('/').length : -1, typeof d.response.status, d.protocol.abbr);
  }`,
];

test('a projected hook prints exactly what it prints on the whole item (real capture)', async () => {
  const { file } = await scenarioPcap();
  const items: Item[] = [...itemsOf(file), HTTP_SAMPLE];
  assert.ok(items.length > 30, `expected a real capture, got ${items.length} items`);
  const h = await harness();
  HOOKS.forEach((src, i) => {
    assert.notEqual(reads(src), true, `hook ${i} should be projected`);
    h.rt.load(`p${i}.js`, src);
    // Same hook, forced to the whole item by a dynamic use that never runs.
    h.rt.load(`w${i}.js`, src.replace('{', '{ if (false) keep(arguments); '));
  });
  h.rt.captured(items);
  assert.deepEqual(h.errors(), []);
  HOOKS.forEach((_, i) => {
    const p = h.logs(`p${i}.js`);
    assert.equal(p.length, items.length);
    assert.deepEqual(p, h.logs(`w${i}.js`), `hook ${i}`);
  });
  h.rt.close();
});

test('packet infos: fields and ns timestamps; a hook that keeps its info objects gets fresh ones', async () => {
  const h = await harness();
  h.rt.load('read.js', 'function onPacketCaptured(info) { console.log(info.timestamp, info.captureLength, info.length, info.truncated, info.fragmented); }');
  h.rt.load('keep.js', `var kept = [];
function onPacketCaptured(info) { kept.push(info); }
jobs.schedule('dump', '0 0 0 1 1 *', function () { console.log(JSON.stringify(kept)); });`);
  h.rt.load('count.js', 'var n = 0, b = 0; function onPacketCaptured(p) { n++; b += p.length; }\njobs.schedule("c", "0 0 0 1 1 *", function () { console.log(n, b); });');
  h.rt.packets(new Float64Array([1685869774, 306330792, 96, 1500, 1, 1685869775, 5, 60, 60, 2]));
  h.rt.runJob('keep.js', 'dump');
  h.rt.runJob('count.js', 'c');
  assert.deepEqual(h.logs('read.js'), ['2023-06-04T09:09:34.306330792Z 96 1500 true false', '2023-06-04T09:09:35.000000005Z 60 60 false true']);
  assert.deepEqual(JSON.parse(h.logs('keep.js')[0]), [
    { timestamp: '2023-06-04T09:09:34.306330792Z', captureLength: 96, length: 1500, truncated: true, fragmented: false },
    { timestamp: '2023-06-04T09:09:35.000000005Z', captureLength: 60, length: 60, truncated: false, fragmented: true },
  ]);
  assert.deepEqual(h.logs('count.js'), ['2 1560']);
  h.rt.close();
});

test('Go-cased reads of late-2024 scripts (data.Protocol.Name, data.Request.Path) see the JSON fields when projected', async () => {
  const h = await harness();
  h.rt.load('go.js', 'function onItemCaptured(data) { console.log(data.Protocol.Name, data.Request.Path, data.ElapsedTime, data.protocol.name); }');
  h.rt.captured([HTTP_SAMPLE]);
  assert.deepEqual(h.logs(), ['http /license 4 http']);
  h.rt.close();
});
