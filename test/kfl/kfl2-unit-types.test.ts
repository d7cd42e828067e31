// Unit tests of KFL2's static type model (server/kfl/kfl2/types.ts), which check.ts uses to
// type the parsed query: how a type is shown in messages, which types fit each other, and the
// common type of a ternary's or list literal's parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compatible, isNumeric, join, list, map, show, type Type } from '../../server/kfl/kfl2/types';

test('show writes types as CEL does', () => {
  assert.equal(show('int'), 'int');
  assert.equal(show('null'), 'null_type');
  assert.equal(show('dyn'), 'dyn');
  assert.equal(show(list('string')), 'list(string)');
  assert.equal(show(list(list('null'))), 'list(list(null_type))');
  assert.equal(show(map('string', list('int'))), 'map(string, list(int))');
  assert.equal(show(list(map('int', 'bytes'))), 'list(map(int, bytes))');
});

test('isNumeric: int, uint and double only', () => {
  for (const t of ['int', 'uint', 'double'] as Type[]) assert.equal(isNumeric(t), true, show(t));
  for (const t of ['bool', 'string', 'bytes', 'null', 'timestamp', 'duration', 'type', 'dyn', list('int'), map('int', 'int')] as Type[]) {
    assert.equal(isNumeric(t), false, show(t));
  }
});

test('compatible: dyn fits anything, the rest by structure', () => {
  const yes: [Type, Type][] = [
    ['dyn', 'int'], ['int', 'dyn'], ['dyn', list('int')], [map('int', 'int'), 'dyn'], ['int', 'int'], ['string', 'string'],
    [list('int'), list('int')], [list('int'), list('dyn')], [list('dyn'), list('string')], [list(list('int')), list(list('int'))],
    [map('string', 'int'), map('string', 'int')], [map('dyn', 'int'), map('string', 'dyn')], [map('string', list('int')), map('string', list('dyn'))],
  ];
  const no: [Type, Type][] = [
    ['int', 'uint'], ['int', 'double'], ['string', 'bytes'], ['null', 'int'], ['int', list('int')], [list('int'), 'int'],
    [list('int'), list('string')], [list(list('int')), list('int')], [list('int'), map('int', 'int')], [map('int', 'int'), list('int')],
    [map('string', 'int'), map('int', 'int')], [map('string', 'int'), map('string', 'string')], [map('string', 'int'), 'string'],
  ];
  for (const [a, b] of yes) assert.equal(compatible(a, b), true, `${show(a)} ~ ${show(b)}`);
  for (const [a, b] of no) assert.equal(compatible(a, b), false, `${show(a)} !~ ${show(b)}`);
});

test('join: the more precise of two compatible types, part by part', () => {
  assert.equal(join('dyn', 'int'), 'int');
  assert.equal(join('int', 'dyn'), 'int');
  assert.equal(join('dyn', 'dyn'), 'dyn');
  assert.equal(join('string', 'string'), 'string');
  assert.deepEqual(join(list('dyn'), list('int')), list('int'));
  assert.deepEqual(join(list('int'), list('dyn')), list('int'));
  assert.deepEqual(join(list(list('dyn')), list(list('bool'))), list(list('bool')));
  assert.deepEqual(join(map('dyn', 'int'), map('string', 'dyn')), map('string', 'int'));
  assert.deepEqual(join(map('string', list('dyn')), map('dyn', list('int'))), map('string', list('int')));
  // not compatible: the first one stands
  assert.deepEqual(join(list('int'), map('int', 'int')), list('int'));
  assert.deepEqual(join(map('int', 'int'), list('int')), map('int', 'int'));
  assert.equal(join('int', list('int')), 'int');
  assert.deepEqual(join(list('int'), 'int'), list('int'));
});
