// Legacy KFL evaluation, table-driven: the behaviours of Kubeshark's eval tests (literal logic,
// nil, regex, selectors, helpers, datetime, json()/xml(), wildcards, time helpers, limit) on our
// own fixture documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLegacy } from '../../server/kfl/legacy/index';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const BODY = JSON.stringify({ order: { id: 7, items: [{ sku: 'a' }, { sku: 'b' }], vip: true }, list: [1, 2], name: 'top' });
const XML = '<?xml version="1.0" encoding="UTF-8"?>\r\n<shop><item kind="a"><name lang="en">Pen</name><price>2</price></item><item kind="b"><name lang="en">Ink</name><price>5</price></item></shop>\r\n';
const NOW = 1_700_000_000_000;

export const ORDER = {
  id: 7041,
  sku: 'KB-42',
  vendor: { name: 'Acme', country: 'NL' },
  qty: 3,
  price: 19.95,
  half: 0.5,
  big: 1000000,
  small: 123456,
  year: 2023,
  shipYear: 2023,
  flag: true,
  tags: ['new', 'sale', 'eu'],
  one: ['x'],
  discount: null,
  nums: [4, 5, 6],
  neg: [-4, -5, -6],
  lines: [{ n: 1 }, { n: 2 }, { n: 3 }],
  empty: [],
  headers: { a: 'b', c: 'd', e: { x: 'y' } },
  status: 204,
  note: 'is false',
  ts: 1634668524000,
  body: BODY,
  body64: b64(BODY),
  arr: '["k1","k2"]',
  objs: '[{"n":1}]',
  rootObj: '{"n":1}',
  bad: 'not json at all',
  xmlBody: XML,
  xml64: b64(XML),
  badXml: '<shop><item></shop>',
  bombXml: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;&b;&b;</r>',
  ampXml: '<r>a&amp;b</r>',
  undef: undefined,
  long: `${'a'.repeat(48)}b`,
};
const NO_VENDOR = { ...ORDER, vendor: undefined, trend: { name: 'Acme' } };
const CLOCK = { ts: NOW - 2000, stamp: NOW + 10_000, m30: NOW + 30 * 86400e3, y365: NOW + 365 * 86400e3 };

type Row = [query: string, expected: boolean, doc?: object];

const ROWS: Record<string, Row[]> = {
  'literal logic': [
    ['true and true', true], ['true and false', false], ['false and true', false], ['false and false', false],
    ['true or true', true], ['false or true', true], ['true or false', true], ['false or false', false],
    ['true and 7', true], ['false and 7', false], ['true and 0', false], ['true and -1', false],
    ['true and ""', false], ['true and "x"', true], ['7 == 7', true], ['2 == 7', false],
    ['"kb" == "kb"', true], ['"kb" != "kb"', false], ['"kb" != "kc"', true], ['false == false', true],
    ['true != false', true], ['2.5 == 2.5', true], ['2.5 == 25', false], ['10 > 9', true],
    ['9 >= 9', true], ['8 >= 9', false], ['1 < 2', true], ['2 < 1', false], ['!false', true], ['!true', false],
    ['-5 < 3', true], ['--5 == 5', true],
    // right-nested: 1 < (2 < 3) → 1 < true(1) → false
    ['1 < 2 < 3', false],
    // right-nested: false and (true or true)
    ['false and true or true', false],
    ['true or false and false', true],
    // unary ! passes non-booleans through; "x" is truthy
    ['!"x"', true], ['-"5" == "5"', true],
    ['nil', false], ['!nil', false], ['0.5', true], ['r"x"', false], ['""', false],
    ['true and !(5 == qty)', true, ORDER], ['true and !(3 == qty)', false, ORDER],
  ],
  nil: [
    ['discount == nil', true], ['discount != nil', false], ['sku == nil', false], ['sku != nil', true],
    ['discount', false], ['discount == "null"', true], ['undef == nil', false], ['!(undef == nil)', true],
  ],
  selectors: [
    ['vendor.name == "Acme"', true], ['vendor.name != "Acme"', false],
    // a missing selector collapses the expression to the nearest parentheses
    ['vendor.title == "Acme"', false], ['vendor.title != "Acme"', false], ['!(vendor.title == "Acme")', true],
    ['!vendor.title', false], ['vendor.title == "x" or true', false], ['(vendor.title == "x") or true', true],
    ['true or vendor.title == "x"', true],
    ['tags[1] == "sale"', true], ['tags[1] != "sale"', false], ['tags[9] == "sale"', false],
    ['headers["a"] == "b"', true], ['headers["a"] == "d"', false], ['headers["a"] != "b"', false],
    ['headers["e"].x == "y"', true], ['headers["e"].x != "y"', false], ['headers["e"].x == "z"', false], ['headers["e"].x != "z"', true],
    ['headers["zz"].x == "y"', false],
    ['headers["a"] == "b" and tags[1] == "sale"', true],
    ['year == shipYear', true], ['year != shipYear', false], ['year > qty', true], ['qty > year', false],
    ['year == 2023 and vendor.name == "Acme"', true],
    ['vendor.name == "Acme" and year == 2023', false, NO_VENDOR],
    ['year == 2023 and vendor.name == "Acme"', false, NO_VENDOR],
    ['trend.name == "Acme"', true, NO_VENDOR],
    ['vendor', false], ['tags', true], ['empty', false], ['constructor == nil', false], ['toString', false],
    ['lines[2].n == 3', true],
  ],
  'string renderings': [
    ['qty == "3"', true], ['qty == "03"', false], ['qty == "3.0"', false], ['qty != "03"', true], ['-0 == "-0"', true], ['price == 19.95', true], ['price == "19.95"', true],
    // literals are float64 rendered with 6 significant digits: 1634668524000 → "1.63467e+12"
    ['ts == 1634668524000', false], ['ts == "1634668524000"', true],
    ['ts > 1634668523999', true], ['ts < 1634668524001', true],
    ['big == 1000000', false], ['big == "1000000"', true], ['small == 123456', true],
    ['price > "19"', true], ['sku > 0', false], ['sku < 1', true], ['flag == true', true], ['flag == "true"', true],
    ['flag > 0', true], ['half == 0.5', true], ['half == .5', true], ['qty == 3.0', true],
    // unary minus only negates float64: JSON integers pass through unchanged
    ['-qty == -3', false], ['-qty == 3', true], ['-price == -19.95', true],
  ],
  regex: [
    ['vendor.name == r"Ac.*"', true], ['vendor.name != r"Ac.*"', false], ['vendor.name == r"^cme"', false],
    ['vendor.name != r"^cme"', true], ['vendor.name == r"cme"', true], ['r"^A" == vendor.name', true],
    ['status == r"4.*"', true], ['status == r"^4"', false], ['vendor.name == r"(?i)^acme$"', true],
    ['sku == r"(?P<p>KB)-42"', true], ['vendor.name == r"^[[:alpha:]]+$"', true],
    // array vs regex: the regex compares with each element's rendering of the regex itself ("")
    ['tags == r"sale"', false], ['r"sale" == tags', false],
    ['vendor.title == r".*"', false],
    // valid RE2 that JS lacks runs on RE2 itself; so do quantified groups (no exponential backtracking)
    ['vendor.name == r"(?i:ac)me"', true], ['vendor.name == r"(?U)A.+"', true], ['vendor.name == r"^(?s:.)cme"', true],
    ['long == r"^(a+)+$"', false], ['long == r"^(a|aa)+b$"', true],
  ],
  helpers: [
    ['vendor.name.startsWith("Ac")', true], ['vendor.name.startsWith("cme")', false],
    ['vendor.name.endsWith("me")', true], ['vendor.name.endsWith("Ac")', false],
    ['vendor.name.contains("cm")', true], ['vendor.name.contains("zz")', false],
    ['headers["a"].startsWith("b")', true], ['headers["a"].startsWithx("b")', false],
    ['vendor.name.startsWith()', false], ['vendor.name.contains()', false],
    ['!vendor.name.startsWith("Ac")', false], ['!vendor.name.startsWith("zz")', true],
    // a helper on a missing selector sees false, rendered "false"
    ['missing.startsWith("f")', true], ['missing.contains("als")', true], ['missing.endsWith("x")', false],
    ['qty.startsWith("3")', true], ['tags.contains("sale")', false],
    // arguments are not evaluated against the item: vendor.country here is false
    ['vendor.name.contains(vendor.country)', false], ['note.contains(vendor.country)', true],
    ['unknownHelper(1)', false], ['vendor.name.startsWith("Ac") and qty == 3', true],
  ],
  datetime: [
    ['ts > datetime("10/19/2021, 6:29:02.000 PM")', true],
    ['ts > datetime("10/19/2021, 7:29:02.999 PM")', false],
    ['ts == datetime("10/19/2021, 6:35:24.000 PM")', true],
    ['ts == datetime("10/19/2021, 06:35:24.000 PM")', true],
    // without milliseconds the layout does not match: false, i.e. 0 in a comparison
    ['ts > datetime("10/19/2021, 6:29:02 PM")', true], ['ts < datetime("10/19/2021, 6:29:02 PM")', false],
    ['datetime("2/30/2021, 1:00:00.000 AM") == false', true],
    ['datetime("1/1/2021, 12:00:00.000 AM") == "1609459200000"', true],
    ['datetime("1/1/2021, 12:00:00.000 PM") == "1609502400000"', true],
    ['datetime()', false], ['datetime("1/1/2021, 1:00:00.000 pm") == false', true],
  ],
  'json()': [
    ['body.json().order.id == 7', true], ['body.json().order.id == 8', false],
    ['body.json().order.missing == 1', false], ['bad.json().a == 1', false],
    ['body.json() == "x"', false], ['arr.json()[0] == "k1"', true], ['arr.json()[0] == "k2"', false],
    ['body.json()["name"] == "top"', true], ['body.json()["name"] == "x"', false],
    ['body64.json().order.id == 7', true], ['body64.json()["name"] == "top"', true],
    ['body.json()..sku == "a"', true], ['body.json()..sku == "b"', false], ['body.json()..nope == 1', false],
    ['body.json().order.items[1].sku == "b"', true], ['body.json().order.vip', true],
    ['body.json().list.* > 1', false],
    // §8.6: the continuation reads the rest of the query inside the JSON body
    ['body.json().order.id == 7 and qty == 3', false], ['(body.json().order.id == 7) and qty == 3', true],
    ['qty == 3 and body.json().order.id == 7', true],
    ['headers["e"].x == "nope" or vendor.name == "Acme"', false],
    ['(headers["e"].x == "nope") or vendor.name == "Acme"', true],
    ['missingBody.json().order.id == 7', false], ['qty.json() == 3', false],
    // after json()[0] a continuation drops the index and reads from the body's root
    ['objs.json()[0].n == 1', false], ['objs.json()[0] == nil', false], ['rootObj.json()[0].n == 1', true],
  ],
  'xml()': [
    ['xmlBody.xml().shop.item[1].name == "Ink"', true], ['xmlBody.xml().shop.item[1].name == "Pen"', false],
    ['xmlBody.xml().shop.item[0].price == "2"', true], ['xml64.xml().shop.item[1].name == "Ink"', true],
    ['xmlBody.xml().shop.item.name == "Pen"', true], ['xmlBody.xml().shop.missing == "x"', false],
    ['badXml.xml().shop.item == ""', false], ['body.xml().order == "x"', false],
    ['bombXml.xml().r == ""', false], ['ampXml.xml().r == "a&b"', true],
  ],
  'wildcards and arrays': [
    ['tags.* == "sale"', true], ['tags.* == "old"', false], ['tags.* != "old"', true], ['tags.* != "sale"', false],
    ['nums.* > 5', true], ['nums.* > 6', false], ['nums.* < 5', true], ['nums.* < 4', false],
    ['nums.* >= 6', true], ['nums.* >= 7', false], ['nums.* <= 4', true], ['nums.* <= 3', false],
    ['lines.*.n > 2', true], ['lines.*.n > 3', false], ['lines.*.n and true', true], ['empty.*.n and true', false],
    ['nums.* == nums.*', true], ['nums.* != nums.*', false], ['nums.* > nums.*', false], ['nums.* > neg.*', true],
    ['neg.* < nums.*', true], ['nums.* >= neg.*', true], ['nums.* <= nums.*', false], ['neg.* <= nums.*', true],
    ['tags == "eu"', true], ['tags != "eu"', false], ['tags == tags', true], ['one.* == "x"', true],
    ['vendor.* == "NL"', true], ['3 < nums.*', true],
  ],
  'time helpers': [
    ['ts <= now()', true, CLOCK], ['ts >= now()', false, CLOCK], ['ts >= seconds(-5)', true, CLOCK],
    ['ts <= seconds(-5)', false, CLOCK], ['ts >= minutes(-5)', true, CLOCK], ['ts <= minutes(5)', true, CLOCK],
    ['ts >= hours(5)', false, CLOCK], ['ts >= days(-1)', true, CLOCK], ['ts <= weeks(1)', true, CLOCK],
    ['ts >= months(-1)', true, CLOCK], ['ts >= years(-1)', true, CLOCK], ['ts >= years(1)', false, CLOCK],
    ['stamp >= seconds(10)', true, CLOCK], ['stamp > seconds(10)', false, CLOCK],
    ['m30 >= months(1)', true, CLOCK], ['m30 > months(1)', false, CLOCK],
    ['y365 >= years(1)', true, CLOCK], ['y365 > years(1)', false, CLOCK],
    ['ts >= seconds()', false, CLOCK], ['stamp == seconds(10)', true, CLOCK],
  ],
};

for (const [group, rows] of Object.entries(ROWS)) {
  test(`legacy eval: ${group}`, () => {
    for (const [q, expected, doc] of rows) {
      const c = compileLegacy(q, { now: () => NOW });
      assert.equal(c.match((doc ?? ORDER) as never), expected, `${q}`);
    }
  });
}

test('legacy eval: row count', () => {
  const n = Object.values(ROWS).reduce((a, r) => a + r.length, 0);
  assert.ok(n >= 150, `only ${n} rows`);
});

test('legacy eval: empty query matches everything; limit() is exposed', () => {
  assert.equal(compileLegacy('').match({} as never), true);
  const a = compileLegacy('vendor.name == "Acme" and limit(50)');
  assert.equal(a.match(ORDER as never), true);
  assert.equal(a.limit, 50);
  const b = compileLegacy('limit(50) and vendor.name == "Acme"');
  assert.equal(b.match(ORDER as never), true);
  assert.equal(b.limit, 50);
  const c = compileLegacy('vendor.name != "Acme" and limit(50)');
  assert.equal(c.match(ORDER as never), false);
  assert.equal(c.limit, 50);
  assert.equal(compileLegacy('limit(3) or limit(9)').limit, 3);
  assert.equal(compileLegacy('vendor.name == "Acme"').limit, undefined);
  assert.equal(compileLegacy('limit()').match(ORDER as never), false);
});

test('legacy eval: match never throws and never mutates the item', () => {
  const before = JSON.stringify(ORDER);
  for (const q of ['redact("sku") and sku == "KB-42"', 'body.json()..sku == "a"', 'tags.* == 1', 'redact("..name")']) {
    compileLegacy(q).match(ORDER as never);
  }
  assert.equal(JSON.stringify(ORDER), before);
  const weird = [null, 5, 'str', [], { request: null }, { a: { b: [null] } }];
  for (const d of weird) assert.equal(compileLegacy('a.b[0] == nil or request.path == "x"').match(d as never), d !== null && typeof d === 'object' && !Array.isArray(d) && 'a' in d);
});

test('legacy eval: compiled queries are reused, except those reading the clock', () => {
  assert.equal(compileLegacy('qty == 3 and tags.* == "eu"'), compileLegacy('qty == 3 and tags.* == "eu"'));
  assert.notEqual(compileLegacy('ts <= now()'), compileLegacy('ts <= now()'));
  assert.notEqual(compileLegacy('ts >= minutes(-5)'), compileLegacy('ts >= minutes(-5)'));
  const fixed = compileLegacy('stamp == seconds(10)', { now: () => NOW });
  assert.equal(fixed.match(CLOCK as never), true);
  assert.equal(compileLegacy('stamp == seconds(10)').match(CLOCK as never), false);
});
