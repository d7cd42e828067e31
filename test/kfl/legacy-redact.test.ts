// redact(): the paths a query records, redactItem on a copy (top-level, recursive `..name`,
// nested json()/xml() bodies with base64 re-encoding), and how a redaction is seen by the rest
// of the query while the caller's item stays untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { compileLegacy, redactItem } from '../../server/kfl/legacy/index';

const R = '[REDACTED]';
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const BODY = JSON.stringify({ order: { id: 7, items: [{ sku: 'a' }, { sku: 'b' }] }, token: 'secret' });
const XML = '<?xml version="1.0" encoding="UTF-8"?>\n<shop><item kind="a"><name lang="en">Pen</name></item><item kind="b"><name lang="en">Ink</name></item></shop>';
const DOC = {
  id: 7041,
  sku: 'KB-42',
  vendor: { name: 'Acme', country: 'NL' },
  tags: ['new', 'sale'],
  similar: { sku: 'KB-43', vendor: { name: 'Other' } },
  body: BODY,
  body64: b64(BODY),
  xmlBody: XML,
  xml64: b64(XML),
};
const xmlNames = (xml: string) => {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '-', textNodeName: '#text' }).parse(xml);
  return (doc.shop.item as { name: unknown }[]).map((i) => (typeof i.name === 'string' ? i.name : (i.name as Record<string, string>)['#text']));
};

test('redact: query records its paths and stays true', () => {
  const q = compileLegacy('sku == "KB-42" and redact("sku", "vendor.name")');
  assert.deepEqual(q.redactions, ['sku', 'vendor.name']);
  assert.equal(q.match(DOC as never), true);
  assert.deepEqual(compileLegacy('http').redactions, []);
  assert.equal(compileLegacy('redact("sku")').match({} as never), true);
});

test('redact: later terms see the redacted record; the item itself is untouched', () => {
  const before = JSON.stringify(DOC);
  assert.equal(compileLegacy('redact("sku") and sku == "KB-42"').match(DOC as never), false);
  assert.equal(compileLegacy('redact("sku") and sku == "[REDACTED]"').match(DOC as never), true);
  assert.equal(compileLegacy('sku == "KB-42" and redact("sku")').match(DOC as never), true);
  assert.equal(compileLegacy('redact("id") and id == 7041').match(DOC as never), false);
  assert.equal(JSON.stringify(DOC), before);
});

const CASES: [paths: string[], check: (r: typeof DOC) => void][] = [
  [['sku', 'vendor.name'], (r) => { assert.equal(r.sku, R); assert.equal(r.vendor.name, R); assert.equal(r.vendor.country, 'NL'); assert.equal(r.similar.sku, 'KB-43'); }],
  [['nosuch', 'vendor.name'], (r) => { assert.equal(r.sku, 'KB-42'); assert.equal(r.vendor.name, R); assert.ok(!('nosuch' in r)); }],
  [['..name'], (r) => { assert.equal(r.vendor.name, R); assert.equal(r.similar.vendor.name, R); assert.equal(r.sku, 'KB-42'); }],
  [['..sku', '..surname'], (r) => { assert.equal(r.sku, R); assert.equal(r.similar.sku, R); }],
  [['tags'], (r) => assert.equal(r.tags as unknown, R)],
  [['tags[1]'], (r) => assert.deepEqual(r.tags, ['new', R])],
  [['id'], (r) => assert.equal(r.id as unknown, R)],
  [['body.json().order.id'], (r) => { const b = JSON.parse(r.body); assert.equal(b.order.id, R); assert.equal(b.token, 'secret'); }],
  [['body.json().token', 'body.json()..sku'], (r) => { const b = JSON.parse(r.body); assert.equal(b.token, R); assert.deepEqual(b.order.items, [{ sku: R }, { sku: R }]); }],
  [['body.json()..nope'], (r) => assert.equal(r.body, BODY)],
  [['body64.json().token'], (r) => { const b = JSON.parse(unb64(r.body64)); assert.equal(b.token, R); assert.equal(b.order.id, 7); }],
  [['xmlBody.xml().shop.item[1].name'], (r) => { assert.deepEqual(xmlNames(r.xmlBody), ['Pen', R]); assert.ok(r.xmlBody.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n')); }],
  [['xml64.xml().shop.item[0].name'], (r) => assert.deepEqual(xmlNames(unb64(r.xml64)), [R, 'Ink'])],
  [['sku.json().x', 'vendor.xml().a'], (r) => { assert.equal(r.sku, 'KB-42'); assert.deepEqual(r.vendor, DOC.vendor); }],
];

test('redactItem: paths, recursive descent, nested json/xml', () => {
  for (const [paths, check] of CASES) {
    const before = JSON.stringify(DOC);
    const out = redactItem(DOC, paths) as typeof DOC;
    check(out);
    assert.equal(JSON.stringify(DOC), before, `item mutated by ${paths}`);
  }
});

test('redactItem: the query and redactItem agree on what is hidden', () => {
  const q = compileLegacy('redact("body64.json().token", "vendor.name") and vendor.name == "[REDACTED]" and body64.json().token == "[REDACTED]"');
  assert.equal(q.match(DOC as never), true);
  const shown = redactItem(DOC, q.redactions) as typeof DOC;
  assert.equal(JSON.parse(unb64(shown.body64)).token, R);
  assert.equal(shown.vendor.name, R);
});
