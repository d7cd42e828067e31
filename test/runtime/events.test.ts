/**
 * Structured events: console lines and errors carry the line and column in the user's source,
 * come in the order they happened, a hook that runs clean again says so, per-hook stats and
 * hook lines, and replay through one script with its events marked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RuntimeEvent } from '../../server/runtime/types';
import { HTTP_SAMPLE } from './fixture';
import { harness, until } from './harness';

const item = (over: Record<string, unknown> = {}) => ({ ...structuredClone(HTTP_SAMPLE), ...over }) as never;
type Ev = RuntimeEvent;
const brief = (e: Ev) =>
  e.type === 'log' ? `log ${e.stream} ${e.line}:${e.col} ${e.text}` : e.type === 'error' ? `error ${e.hook} ${e.line}:${e.col} x${e.count}` : e.type === 'clean' ? `clean ${e.hook}` : e.type;

test('console lines carry the line and column of their console.* call (line 1 too, nested functions, jobs)', async () => {
  const h = await harness();
  const src = `console.log('top'); var k = 1; console.info('k', k);
function show(x) {
	console.warn('show', x);
}
function onItemCaptured(data) {
  if (data.request.method) show(data.request.method); console.error('e');
  /* é → */ console.debug('wide');
}`;
  h.rt.load('loc.js', src);
  h.rt.captured([item()]);
  assert.deepEqual(h.events.map(brief), [
    'log log 1:1 top', 'log log 1:32 k 1', `log error 3:2 show ${(HTTP_SAMPLE.request as { method: string }).method}`, 'log error 6:55 e', 'log log 7:13 wide',
  ]);
  // Each position is where `console` starts in the source as given.
  const lines = src.split('\n');
  for (const e of h.events) if (e.type === 'log') assert.equal(lines[e.line - 1].slice(e.col - 1, e.col + 6), 'console');
  h.rt.close();
});

test('console lines without a known place have line 0: detached calls, a script with its own console', async () => {
  const h = await harness();
  h.rt.load('d.js', 'var log = console.log; log("detached"); console.log.call(console, "call"); console.log("direct");');
  h.rt.load('own.js', 'var console = { log: function (x) { print(x); } }; var print = this.constructor ? function(){} : 0;\nglobalThis.console.log("global");');
  assert.deepEqual(h.events.map(brief), ['log log 0:0 detached', 'log log 0:0 call', 'log log 1:76 direct', 'log log 0:0 global']);
  // A script that overrides console.log keeps its override at located call sites.
  h.rt.load('over.js', 'var orig = console.log; console.log = function (x) { orig("[" + x + "]"); };\nconsole.log("hi");');
  assert.equal(h.logs('over.js')[0], '[hi]');
  h.rt.close();
});

test('logs and errors of one batch come in the order they happened', async () => {
  const h = await harness();
  h.rt.load('o.js', `function onItemCaptured(d) {
  console.log('before', d.n);
  if (d.n === 1) throw new Error('one');
  console.log('after', d.n);
}`);
  h.rt.captured([item({ n: 0 }), item({ n: 1 }), item({ n: 2 })]);
  assert.deepEqual(h.events.map(brief), [
    'log log 2:3 before 0', 'log log 4:3 after 0', 'log log 2:3 before 1', 'error onItemCaptured 3:33 x1', 'log log 2:3 before 2', 'log log 4:3 after 2',
  ]);
  const err = h.events.find((e) => e.type === 'error') as Extract<Ev, { type: 'error' }>;
  assert.equal(err.text, 'onItemCaptured: Error: one');
  assert.equal(err.message, 'o.js:3:33: onItemCaptured: Error: one');
  h.rt.close();
});

test('errors name their hook (job, timer too); a hook that runs clean again is announced once', async () => {
  const h = await harness();
  h.rt.load('c.js', `function onItemCaptured(d) { if (d.n === 1) null.x; }
jobs.schedule('j', '0 0 0 1 1 *', function () { throw new Error('job'); });
setTimeout(function () { undefined.y; }, 0);`);
  h.rt.runJob('c.js', 'j');
  assert.ok(await until(() => h.events.some((e) => e.type === 'error' && e.hook === 'timer')));
  h.rt.captured([item({ n: 1 })]);
  h.rt.captured([item({ n: 1 })]); // folded: counted, not sent yet
  h.rt.captured([item({ n: 2 })]); // clean: the count goes out first
  h.rt.captured([item({ n: 3 })]); // still clean: nothing more
  h.rt.captured([item({ n: 1 })]); // failing again: sent at once
  const shown = h.events.map((e) => (e.type === 'error' ? `${e.hook} ${e.line}:${e.col} ${e.repeat ? 'repeat' : 'first'} x${e.count}` : brief(e)));
  assert.deepEqual(shown, [
    'job 2:64 first x1', 'timer 3:35 first x1',
    'onItemCaptured 1:49 first x1', 'onItemCaptured 1:49 repeat x1', 'clean onItemCaptured', 'onItemCaptured 1:49 first x1',
  ]);
  h.rt.close();
});

test('hookLines and per-hook stats: calls, errors, time', async () => {
  const h = await harness();
  const r = h.rt.load('s.js', `// Stats
var n = 0;

function onItemCaptured(d) { if (d.n === 2) throw new Error('x'); n++; }
var onPacketCaptured = function (info) {};
function onHubAction(a, o) {}
function onJobPassed() {}
`);
  assert.deepEqual(r.hookLines, { onItemCaptured: 4, onPacketCaptured: 5, onHubAction: 6, onJobPassed: 7 });
  h.rt.captured([item({ n: 1 }), item({ n: 2 }), item({ n: 3 })]);
  h.rt.packets(new Float64Array([1, 0, 60, 60, 0, 1, 5, 60, 60, 0]));
  const st = h.rt.stats().scripts[0];
  const by = Object.fromEntries(st.hooks.map((x) => [x.name, x]));
  assert.deepEqual(Object.keys(by).sort(), ['onHubAction', 'onItemCaptured', 'onJobPassed', 'onPacketCaptured']);
  assert.deepEqual([by.onItemCaptured.line, by.onItemCaptured.calls, by.onItemCaptured.errors], [4, 3, 1]);
  assert.deepEqual([by.onPacketCaptured.line, by.onPacketCaptured.calls, by.onPacketCaptured.errors], [5, 2, 0]);
  assert.ok(by.onItemCaptured.totalUs > 0);
  assert.equal(by.onHubAction.calls, 0);
  assert.equal(st.errors, 1);
  h.rt.close();
});

test('a hook reassigned at top level: hookLines and the projection follow the function that runs', async () => {
  const h = await harness();
  const r = h.rt.load('re.js', `function onItemCaptured(d) { console.log('first', d.protocol.name); }
onItemCaptured = function (d) { console.log('final', d.src.ip, d.dst.port); };`);
  assert.equal(r.hookLines.onItemCaptured, 2);
  assert.deepEqual(r.itemProjection, { protocol: { name: true }, src: { ip: true }, dst: { port: true } });
  h.rt.captured([item()]);
  assert.deepEqual(h.logs(), [`final ${HTTP_SAMPLE.src.ip} ${HTTP_SAMPLE.dst.port}`]);
  const opaque = h.rt.load('op.js', `function make() { return function (d) { console.log(d.src.ip); }; }
var onItemCaptured = make();`);
  assert.equal(opaque.itemProjection, true);
  h.rt.close();
});

test('replay runs one script over given items, marks its events, and does not count them as captured', async () => {
  const h = await harness();
  h.rt.load('a.js', 'function onItemCaptured(d) { console.log("a", d.n); if (d.n === 2) null.x; }');
  h.rt.load('b.js', 'function onItemCaptured(d) { console.log("b", d.n); }');
  const ran = h.rt.replay('a.js', [item({ n: 1 }), item({ n: 2 })]);
  assert.equal(ran, 2);
  assert.deepEqual(h.events.map((e) => `${brief(e)}${'replay' in e && e.replay ? ' (replay)' : ''}`), [
    'log log 1:30 a 1 (replay)', 'log log 1:30 a 2 (replay)', 'error onItemCaptured 1:72 x1 (replay)',
  ]);
  assert.equal(h.rt.stats().items, 0);
  assert.equal(h.rt.stats().scripts[0].hooks[0].calls, 2);
  assert.equal(h.rt.replay('nope.js', [item()]), 0);
  // A live error at the same place is not folded into the replayed one.
  h.rt.captured([item({ n: 2 })]);
  const live = h.events.filter((e) => e.type === 'error' && !e.replay);
  assert.equal(live.length, 1);
  h.rt.close();
});

test('folding: a repeat count goes out at most once a second, the rest at flush; the counts add up', async () => {
  const { ErrorFolder } = await import('../../server/runtime/fold');
  let now = 0;
  const out: Extract<Ev, { type: 'error' }>[] = [];
  const f = new ErrorFolder((e) => out.push(e), () => now);
  const err = (message: string) => ({ type: 'error' as const, script: 's.js', role: 'worker' as const, where: 'onItemCaptured', hook: 'onItemCaptured', message, text: message, stack: '', line: 3, col: 5, count: 1 });
  for (let i = 0; i < 5; i++) f.report(err('boom')); // t=0: the first is sent, 4 counted
  now = 500;
  f.report(err('boom'));
  f.flush(false); // not yet a second since the first
  assert.deepEqual(out.map((e) => [e.count, e.repeat ?? false]), [[1, false]]);
  now = 1000;
  f.report(err('boom')); // a second later: the 6 counted so far go out
  assert.deepEqual(out.map((e) => [e.count, e.repeat ?? false]), [[1, false], [6, true]]);
  now = 1200;
  f.report(err('boom'));
  f.report(err('other'));
  f.flush(true);
  assert.deepEqual(out.map((e) => [e.text, e.count]), [['boom', 1], ['boom', 6], ['other', 1], ['boom', 1]]);
  assert.equal(out.reduce((n, e) => n + e.count, 0), 9);
  f.forget('onItemCaptured');
  f.report(err('boom')); // forgotten (the hook ran clean): sent at once again
  assert.deepEqual(out.at(-1)!.repeat, undefined);
});
