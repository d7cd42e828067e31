// Legacy KFL on real Kubeshark items: the 2023 HTTP sample and the DNS item quoted in the Network
// Hooks seed page (shared/reference).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileLegacy, redactItem } from '../../server/kfl/legacy/index';

import { sharedRef as ref } from './kfl2-fixtures';

const HTTP = JSON.parse(ref('samples/kubeshark-http-item-2023.json'));
const DNS = JSON.parse(/^DATA: (\{.*\})$/m.exec(ref('network-hooks-seed.md'))![1]);
// The same HTTP item with a body, as a dissector emits it (base64 content).
const HTTP_BODY = structuredClone(HTTP);
HTTP_BODY.response.status = 500;
HTTP_BODY.response.content = { size: 31, mimeType: 'application/json', encoding: 'base64', text: Buffer.from('{"error":"nope","code":17,"ids":[3,4]}').toString('base64') };

const ROWS: [string, object, boolean][] = [
  ['http', HTTP, true], ['http', DNS, false], ['dns', DNS, true], ['dns', HTTP, false],
  ['http or dns', DNS, true], ['!http', DNS, true], ['http2 or grpc or gql', HTTP, false],
  ['http and response.status == 200', HTTP, true], ['http and response.status == 500', HTTP, false],
  ['http and response.status == 500', HTTP_BODY, true], ['response.status >= 400', HTTP_BODY, true],
  ['http and request.method == "POST" and request.path == "/license"', HTTP, true],
  ['request.pathSegments[0] == "license"', HTTP, true], ['request.pathSegments.* == "license"', HTTP, true],
  ['request.headers["User-Agent"] == r"^Go-http-client/"', HTTP, true],
  ['request.headers["Content-Type"].startsWith("application/json")', HTTP, true],
  ['request.postData.text.json().license == true', HTTP, true],
  ['response.content.text.json().error == "nope"', HTTP_BODY, true],
  ['response.content.text.json().ids[1] == 4', HTTP_BODY, true],
  ['response.content.text.json().code > 10', HTTP_BODY, true],
  ['response.content.text.json().error == "nope"', HTTP, false],
  ['response.headers["Access-Control-Allow-Origin"] == "*"', HTTP, true],
  ['src.name == "kubeshark-hub" and dst.namespace == "kubeshark"', HTTP, true],
  ['dst.port == 8897', HTTP, true], ['dst.port == "8897"', HTTP, true], ['dst.port > 8000', HTTP, true],
  ['elapsedTime < 10', HTTP, true], ['timestamp == 1685869774306', HTTP, false], ['timestamp > 1685869774305', HTTP, true],
  ['timestamp >= datetime("6/4/2023, 9:09:34.306 AM")', HTTP, true], ['timestamp > datetime("6/4/2023, 9:09:34.306 AM")', HTTP, false],
  ['protocol.ports.* == "443"', HTTP, true], ['tls', HTTP, false], ['node.name.contains("us-east-2")', HTTP, true],
  ['dns and request.questions[0].name == "rabbitmq.sock-shop.svc.cluster.local"', DNS, true],
  ['dns and request.questions[0].type == "AAAA"', DNS, true],
  ['request.questions.*.type == "A"', DNS, false],
  ['response.code == "No Error"', DNS, true], ['response.authorities[0].soa == "hostmaster.cluster.local"', DNS, true],
  ['response.authorities[0].ip == "<nil>"', DNS, true], ['response.authorities.*.ttl < 10', DNS, true],
  // the seed item has no answers: a missing list collapses the term
  ['response.answers[0].ip != "1.2.3.4"', DNS, false], ['!(response.answers[0].ip == "1.2.3.4")', DNS, true],
  ['dst.name == "kube-dns.kube-system" and src.name == r"^mizutest"', DNS, true],
  // §8.6: after [0], the rest of the query is looked up under request.questions[0]
  ['request.questions[0].type == "AAAA" and src.port == "38040"', DNS, false],
  ['(request.questions[0].type == "AAAA") and src.port == "38040"', DNS, true],
  ['namespace == "kube-system"', DNS, true], ['src.namespace == ""', DNS, false],
];

test('legacy KFL on real HTTP and DNS items', () => {
  for (const [q, item, expected] of ROWS) assert.equal(compileLegacy(q).match(item as never), expected, q);
});

test('legacy KFL: redact on a real HTTP item for display', () => {
  const q = compileLegacy('http and redact("request.headers.Host", "response.content.text.json().error", "..ip")');
  assert.equal(q.match(HTTP_BODY), true);
  const shown = redactItem(HTTP_BODY, q.redactions) as typeof HTTP;
  assert.equal(shown.request.headers.Host, '[REDACTED]');
  assert.equal(shown.src.ip, '[REDACTED]');
  assert.equal(shown.node.ip, '[REDACTED]');
  assert.deepEqual(JSON.parse(Buffer.from(shown.response.content.text, 'base64').toString()), { error: '[REDACTED]', code: 17, ids: [3, 4] });
  assert.equal(HTTP_BODY.request.headers.Host, '192.168.4.120:8897');
});
