// Legacy KFL operand conversions, unit level (issue #13 mutation testing): Go's 'g' 6 float
// rendering, string/bool/float operands, deep equality, ==, != and the comparisons with arrays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CMP, Rx, cmp, deepEqual, eql, formatG6, neq, num, numStr, str, truthy } from '../../server/kfl/legacy/values';

test('values: formatG6 as Go FormatFloat(f, g, 6, 64)', () => {
  const cases: [number, string][] = [
    [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [0, '0'], [-0, '-0'],
    [1, '1'], [-1, '-1'], [1.5, '1.5'], [0.1, '0.1'], [100, '100'], [123456, '123456'],
    [1234567, '1.23457e+06'], [1e6, '1e+06'], [999999, '999999'], [9999995, '1e+07'],
    [0.0001, '0.0001'], [0.00001, '1e-05'], [0.000123456789, '0.000123457'], [1.23456789e-7, '1.23457e-07'],
    [1e21, '1e+21'], [1.5e300, '1.5e+300'], [2.5e-300, '2.5e-300'], [-1234567, '-1.23457e+06'],
    [3.14159265, '3.14159'], [10.5, '10.5'], [1e5, '100000'], [12.0001, '12.0001'], [0.5, '0.5'],
    [123.456789, '123.457'], [1.2e-5, '1.2e-05'],
  ];
  for (const [f, want] of cases) assert.equal(formatG6(f), want, String(f));
});

test('values: numStr, str, truthy', () => {
  assert.equal(numStr(42), '42');
  assert.equal(numStr(-7), '-7');
  assert.equal(numStr(1234567), '1234567');
  assert.equal(numStr(1.5), '1.5');
  assert.equal(numStr(1e18), '1000000000000000000');
  assert.equal(numStr(-1e18), '-1000000000000000000');
  assert.equal(numStr(1e19), '1e+19');
  assert.equal(numStr(-1e19), '-1e+19');
  assert.equal(numStr(9.223372036854776e18), '9.22337e+18');
  assert.equal(str('x'), 'x');
  assert.equal(str(''), '');
  assert.equal(str(3), '3');
  assert.equal(str(2.25), '2.25');
  assert.equal(str(true), 'true');
  assert.equal(str(false), 'false');
  assert.equal(str(null), 'null');
  assert.equal(str({}), '');
  assert.equal(str([1]), '');
  assert.equal(str(undefined), '');
  assert.equal(str(1n), '');
  for (const [v, want] of [
    ['a', true], ['', false], [true, true], [false, false], [1, true], [0.5, true], [0, false], [-1, false],
    [[0], true], [[], false], [{ a: 1 }, false], [null, false], [undefined, false], [NaN, false],
  ] as [unknown, boolean][]) assert.equal(truthy(v), want, JSON.stringify(v));
});

test('values: num as Go ParseFloat', () => {
  const cases: [unknown, number][] = [
    [5, 5], [true, 1], [false, 0], [null, 0], [undefined, 0], [{}, 0], [[3], 0],
    ['42', 42], ['-1.5', -1.5], ['+2', 2], ['.5', 0.5], ['5.', 5], ['1e3', 1000], ['1E-2', 0.01], ['-2e+2', -200],
    ['inf', Infinity], ['+Inf', Infinity], ['-inf', -Infinity], ['Infinity', Infinity], ['-INFINITY', -Infinity],
    ['abc', 0], ['', 0], ['1.2.3', 0], [' 1', 0], ['1 ', 0], ['0x10', 0], ['e5', 0], ['1e', 0], ['--1', 0], ['infinit', 0], ['1_000', 0],
  ];
  for (const [v, want] of cases) assert.equal(num(v), want, JSON.stringify(v));
  assert.ok(Number.isNaN(num('nan')));
  assert.ok(Number.isNaN(num('NaN')));
  assert.ok(Number.isNaN(num('-nan')));
});

test('values: deepEqual', () => {
  assert.equal(deepEqual(1, 1), true);
  assert.equal(deepEqual(1, '1'), false);
  assert.equal(deepEqual(null, null), true);
  assert.equal(deepEqual(null, {}), false);
  assert.equal(deepEqual({}, null), false);
  assert.equal(deepEqual([], {}), false);
  assert.equal(deepEqual({}, []), false);
  assert.equal(deepEqual([1, [2, { a: 3 }]], [1, [2, { a: 3 }]]), true);
  assert.equal(deepEqual([1, 2], [1, 2, 3]), false);
  assert.equal(deepEqual([1, 2], [1, 3]), false);
  assert.equal(deepEqual([], []), true);
  assert.equal(deepEqual({ a: 1, b: undefined }, { a: 1 }), true);
  assert.equal(deepEqual({ a: 1 }, { a: 1, b: undefined }), true);
  assert.equal(deepEqual({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(deepEqual({ a: 1, b: 2 }, { a: 1 }), false);
  assert.equal(deepEqual({ a: 1, b: 2 }, { b: 2, a: 1 }), true);
  assert.equal(deepEqual({ a: { x: 1 } }, { a: { x: 2 } }), false);
  assert.equal(deepEqual({ a: 1 }, { b: 1 }), false);
  assert.equal(deepEqual('x', 'x'), true);
});

test('values: eql and neq', () => {
  const rx = new Rx(/^4\d\d$/);
  const cases: [unknown, unknown, boolean][] = [
    [rx, 404, true], [rx, 200, false], [404, rx, true], ['500', rx, false],
    [[1, 2], [1, 2], true], [[1, 2], [2, 1], false],
    [[1, 'a'], 'a', true], [[1, 'a'], 1, true], [[1, 'a'], 'b', false], [[], 'a', false],
    ['a', [1, 'a'], true], [2, [1, 'a'], false], ['x', [], false],
    [1, '1', true], [1, 1.0, true], [true, 'true', true], [null, 'null', true], ['a', 'b', false],
    [{}, '', true], [[1], { 0: 1 }, false],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(eql(a, b), want, `eql ${String(a)} ${String(b)}`);
    assert.equal(neq(a, b), !want, `neq ${String(a)} ${String(b)}`);
  }
});

test('values: comparisons', () => {
  assert.deepEqual(Object.keys(CMP).sort(), ['<', '<=', '>', '>=']);
  const ops: [string, unknown, unknown, boolean][] = [
    ['>', 2, 1, true], ['>', 1, 1, false], ['>=', 1, 1, true], ['>=', 0, 1, false],
    ['<', 1, 2, true], ['<', 1, 1, false], ['<=', 1, 1, true], ['<=', 2, 1, false],
    ['>', '10', '9', true], ['<', 'x', 1, true], ['>', true, false, true],
    // Array vs array: every pair must hold.
    ['<', [1, 2], [3, 4], true], ['<', [1, 5], [3, 4], false], ['<', [], [1], true], ['<', [1], [], true],
    // Array vs scalar, either side: some element holds.
    ['>', [1, 5], 3, true], ['>', [1, 2], 3, false], ['>', [], 3, false],
    ['<', 3, [1, 5], true], ['<', 3, [1, 2], false], ['<', 3, [], false],
  ];
  for (const [op, a, b, want] of ops) assert.equal(cmp(op as '<', a, b), want, `${JSON.stringify(a)} ${op} ${JSON.stringify(b)}`);
});
