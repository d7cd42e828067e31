/**
 * Sandbox and limits: escape attempts stay inside QuickJS, runaway/memory/stack faults are
 * stopped and reported with the user's line and the next call works, repeated faults disable,
 * load errors carry FILE:LINE:COL, hot reload keeps the old version on a broken save.
 */
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import assert from 'node:assert/strict';
import { ScriptLoadError } from '../../server/runtime/errors';
import { HTTP_SAMPLE } from './fixture';
import type { RuntimeEvent } from '../../server/runtime/types';
import { harness, until } from './harness';

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
  // A budget of the default size: good.js must not fault on a loaded machine, bad.js always does.
  const h = await harness({ limits: { timeoutMs: 100, maxConsecutiveFaults: 3 } });
  h.rt.load('bad.js', 'function onItemCaptured(d) { for (;;) {} }');
  h.rt.load('good.js', 'function onItemCaptured(d) { console.log(d.request.method) }');
  for (let i = 0; i < 5; i++) h.rt.captured([item()]);
  const disabled = h.events.filter((e) => e.type === 'disabled');
  assert.equal(disabled.length, 1);
  assert.match((disabled[0] as { reason: string }).reason, /^3 faults in a row \(last: bad\.js:1:\d+: onItemCaptured ran longer than 100 ms; stopped\)$/);
  assert.equal(h.errors('bad.js').length, 1); // the same timeout, folded
  assert.equal(h.errorCount('bad.js'), 3);
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

test('a hook that throws on each of 260 items: sent once at once, the repeats as one counted event; every error counted', async () => {
  const h = await harness();
  h.rt.load('t.js', 'function onItemCaptured(d) {\n  null.x;\n}');
  h.rt.captured(Array.from({ length: 260 }, item));
  const first = h.events.filter((e) => e.type === 'error');
  assert.equal(first.length, 1);
  assert.match(h.errors()[0], /^t\.js:2:\d+: onItemCaptured: TypeError: cannot read property 'x' of null$/);
  assert.equal(h.errorCount(), 260);
  const all = h.events.filter((e) => e.type === 'error');
  assert.equal(all.length, 2);
  assert.deepEqual(all.map((e) => e.type === 'error' && [e.count, e.repeat ?? false, e.line, e.hook]), [[1, false, 2, 'onItemCaptured'], [259, true, 2, 'onItemCaptured']]);
  assert.equal(h.rt.stats().scripts[0].errors, 260);
  assert.equal(h.rt.stats().scripts[0].disabled, null); // exceptions are not faults
  h.rt.close();
});

test('errors fold by place and message; a place with ever-new messages folds into one entry that says so', async () => {
  const h = await harness();
  h.rt.load('m.js', `function onItemCaptured(d) {
  if (d.index % 2) throw new Error('odd');
  throw new Error('item ' + d.index);
}`);
  h.rt.captured(Array.from({ length: 100 }, (_, i) => ({ ...item(), index: i })));
  assert.equal(h.errorCount(), 100);
  const errs = h.events.filter((e) => e.type === 'error') as Extract<RuntimeEvent, { type: 'error' }>[];
  const at2 = errs.filter((e) => e.line === 2);
  assert.deepEqual(at2.map((e) => [e.text, e.count]), [['onItemCaptured: Error: odd', 1], ['onItemCaptured: Error: odd', 49]]);
  const at3 = errs.filter((e) => e.line === 3);
  // 10 distinct messages are sent, the 11th opens the catch-all, the other 39 are counted there.
  assert.equal(at3.filter((e) => !e.repeat).length, 11);
  assert.match(at3[at3.length - 1].text, /^onItemCaptured: 39 more error\(s\) with other messages here \(first: Error: item 20\)$/);
  assert.equal(at3.reduce((n, e) => n + e.count, 0), 50);
  h.rt.close();
});

test('setTimeout: worker and hub timers of one script do not clash; fired, cleared and reloaded timers are forgotten', async () => {
  const h = await harness();
  // Both roles run the top level, so each has a timer numbered 1; the worker clears its own.
  h.rt.load('t.js', `var t = setTimeout(function () { console.log('fired', utils.nodeName()); }, 20);
function onItemCaptured(d) { clearTimeout(t); }
function onHubAction() {}`);
  assert.equal(h.rt.pendingTimers, 2);
  h.rt.captured([item()]);
  assert.equal(h.rt.pendingTimers, 1);
  // Timers of equal delay fire in the order they were set: the worker's would come first.
  assert.ok(await until(() => h.logs().length > 0));
  assert.deepEqual(h.logs(), ['fired hub']);
  assert.equal(h.rt.pendingTimers, 0);
  h.rt.load('t.js', 'for (var i = 0; i < 50; i++) setTimeout(function () {}, 60000);');
  assert.equal(h.rt.pendingTimers, 50);
  h.rt.load('t.js', '// nothing pending');
  assert.equal(h.rt.pendingTimers, 0);
  h.rt.close();
});

test('a host stack fault stops the instance; on reload its runtime is freed with its whole QuickJS module (defect 6)', async () => {
  // Above ~400 KB of QuickJS stack, the host (wasm) stack gives out before QuickJS's own check.
  const h = await harness({ limits: { stackBytes: 1024 * 1024 } });
  h.rt.load('deep.js', 'function deep(x) { return deep(x + 1) + 1; }\nfunction onItemCaptured(d) { deep(0); }');
  // Only weak references to the faulted instance and its module: the test must not keep them.
  const instOf = () => (h.rt as unknown as { scripts: Map<string, { worker: { released: boolean; hostFaulted: boolean; module: object } }> }).scripts.get('deep.js')!.worker;
  const weakInst = new WeakRef(instOf());
  const weakModule = new WeakRef(instOf().module);
  h.rt.captured([item()]);
  const errs = h.events.filter((e) => e.type === 'error');
  assert.equal(errs.length, 1);
  assert.match((errs[0] as { message: string }).message, /^deep\.js: onItemCaptured: .*; the script was stopped$/);
  assert.equal(instOf().hostFaulted, true);
  // The faulted runtime cannot be freed inside its module (JS_FreeRuntime aborts on what the
  // unwound frames held): the module is replaced for new instances and let go with it.
  await h.rt.moduleSettled();
  h.rt.load('deep.js', 'function onItemCaptured(d) { console.log("v2"); }');
  assert.equal(weakInst.deref()?.released, true);
  assert.notEqual(instOf().module, weakModule.deref(), 'the new version runs on a fresh module');
  assert.equal(h.rt.moduleCount, 1, 'no instance is left on the faulted module');
  h.rt.captured([item()]);
  assert.deepEqual(h.logs(), ['v2']);
  // Nothing holds the faulted module any more: a collection frees its memory (runtime included).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 10 && weakModule.deref() !== undefined; i++) {
    await new Promise((r) => setImmediate(r));
    gc();
  }
  assert.equal(weakModule.deref(), undefined, 'the faulted QuickJS module (and the runtime in it) was garbage collected');
  h.rt.close();
});
