// Unit tests of legacy KFL's document helpers (server/kfl/legacy/helpers.ts): Go's base64
// acceptance, json()/xml() over plain or base64 text (with their one-entry caches), mxj-style XML
// paths, and datetime()'s Go layout `1/2/2006, 3:04:05.000 PM` against a reference built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isXmlFail, jsonLookup, parseDatetime, parseJsonLoose, parseXmlLoose, tryBase64, xmlLookup, xmlSegs, xmlValues } from '../../server/kfl/legacy/helpers';
import { parsePath } from '../../server/kfl/legacy/path';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('tryBase64: padded standard base64 only, CR/LF ignored', () => {
  assert.equal(tryBase64(b64('{"a":1}')), '{"a":1}');
  assert.equal(tryBase64('aGk='), 'hi');
  assert.equal(tryBase64('aGVsbG8h'), 'hello!');
  assert.equal(tryBase64(''), '');
  assert.equal(tryBase64('aGVs\r\nbG8h'), 'hello!');
  assert.equal(tryBase64('aGVs\nbG8h'), 'hello!');
  assert.equal(tryBase64('aGVs\rbG8h'), 'hello!');
  assert.equal(tryBase64('aGk'), null); // unpadded
  assert.equal(tryBase64('aGk=='), null); // length
  assert.equal(tryBase64('aG-_'), null); // URL alphabet
  assert.equal(tryBase64('aG k'), null);
  assert.equal(tryBase64('a==='), null);
  assert.equal(tryBase64('ab=c'), null);
  assert.equal(tryBase64('{"a":1}'), null);
});

test('json(): plain or base64 text, first value at the path, false otherwise; the cache never mixes inputs', () => {
  const doc = '{"a":{"b":[10,20]},"s":"x"}';
  assert.equal(jsonLookup(doc, parsePath('a.b[1]')), 20);
  assert.equal(jsonLookup(b64(doc), parsePath('a.b[0]')), 10);
  assert.equal(jsonLookup(doc, parsePath('s')), 'x');
  assert.equal(jsonLookup(doc, parsePath('zz')), false);
  assert.equal(jsonLookup('{nope', parsePath('a')), false);
  assert.equal(jsonLookup('{nope', parsePath('a')), false);
  assert.equal(jsonLookup('[1,2]', parsePath('[0]')), 1);
  assert.deepEqual(parseJsonLoose('{"k":true}'), { k: true });
  assert.deepEqual(parseJsonLoose('{"k":true}'), { k: true }); // the cached answer is the same
  assert.deepEqual(parseJsonLoose('{"k":false}'), { k: false });
  assert.deepEqual(parseJsonLoose('[null]'), [null]);
  // four base64 letters are decoded first, as Kubeshark's Go does: `true` is then not JSON
  assert.equal(jsonLookup('true', parsePath('')), false);
  assert.equal(jsonLookup(' true', parsePath('')), true);
  assert.equal(jsonLookup('"str"', parsePath('')), 'str');
});

test('XML: plain or base64, entities and non-XML refused, mxj-style paths', () => {
  const xml = '<?xml version="1.0"?><root id="7"><item n="1">one</item><item n="2"><b>two</b></item><ns:t>tt</ns:t><e/></root>';
  const doc = parseXmlLoose(xml) as Record<string, any>;
  assert.equal(isXmlFail(doc), false);
  assert.equal(doc.root['-id'], '7');
  assert.equal(doc.root.t, 'tt'); // namespace prefix removed
  assert.deepEqual(parseXmlLoose(b64(xml)), doc);
  assert.equal(parseXmlLoose(xml), parseXmlLoose(xml)); // cached
  for (const bad of ['', 'text', '  plain <a/>', '<a><b></a>', '<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>', b64('no xml')]) {
    assert.equal(isXmlFail(parseXmlLoose(bad)), true, bad);
  }
  assert.equal(isXmlFail(parseXmlLoose('   <a>x</a>')), false);
  assert.equal(isXmlFail(null), false);

  assert.deepEqual(xmlSegs(parsePath('a.b[1].c')), [{ key: 'a' }, { key: 'b', index: 1 }, { key: 'c' }]);
  assert.deepEqual(xmlSegs(parsePath('a.*')), [{ key: 'a' }, { key: '*' }]);
  assert.equal(xmlSegs(parsePath('[0]')), null); // an index with nothing before it
  assert.equal(xmlSegs(parsePath('a..b')), null); // descent: not an mxj path
  assert.deepEqual(xmlSegs([]), []);

  const look = (p: string, text = xml) => xmlLookup(text, xmlSegs(parsePath(p)));
  assert.equal(look('root.item'), 'one'); // a list without an index: its first element
  assert.equal(look('root.item[0]'), 'one');
  assert.equal(look('root.item[1].b'), 'two');
  assert.equal(look('root.item[2]'), false);
  assert.equal(look('root.t'), 'tt');
  assert.equal(look('root.t[0]'), 'tt'); // index 0 of a single element is the element
  assert.equal(look('root.t[1]'), false);
  assert.equal(look('root.nothing'), false);
  assert.equal(look('root.item.b'), 'two'); // walked element by element
  assert.equal(look('root.e'), '');
  assert.equal(look('root'), false); // an element with children and no text
  assert.equal(look('root.item', b64(xml)), 'one');
  assert.equal(look('root.item', 'not xml'), false);
  assert.equal(xmlLookup(xml, null), false);
  assert.equal(look('*.item[1].b'), 'two');
  assert.equal(look('a.b', '<a><b x="1">t</b></a>'), 't'); // text beside attributes
  assert.equal(look('a.b', '<a><b x="1"/></a>'), false);

  const root = { r: { '-id': '1', '#text': 'x', a: ['p', 'q'], b: { c: 'd' }, n: null, s: 'str' } };
  assert.deepEqual(xmlValues(root, [{ key: 'r' }, { key: '*' }]), ['p', 'q', { c: 'd' }, null, 'str']);
  assert.deepEqual(xmlValues(root, [{ key: 'r' }, { key: 'a' }]), ['p', 'q']);
  assert.deepEqual(xmlValues(root, [{ key: 'r' }, { key: 'a', index: 1 }]), ['q']);
  assert.deepEqual(xmlValues(root, [{ key: 'r' }, { key: 's' }, { key: 'x' }]), []);
  assert.deepEqual(xmlValues(root, [{ key: 'r' }, { key: 'n' }, { key: 'x' }]), []);
  assert.deepEqual(xmlValues([{ a: 1 }, { a: 2 }], [{ key: 'a' }]), [1, 2]);
  assert.deepEqual(xmlValues(root, []), [root]);
});

test('datetime(): Go\'s layout, UTC, calendar checked, 12 AM/PM, years below 100', () => {
  const ref = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) => {
    const t = new Date(0);
    t.setUTCFullYear(y, mo - 1, d);
    t.setUTCHours(h, mi, s, ms);
    return t.getTime();
  };
  const ok: [string, number][] = [
    ['1/2/2006, 3:04:05.000 PM', ref(2006, 1, 2, 15, 4, 5, 0)],
    ['12/31/2023, 11:59:59.999 PM', ref(2023, 12, 31, 23, 59, 59, 999)],
    ['6/4/2023, 12:00:00.000 AM', ref(2023, 6, 4, 0, 0, 0, 0)],
    ['6/4/2023, 12:30:00.000 PM', ref(2023, 6, 4, 12, 30, 0, 0)],
    ['6/4/2023, 1:30:00.000 AM', ref(2023, 6, 4, 1, 30, 0, 0)],
    ['06/04/2023,   9:09:34.306 AM', ref(2023, 6, 4, 9, 9, 34, 306)],
    ['2/29/2024, 1:00:00.000 AM', ref(2024, 2, 29, 1, 0, 0, 0)],
    ['2/29/2000, 1:00:00.000 AM', ref(2000, 2, 29, 1, 0, 0, 0)],
    ['2/28/1900, 1:00:00.000 AM', ref(1900, 2, 28, 1, 0, 0, 0)],
    ['1/1/0099, 0:00:00.000 AM', ref(99, 1, 1, 0, 0, 0, 0)],
    ['4/30/2023, 1:00:00.000 AM', ref(2023, 4, 30, 1, 0, 0, 0)],
    ['1/31/2023, 1:00:00.000 AM', ref(2023, 1, 31, 1, 0, 0, 0)],
  ];
  for (const [s, want] of ok) assert.equal(parseDatetime(s), want, s);
  for (const s of [
    '2/29/2023, 1:00:00.000 AM', '2/29/1900, 1:00:00.000 AM', '2/30/2024, 1:00:00.000 AM', '4/31/2023, 1:00:00.000 AM',
    '13/1/2023, 1:00:00.000 AM', '0/1/2023, 1:00:00.000 AM', '1/0/2023, 1:00:00.000 AM', '1/32/2023, 1:00:00.000 AM',
    '1/1/2023, 13:00:00.000 PM', '1/1/2023, 1:60:00.000 AM', '1/1/2023, 1:00:60.000 AM', '1/1/2023, 1:00:00 AM',
    '1/1/2023 1:00:00.000 AM', '1/1/2023, 1:00:00.000', '1/1/2023, 1:00:00.000 am', 'x1/1/2023, 1:00:00.000 AM', '1/1/2023, 1:00:00.000 AMx', '',
  ]) assert.equal(parseDatetime(s), false, s);
  assert.equal(parseDatetime('12/31/2023, 12:59:59.000 PM'), ref(2023, 12, 31, 12, 59, 59, 0));
  assert.equal(parseDatetime('12/31/2023, 0:00:00.000 PM'), ref(2023, 12, 31, 12, 0, 0, 0));
});
