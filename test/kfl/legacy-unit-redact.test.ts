// Legacy KFL's redact() (server/kfl/legacy/redact.ts), unit level (issue #13 mutation testing):
// child, index (negative, out of range), wildcard and `..name` paths; `.json()` and `.xml()`
// descending into embedded (and base64) documents, re-encoded the same way; paths that do not
// apply leave the item as it was. Each case lists the top-level fields that changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactItem, REDACTED } from '../../server/kfl/legacy/redact';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const DOC = {
  a: { b: 1, c: [10, 20, 30], d: { b: 2 } },
  arr: [{ b: 3 }, [{ b: 4 }]],
  s: '{"x":{"y":1,"z":[1,2]},"t":"u"}',
  s64: b64('{"x":{"y":1}}'),
  n: 5,
  bad: '{nope',
  deep: '{"j":"{\\"k\\":1}"}',
  xml: '<?xml version="1.0"?>\n<r><a>1</a><b>2</b><b>3</b><c><d>4</d></c></r>',
  xml64: b64('<r><a>1</a></r>'),
  notxml: '<<<',
};
const R = REDACTED;

/** The top-level fields redact(paths) changed, with their new values. */
function changed(paths: string[]): Record<string, unknown> {
  const before = JSON.stringify(DOC);
  const out = redactItem(DOC, paths) as Record<string, unknown>;
  assert.equal(JSON.stringify(DOC), before, 'the item itself is not touched');
  return Object.fromEntries(Object.keys(out).filter((k) => JSON.stringify(out[k]) !== JSON.stringify((DOC as Record<string, unknown>)[k])).map((k) => [k, out[k]]));
}

test('redact: plain paths', () => {
  assert.deepEqual(changed(['a.b']), { a: { b: R, c: [10, 20, 30], d: { b: 2 } } });
  assert.deepEqual(changed(['a.c[1]']), { a: { b: 1, c: [10, R, 30], d: { b: 2 } } });
  assert.deepEqual(changed(['a.c[0]']), { a: { b: 1, c: [R, 20, 30], d: { b: 2 } } });
  assert.deepEqual(changed(['a.c[-1]']), { a: { b: 1, c: [10, 20, R], d: { b: 2 } } });
  assert.deepEqual(changed(['a.c[-3]']), { a: { b: 1, c: [R, 20, 30], d: { b: 2 } } });
  assert.deepEqual(changed(['a.c[*]']), { a: { b: 1, c: [R, R, R], d: { b: 2 } } });
  assert.deepEqual(changed(['a.*']), { a: { b: R, c: R, d: R } });
  assert.deepEqual(changed(['arr[*].b']), { arr: [{ b: R }, [{ b: 4 }]] });
  assert.deepEqual(changed(['a.b', 'n']), { a: { b: R, c: [10, 20, 30], d: { b: 2 } }, n: R });
  // Every key of that name, at any depth, through arrays too.
  const everywhere = { a: { b: R, c: [10, 20, 30], d: { b: R } }, arr: [{ b: R }, [{ b: R }]] };
  assert.deepEqual(changed(['..b']), everywhere);
  assert.deepEqual(changed(['...b']), everywhere);
  // Paths that do not apply: out of range, a child of an array, an index of a map, missing, malformed.
  for (const p of ['a.c[3]', 'a.c[5]', 'a.c[-4]', 'a.c[-5]', 'a.c.b', 'a[0]', 'nope.x', '[[[', 'a.c[0:1]']) assert.deepEqual(changed([p]), {}, p);
});

test('redact: .json() descends into an embedded JSON string (base64 too) and re-encodes it', () => {
  assert.deepEqual(changed(['s.json().x.y']), { s: '{"x":{"y":"[REDACTED]","z":[1,2]},"t":"u"}' });
  assert.deepEqual(changed(['s.json().x.z[0]']), { s: '{"x":{"y":1,"z":["[REDACTED]",2]},"t":"u"}' });
  assert.deepEqual(changed(['s64.json().x.y']), { s64: b64('{"x":{"y":"[REDACTED]"}}') });
  assert.deepEqual(changed(['deep.json().j.json().k']), { deep: '{"j":"{\\"k\\":\\"[REDACTED]\\"}"}' });
  // Nothing inside to redact, not a string, not JSON: the field stays as it was.
  for (const p of ['s.json().nope', 'n.json().x', 'bad.json().x', 'a.json().b', 'nope.json().x']) assert.deepEqual(changed([p]), {}, p);
});

test('redact: .xml() descends into an embedded XML string (base64 too), keeping its declaration', () => {
  const xml = (body: string) => ({ xml: `<?xml version="1.0"?>\n<r>${body}</r>` });
  assert.deepEqual(changed(['xml.xml().r.a']), xml('<a>[REDACTED]</a><b>2</b><b>3</b><c><d>4</d></c>'));
  assert.deepEqual(changed(['xml.xml().r.a[0]']), xml('<a>[REDACTED]</a><b>2</b><b>3</b><c><d>4</d></c>'));
  assert.deepEqual(changed(['xml.xml().r.b[0]']), xml('<a>1</a><b>[REDACTED]</b><b>3</b><c><d>4</d></c>'));
  assert.deepEqual(changed(['xml.xml().r.b[1]']), xml('<a>1</a><b>2</b><b>[REDACTED]</b><c><d>4</d></c>'));
  assert.deepEqual(changed(['xml.xml().r.c.d']), xml('<a>1</a><b>2</b><b>3</b><c><d>[REDACTED]</d></c>'));
  assert.deepEqual(changed(['xml.xml().r.c[0].d']), xml('<a>1</a><b>2</b><b>3</b><c><d>[REDACTED]</d></c>'));
  assert.deepEqual(changed(['xml64.xml().r.a']), { xml64: b64('<r><a>[REDACTED]</a></r>') });
  for (const p of ['xml.xml().r.zz', 'xml.xml().r.b[2]', 'xml.xml().r.b[5]', 'xml.xml().r.a[1]', 'xml.xml().r.c[1].d', 'xml.xml().[[[', 'notxml.xml().r', 'n.xml().r', 'nope.xml().r']) {
    assert.deepEqual(changed([p]), {}, p);
  }
});
