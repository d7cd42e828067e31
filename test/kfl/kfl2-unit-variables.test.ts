// Unit tests of KFL2's variables (server/kfl/kfl2/variables.ts), read through READERS from items
// built here to the mapping docs/kfl2.md describes, one protocol at a time: every value, every
// fallback ("request preferred, else response", the local side, the ICMP reply when no request
// was seen), the protocol guards (a protocol's variables read their default on any other item,
// whatever fields it carries), the flags, the direct lookups, and the memo of varsOf.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../../capture/item/schema';
import { PROTOCOLS } from '../../capture/item/protocols';
import { LOOKUPS, MEMBERSHIP, READERS, VARIABLES, defaultOf, varsOf } from '../../server/kfl/kfl2/variables';

type Over = Partial<Record<keyof Item, unknown>>;
function item(protocol: unknown, request: object = {}, response: object = {}, over: Over = {}): Item {
  return {
    id: 'local/lo/000000000001.pcap-0', index: 0, stream: '000000000001.pcap', worker: 'local/lo',
    node: { name: 'devbox', ip: '10.0.0.5' }, protocol, tls: false,
    src: { ip: '127.0.0.1', port: '40000', name: '', namespace: '', processName: '', processId: 0 },
    dst: { ip: '127.0.0.2', port: '80', name: '', namespace: '', processName: '', processId: 0 },
    outgoing: false, timestamp: 1700000000123, startTime: '2023-11-14T22:13:20.123456789Z',
    request, response, requestSize: 100, responseSize: 200, elapsedTime: 3, passed: false, failed: false, error: null,
    entryFile: 'x', ...over,
  } as unknown as Item;
}
/** A value as plain data: bigint → number, Map → object, bytes → their text, a Timestamp → "s.nanos". */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('latin1')}`;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && 'seconds' in v) {
    const t = v as unknown as { seconds: bigint; nanos: number };
    return `${String(t.seconds)}.${t.nanos}`;
  }
  return v;
}
const read = (it: Item, name: string) => {
  assert.ok(name in READERS, `no variable ${name}`);
  return plain(READERS[name](it));
};
function expect(it: Item, want: Record<string, unknown>) {
  const got = Object.fromEntries(Object.keys(want).map((k) => [k, read(it, k)]));
  assert.deepEqual(got, want);
}

// Every field any protocol's variables read, with values that are not the defaults.
const EVERYTHING = {
  method: 'GET', url: '/a?b=1', path: '/svc.Greeter/SayHello', httpVersion: 'HTTP/1.1', status: 500,
  headers: { 'grpc-status': '3', Host: 'h' }, cookies: { A: 'b' }, bodySize: 5, headersSize: 7,
  questions: [{ name: 'x.example', type: 'A' }], answers: [{ ip: '1.2.3.4' }], code: 'Query Refused', opCode: 'OP_MSG',
  type: 'Array', command: 'GET', key: 'k', query: 'SELECT 1', parameters: ['1'], commandTag: 'SELECT 1', rows: 3,
  errorCode: '42', errorMessage: 'bad', sqlState: 'HY000', affectedRows: 2, apiKey: 18, apiKeyName: 'ApiVersions',
  clientID: 'c', size: 10, summary: 's', queue: 'q', exchange: 'e', routingKey: 'r', consumerTag: 't', ok: 1, errmsg: 'm',
  collection: 'col', database: 'db', payload: 'aGk=', bytes: 9, packets: 4, pps: 5, bps: 6, typeCode: 'EchoRequest', version: 4,
  length: 8, opcode: 'text', from: 'client', text: 'hi', sni: 'example.com', cipherSuite: 'TLS_AES_128_GCM_SHA256',
  cipherSuites: ['TLS_AES_128_GCM_SHA256'], alpn: ['h2'], versions: ['TLS 1.3'], state: 'open', versionMajor: 0, versionMinor: 9,
  replyText: 'OK',
};
// Variables that read the item whatever its protocol.
const GENERAL = new Set([
  'src.ip', 'src.port', 'src.name', 'src.namespace', 'src.dns', 'dst.ip', 'dst.port', 'dst.name', 'dst.namespace', 'dst.dns',
  'protocol', 'id', 'node_id', 'index', 'stream', 'timestamp', 'worker', 'has_pcap', 'capture_source', 'elapsed_time', 'namespaces',
  'node_name', 'node_ip', 'local_node_name', 'local_process_name', 'remote_process_name', 'dns_resolutions', 'tls',
]);

test('on an item of no known protocol, every protocol variable reads its default, whatever the item holds', () => {
  const other = item({ name: 'other', abbr: 'OTHER', layer4: 'tcp', version: '1.1' }, EVERYTHING, EVERYTHING);
  const wrong: string[] = [];
  for (const [name, def] of Object.entries(VARIABLES)) {
    if (GENERAL.has(name)) continue;
    const got = plain(READERS[name](other)), want = plain(defaultOf(def.type));
    if (JSON.stringify(got) !== JSON.stringify(want)) wrong.push(`${name}: ${JSON.stringify(got)}`);
  }
  assert.deepEqual(wrong, []);
});

test('flags: each true for its own protocol only', () => {
  const flags = Object.keys(VARIABLES).filter((n) => VARIABLES[n].type === 'bool' && VARIABLES[n].get !== null)
    .filter((n) => !/_(request|response|ok)$/.test(n) && n !== 'has_pcap' && n !== 'tls');
  const cases: [unknown, string[]][] = [
    [PROTOCOLS.http11, ['http']], [PROTOCOLS.http2, ['http']], [PROTOCOLS.grpc, ['grpc', 'http']],
    [PROTOCOLS.gql11, ['gql', 'gqlv1', 'http']], [PROTOCOLS.gql2, ['gql', 'gqlv2', 'http']],
    [PROTOCOLS.dns, ['dns']], [PROTOCOLS.redis, ['redis']], [PROTOCOLS.kafka, ['kafka']], [PROTOCOLS.amqp, ['amqp']],
    [PROTOCOLS.ws, ['ws']], [{ name: 'websocket' }, ['ws']], [PROTOCOLS.tlsx, ['tlsx']], [PROTOCOLS.icmp, ['icmp']], [PROTOCOLS.icmp6, ['icmp']],
    [PROTOCOLS.mongodb, ['mongodb']], [PROTOCOLS.mysql, ['mysql']], [PROTOCOLS.postgresql, ['postgresql']],
    [{ name: 'sctp' }, ['sctp']], [{ name: 'ldap' }, ['ldap']], [{ name: 'radius' }, ['radius']], [{ name: 'diameter' }, ['diameter']],
    [PROTOCOLS.tcpConn, ['conn', 'tcp', 'tcp_conn']], [PROTOCOLS.udpConn, ['conn', 'udp', 'udp_conn']],
    [PROTOCOLS.tcpFlow, ['flow', 'tcp', 'tcp_flow']], [PROTOCOLS.udpFlow, ['flow', 'udp', 'udp_flow']],
    [{ name: 'tcp-conn', layer4: 'udp' }, ['conn', 'tcp_conn', 'udp']], [{ name: 'other', layer4: 'tcp' }, []],
  ];
  for (const [p, want] of cases) {
    const it = item(p);
    assert.deepEqual(flags.filter((f) => READERS[f](it) === true).sort(), want, JSON.stringify(p));
  }
  assert.equal(READERS.tls(item(PROTOCOLS.http11, {}, {}, { tls: true })), true);
  assert.equal(READERS.tls(item(PROTOCOLS.http11, {}, {}, { tls: 'true' })), false);
});

test('general variables: endpoints, identity, time, capture source, local and remote process', () => {
  const it = item(PROTOCOLS.http11, {}, {}, {
    index: '7', stream: '', worker: 'file/x.pcap', elapsedTime: 12.9,
    src: { ip: '10.1.1.1', port: '5353', name: 'ns1.example', namespace: 'a', processName: '', processId: 0 },
    dst: { ip: '10.1.1.2', port: 443, name: 'curl', namespace: '', processName: 'curl', processId: 9 },
  });
  expect(it, {
    'src.ip': '10.1.1.1', 'src.port': 5353, 'src.name': 'ns1.example', 'src.namespace': 'a', 'src.dns': 'ns1.example',
    'dst.ip': '10.1.1.2', 'dst.port': 443, 'dst.name': 'curl', 'dst.dns': '', 'src.pod.name': '', 'dst.service.namespace': '',
    protocol: 'HTTP', id: 'local/lo/000000000001.pcap-0', node_id: 'devbox', node_name: 'devbox', node_ip: '10.0.0.5', local_node_name: 'devbox',
    index: 7, stream: '', has_pcap: false, worker: 'file/x.pcap', capture_source: 'pcap_file', elapsed_time: 12000,
    namespaces: ['a'], dns_resolutions: ['ns1.example'],
    // dst has the process: it is the local side
    local_process_name: 'curl', remote_process_name: '',
    timestamp: '1700000000.123456789', conn_id: '', pods: [], local_labels: {},
  });
  const live = item(PROTOCOLS.http11, {}, {}, {
    worker: 'local/eth0', startTime: '2023-11-14T22:13:20Z', index: 3.7,
    src: { ip: '', port: 'x', name: 'me', namespace: 'n1', processName: 'me', processId: 1 },
    dst: { ip: '', port: '', name: 'srv.example', namespace: 'n2', processName: 'nginx', processId: 2 },
  });
  expect(live, {
    capture_source: 'libpcap', has_pcap: true, 'src.port': 0, 'dst.port': 0, index: 3, 'src.dns': '', 'dst.dns': 'srv.example',
    namespaces: ['n1', 'n2'], dns_resolutions: ['srv.example'], local_process_name: 'me', remote_process_name: 'nginx',
    timestamp: '1700000000.0',
  });
  expect(item(PROTOCOLS.http11, {}, {}, { worker: '' }), { capture_source: '' });
  // startTime with a zone offset and few fraction digits; unreadable ones fall back to the ms timestamp
  expect(item(PROTOCOLS.http11, {}, {}, { startTime: '2023-11-14T23:13:20.5+01:00' }), { timestamp: '1700000000.500000000'.replace(/\.5.*/, '.500000000') });
  expect(item(PROTOCOLS.http11, {}, {}, { startTime: 'yesterday', timestamp: 1700000000123 }), { timestamp: '1700000000.123000000' });
  expect(item(PROTOCOLS.http11, {}, {}, { startTime: '2023-13-45T99:99:99Z', timestamp: 2500 }), { timestamp: '2.500000000' });
  expect(item(PROTOCOLS.http11, {}, {}, { startTime: '', timestamp: 'x' }), { timestamp: '0.0' });
});

test('HTTP and gRPC', () => {
  const it = item(PROTOCOLS.http11,
    { method: 'POST', url: '/api/v1?x=1&y=2', path: '/api/v1', httpVersion: 'HTTP/1.1', headers: { 'Content-Type': 'json', 'X-A': ['1', 2], Host: 'h' }, cookies: { Sid: 'abc', n: 3 }, bodySize: 11, headersSize: -1 },
    { status: 404, headers: { 'Content-Length': '0' }, cookies: { Tok: 'z' }, bodySize: 20, headersSize: 55 },
    { requestSize: 111, responseSize: 75 });
  expect(it, {
    method: 'POST', url: '/api/v1?x=1&y=2', path: '/api/v1', http_version: 'HTTP/1.1', status_code: 404, query_string: 'x=1&y=2',
    'request.headers': { 'content-type': 'json', 'x-a': '1,2', host: 'h' }, 'response.headers': { 'content-length': '0' },
    'request.cookies': { Sid: 'abc', n: '3' }, 'response.cookies': { Tok: 'z' },
    request_body_size: 11, response_body_size: 20, request_headers_size: 100, response_headers_size: 55,
    grpc_method: '', grpc_status: 0,
  });
  expect(item(PROTOCOLS.http11, { url: '/plain', bodySize: 500 }, {}, { requestSize: 100 }), { query_string: '', request_headers_size: 0, status_code: 0 });
  expect(item(PROTOCOLS.http11, { url: '/?', headersSize: 0 }, {}), { query_string: '', request_headers_size: 0 });
  const g = item(PROTOCOLS.grpc, { path: '/helloworld.Greeter/SayHello' }, { headers: { 'Grpc-Status': '5' } });
  expect(g, { grpc_method: 'SayHello', grpc_status: 5, method: '' });
  expect(item(PROTOCOLS.grpc, { path: '' }, {}), { grpc_method: '', grpc_status: 0 });
});

test('direct header lookups agree with the header maps', () => {
  const it = item(PROTOCOLS.http11, { headers: { 'X-Dup': 'a', 'x-dup': 'b', Accept: ['t', 'u'], Num: 4 } }, { headers: { Server: 's' } });
  assert.equal(LOOKUPS['request.headers'](it, 'x-dup'), 'b');
  assert.equal(LOOKUPS['request.headers'](it, 'accept'), 't,u');
  assert.equal(LOOKUPS['request.headers'](it, 'num'), '4');
  assert.equal(LOOKUPS['request.headers'](it, 'server'), undefined);
  assert.equal(LOOKUPS['response.headers'](it, 'server'), 's');
  assert.equal(LOOKUPS['request.headers'](item(PROTOCOLS.dns, { headers: { a: 'b' } }), 'a'), undefined);
  const m = READERS['request.headers'](it) as Map<string, string>;
  for (const k of ['x-dup', 'accept', 'num', 'server']) assert.equal(LOOKUPS['request.headers'](it, k), m.get(k), k);
});

test('DNS: response codes, questions, answers of every record type, sizes', () => {
  const rr = (o: object) => ({ name: 'n', type: 'A', ip: '<nil>', cname: '', ptr: '', ns: '', mx: '', srv: '', txts: '', soa: '', uri: '', ...o });
  const it = item(PROTOCOLS.dns,
    { questions: [{ name: 'a.example', type: 'A' }, { name: 'b.example', type: 'AAAA' }] },
    { code: 'Non-Existent Domain', answers: [rr({ ip: '1.2.3.4' }), rr({ cname: 'c.example' }), rr({ ptr: 'p' }), rr({ ns: 'ns1' }), rr({ mx: ', 10 mx.example' }), rr({ srv: 's' }), rr({ txts: 't' }), rr({ soa: 'o' }), rr({ uri: 'u' }), rr({}), 'junk'] },
    { requestSize: 40, responseSize: 90 });
  expect(it, {
    status_code: 3, dns_questions: ['a.example', 'b.example'], dns_question_types: ['A', 'AAAA'],
    dns_answers: ['1.2.3.4', 'c.example', 'p', 'ns1', '10 mx.example', 's', 't', 'o', 'u', '', ''],
    dns_request: true, dns_response: true, dns_request_length: 40, dns_response_length: 90, dns_total_size: 130, method: '',
  });
  const codes: [unknown, number][] = [
    ['No Error', 0], ['Format Error', 1], ['Server Failure', 2], ['Not Implemented', 4], ['Query Refused', 5],
    ['Name Exists when it should not', 6], ['RR Set Exists when it should not', 7], ['RR Set that should exist does not', 8],
    ['Server Not Authoritative for zone', 9], ['Name not contained in zone', 10], ['16', 16], [23, 23], ['BADSIG?', -1], ['', 0],
  ];
  for (const [code, want] of codes) expect(item(PROTOCOLS.dns, {}, { code }), { status_code: want });
  // a query never answered: no response, its sizes are the request's only
  const q = item(PROTOCOLS.dns, { questions: [{ name: 'a.example', type: 'A' }] }, {}, { requestSize: 40, responseSize: 0 });
  expect(q, { status_code: 0, dns_request: true, dns_response: false, dns_request_length: 40, dns_response_length: 0, dns_total_size: 40, dns_answers: [] });
  const r = item(PROTOCOLS.dns, {}, { code: 'No Error' }, { requestSize: 40, responseSize: 60 });
  expect(r, { dns_request: false, dns_request_length: 0, dns_total_size: 60 });
  for (const v of ['a.example', 'b.example', 'c.example', 'A', 'AAAA', '1.2.3.4', '', 'zzz']) {
    assert.equal(MEMBERSHIP.dns_questions(it, v), (read(it, 'dns_questions') as string[]).includes(v), v);
    assert.equal(MEMBERSHIP.dns_question_types(it, v), (read(it, 'dns_question_types') as string[]).includes(v), v);
    assert.equal(MEMBERSHIP.dns_answers(it, v), (read(it, 'dns_answers') as string[]).includes(v), v);
  }
  assert.equal(MEMBERSHIP.dns_questions(item(PROTOCOLS.http11, { questions: [{ name: 'a' }] }), 'a'), false);
});

test('Redis, PostgreSQL, MySQL', () => {
  expect(item(PROTOCOLS.redis, { type: 'Array', command: 'SET', key: 'k1' }, {}, { requestSize: 30, responseSize: 5 }),
    { redis_type: 'Array', redis_command: 'SET', redis_key: 'k1', redis_request_size: 30, redis_response_size: 5 });
  expect(item(PROTOCOLS.postgresql, { type: 'Query', query: 'SELECT $1', parameters: ['1', null, 2] }, { commandTag: 'SELECT 1', rows: 1, errorCode: '42P01', errorMessage: 'nope' }),
    { postgresql_type: 'Query', postgresql_query: 'SELECT $1', postgresql_parameters: ['1', '', '2'], postgresql_command_tag: 'SELECT 1', postgresql_rows: 1, postgresql_error_code: '42P01', postgresql_error_message: 'nope' });
  expect(item(PROTOCOLS.mysql, { command: 'COM_QUERY', query: 'SELECT 1', parameters: ['a'] }, { type: 'OK', rows: 2, affectedRows: 3, errorCode: 1064, sqlState: '42000', errorMessage: 'syntax' }),
    { mysql_command: 'COM_QUERY', mysql_query: 'SELECT 1', mysql_parameters: ['a'], mysql_response_type: 'OK', mysql_rows: 2, mysql_affected_rows: 3, mysql_error_code: 1064, mysql_sql_state: '42000', mysql_error_message: 'syntax' });
  expect(item(PROTOCOLS.postgresql, { parameters: 'x' }), { postgresql_parameters: [] });
});

test('Kafka, AMQP, MongoDB', () => {
  const k = item(PROTOCOLS.kafka, { apiKey: 18, apiKeyName: 'ApiVersions', clientID: 'cli', size: 33, summary: 'topic[0]' }, { size: 44 }, { requestSize: 37, responseSize: 48 });
  expect(k, { kafka_api_key: 18, kafka_api_key_name: 'API_VERSIONS', kafka_client_id: 'cli', kafka_size: 33, kafka_request: true, kafka_response: true, kafka_request_summary: 'topic[0]', kafka_request_size: 37, kafka_response_size: 48 });
  expect(item(PROTOCOLS.kafka, { apiKeyName: 'FindCoordinator' }, {}), { kafka_api_key_name: 'FIND_COORDINATOR' });
  expect(item(PROTOCOLS.kafka, { apiKeyName: 'Produce2X' }, {}), { kafka_api_key_name: 'PRODUCE2_X' });
  // a response alone: its size; no request: api key 0
  expect(item(PROTOCOLS.kafka, {}, { size: 44 }, { requestSize: 0, responseSize: 48 }), { kafka_size: 44, kafka_request: false, kafka_response: true, kafka_api_key: 0 });
  expect(item(PROTOCOLS.kafka, { apiKey: 0, size: 9 }, {}, { requestSize: 13, responseSize: 0 }), { kafka_size: 9, kafka_request: true, kafka_response: false });
  const a = item(PROTOCOLS.amqp, { method: 'basic publish', queue: '', exchange: 'ex', routingKey: 'rk' }, {}, { requestSize: 20, responseSize: 0 });
  expect(a, { amqp_method: 'basic.publish', amqp_summary: 'ex rk', amqp_request: true, amqp_response: false, amqp_request_length: 20, amqp_response_length: 0, amqp_total_size: 20 });
  const sum = (m: object) => read(item(PROTOCOLS.amqp, m), 'amqp_summary');
  assert.equal(sum({ queue: 'q1', exchange: 'ex' }), 'q1');
  assert.equal(sum({ routingKey: 'rk' }), 'rk');
  assert.equal(sum({ exchange: 'ex' }), 'ex');
  assert.equal(sum({ consumerTag: 'ctag', replyText: 'x' }), 'ctag');
  assert.equal(sum({ versionMajor: 0, versionMinor: 9, replyText: 'x' }), '0.9');
  assert.equal(sum({ replyText: 'OK' }), 'OK');
  assert.equal(sum({}), '');
  expect(item(PROTOCOLS.amqp, { method: 'queue declare' }, {}, { requestSize: 5, responseSize: 7 }), { amqp_method: 'queue.declare', amqp_response: true, amqp_total_size: 12 });
  expect(item(PROTOCOLS.amqp, {}, { method: 'basic deliver' }, { requestSize: 0, responseSize: 7 }), { amqp_request: false, amqp_response: true, amqp_request_length: 0, amqp_response_length: 7, amqp_total_size: 7 });
  const m = item(PROTOCOLS.mongodb, { command: 'find', collection: 'c', database: 'd', summary: 'find c', opCode: 'OP_MSG' }, { ok: 1, code: 11000, errmsg: 'dup', opCode: 'OP_REPLY' }, { requestSize: 50, responseSize: 60 });
  expect(m, { mongodb_command: 'find', mongodb_collection: 'c', mongodb_database: 'd', mongodb_summary: 'find c', mongodb_op_code: 'OP_MSG', mongodb_ok: true, mongodb_error_code: 11000, mongodb_error_message: 'dup', mongodb_request: true, mongodb_response: true, mongodb_request_size: 50, mongodb_response_size: 60, mongodb_total_size: 110 });
  expect(item(PROTOCOLS.mongodb, {}, { ok: '1', opCode: 'OP_MSG' }, { requestSize: 0, responseSize: 0 }), { mongodb_op_code: 'OP_MSG', mongodb_ok: true, mongodb_request: false, mongodb_response: false });
  expect(item(PROTOCOLS.mongodb, {}, { ok: 0 }), { mongodb_ok: false });
});

test('WebSocket, TLS handshakes, ICMP', () => {
  const empty = { from: '', opcode: '', payload: '', text: '' };
  expect(item(PROTOCOLS.ws, { from: 'client', opcode: 'text', text: 'hello', payload: 'aGVsbG8=' }, empty),
    { ws_opcode: 'text', ws_request_payload_data: 'hello', ws_response_payload_data: '' });
  expect(item(PROTOCOLS.ws, empty, { from: 'server', opcode: 'binary', text: '', payload: 'AAE=' }),
    { ws_opcode: 'binary', ws_request_payload_data: '', ws_response_payload_data: 'AAE=' });
  expect(item({ name: 'websocket' }, { from: 'client', opcode: 'ping', payload: 'cA==' }, {}), { ws_opcode: '', ws_request_payload_data: '' });
  expect(item(PROTOCOLS.tlsx, { sni: 'example.com', cipherSuites: ['A', 'B'], alpn: ['h2', 'http/1.1'], versions: ['TLS 1.3', 'TLS 1.2'] }, { cipherSuite: 'A', version: 'TLS 1.3' }),
    { tlsx_sni: 'example.com', tlsx_cipher_suite: 'A', tlsx_cipher_suites: ['A', 'B'], tlsx_alpn: ['h2', 'http/1.1'], tlsx_version: 'TLS 1.3' });
  expect(item(PROTOCOLS.tlsx, { versions: ['TLS 1.2'] }, {}), { tlsx_version: 'TLS 1.2', tlsx_cipher_suite: '', tlsx_alpn: [] });
  const echo = { version: 4, type: 8, code: 0, typeCode: 'EchoRequest', length: 64 };
  const reply = { version: 4, type: 0, code: 0, typeCode: 'EchoReply', length: 72 };
  const none = { version: 4, type: -1, code: -1, typeCode: '', length: 0 };
  expect(item(PROTOCOLS.icmp, echo, reply), { icmp_type: 'EchoRequest', icmp_version: 4, icmp_length: 64 });
  expect(item(PROTOCOLS.icmp6, none, { ...reply, version: 6 }), { icmp_type: 'EchoReply', icmp_version: 6, icmp_length: 72 });
  expect(item(PROTOCOLS.icmp, { ...echo, type: 0 }, reply), { icmp_type: 'EchoRequest' });
});

test('flow items: the local side is src unless only dst is a local process', () => {
  const client = { state: 'closed', bytes: 100, packets: 3, pps: 30, bps: 800, payload: Buffer.from('GET').toString('base64') };
  const server = { bytes: 2000, packets: 5, pps: 50, bps: 16000 };
  const local = { name: 'curl', processName: 'curl', ip: '1', port: '1', namespace: '', processId: 1 };
  const remote = { name: '', processName: '', ip: '2', port: '2', namespace: '', processId: 0 };
  const want = (l: typeof server, r: typeof server) => ({
    conn_state: 'closed', conn_local_bytes: l.bytes, conn_remote_bytes: r.bytes, conn_local_pkts: l.packets, conn_remote_pkts: r.packets,
    flow_local_pps: l.pps, flow_local_bps: l.bps, flow_remote_pps: r.pps, flow_remote_bps: r.bps,
  });
  expect(item(PROTOCOLS.tcpConn, client, server, { src: local, dst: remote }), { ...want(client, server), tcp_payload: 'bytes:GET', udp_payload: 'bytes:' });
  expect(item(PROTOCOLS.tcpFlow, client, server, { src: remote, dst: local }), want(server, client));
  expect(item(PROTOCOLS.udpFlow, client, server, { src: remote, dst: remote }), { ...want(client, server), udp_payload: 'bytes:GET', tcp_payload: 'bytes:' });
  expect(item(PROTOCOLS.udpConn, { ...client, bytes: 48 }, server, { src: local, dst: local }), { conn_local_bytes: 48, udp_length: 48, conn_state: 'closed' });
  expect(item(PROTOCOLS.tcpConn, { ...client, bytes: 48 }, server), { udp_length: 0 });
});

test('defaults, memo and malformed items', () => {
  assert.deepEqual(['string', 'int', 'double', 'bool', 'bytes', 'timestamp', 'uint', 'dyn'].map((t) => plain(defaultOf(t as never))), ['', 0, 0, false, 'bytes:', '0.0', [], []]);
  assert.deepEqual(plain(defaultOf({ map: ['string', 'string'] })), {});
  assert.deepEqual(plain(defaultOf({ list: 'string' })), []);
  const it = item(PROTOCOLS.dns, { questions: [{ name: 'a', type: 'A' }] }, {});
  const v = varsOf(it) as unknown as Record<string, unknown>;
  assert.equal(varsOf(it), v);
  assert.equal(v.dns_questions, v.dns_questions); // a list is built once per item
  assert.equal(READERS.dns_questions(it), v.dns_questions);
  assert.equal(v.timestamp, v.timestamp);
  assert.notEqual(varsOf(item(PROTOCOLS.dns)), v);
  assert.equal((varsOf(it) as unknown) === v, false); // the cache holds the last item only
  const v2 = varsOf(it) as unknown as Record<string, unknown>;
  assert.equal(v2.dns, true);
  assert.deepEqual(v2.dns_questions, ['a']);
  // a field that throws when read makes the variable read as absent, not the query crash
  const bad = item(PROTOCOLS.http11, Object.defineProperty({}, 'method', { get() { throw new Error('boom'); }, enumerable: true }));
  assert.equal(READERS.method(bad), '');
  assert.deepEqual(plain(READERS['request.headers'](item(PROTOCOLS.http11, { get headers(): never { throw new Error('x'); } }))), {});
  assert.equal(READERS.status_code(item(PROTOCOLS.http11, {}, { status: 'abc' })), 0n);
  assert.equal(READERS.status_code(item(PROTOCOLS.http11, {}, { status: Infinity })), 0n);
  assert.equal(READERS.status_code(item(PROTOCOLS.http11, {}, { status: '301 Moved' })), 301n);
  assert.equal(READERS.method(item(PROTOCOLS.http11, null as never)), '');
  assert.equal(READERS.method(item(PROTOCOLS.http11, { method: true })), 'true');
  assert.equal(READERS.method(item(PROTOCOLS.http11, { method: {} })), '');
  assert.equal(READERS.http(item(null)), false);
});

test('every variable reads a value of its declared type, on items of every protocol', () => {
  const kind = (t: unknown): string =>
    typeof t === 'string' ? ({ string: 'string', int: 'bigint', uint: 'bigint', double: 'number', bool: 'boolean', bytes: 'bytes', timestamp: 'timestamp' } as Record<string, string>)[t] ?? `? ${t}`
      : t !== null && typeof t === 'object' && 'list' in t ? 'list' : t !== null && typeof t === 'object' && 'map' in t ? 'map' : `? ${JSON.stringify(t)}`;
  const kindOf = (v: unknown): string =>
    v instanceof Uint8Array ? 'bytes' : v instanceof Map ? 'map' : Array.isArray(v) ? 'list' : v !== null && typeof v === 'object' && 'seconds' in v ? 'timestamp' : typeof v;
  const items = [
    ...Object.values(PROTOCOLS).map((p) => item(p, EVERYTHING, EVERYTHING)),
    item({ name: 'other' }, EVERYTHING, EVERYTHING), item(null), item(PROTOCOLS.dns, null as never, 'x' as never),
  ];
  const wrong = new Set<string>();
  for (const [name, def] of Object.entries(VARIABLES)) {
    for (const it of items) {
      const v = READERS[name](it);
      if (kindOf(v) !== kind(def.type)) wrong.add(`${name}: declared ${JSON.stringify(def.type)}, read ${kindOf(v)}`);
      if (Array.isArray(v) && v.some((x) => typeof x !== 'string')) wrong.add(`${name}: a list of non-strings`);
      if (v instanceof Map && [...v].some(([k, x]) => typeof k !== 'string' || typeof x !== 'string')) wrong.add(`${name}: a map of non-strings`);
    }
  }
  assert.deepEqual([...wrong], []);
  assert.ok(Object.keys(VARIABLES).length > 120);
});
