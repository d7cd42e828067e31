import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileQuery, detectLanguage, QueryError, validateQuery, type QueryLanguage } from '../../server/kfl/index';
import { dnsSample, httpSample } from './kfl2-fixtures';

test('detection on a table of queries', () => {
  const table: [string, QueryLanguage, RegExp][] = [
    ['', 'kfl2', /empty/],
    ['http', 'kfl2', /both languages read this query alike; KFL2 is the default/],
    ['dns', 'kfl2', /alike/],
    ['src.ip == "1.2.3.4"', 'kfl2', /alike/],
    ['request.headers["content-type"] == "x"', 'kfl2', /alike/],
    ['http && status_code == 500', 'kfl2', /`&&`/],
    ['dns && "x" in dns_questions', 'kfl2', /`&&`/],
    ['"x" in dns_questions', 'kfl2', /`in`/],
    ['url.matches(".*/api/.*")', 'kfl2', /\.matches/],
    ['size(dns_answers) > 0', 'kfl2', /size/],
    ['status_code >= 400', 'kfl2', /`status_code` is a KFL2 variable/],
    ['"a and b" == path', 'kfl2', /`path`/], // `and` inside a string is not an operator
    ['status_code == 200 ? true : false', 'kfl2', /conditional/],
    ['http and response.status == 500', 'kfl', /`and`\/`or`/],
    ['dns or http', 'kfl', /`and`\/`or`/],
    ['dns and request.questions[0].name == "x"', 'kfl', /and/],
    ['request.headers["Accept"] == r"application/json.*"', 'kfl', /r"…"/],
    ['response.content.text.json().a == 1', 'kfl', /json/],
    ['timestamp >= datetime("10/19/2021, 6:29:02.593 PM")', 'kfl', /helpers/],
    ['limit(100)', 'kfl', /helpers/],
    ['response.status > 300', 'kfl', /item paths/],
    ['elapsedTime > 5000', 'kfl', /item field paths/],
    ['protocol.abbr == "HTTP"', 'kfl', /item field paths/],
    ['request.path.*', 'kfl', /./],
    ['response.status == r"4.*" || dns', 'kfl', /mixed syntax/],
  ];
  for (const [q, lang, why] of table) {
    const d = detectLanguage(q);
    assert.equal(d.language, lang, `${q}: ${d.reason}`);
    assert.match(d.reason, why, q);
  }
});

test('compile both ways, explicitly and by detection', () => {
  const http = httpSample(), dns = dnsSample();
  const k2 = compileQuery('http && status_code == 200', 'kfl2');
  assert.equal(k2.language, 'kfl2');
  assert.deepEqual([k2.match(http), k2.match(dns)], [true, false]);
  const k1 = compileQuery('http and response.status == 200', 'kfl');
  assert.equal(k1.language, 'kfl');
  assert.deepEqual([k1.match(http), k1.match(dns)], [true, false]);

  const auto1 = compileQuery('dns and request.questions[0].name == "rabbitmq.sock-shop.svc.cluster.local"');
  assert.equal(auto1.language, 'kfl');
  assert.deepEqual([auto1.match(http), auto1.match(dns)], [false, true]);
  const auto2 = compileQuery('dns && "rabbitmq.sock-shop.svc.cluster.local" in dns_questions', 'auto');
  assert.equal(auto2.language, 'kfl2');
  assert.deepEqual([auto2.match(http), auto2.match(dns)], [false, true]);

  // ambiguous queries: both languages agree on them
  for (const q of ['http', 'dns', 'src.ip == "192.168.30.6"', 'dst.name == "kube-dns.kube-system"']) {
    const a = compileQuery(q, 'kfl'), b = compileQuery(q, 'kfl2');
    assert.deepEqual([a.match(http), a.match(dns)], [b.match(http), b.match(dns)], q);
  }
  // empty matches everything in both
  for (const lang of ['kfl', 'kfl2', 'auto'] as const) assert.equal(compileQuery('  ', lang).match(dns), true);
});

test('auto falls back to the language the query compiles in', () => {
  // `!error` has no language-specific syntax (detected KFL2) but only legacy KFL knows `error`
  const q = compileQuery('!error');
  assert.equal(q.language, 'kfl');
  assert.equal(validateQuery('!error').language, 'kfl');
});

test('errors: QueryError "LINE:COL: text", from compile and from validate', () => {
  assert.throws(() => compileQuery('http && status_code == "500"', 'kfl2'), (e: unknown) => {
    assert.ok(e instanceof QueryError);
    assert.equal(e.message, '1:21: found no matching overload for \'_==_\' applied to \'(int, string)\'');
    return true;
  });
  const v = validateQuery('http &&\n nope == 1');
  assert.equal(v.language, 'kfl2');
  assert.ok(v.error instanceof QueryError);
  assert.deepEqual([v.error.line, v.error.col], [2, 2]);
  assert.match(v.error.message, /^2:2: undeclared reference to 'nope'/);
  assert.deepEqual(v.lints, []);

  const ok = validateQuery('request.headers["Content-Type"] == "a"', 'kfl2');
  assert.equal(ok.error, null);
  assert.equal(ok.lints.length, 1);

  assert.throws(() => compileQuery('http and (', 'kfl'), QueryError);
  const lv = validateQuery('http and (', 'kfl');
  assert.equal(lv.language, 'kfl');
  assert.ok(lv.error instanceof QueryError);
  assert.match(lv.error.message, /^\d+:\d+: /);
});
