/**
 * KFL2's flat variables (kubeshark-compat §9), computed from our items (capture/item/schema.ts).
 *
 * Each item gets one ItemVars object, shared by consecutive queries over the same item (see
 * varsOf); each variable is computed on first access only, so a query pays for the variables
 * it reads, not for all ~130. The mapping is documented in
 * docs/kfl2.md.
 */
import { create } from '@bufbuild/protobuf';
import { TimestampSchema, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { DnsRR, Endpoint, Item } from '../../../capture/item/schema';
import { list, map, type Type } from './types';

type Value = bigint | string | boolean | number | string[] | Map<string, string> | Uint8Array | Timestamp;
type Getter = (item: Item) => Value;
export interface VarDef { type: Type; get: Getter | null }

const STR_LIST = list('string');
const STR_MAP = map('string', 'string');

// ------------------------------------------------------------------ item readers (never throw)
const rec = (v: unknown): Record<string, any> => (v !== null && typeof v === 'object' ? (v as Record<string, any>) : {});
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');
const int = (v: unknown): bigint => {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseInt(v, 10) : NaN;
  return Number.isFinite(n) ? BigInt(Math.trunc(n)) : 0n;
};
const proto = (it: Item) => rec(it.protocol);
const req = (it: Item) => rec(it.request);
const res = (it: Item) => rec(it.response);
const isHttp = (it: Item) => proto(it).name === 'http';
const isDns = (it: Item) => proto(it).name === 'dns';
const isGrpc = (it: Item) => proto(it).abbr === 'gRPC';
const isGql = (it: Item) => proto(it).abbr === 'GQL';
// protocols II
const isRedis = (it: Item) => proto(it).name === 'redis';
const isPg = (it: Item) => proto(it).name === 'postgresql';
const isMysql = (it: Item) => proto(it).name === 'mysql';

/**
 * Header maps get lower-cased keys (HTTP names are case-insensitive and KFL2's examples write
 * `request.headers["content-type"]`); cookie names are case-sensitive and keep their case.
 */
function strMap(v: unknown, lower: boolean): Map<string, string> {
  const m = new Map<string, string>();
  const o = rec(v);
  for (const k in o) {
    const val = o[k];
    m.set(lower ? lowerName(k) : k, Array.isArray(val) ? val.map(str).join(',') : str(val));
  }
  return m;
}

// Header names repeat from item to item: remember their lower-case form (bounded).
const lowered = new Map<string, string>();
function lowerName(k: string): string {
  let l = lowered.get(k);
  if (l === undefined) {
    if (lowered.size >= 4096) lowered.clear();
    lowered.set(k, (l = k.toLowerCase()));
  }
  return l;
}

/** Which side is "local": the endpoint whose process we know (a socket on this machine), else src. */
function sides(it: Item): [Endpoint, Endpoint] {
  const s = rec(it.src) as Endpoint, d = rec(it.dst) as Endpoint;
  return !str(s.processName) && str(d.processName) ? [d, s] : [s, d];
}

/** An endpoint's name when it came from DNS rather than from a process (Endpoint.name holds either). */
function dnsName(e: unknown): string {
  const r = rec(e);
  const name = str(r.name);
  return name && name !== str(r.processName) ? name : '';
}

// RFC 1035/2136/2845 response codes as the item's `response.code` spells them (gopacket's strings,
// Kubeshark's DNS dissector). KFL2's `status_code` for DNS is the numeric RCODE.
const RCODES: Record<string, number> = {
  'No Error': 0, 'Format Error': 1, 'Server Failure': 2, 'Non-Existent Domain': 3, 'Not Implemented': 4,
  'Query Refused': 5, 'Name Exists when it should not': 6, 'RR Set Exists when it should not': 7,
  'RR Set that should exist does not': 8, 'Server Not Authoritative for zone': 9, 'Name not contained in zone': 10,
};
function rcode(code: unknown): bigint {
  const s = str(code);
  if (s in RCODES) return BigInt(RCODES[s]);
  return /^\d+$/.test(s) ? BigInt(s) : s ? -1n : 0n;
}

/** The data of a resource record, whichever field applies (A/AAAA ip, CNAME, PTR, NS, MX, …). */
function rrData(rr: DnsRR): string {
  const r = rec(rr);
  const ip = str(r.ip);
  if (ip && ip !== '<nil>') return ip;
  for (const f of ['cname', 'ptr', 'ns', 'mx', 'srv', 'txts', 'soa', 'uri']) if (str(r[f])) return str(r[f]).replace(/^, /, '');
  return '';
}

const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const dnsQuestions = (it: Item) => (isDns(it) ? arr(req(it).questions) : []);
const dnsAnswers = (it: Item) => (isDns(it) ? arr(res(it).answers) : []);
// weblayer: WebSocket, TLS handshakes, ICMP, flow items
const isWs = (it: Item) => proto(it).name === 'ws';
const isTlsx = (it: Item) => proto(it).name === 'tlsx';
const isIcmp = (it: Item) => proto(it).name === 'icmp';
const isConn = (it: Item) => proto(it).name === 'tcp-conn' || proto(it).name === 'udp-conn';
const isFlowReport = (it: Item) => proto(it).name === 'tcp-flow' || proto(it).name === 'udp-flow';
const isConnOrFlow = (it: Item) => isConn(it) || isFlowReport(it);
const isL4 = (it: Item, t: 'tcp' | 'udp') => isConnOrFlow(it) && proto(it).layer4 === t;
/** The side of a WebSocket item that carries the message. */
const wsMsg = (it: Item) => (str(req(it).from) ? req(it) : res(it));
/** Text messages as text, others as their base64 payload; "" on the empty side. */
const wsData = (m: Record<string, any>) => (str(m.from) ? (str(m.opcode) === 'text' ? str(m.text) : str(m.payload)) : '');
/** The ICMP message an item is about: the request, or the reply when no request was seen. */
const icmpMsg = (it: Item) => (int(req(it).type) >= 0n ? req(it) : res(it));
const b64 = (v: unknown) => new Uint8Array(Buffer.from(str(v), 'base64'));
/** A flow item's local (or remote) direction: request is the client's, unless only the server is local. */
const localSide = (it: Item, local: boolean) => ((sides(it)[0] === rec(it.src)) === local ? req(it) : res(it));
// end weblayer
const hasRes = (it: Item) => Object.keys(res(it)).length > 0;
const hasReq = (it: Item) => Object.keys(req(it)).length > 0;

/** `startTime` carries nanoseconds; `timestamp` (ms) is the fallback. */
function timestampOf(it: Item): Timestamp {
  const m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(str(it.startTime));
  const secs = m ? Date.parse(m[1] + m[3]) : NaN;
  if (m && Number.isFinite(secs)) {
    return create(TimestampSchema, { seconds: BigInt(secs / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) });
  }
  const ms = typeof it.timestamp === 'number' && Number.isFinite(it.timestamp) ? it.timestamp : 0;
  return create(TimestampSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
}

function grpcStatus(it: Item): bigint {
  const h = strMap(res(it).headers, true);
  return int(h.get('grpc-status') ?? '0');
}

function endpointVars(side: 'src' | 'dst'): Record<string, VarDef> {
  const e = (it: Item) => rec(it[side]);
  return {
    [`${side}.ip`]: { type: 'string', get: (it) => str(e(it).ip) },
    [`${side}.port`]: { type: 'int', get: (it) => int(e(it).port) },
    [`${side}.name`]: { type: 'string', get: (it) => str(e(it).name) },
    [`${side}.namespace`]: { type: 'string', get: (it) => str(e(it).namespace) },
    [`${side}.dns`]: { type: 'string', get: (it) => dnsName(e(it)) },
    // No Kubernetes here: pod/service identities are declared so queries compile, and are "".
    [`${side}.pod.name`]: { type: 'string', get: null },
    [`${side}.pod.namespace`]: { type: 'string', get: null },
    [`${side}.service.name`]: { type: 'string', get: null },
    [`${side}.service.namespace`]: { type: 'string', get: null },
  };
}

const flag = (test: (it: Item) => boolean): VarDef => ({ type: 'bool', get: test });

// ------------------------------------------------------------------ Kafka, AMQP, MongoDB (issue 12)
// Names from Kubeshark's KFL2 reference where it has them (kafka_*, amqp_*); MongoDB's are ours,
// in the same pattern. Sizes are the item's wire sizes; "request preferred, else response".
const isKafka = (it: Item) => proto(it).name === 'kafka';
const isAmqp = (it: Item) => proto(it).name === 'amqp';
const isMongo = (it: Item) => proto(it).name === 'mongodb';
const sizeIf = (test: (it: Item) => boolean, side: 'requestSize' | 'responseSize') => (it: Item) => (test(it) ? int(it[side]) : 0n);
/** "ApiVersions" → "API_VERSIONS" (KFL2 spells Kafka's api key names upper-case, as the Java enum). */
const upperSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
/** What an AMQP method is about: its queue, else exchange (+ routing key), else consumer tag, else version / reply text. */
function amqpSummary(it: Item): string {
  const m = req(it);
  if (str(m.queue)) return str(m.queue);
  if (str(m.exchange) || str(m.routingKey)) return [str(m.exchange), str(m.routingKey)].filter(Boolean).join(' ');
  if (str(m.consumerTag)) return str(m.consumerTag);
  if (m.versionMajor !== undefined) return `${str(m.versionMajor)}.${str(m.versionMinor)}`;
  return str(m.replyText);
}
const KAFKA_AMQP_MONGODB: Record<string, VarDef> = {
  kafka_api_key: { type: 'int', get: (it) => (isKafka(it) && hasReq(it) ? int(req(it).apiKey) : 0n) },
  kafka_api_key_name: { type: 'string', get: (it) => (isKafka(it) ? upperSnake(str(req(it).apiKeyName)) : '') },
  kafka_client_id: { type: 'string', get: (it) => (isKafka(it) ? str(req(it).clientID) : '') },
  kafka_size: { type: 'int', get: (it) => (isKafka(it) ? (it.requestSize > 0 ? int(req(it).size) : int(res(it).size)) : 0n) },
  kafka_request: { type: 'bool', get: (it) => isKafka(it) && it.requestSize > 0 },
  kafka_response: { type: 'bool', get: (it) => isKafka(it) && it.responseSize > 0 },
  kafka_request_summary: { type: 'string', get: (it) => (isKafka(it) ? str(req(it).summary) : '') },
  kafka_request_size: { type: 'int', get: sizeIf(isKafka, 'requestSize') },
  kafka_response_size: { type: 'int', get: sizeIf(isKafka, 'responseSize') },
  amqp_method: { type: 'string', get: (it) => (isAmqp(it) ? str(req(it).method).replace(' ', '.') : '') },
  amqp_summary: { type: 'string', get: (it) => (isAmqp(it) ? amqpSummary(it) : '') },
  amqp_request: { type: 'bool', get: (it) => isAmqp(it) && it.requestSize > 0 },
  amqp_response: { type: 'bool', get: (it) => isAmqp(it) && it.responseSize > 0 },
  amqp_request_length: { type: 'int', get: sizeIf(isAmqp, 'requestSize') },
  amqp_response_length: { type: 'int', get: sizeIf(isAmqp, 'responseSize') },
  amqp_total_size: { type: 'int', get: (it) => (isAmqp(it) ? int(it.requestSize) + int(it.responseSize) : 0n) },
  mongodb_command: { type: 'string', get: (it) => (isMongo(it) ? str(req(it).command) : '') },
  mongodb_collection: { type: 'string', get: (it) => (isMongo(it) ? str(req(it).collection) : '') },
  mongodb_database: { type: 'string', get: (it) => (isMongo(it) ? str(req(it).database) : '') },
  mongodb_summary: { type: 'string', get: (it) => (isMongo(it) ? str(req(it).summary) : '') },
  mongodb_op_code: { type: 'string', get: (it) => (isMongo(it) ? str(req(it).opCode) || str(res(it).opCode) : '') },
  mongodb_ok: { type: 'bool', get: (it) => isMongo(it) && Number(res(it).ok) === 1 },
  mongodb_error_code: { type: 'int', get: (it) => (isMongo(it) ? int(res(it).code) : 0n) },
  mongodb_error_message: { type: 'string', get: (it) => (isMongo(it) ? str(res(it).errmsg) : '') },
  mongodb_request: { type: 'bool', get: (it) => isMongo(it) && it.requestSize > 0 },
  mongodb_response: { type: 'bool', get: (it) => isMongo(it) && it.responseSize > 0 },
  mongodb_request_size: { type: 'int', get: sizeIf(isMongo, 'requestSize') },
  mongodb_response_size: { type: 'int', get: sizeIf(isMongo, 'responseSize') },
  mongodb_total_size: { type: 'int', get: (it) => (isMongo(it) ? int(it.requestSize) + int(it.responseSize) : 0n) },
};
const never: VarDef = { type: 'bool', get: null };
const undissected = (type: Type): VarDef => ({ type, get: null });

/** Every KFL2 variable: its static type and how to compute it (`null`: always the default). */
export const VARIABLES: Readonly<Record<string, VarDef>> = Object.freeze({
  // protocol flags
  http: flag(isHttp),
  dns: flag(isDns),
  grpc: flag(isGrpc),
  gql: flag(isGql),
  gqlv1: flag((it) => isGql(it) && proto(it).version === '1.1'),
  gqlv2: flag((it) => isGql(it) && proto(it).version === '2.0'),
  redis: flag((it) => proto(it).name === 'redis'),
  kafka: flag((it) => proto(it).name === 'kafka'),
  amqp: flag((it) => proto(it).name === 'amqp'),
  // Flags for Kubeshark's own L4/connection items: true only for items of that protocol.
  // Kubeshark's raw L4 items: ours are the flow items (tcp-conn/tcp-flow, udp-conn/udp-flow).
  tcp: flag((it) => isL4(it, 'tcp')),
  udp: flag((it) => isL4(it, 'udp')),
  icmp: flag((it) => proto(it).name === 'icmp'),
  sctp: flag((it) => proto(it).name === 'sctp'),
  ws: flag((it) => proto(it).name === 'ws' || proto(it).name === 'websocket'),
  tlsx: flag((it) => proto(it).name === 'tlsx'),
  ldap: flag((it) => proto(it).name === 'ldap'),
  radius: flag((it) => proto(it).name === 'radius'),
  diameter: flag((it) => proto(it).name === 'diameter'),
  mongodb: flag((it) => proto(it).name === 'mongodb'),
  mysql: flag((it) => proto(it).name === 'mysql'),
  postgresql: flag((it) => proto(it).name === 'postgresql'),
  // Kubeshark's `tls` means "captured through eBPF TLS hooks"; ours is the item's `tls` field (false).
  tls: flag((it) => it.tls === true),
  // weblayer: flow items (capture/stream/flowitem.ts)
  conn: flag((it) => isConn(it)),
  flow: flag((it) => isFlowReport(it)),
  tcp_conn: flag((it) => proto(it).name === 'tcp-conn'),
  udp_conn: flag((it) => proto(it).name === 'udp-conn'),
  tcp_flow: flag((it) => proto(it).name === 'tcp-flow'),
  udp_flow: flag((it) => proto(it).name === 'udp-flow'),
  // end weblayer

  // network / identity
  ...endpointVars('src'),
  ...endpointVars('dst'),
  protocol: { type: 'string', get: (it) => str(proto(it).abbr) },
  id: { type: 'string', get: (it) => str(it.id) },
  node_id: { type: 'string', get: (it) => str(rec(it.node).name) },
  index: { type: 'int', get: (it) => int(it.index) },
  stream: { type: 'string', get: (it) => str(it.stream) },
  timestamp: { type: 'timestamp', get: timestampOf },
  worker: { type: 'string', get: (it) => str(it.worker) },
  conn_id: undissected('string'),
  flow_id: undissected('string'),
  has_pcap: flag((it) => str(it.stream) !== ''),
  capture_source: { type: 'string', get: (it) => (str(it.worker).startsWith('file/') ? 'pcap_file' : str(it.worker) ? 'libpcap' : '') },
  capture_backend: undissected('string'),
  capture_source_code: undissected('int'),
  elapsed_time: { type: 'int', get: (it) => int(it.elapsedTime) * 1000n },

  // identity (Kubernetes in Kubeshark; the capturing machine and local processes here)
  namespaces: { type: STR_LIST, get: (it) => [str(rec(it.src).namespace), str(rec(it.dst).namespace)].filter(Boolean) },
  pods: undissected(STR_LIST),
  services: undissected(STR_LIST),
  node_name: { type: 'string', get: (it) => str(rec(it.node).name) },
  node_ip: { type: 'string', get: (it) => str(rec(it.node).ip) },
  local_node_name: { type: 'string', get: (it) => str(rec(it.node).name) },
  remote_node_name: undissected('string'),
  local_labels: undissected(STR_MAP),
  remote_labels: undissected(STR_MAP),
  local_annotations: undissected(STR_MAP),
  remote_annotations: undissected(STR_MAP),
  local_process_name: { type: 'string', get: (it) => str(sides(it)[0].processName) },
  remote_process_name: { type: 'string', get: (it) => str(sides(it)[1].processName) },
  dns_resolutions: { type: STR_LIST, get: (it) => [dnsName(it.src), dnsName(it.dst)].filter(Boolean) },
  local_resolution_status: undissected('string'),
  remote_resolution_status: undissected('string'),

  // HTTP
  method: { type: 'string', get: (it) => (isHttp(it) ? str(req(it).method) : '') },
  url: { type: 'string', get: (it) => (isHttp(it) ? str(req(it).url) : '') },
  path: { type: 'string', get: (it) => (isHttp(it) ? str(req(it).path) : '') },
  status_code: { type: 'int', get: (it) => (isHttp(it) ? int(res(it).status) : isDns(it) && hasRes(it) ? rcode(res(it).code) : 0n) },
  http_version: { type: 'string', get: (it) => (isHttp(it) ? str(req(it).httpVersion) : '') },
  query_string: {
    type: 'string',
    get: (it) => {
      const u = isHttp(it) ? str(req(it).url) : '';
      const q = u.indexOf('?');
      return q < 0 ? '' : u.slice(q + 1);
    },
  },
  'request.headers': { type: STR_MAP, get: (it) => (isHttp(it) ? strMap(req(it).headers, true) : new Map()) },
  'response.headers': { type: STR_MAP, get: (it) => (isHttp(it) ? strMap(res(it).headers, true) : new Map()) },
  'request.cookies': { type: STR_MAP, get: (it) => (isHttp(it) ? strMap(req(it).cookies, false) : new Map()) },
  'response.cookies': { type: STR_MAP, get: (it) => (isHttp(it) ? strMap(res(it).cookies, false) : new Map()) },
  request_body_size: { type: 'int', get: (it) => (isHttp(it) ? int(req(it).bodySize) : 0n) },
  response_body_size: { type: 'int', get: (it) => (isHttp(it) ? int(res(it).bodySize) : 0n) },
  // Our items carry headersSize -1 (HAR "unknown"); the wire size minus the body is exact.
  request_headers_size: { type: 'int', get: (it) => (isHttp(it) ? headersSize(req(it), it.requestSize) : 0n) },
  response_headers_size: { type: 'int', get: (it) => (isHttp(it) ? headersSize(res(it), it.responseSize) : 0n) },
  grpc_method: { type: 'string', get: (it) => (isGrpc(it) ? str(req(it).path).split('/').pop() ?? '' : '') },
  grpc_status: { type: 'int', get: (it) => (isGrpc(it) ? grpcStatus(it) : 0n) },

  // DNS
  dns_questions: { type: STR_LIST, get: (it) => dnsQuestions(it).map((q) => str(rec(q).name)) },
  dns_question_types: { type: STR_LIST, get: (it) => dnsQuestions(it).map((q) => str(rec(q).type)) },
  dns_answers: { type: STR_LIST, get: (it) => dnsAnswers(it).map(rrData) },
  dns_request: flag((it) => isDns(it) && hasReq(it)),
  dns_response: flag((it) => isDns(it) && hasRes(it)),
  dns_request_length: { type: 'int', get: (it) => (isDns(it) && hasReq(it) ? int(it.requestSize) : 0n) },
  dns_response_length: { type: 'int', get: (it) => (isDns(it) && hasRes(it) ? int(it.responseSize) : 0n) },
  dns_total_size: {
    type: 'int',
    get: (it) => (isDns(it) ? (hasReq(it) ? int(it.requestSize) : 0n) + (hasRes(it) ? int(it.responseSize) : 0n) : 0n),
  },

  // protocols II: Redis (Kubeshark's names), PostgreSQL and MySQL (Kubeshark's KFL2 has sets for
  // them whose names are not public: ours follow its <protocol>_<field> pattern; docs/kfl2.md).
  redis_type: { type: 'string', get: (it) => (isRedis(it) ? str(req(it).type) : '') },
  redis_command: { type: 'string', get: (it) => (isRedis(it) ? str(req(it).command) : '') },
  redis_key: { type: 'string', get: (it) => (isRedis(it) ? str(req(it).key) : '') },
  redis_request_size: { type: 'int', get: (it) => (isRedis(it) ? int(it.requestSize) : 0n) },
  redis_response_size: { type: 'int', get: (it) => (isRedis(it) ? int(it.responseSize) : 0n) },
  postgresql_type: { type: 'string', get: (it) => (isPg(it) ? str(req(it).type) : '') },
  postgresql_query: { type: 'string', get: (it) => (isPg(it) ? str(req(it).query) : '') },
  postgresql_parameters: { type: STR_LIST, get: (it) => (isPg(it) ? arr(req(it).parameters).map(str) : []) },
  postgresql_command_tag: { type: 'string', get: (it) => (isPg(it) ? str(res(it).commandTag) : '') },
  postgresql_rows: { type: 'int', get: (it) => (isPg(it) ? int(res(it).rows) : 0n) },
  postgresql_error_code: { type: 'string', get: (it) => (isPg(it) ? str(res(it).errorCode) : '') },
  postgresql_error_message: { type: 'string', get: (it) => (isPg(it) ? str(res(it).errorMessage) : '') },
  mysql_command: { type: 'string', get: (it) => (isMysql(it) ? str(req(it).command) : '') },
  mysql_query: { type: 'string', get: (it) => (isMysql(it) ? str(req(it).query) : '') },
  mysql_parameters: { type: STR_LIST, get: (it) => (isMysql(it) ? arr(req(it).parameters).map(str) : []) },
  mysql_response_type: { type: 'string', get: (it) => (isMysql(it) ? str(res(it).type) : '') },
  mysql_rows: { type: 'int', get: (it) => (isMysql(it) ? int(res(it).rows) : 0n) },
  mysql_affected_rows: { type: 'int', get: (it) => (isMysql(it) ? int(res(it).affectedRows) : 0n) },
  mysql_error_code: { type: 'int', get: (it) => (isMysql(it) ? int(res(it).errorCode) : 0n) },
  mysql_sql_state: { type: 'string', get: (it) => (isMysql(it) ? str(res(it).sqlState) : '') },
  mysql_error_message: { type: 'string', get: (it) => (isMysql(it) ? str(res(it).errorMessage) : '') },

  ...KAFKA_AMQP_MONGODB,

  // Protocols Wirehook does not dissect yet: declared (queries compile), always their default.
  tcp_method: undissected('string'),
  tcp_error_type: undissected('string'), tcp_error_message: undissected('string'),
  udp_checksum: undissected('int'),
  tls_summary: undissected('string'), tls_info: undissected('string'),
  // weblayer: WebSocket, TLS handshakes, ICMP, flow items (docs/kfl2.md)
  tcp_payload: { type: 'bytes', get: (it) => (isL4(it, 'tcp') ? b64(req(it).payload) : new Uint8Array(0)) },
  udp_payload: { type: 'bytes', get: (it) => (isL4(it, 'udp') ? b64(req(it).payload) : new Uint8Array(0)) },
  udp_length: { type: 'int', get: (it) => (isL4(it, 'udp') ? int(req(it).bytes) : 0n) },
  icmp_type: { type: 'string', get: (it) => (isIcmp(it) ? str(icmpMsg(it).typeCode) : '') },
  icmp_version: { type: 'int', get: (it) => (isIcmp(it) ? int(icmpMsg(it).version) : 0n) },
  icmp_length: { type: 'int', get: (it) => (isIcmp(it) ? int(icmpMsg(it).length) : 0n) },
  ws_opcode: { type: 'string', get: (it) => (isWs(it) ? str(wsMsg(it).opcode) : '') },
  ws_request_payload_data: { type: 'string', get: (it) => (isWs(it) ? wsData(req(it)) : '') },
  ws_response_payload_data: { type: 'string', get: (it) => (isWs(it) ? wsData(res(it)) : '') },
  tlsx_sni: { type: 'string', get: (it) => (isTlsx(it) ? str(req(it).sni) : '') },
  tlsx_cipher_suite: { type: 'string', get: (it) => (isTlsx(it) ? str(res(it).cipherSuite) : '') },
  tlsx_cipher_suites: { type: STR_LIST, get: (it) => (isTlsx(it) ? arr(req(it).cipherSuites).map(str) : []) },
  tlsx_alpn: { type: STR_LIST, get: (it) => (isTlsx(it) ? arr(req(it).alpn).map(str) : []) },
  tlsx_version: { type: 'string', get: (it) => (isTlsx(it) ? str(res(it).version) || str(arr(req(it).versions)[0]) : '') },
  conn_state: { type: 'string', get: (it) => (isConnOrFlow(it) ? str(req(it).state) : '') },
  conn_local_bytes: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, true).bytes) : 0n) },
  conn_remote_bytes: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, false).bytes) : 0n) },
  conn_local_pkts: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, true).packets) : 0n) },
  conn_remote_pkts: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, false).packets) : 0n) },
  // Flow items exist only for traffic no dissector recognised.
  conn_l7_detected: undissected(STR_LIST),
  flow_local_pps: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, true).pps) : 0n) },
  flow_local_bps: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, true).bps) : 0n) },
  flow_remote_pps: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, false).pps) : 0n) },
  flow_remote_bps: { type: 'int', get: (it) => (isConnOrFlow(it) ? int(localSide(it, false).bps) : 0n) },
  // end weblayer
} satisfies Record<string, VarDef>);

function headersSize(part: Record<string, any>, wireSize: unknown): bigint {
  if (typeof part.headersSize === 'number' && part.headersSize >= 0) return BigInt(part.headersSize);
  const n = int(wireSize) - int(part.bodySize);
  return n > 0n ? n : 0n;
}

/**
 * `request.headers["k"]` without building the map: the value the lower-cased map would hold
 * for `key` (already lower-case), or undefined. Same rules as strMap: the last of several
 * spellings wins, arrays are joined.
 */
function headerLookup(part: (it: Item) => Record<string, any>): (item: Item, key: string) => string | undefined {
  return (item, key) => {
    if (!isHttp(item)) return undefined;
    const o = rec(part(item).headers);
    let found: string | undefined;
    for (const k in o) {
      if (lowerName(k) === key) {
        const val = o[k];
        found = Array.isArray(val) ? val.map(str).join(',') : str(val);
      }
    }
    return found;
  };
}
/** Direct key lookups for map variables (fast.ts uses them when the key is a constant). */
export const LOOKUPS: Readonly<Record<string, (item: Item, key: string) => string | undefined>> = {
  'request.headers': headerLookup(req),
  'response.headers': headerLookup(res),
};

/** `"x" in list` without building the list, for the list variables that allow it. */
export const MEMBERSHIP: Readonly<Record<string, (item: Item, value: string) => boolean>> = {
  dns_questions: (it, v) => dnsQuestions(it).some((q) => str(rec(q).name) === v),
  dns_question_types: (it, v) => dnsQuestions(it).some((q) => str(rec(q).type) === v),
  dns_answers: (it, v) => dnsAnswers(it).some((rr) => rrData(rr) === v),
};

/** The default KFL2 gives an absent variable of this type. */
export function defaultOf(t: Type): Value {
  switch (t) {
    case 'string': return '';
    case 'int': return 0n;
    case 'double': return 0;
    case 'bool': return false;
    case 'bytes': return new Uint8Array(0);
    case 'timestamp': return create(TimestampSchema, {});
    default: return typeof t === 'object' && 'map' in t ? new Map() : [];
  }
}

/**
 * The activation object @bufbuild/cel (and fast.ts) reads as `vars[name]`: one getter per
 * variable on the prototype. Lists, maps and timestamps are memoised in `c` on first access;
 * scalars are cheaper to recompute than to memoise (measured: the memo table cost more than
 * reading two fields).
 */
export class ItemVars {
  c: Record<string, Value> | null = null;
  constructor(readonly item: Item) {}
}
/** Per variable: how to read it from an item (fast.ts calls these directly). */
export const READERS: Readonly<Record<string, (item: Item) => Value>> = Object.create(null);
for (const [name, def] of Object.entries(VARIABLES)) {
  const fallback = defaultOf(def.type);
  const get = def.get;
  const memo = typeof def.type === 'object' || def.type === 'timestamp';
  const compute = (item: Item): Value => {
    if (get === null) return fallback;
    try {
      return get(item);
    } catch {
      return fallback; // a malformed item reads as "absent", never as a crash
    }
  };
  Object.defineProperty(ItemVars.prototype, name, {
    get: memo
      ? function (this: ItemVars) {
          const c = (this.c ??= Object.create(null) as Record<string, Value>);
          return (c[name] ??= compute(this.item));
        }
      : function (this: ItemVars) {
          return compute(this.item);
        },
  });
  (READERS as Record<string, (item: Item) => Value>)[name] = memo
    ? (item) => (varsOf(item) as unknown as Record<string, Value>)[name]
    : compute;
}

/*
 * Sharing is by "same item as the last call": queries are applied item by item (a hook calling
 * kfl.match several times on one item, the panel's filters on each arriving item), so a
 * one-entry cache gets the sharing. A WeakMap (or a symbol property on the item) was measured
 * at 0.4M (0.25M) items/s for the lookup alone once it holds many items, against 8M/s for
 * making the variables afresh — the cache would cost more than it saves.
 */
let lastItem: object | null = null;
let lastVars: ItemVars | null = null;
/** The shared, lazily filled variables of one item. */
export function varsOf(item: Item): ItemVars {
  if (item !== lastItem || lastVars === null) {
    lastVars = new ItemVars(item);
    lastItem = item;
  }
  return lastVars;
}
