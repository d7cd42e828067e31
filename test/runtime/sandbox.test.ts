/**
 * Sandbox and limits: escape attempts stay inside QuickJS, runaway/memory/stack faults are
 * stopped and reported with the user's line and the next call works, repeated faults disable,
 * load errors carry FILE:LINE:COL, hot reload keeps the old version on a broken save.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptLoadError } from '../../server/runtime/errors';
import { HTTP_SAMPLE } from './fixture';
import { harness } from './harness';

const item = () => structuredClone(HTTP_SAMPLE);

test('escape attempts cannot reach the host', async () => {
  const h = await harness();
  h.rt.load('escape.js', `// Escapes
function probe(name, f) { try { console.log(name, String(f())); } catch (e) { console.log(name, 'threw', e.name); } }
probe('require', function () { return typeof require; });
probe('process', function () { return typeof process; });
probe('fetch', function () { return typeof fetch; });
probe('H', function () { return typeof H + ' ' + typeof __h; });
probe('ctorctor', function () { return (function(){}).constructor.constructor('return typeof process')(); });
probe('Function', function () { return Function('return typeof require + typeof globalThis.process')(); });
probe('eval', function () { return eval('typeof process'); });
probe('import', function () { return typeof globalThis.import; });
probe('std', function () { return typeof std + typeof os; });
probe('globalkeys', function () { return Object.getOwnPropertyNames(globalThis).filter(function (k) { return /^(process|require|module|Buffer|global)$|^__/.test(k); }).join(','); });
probe('caller', function () { return typeof console.log.caller; });
Object.prototype.polluted = 'yes';
Array.prototype.push = function () { return 0; };
`);
  const out = h.logs('escape.js');
  assert.deepEqual(out, [
    'require undefined',
    'process undefined',
    'fetch undefined',
    'H undefined undefined',
    'ctorctor undefined',
    'Function undefinedundefined',
    'eval undefined',
    'import undefined',
    'std undefinedundefined',
    'globalkeys ',
    'caller threw TypeError',
  ]);
  // Prototype pollution stays in that script's own runtime.
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  h.rt.load('other.js', `console.log(String(({}).polluted), [1].push(2))`);
  assert.deepEqual(h.logs('other.js'), ['undefined 2']);
  h.rt.close();
});

test('a script cannot read files or the host through helpers outside their rules', async () => {
  const h = await harness();
  h.rt.load('read.js', `
try { file.read('/etc/passwd'); console.log('read!'); } catch (e) { console.log(e.message); }
try { file.write('../escape.txt', 'x'); console.log('wrote!'); } catch (e) { console.log(e.message); }
`);
  const [a, b] = h.logs();
  assert.match(a, /"\/etc\/passwd" is outside the files folder/);
  assert.match(b, /"\.\.\/escape\.txt" is outside the files folder/);
  h.rt.close();
});

test('runaway loop is stopped at the budget, reported with its line, and the next item runs', async () => {
  const h = await harness({ limits: { timeoutMs: 50 } });
  h.rt.load('/w/loop.js', `var n = 0;
function onItemCaptured(data) {
  n++;
  if (n === 2) {
    while (true) { try { for (;;) {} } catch (e) {} }
  }
  console.log('item', n);
}`);
  h.rt.captured([item(), item(), item()]);
  assert.deepEqual(h.logs(), ['item 1', 'item 3']);
  const errs = h.errors();
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^\/w\/loop\.js:[45]:\d+: onItemCaptured ran longer than 50 ms; stopped$/);
  h.rt.close();
});

test('memory bomb and deep recursion are stopped and the context keeps working', async () => {
  const h = await harness({ limits: { memoryBytes: 16 * 1024 * 1024 } });
  h.rt.load('bomb.js', `var n = 0;
function deep(x) { return deep(x + 1) + 1; }
function onItemCaptured(data) {
  n++;
  if (n === 1) { var a = []; for (;;) a.push('x'.repeat(1 << 20) + a.length); }
  if (n === 2) deep(0);
  console.log('ok', n);
}`);
  h.rt.captured([item(), item(), item()]);
  assert.deepEqual(h.logs(), ['ok 3']);
  const errs = h.errors();
  assert.equal(errs.length, 2);
  assert.match(errs[0], /^bomb\.js:5:\d+: onItemCaptured ran out of memory \(limit 16 MB\)$/);
  assert.match(errs[1], /^bomb\.js:2:\d+: onItemCaptured: stack overflow/);
  h.rt.close();
});

test('repeated faults disable the script with a visible reason; other scripts keep running', async () => {
  const h = await harness({ limits: { timeoutMs: 10, maxConsecutiveFaults: 3 } });
  h.rt.load('bad.js', 'function onItemCaptured(d) { for (;;) {} }');
  h.rt.load('good.js', 'function onItemCaptured(d) { console.log(d.request.method) }');
  for (let i = 0; i < 5; i++) h.rt.captured([item()]);
  const disabled = h.events.filter((e) => e.type === 'disabled');
  assert.equal(disabled.length, 1);
  assert.match((disabled[0] as { reason: string }).reason, /^3 faults in a row \(last: bad\.js:1:\d+: onItemCaptured ran longer than 10 ms; stopped\)$/);
  assert.equal(h.errors('bad.js').length, 3);
  assert.equal(h.logs('good.js').length, 5);
  assert.equal(h.rt.stats().scripts.find((s) => s.file === 'bad.js')!.disabled !== null, true);
  h.rt.close();
});

test('load errors carry FILE:LINE:COL of the user source (line 1 columns too)', async () => {
  const h = await harness();
  const cases: [string, RegExp][] = [
    ['var x = ;', /^s\.js:1:9: SyntaxError: Unexpected token$/],
    ['var a = 1;\nvar b = {;', /^s\.js:2:10: SyntaxError: /],
    ['var a = 1;\n\n  null.x;', /^s\.js:3:\d+: TypeError: cannot read property 'x' of null$/],
    ['throw new Error("boom")', /^s\.js:1:\d+: Error: boom$/],
    ['jobs.schedule("a", "* * *", function(){})', /^s\.js:1:\d+: Error: jobs\.schedule: cron "\* \* \*" must have 6 fields/],
  ];
  for (const [src, re] of cases) {
    assert.throws(() => h.rt.load('s.js', src), (e: unknown) => e instanceof ScriptLoadError && re.test(e.message), src);
  }
  // Column on line 1 is mapped back past the wrapper prefix.
  assert.throws(() => h.rt.load('c.js', 'null.x'), (e: unknown) => e instanceof ScriptLoadError && e.line === 1 && e.col <= 6);
  h.rt.close();
});

test('a runaway top level fails the load instead of hanging', async () => {
  const h = await harness({ limits: { loadTimeoutMs: 50 } });
  assert.throws(() => h.rt.load('top.js', '// t\nwhile (true) {}'), /top\.js:\d+:\d+: top-level code ran longer than 50 ms; stopped$/);
  h.rt.close();
});

test('hot reload: a broken save keeps the old version; a good one replaces it and stops old jobs; nothing survives', async () => {
  const h = await harness();
  h.rt.load('r.js', `var seen = 0; this.sharedCount = 7;
jobs.schedule('tick', '*/30 * * * * *', function () {});
function onItemCaptured(d) { seen++; console.log('v1', seen); }`);
  h.rt.captured([item()]);
  assert.throws(() => h.rt.load('r.js', 'function onItemCaptured(d) { console.log("v2" }'), ScriptLoadError);
  h.rt.captured([item()]);
  assert.deepEqual(h.logs(), ['v1 1', 'v1 2']);
  assert.equal(h.rt.jobs.size, 1);
  h.rt.load('r.js', `function onItemCaptured(d) { console.log('v3', typeof seen, jobs.list().length); }`);
  assert.equal(h.rt.jobs.size, 0);
  h.rt.captured([item()]);
  assert.deepEqual(h.logs().slice(2), ['v3 undefined 0']);
  h.rt.close();
});

test('shared `this` between scripts; script-scope vars stay private', async () => {
  const h = await harness();
  h.rt.load('a.js', `var mine = 'a'; this.total = 0;
function onItemCaptured(d) { this.total = this.total + 1; }`);
  h.rt.load('b.js', `var mine = 'b';
function onItemCaptured(d) { console.log('b sees', this.total, mine, 'total' in this, Object.keys(this).join()); }`);
  // Scripts take each batch in turn (a, then b), so feed one item per batch here.
  h.rt.captured([item()]);
  h.rt.captured([item()]);
  assert.deepEqual(h.logs('b.js'), ['b sees 1 b true total', 'b sees 2 b true total']);
  h.rt.close();
});

test('title is the first comment; hooks are found by name', async () => {
  const h = await harness();
  const r = h.rt.load('t.js', `/* My title
   * more */
var onPacketCaptured = function (i) {};
function onItemCaptured(d) {}
function onJobPassed() {}`);
  assert.equal(r.title, 'My title');
  assert.deepEqual(r.hooks.sort(), ['onItemCaptured', 'onJobPassed', 'onPacketCaptured']);
  h.rt.close();
});

test('a hook that throws on every item is reported 10 times, then at 100, 1000 … with a count', async () => {
  const h = await harness();
  h.rt.load('t.js', 'function onItemCaptured(d) { null.x; }');
  h.rt.captured(Array.from({ length: 1200 }, item));
  const errs = h.errors();
  assert.equal(errs.length, 12);
  assert.match(errs[9], /^t\.js:1:\d+: onItemCaptured: TypeError: cannot read property 'x' of null$/);
  assert.match(errs[10], /of null \(100 times\)$/);
  assert.match(errs[11], /of null \(1000 times\)$/);
  assert.equal(h.rt.stats().scripts[0].disabled, null); // exceptions are not faults
  h.rt.close();
});
