// Legacy KFL entry points, unit level (issue #13 mutation testing): the compiled query's shape,
// the compile cache (reuse, least-recently-used eviction at 256), per-compilation clocks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryError } from '../../server/kfl/api';
import { compileLegacy, validateLegacy } from '../../server/kfl/legacy/index';

test('index: compiled query shape', () => {
  const q = compileLegacy('a == 1');
  assert.equal(q.language, 'kfl');
  assert.equal(q.source, 'a == 1');
  assert.equal('limit' in q, false);
  assert.deepEqual(q.redactions, []);
  assert.ok(Object.isFrozen(q.redactions));
  assert.equal(q.match({ a: 1 } as never), true);
  assert.equal(q.match({ a: 2 } as never), false);
  const l = compileLegacy('limit(7) and redact("x", "y.z") and redact("w")');
  assert.equal(l.limit, 7);
  assert.deepEqual(l.redactions, ['x', 'y.z', 'w']);
  // limit(0) sets no limit (only a positive n does); the first positive one wins.
  assert.equal(compileLegacy('limit(0)').limit, undefined);
  assert.equal(compileLegacy('limit(0) and limit(4) and limit(9)').limit, 4);
  // A non-boolean result is judged by truthiness.
  assert.equal(compileLegacy('a').match({ a: 'x' } as never), true);
  assert.equal(compileLegacy('a').match({ a: '' } as never), false);
  assert.equal(compileLegacy('').match({} as never), true);
});

test('index: validateLegacy throws QueryError, and nothing for a good query', () => {
  assert.equal(validateLegacy('a == 1'), undefined);
  assert.throws(() => validateLegacy('a == '), (e) => e instanceof QueryError && e.language === 'kfl');
  assert.throws(() => compileLegacy('a ?'), QueryError);
});

test('index: match never throws and restores its context when nested', () => {
  const outer = compileLegacy('a == 1');
  const inner = compileLegacy('b == 2');
  // A getter that runs another query while the first one is evaluating.
  let innerResult: boolean | undefined;
  const item = {
    get a() {
      innerResult = inner.match({ b: 2 } as never);
      return 1;
    },
  };
  assert.equal(outer.match(item as never), true);
  assert.equal(innerResult, true);
  assert.equal(outer.match({ a: 1 } as never), true);
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  assert.doesNotThrow(() => compileLegacy('redact("self") and a == 1').match(cyclic as never));
});

test('index: the cache keeps 256 queries, least recently used evicted first', () => {
  const fill = (tag: string, n: number) => {
    for (let i = 0; i < n; i++) compileLegacy(`fill_${tag} == ${i}`);
  };
  const a = compileLegacy('cache_a == 1');
  assert.equal(compileLegacy('cache_a == 1'), a);
  fill('one', 255);
  // Still there after 255 others (256 entries in all); using it makes it the most recent.
  assert.equal(compileLegacy('cache_a == 1'), a);
  fill('two', 255);
  assert.equal(compileLegacy('cache_a == 1'), a);
  // 256 others push it out.
  fill('three', 256);
  const a2 = compileLegacy('cache_a == 1');
  assert.notEqual(a2, a);
  assert.equal(a2.match({ cache_a: 1 } as never), true);
});

test('index: each compilation of a clock query has its own now', () => {
  const q1 = compileLegacy('t <= now()', { now: () => 1000 });
  const q2 = compileLegacy('t <= now()', { now: () => 5000 });
  assert.notEqual(q1, q2);
  assert.equal(q1.source, 't <= now()');
  assert.equal(q1.language, 'kfl');
  assert.equal(q1.match({ t: 3000 } as never), false);
  assert.equal(q2.match({ t: 3000 } as never), true);
  assert.equal(q1.match({ t: 1000 } as never), true);
  const r = compileLegacy('limit(3) and redact("x") and t <= now()', { now: () => 0 });
  assert.equal(r.limit, 3);
  assert.deepEqual(r.redactions, ['x']);
  // Without opts.now, the wall clock.
  const live = compileLegacy('t <= now()');
  assert.equal(live.match({ t: Date.now() - 60_000 } as never), true);
  assert.equal(live.match({ t: Date.now() + 3_600_000 } as never), false);
});
