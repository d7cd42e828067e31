/**
 * An alias that is declared but never read (`var p = data.protocol.name;`) still walks its
 * chain when the hook runs: the projected item must hold the objects along it, or the hook
 * throws a TypeError the whole item would not (found driving the language server: a saved
 * version that only declared such an alias failed on every item).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuntimeClient } from '../../server/runtime/client';
import type { RuntimeEvent } from '../../server/runtime/types';
import { HTTP_SAMPLE } from './fixture';

test('an unused alias of a nested field runs without errors when projected', async () => {
  const c = await RuntimeClient.start({});
  const events: RuntimeEvent[] = [];
  c.onEvent = (e) => events.push(e);
  try {
    await c.load('alias.js', 'function onItemCaptured(data) {\n  var p = data.protocol.name;\n  var q = data.request.headers.Host;\n  var n = data.src.ip;\n  console.log(typeof n);\n}\n');
    for (let i = 0; i < 5; i++) c.captured(HTTP_SAMPLE);
    await c.drain();
    assert.deepEqual(events.filter((e) => e.type === 'error'), []);
    assert.equal(events.filter((e) => e.type === 'log' && e.text === 'string').length, 5);
  } finally {
    await c.close();
  }
});
