// lintLegacy: each kept quirk is reported with a message and, where one exists, a fix; applying
// the fix removes the warning and gives the meaning the author most likely wanted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sharedRef } from './kfl2-fixtures';
import type { QueryLint } from '../../server/kfl/api';
import { compileLegacy, lintLegacy, validateLegacy } from '../../server/kfl/legacy/index';

const HTTP = JSON.parse(sharedRef('samples/kubeshark-http-item-2023.json'));
const DNS = {
  protocol: { abbr: 'DNS', name: 'dns' },
  request: { opCode: 'Query', questions: [{ class: 'IN', name: 'rabbitmq.sock-shop.svc.cluster.local', type: 'AAAA' }] },
  dst: { ip: '10.96.0.10', name: 'kube-dns.kube-system', port: '53' },
};

/** Apply a single-line fix to the source. */
function applyFix(src: string, l: QueryLint): string {
  assert.ok(l.fix, `lint without fix: ${l.message}`);
  const lines = src.split('\n');
  const line = lines[l.fix.line - 1];
  lines[l.fix.line - 1] = line.slice(0, l.fix.col - 1) + l.fix.text + line.slice(l.fix.endCol - 1);
  return lines.join('\n');
}
const only = (src: string, re: RegExp) => {
  const found = lintLegacy(src).filter((l) => re.test(l.message));
  assert.equal(found.length, 1, `${src}: ${JSON.stringify(lintLegacy(src))}`);
  return found[0];
};
const m = (q: string, d: object) => compileLegacy(q).match(d as never);

test('lint: clean queries have no warnings', () => {
  for (const q of ['', 'http and response.status == 500', '(http and response.status == 500) or dns', 'dns or http', 'request.path.startsWith("/api")', 'response.status == r"^4"', 'http and (response.content.text.json().status == "ok")']) {
    assert.deepEqual(lintLegacy(q), [], q);
  }
});

test('lint: "and" then "or" groups to the right', () => {
  const q = 'http and response.status == 500 or dns';
  const l = only(q, /group to the right/);
  assert.match(l.message, /reads as http and \(response\.status == 500 or dns\)/);
  const fixed = applyFix(q, l);
  assert.equal(fixed, 'http and (response.status == 500 or dns)');
  assert.deepEqual(lintLegacy(fixed).filter((x) => /group to the right/.test(x.message)), []);
  for (const d of [HTTP, DNS]) assert.equal(m(fixed, d), m(q, d));
  // a DNS item does not match: the grouping is not (http and …) or dns
  assert.equal(m(q, DNS), false);
  // "or" then "and": also right-nested, not left to right as the legacy docs say
  const o = 'dns or http and response.status == 500';
  const lo = only(o, /group to the right/);
  assert.equal(applyFix(o, lo), 'dns or (http and response.status == 500)');
  assert.equal(m(o, HTTP), false);
});

test('lint: a term after [..] or json() is read inside that field', () => {
  const q = 'dns and request.questions[0].name == "rabbitmq.sock-shop.svc.cluster.local" and dst.name == "kube-dns.kube-system"';
  const l = only(q, /swallows the rest/);
  assert.match(l.message, /"dst\.name == "kube-dns\.kube-system"" is looked up under it/);
  const fixed = applyFix(q, l);
  assert.equal(fixed, 'dns and (request.questions[0].name == "rabbitmq.sock-shop.svc.cluster.local") and dst.name == "kube-dns.kube-system"');
  assert.equal(m(q, DNS), false);
  assert.equal(m(fixed, DNS), true);
  assert.deepEqual(lintLegacy(fixed), []);
  const j = 'response.content.text.json().status == "ok" and http';
  const lj = only(j, /swallows the rest/);
  assert.equal(applyFix(j, lj), '(response.content.text.json().status == "ok") and http');
});

test('lint: single-quoted and backquoted strings', () => {
  const q = "src.name == 'kubeshark-hub'";
  const l = only(q, /keeps its quotes/);
  const fixed = applyFix(q, l);
  assert.equal(fixed, 'src.name == "kubeshark-hub"');
  assert.equal(m(q, HTTP), false);
  assert.equal(m(fixed, HTTP), true);
  assert.equal(applyFix('src.name == `kubeshark-hub`', only('src.name == `kubeshark-hub`', /keeps its quotes/)), fixed);
});

test('lint: unanchored regexes', () => {
  const item = { response: { status: 204 }, request: { method: 'GET' }, src: { namespace: 'somethingelse' } };
  const q = 'response.status == r"4.*"';
  const fixed = applyFix(q, only(q, /unanchored/));
  assert.equal(fixed, 'response.status == r"^4.*"');
  assert.equal(m(q, item), true); // 204 contains a 4
  assert.equal(m(fixed, item), false);
  const g = 'src.namespace == r"something*"';
  const gf = applyFix(g, only(g, /not a glob/));
  assert.equal(gf, 'src.namespace == r"^something"');
  assert.equal(m(gf, item), true);
  const e = 'request.method == r"GE"';
  const ef = applyFix(e, only(e, /no anchors/));
  assert.equal(ef, 'request.method == r"^GE$"');
  assert.equal(m(e, item), true);
  assert.equal(m(ef, item), false);
  assert.deepEqual(lintLegacy(ef), []);
});

test('lint: macro names inside identifiers', () => {
  const q = 'request.mydns == 1';
  const l = only(q, /inside "mydns" is replaced by the dns macro/);
  const fixed = applyFix(q, l);
  assert.equal(fixed, 'request["mydns"] == 1');
  assert.equal(m(fixed, { request: { mydns: 1 } }), true);
  assert.equal(m(q, { request: { mydns: 1 } }), false);
});

test('lint: an index after json() is dropped before a continuation', () => {
  only('response.content.text.json()[0].id == 1', /is dropped: what follows is looked up from the root/);
});

test('lint: a missing field collapses through "or"', () => {
  const q = 'response.status > 400 or error or icmp or tcp';
  const l = only(q, /the whole expression is false/);
  const fixed = applyFix(q, l);
  assert.equal(fixed, '(response.status > 400) or error or icmp or tcp');
  const tcpItem = { protocol: { name: 'tcp-conn' }, error: null };
  assert.equal(m(q, tcpItem), false);
  assert.equal(m(fixed, tcpItem), true);
  assert.deepEqual(lintLegacy(fixed), []);
  assert.deepEqual(lintLegacy('request.path == "/a" or request.path == "/b"'), []);
  assert.deepEqual(lintLegacy('x.json().a == 1 or (tcp)').filter((x) => /whole expression/.test(x.message)), []);
});

test('lint: a bare capitalised word is a field, not text', () => {
  const q = 'request.opCode == Query';
  const fixed = applyFix(q, only(q, /read as a field name/));
  assert.equal(fixed, 'request.opCode == "Query"');
  const dns = { request: { opCode: 'Query' } };
  assert.equal(m(q, dns), false);
  assert.equal(m(fixed, dns), true);
});

test('lint: a regex against a wildcard list', () => {
  only('response.answers.*.ip == r"^10[.]"', /a list never matches a regex/);
  assert.equal(m('response.answers.*.ip == r"^10[.]"', { response: { answers: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] } }), false);
  assert.equal(m('response.answers.*.ip == r"^10[.]"', { response: { answers: [{ ip: '10.0.0.1' }] } }), true);
});

test('lint: helper arguments, unknown helpers, not(), null', () => {
  only('http and response.content.text.contains(request.query["x"])', /helper arguments are not evaluated/);
  only('request.path.startsWithh("/")', /unknown helper "startsWithh"/);
  const n = 'not http';
  const nf = applyFix(n, only(n, /"not" is not an operator/));
  assert.equal(nf, '!http');
  assert.equal(m(nf, HTTP), false);
  assert.equal(m(nf, DNS), true);
  assert.equal(m(n, DNS), false);
  const z = 'response.content.text == null';
  assert.equal(applyFix(z, only(z, /legacy KFL writes nil/)), 'response.content.text == nil');
});

test('lint: quick fixes for operators from other languages on invalid queries', () => {
  for (const [q, want] of [['http && dns', 'http and dns'], ['http||dns', 'http or dns'], ['a === 1', 'a == 1'], ['a !== 1', 'a != 1']] as const) {
    assert.throws(() => validateLegacy(q));
    const lints = lintLegacy(q);
    assert.equal(lints.length, 1, q);
    const fixed = applyFix(q, lints[0]);
    assert.equal(fixed, want);
    assert.doesNotThrow(() => validateLegacy(fixed));
  }
  assert.deepEqual(lintLegacy('a == "x && y" and ?'), []);
});
