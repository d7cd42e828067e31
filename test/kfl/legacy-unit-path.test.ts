// Legacy KFL JSONPath subset, unit level (issue #13 mutation testing): parsePath's fragments and
// errors, getAll's result lists (ojg semantics), childOf, walkCode and compileGetter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NONE, PathSyntaxError, childOf, compileGetter, getAll, parsePath, walkCode } from '../../server/kfl/legacy/path';

const bad = (s: string) =>
  assert.throws(() => parsePath(s), (e) => e instanceof PathSyntaxError && e.message === `invalid path "${s}"`, s);

test('path: parsePath fragments', () => {
  assert.deepEqual(parsePath(''), []);
  assert.deepEqual(parsePath('$'), []);
  assert.deepEqual(parsePath('.'), []);
  assert.deepEqual(parsePath('$.'), []);
  assert.deepEqual(parsePath('a'), [{ k: 'child', name: 'a' }]);
  assert.deepEqual(parsePath('$.a.b'), [{ k: 'child', name: 'a' }, { k: 'child', name: 'b' }]);
  assert.deepEqual(parsePath('a.b'), [{ k: 'child', name: 'a' }, { k: 'child', name: 'b' }]);
  assert.deepEqual(parsePath('$a'), [{ k: 'child', name: 'a' }]);
  assert.deepEqual(parsePath('x$'), [{ k: 'child', name: 'x$' }]);
  assert.deepEqual(parsePath('.*'), [{ k: 'wild' }]);
  assert.deepEqual(parsePath('a.*.b'), [{ k: 'child', name: 'a' }, { k: 'wild' }, { k: 'child', name: 'b' }]);
  assert.deepEqual(parsePath('a[*]'), [{ k: 'child', name: 'a' }, { k: 'wild' }]);
  assert.deepEqual(parsePath('a[0][-1][12]'), [{ k: 'child', name: 'a' }, { k: 'nth', i: 0 }, { k: 'nth', i: -1 }, { k: 'nth', i: 12 }]);
  assert.deepEqual(parsePath('a.[0]'), [{ k: 'child', name: 'a' }, { k: 'nth', i: 0 }]);
  assert.deepEqual(parsePath('["a.b"]["c"]'), [{ k: 'child', name: 'a.b' }, { k: 'child', name: 'c' }]);
  assert.deepEqual(parsePath('[""]'), [{ k: 'child', name: '' }]);
  assert.deepEqual(parsePath('..a'), [{ k: 'descent' }, { k: 'child', name: 'a' }]);
  assert.deepEqual(parsePath('x...a'), [{ k: 'child', name: 'x' }, { k: 'descent' }, { k: 'child', name: 'a' }]);
  assert.deepEqual(parsePath('a..*'), [{ k: 'child', name: 'a' }, { k: 'descent' }, { k: 'wild' }]);
  assert.deepEqual(parsePath('a..[1]'), [{ k: 'child', name: 'a' }, { k: 'descent' }, { k: 'nth', i: 1 }]);
  assert.deepEqual(parsePath('a b.c-d'), [{ k: 'child', name: 'a b' }, { k: 'child', name: 'c-d' }]);
  assert.deepEqual(parsePath('a*'), [{ k: 'child', name: 'a*' }]);
  assert.deepEqual(parsePath('.a*'), [{ k: 'child', name: 'a*' }]);
});

test('path: parsePath errors', () => {
  for (const s of ['a.', 'a..', '..', '$..', 'a[', 'a[x]', 'a["x]', 'a["]', 'a[1.5]', 'a[-]', 'a[ 1]', ']', 'a.]', 'a]', '.]']) bad(s);
});

test('path: childOf', () => {
  assert.equal(childOf({ a: 1 }, 'a'), 1);
  assert.equal(childOf({ a: 0 }, 'a'), 0);
  assert.equal(childOf({ a: null }, 'a'), null);
  assert.equal(childOf({ a: undefined }, 'a'), undefined);
  assert.equal(childOf({}, 'toString'), undefined);
  assert.equal(childOf(Object.create({ a: 1 }), 'a'), undefined);
  assert.equal(childOf([5], '0'), undefined);
  assert.equal(childOf(null, 'a'), undefined);
  assert.equal(childOf('str', 'length'), undefined);
});

const DOC = { a: { b: [1, { c: 2 }, undefined, 3], n: null }, c: 4, u: undefined };

test('path: getAll', () => {
  const g = (s: string, root: unknown = DOC) => getAll(parsePath(s), root);
  assert.deepEqual(g(''), [DOC]);
  assert.deepEqual(g('c'), [4]);
  assert.deepEqual(g('a.n'), [null]);
  assert.deepEqual(g('u'), []);
  assert.deepEqual(g('zz'), []);
  assert.deepEqual(g('zz.y.x'), []);
  assert.deepEqual(g('a.b[0]'), [1]);
  assert.deepEqual(g('a.b[3]'), [3]);
  assert.deepEqual(g('a.b[4]'), []);
  assert.deepEqual(g('a.b[2]'), []);
  assert.deepEqual(g('a.b[-1]'), [3]);
  assert.deepEqual(g('a.b[-4]'), [1]);
  assert.deepEqual(g('a.b[-5]'), []);
  assert.deepEqual(g('a[0]'), []);
  assert.deepEqual(g('a.b[1].c'), [2]);
  assert.deepEqual(g('a.b.*'), [1, { c: 2 }, 3]);
  assert.deepEqual(g('a.*'), [[1, { c: 2 }, undefined, 3], null]);
  // A bare "*" is a key named "*"; only ".*" and "[*]" are wildcards.
  assert.deepEqual(parsePath('*'), [{ k: 'child', name: '*' }]);
  assert.deepEqual(g('*'), []);
  assert.deepEqual(g('.*'), [DOC.a, 4]);
  assert.deepEqual(g('c.*'), []);
  assert.deepEqual(g('..c').sort(), [2, 4]);
  assert.deepEqual(getAll(parsePath('..x'), { x: 1, y: [{ x: 2 }, undefined, { z: { x: 3 } }], w: undefined }), [1, 2, 3]);
  assert.deepEqual(getAll(parsePath('..'.concat('*')), { p: [7] }), [[7], 7]);
  assert.deepEqual(getAll(parsePath('a..[0]'), { a: [[5, 6], 9] }), [[5, 6], 5]);
  // Descent visits the node itself first, then children in document order.
  assert.deepEqual(getAll([{ k: 'descent' }], { a: [1] }), [{ a: [1] }, [1], 1]);
  assert.deepEqual(getAll([{ k: 'descent' }], 5), [5]);
  // Several roots: results in order.
  assert.deepEqual(getAll(parsePath('.*.v'), { p: { v: 1 }, q: { w: 2 }, r: { v: 3 } }), [1, 3]);
  assert.deepEqual(getAll(parsePath('[*][1]'), [[1, 2], [3], [4, 5]]), [2, 5]);
});

test('path: walkCode', () => {
  assert.equal(walkCode(parsePath('a.*'), 'x;'), null);
  assert.equal(walkCode(parsePath('..a'), 'x;'), null);
  assert.equal(walkCode([], 'x;'), '');
  assert.equal(
    walkCode(parsePath('a[1][-2]'), 'M;'),
    "if (typeof v !== 'object' || v === null || Array.isArray(v)) M;\nv = v[\"a\"];\nif (v === undefined) M;\n" +
      'if (!Array.isArray(v)) M;\nv = v[1];\nif (v === undefined) M;\n' +
      'if (!Array.isArray(v)) M;\nv = v[v.length + -2];\nif (v === undefined) M;\n',
  );
  // Names that exist on Object.prototype need an own-property check.
  assert.equal(
    walkCode(parsePath('constructor'), 'M;'),
    "if (typeof v !== 'object' || v === null || Array.isArray(v)) M;\nif (!HAS_OWN.call(v, \"constructor\")) M;\nv = v[\"constructor\"];\nif (v === undefined) M;\n",
  );
});

test('path: compileGetter', () => {
  const get = (s: string, root: unknown) => compileGetter(parsePath(s))(root);
  assert.equal(get('c', DOC), 4);
  assert.equal(get('a.n', DOC), null);
  assert.equal(get('u', DOC), NONE);
  assert.equal(get('zz', DOC), NONE);
  assert.equal(get('a.b[1].c', DOC), 2);
  assert.equal(get('a.b[-1]', DOC), 3);
  assert.equal(get('a.b[2]', DOC), NONE);
  assert.equal(get('a.b[9]', DOC), NONE);
  assert.equal(get('a[0]', DOC), NONE);
  assert.equal(get('a.b.c', DOC), NONE);
  assert.equal(get('c.d', DOC), NONE);
  assert.equal(get('x', null), NONE);
  assert.equal(get('x', [1]), NONE);
  assert.equal(get('[0]', { 0: 1 }), NONE);
  assert.equal(get('["0"]', [1]), NONE);
  assert.deepEqual(get('', DOC), DOC);
  assert.equal(get('toString', {}), NONE);
  assert.equal(get('constructor', {}), NONE);
  assert.equal(get('constructor', { constructor: 'mine' }), 'mine');
  assert.equal(get('hasOwnProperty', Object.create({ hasOwnProperty: 1 })), NONE);
  // The general walker: one result alone, several as an array, none as NONE.
  assert.equal(get('a.*', { a: { x: 1 } }), 1);
  assert.deepEqual(get('a.*', { a: { x: 1, y: 2 } }), [1, 2]);
  assert.equal(get('a.*', { a: {} }), NONE);
  assert.equal(get('a.*', { a: 5 }), NONE);
  assert.deepEqual(get('..c', DOC), getAll(parsePath('..c'), DOC));
  // An array value from a plain path is the value itself, not a result list.
  assert.deepEqual(get('a.b', { a: { b: [1, 2] } }), [1, 2]);
});
