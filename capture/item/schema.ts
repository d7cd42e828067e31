/**
 * The item schema: the one typed definition of what a dissected L7 message looks like.
 *
 * Dissectors build these, KFL evaluates against them, the hook runtime hands them to
 * `onItemCaptured(data)`, and `wirehook.d.ts` / editor completions are generated from this
 * file. Field names and shapes follow Kubeshark's JSON items (shared/reference/kubeshark-compat.md
 * §6–§7); where sources disagree, the decision is written next to the field and in docs/items.md.
 *
 * Keep this file declarations-only (interfaces, type aliases, JSDoc): the d.ts generator copies it.
 */

/** One row of the protocol table (kubeshark-compat §7). Every item carries the full entry. */
export interface Protocol {
  /** Dissector name, e.g. `"http"`, `"dns"`. */
  name: string;
  /** Protocol version, e.g. `"1.1"` for HTTP/1.1, `"0"` for DNS. */
  version: string;
  /** Short label shown in lists and matched by KFL macros, e.g. `"HTTP"`, `"DNS"`. */
  abbr: string;
  longName: string;
  /** The legacy KFL macro that selects this protocol, e.g. `"http"`. */
  macro: string;
  backgroundColor: string;
  foregroundColor: string;
  fontSize: number;
  referenceLink: string;
  /** Well-known ports, as strings (Kubeshark's choice). Detection is by content, not by these. */
  ports: string[];
  layer4: 'tcp' | 'udp';
  /** Always `"ip"` (added in Kubeshark's 2024 items). */
  layer3: string;
  /** Lower is tried first when several dissectors could claim a stream. */
  priority: number;
}

/** One side of the conversation (Kubeshark's `Resolution`). `src` is the client, `dst` the server. */
export interface Endpoint {
  ip: string;
  /** Port as a string, e.g. `"8080"` (Kubeshark's choice). */
  port: string;
  /**
   * Best known name: for a local socket during live capture, the owning process
   * (`processName`); for a remote address, the last DNS name seen answering to it in this
   * capture; `""` when unknown.
   */
  name: string;
  /** Kubernetes namespace in Kubeshark; always `""` here (no cluster), kept for script compatibility. */
  namespace: string;
  /** Local process that owns the socket (live capture on Linux via /proc), else `""`. */
  processName: string;
  /** PID of that process, else `0`. */
  processId: number;
}

/** The machine that captured the item (Kubeshark's Kubernetes node). */
export interface NodeInfo {
  /** Host name of the capturing machine. */
  name: string;
  /** First non-internal IPv4 address of the capturing machine, or `""`. */
  ip: string;
}

/** Why an item is incomplete. `type` values are Kubeshark's `ErrorType`s. */
export interface ItemError {
  type: 'dissection' | 'connection' | 'timeout' | 'pair-not-found';
  msg: string;
}

// ---------------------------------------------------------------- HTTP/1.x (§6.5)

/** A HAR-style name/value pair (used in `postData.params`). */
export interface HttpParam {
  name: string;
  value: string;
  fileName?: string;
  contentType?: string;
}

export interface HttpPostData {
  mimeType: string;
  params: HttpParam[];
  /** The request body as text (decoded from gzip/deflate/br when the request was compressed), capped for previews. */
  text: string;
}

export interface HttpRequest {
  method: string;
  /** Request target exactly as on the wire, e.g. `"/api/v2/write?bucket=m"`. */
  url: string;
  /** Copy of `url`. */
  targetUri: string;
  /** `url` without the query string. */
  path: string;
  /** `path` split on `/`, the leading empty element dropped: `"/a/b"` → `["a","b"]`, `"/"` → `[""]`. */
  pathSegments: string[];
  /** `"HTTP/1.1"` or `"HTTP/1.0"`. */
  httpVersion: string;
  /** Header name (canonical Title-Case, e.g. `User-Agent`) → value; repeated headers joined with `","`. */
  headers: Record<string, string>;
  /** Cookie name → value. */
  cookies: Record<string, string>;
  /** Query parameter → value; a repeated key becomes an array of values. */
  queryString: Record<string, string | string[]>;
  /** Present only when the request has a body. */
  postData?: HttpPostData;
  /** Always `-1` (HAR: unknown), as Kubeshark. */
  headersSize: number;
  /** Body bytes as sent on the wire (after de-chunking, before content decoding). */
  bodySize: number;
}

export interface HttpContent {
  /** Decoded body size in bytes. */
  size: number;
  mimeType: string;
  /** The body, base64-encoded (Kubeshark's Go `[]byte` encoding), decompressed and capped for previews; omitted when empty. */
  text?: string;
  encoding: 'base64';
}

export interface HttpResponse {
  status: number;
  statusText: string;
  httpVersion: string;
  headers: Record<string, string>;
  cookies: Record<string, string>;
  content: HttpContent;
  /** `Location` header for redirects, else `""`. */
  redirectURL: string;
  headersSize: number;
  bodySize: number;
}

// ---------------------------------------------------------------- DNS (§6.9)

export interface DnsQuestion {
  name: string;
  /** Record type mnemonic, e.g. `"A"`, `"AAAA"`, `"TYPE65"` for unknown ones. */
  type: string;
  /** Usually `"IN"`. */
  class: string;
}

/** A resource record. Every field is a string except `ttl`; fields that do not apply are `""`. */
export interface DnsRR {
  name: string;
  type: string;
  class: string;
  ttl: number;
  /** A/AAAA address; `"<nil>"` for records without one (Kubeshark's rendering). */
  ip: string;
  ns: string;
  cname: string;
  ptr: string;
  /** TXT strings, each preceded by `", "` (Kubeshark's rendering). */
  txts: string;
  /** SOA: the responsible mailbox (RNAME), as Kubeshark. */
  soa: string;
  /** SRV target name. */
  srv: string;
  /** MX exchange name. */
  mx: string;
  /** OPT (EDNS) options rendered as `", CODE=hex"` entries. */
  opt: string;
  /** URI record target. */
  uri: string;
}

export interface DnsRequest {
  /** `"Query"`, `"IQuery"`, `"Status"`, `"Notify"`, `"Update"`, or the number. */
  opCode: string;
  questions: DnsQuestion[];
}

export interface DnsResponse {
  /** Response code as Kubeshark prints it, e.g. `"No Error"`, `"Non-Existent Domain"`, `"Server Failure"`. */
  code: string;
  /** Always arrays, never null (Kubeshark sometimes emitted null; scripts read `.length`). */
  answers: DnsRR[];
  authorities: DnsRR[];
  additionals: DnsRR[];
}

// ---------------------------------------------------------------- Kafka, AMQP 0-9-1, MongoDB (§6.10)

/** A Kafka request (Kubeshark's shape, plus `summary`). */
export interface KafkaRequest {
  /** The frame's size field: bytes after the 4-byte length. */
  size: number;
  /** CamelCase, as Kubeshark and the protocol guide: `"Produce"`, `"ApiVersions"`; `"Unknown(N)"` past the table. KFL2's `kafka_api_key_name` is the upper-case form (`"API_VERSIONS"`). */
  apiKeyName: string;
  apiKey: number;
  apiVersion: number;
  correlationID: number;
  /** `""` when the client sent a null client id. */
  clientID: string;
  /**
   * The request body, decoded for Produce, Fetch, ListOffsets, Metadata, OffsetCommit,
   * OffsetFetch, FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup, ApiVersions,
   * CreateTopics and DeleteTopics (field names camelCase from the protocol guide; records of
   * uncompressed batches with key/value as text); `{}` for other APIs.
   */
  payload: Record<string, any>;
  /** Request capture time, RFC 3339. */
  captureTime: string;
  /** Topics with the partitions named, e.g. `"orders[0,1], audit[2]"`; else the group/coordinator key; else the client id. */
  summary: string;
}

export interface KafkaResponse {
  size: number;
  correlationID: number;
  /** The response body, decoded for the same APIs as requests; `errorCode` where the API has a top-level one. */
  payload: Record<string, any>;
  captureTime: string;
}

/** AMQP basic properties of a content header (every field present; `""`/`0`/`{}` when not sent). */
export interface AmqpProperties {
  contentType: string;
  contentEncoding: string;
  headers: Record<string, any>;
  deliveryMode: number;
  priority: number;
  correlationId: string;
  replyTo: string;
  expiration: string;
  messageId: string;
  /** RFC 3339, or `""`. */
  timestamp: string;
  type: string;
  userId: string;
  appId: string;
}

/**
 * One AMQP method's fields (Kubeshark's shape): `method` with a space (`"basic publish"`,
 * `"queue declare-ok"`), then the method's arguments in camelCase without the reserved ones
 * (`exchange`, `routingKey`, `queue`, `consumerTag`, `deliveryTag`, `arguments`, …; Kubeshark's
 * `relyCode` spelling for connection close). Publish, deliver, get-ok and return carry
 * `properties` and `body` (base64, capped) from their content frames. The response of a method
 * with no reply is `{method: "empty"}`.
 */
export interface AmqpMethod {
  method: string;
  /** The channel the method was sent on. */
  channel: number;
  properties?: AmqpProperties;
  body?: string;
  /** Body bytes on the wire (before the preview cap), for content-carrying methods. */
  bodySize?: number;
  [field: string]: any;
}

/** A MongoDB request: OP_MSG, or the legacy OP_QUERY (and other legacy opcodes). */
export interface MongoRequest {
  /** `"OP_MSG"`, `"OP_QUERY"`, `"OP_COMPRESSED"`, `"OP_INSERT"`, …; `"OP_<n>"` for unknown codes. */
  opCode: string;
  requestID: number;
  /** The command: the first key of the command document (`"insert"`, `"find"`, `"hello"`); OP_QUERY on a collection: `"find"`. */
  command: string;
  /** `$db` of an OP_MSG, the part before the first `.` of an OP_QUERY's collection name. */
  database: string;
  /** The command's collection (the value of its first key when a string), `""` when none. */
  collection: string;
  /** `"insert test.people"`, or the command alone. */
  summary: string;
  flagBits: number;
  /** The command (OP_MSG body section) or query document, as relaxed Extended JSON. */
  document: Record<string, any>;
  /** Document-sequence sections (OP_MSG kind 1: `documents`, `updates`, `deletes`), by identifier. */
  sequences: Record<string, Record<string, any>[]>;
  /** OP_QUERY only: the namespace, skip and limit as sent (`""`/`0` otherwise). */
  fullCollectionName: string;
  numberToSkip: number;
  numberToReturn: number;
}

export interface MongoResponse {
  /** `"OP_MSG"` or `"OP_REPLY"` (`""` when there was none). */
  opCode: string;
  requestID: number;
  responseTo: number;
  flagBits: number;
  /** The reply document (OP_MSG body, first OP_REPLY document), relaxed Extended JSON. */
  document: Record<string, any>;
  /** OP_REPLY: every returned document. */
  documents: Record<string, any>[];
  /** The reply's `ok` (1 success, 0 failure); 0 when absent. */
  ok: number;
  /** The reply's `errmsg` and `code` on failure (`""`, 0 otherwise). */
  errmsg: string;
  code: number;
  /** OP_REPLY only: cursor id as a string (int64), `""` otherwise. */
  cursorID: string;
}

// ---------------------------------------------------------------- the item

/** Request/response bodies by protocol. Dissectors added later extend these unions. */
export type ItemRequest = HttpRequest | DnsRequest | Record<string, unknown>;
export type ItemResponse = HttpResponse | DnsResponse | Record<string, unknown>;

/** A dissected L7 message: one request/response exchange (Kubeshark's `Entry`). */
export interface Item<Req = ItemRequest, Res = ItemResponse> {
  /** `"<worker>/<stream>-<index>"`. */
  id: string;
  /** n-th item within its stream, from 0. */
  index: number;
  /** Name of the L4 stream: `"000000000042.pcap"` (TCP) or `"000000000042_udp.pcap"` (UDP); pass to `pcap.path()`. */
  stream: string;
  /** The capturing source, e.g. `"local/lo"` or `"file/capture.pcap"`. */
  worker: string;
  node: NodeInfo;
  protocol: Protocol;
  /** Captured through TLS interception; always `false` (Wirehook sees what is on the wire). */
  tls: boolean;
  src: Endpoint;
  dst: Endpoint;
  /** Legacy direction flag; always `false`. */
  outgoing: boolean;
  /** Request capture time, Unix milliseconds. */
  timestamp: number;
  /** Request capture time, RFC 3339 with nanoseconds, e.g. `"2023-06-04T09:09:34.306330792Z"`. */
  startTime: string;
  request: Req;
  response: Res;
  /** Bytes of the request on the wire (headers + body). */
  requestSize: number;
  /** Bytes of the response on the wire. */
  responseSize: number;
  /**
   * Response time minus request time in **milliseconds**, rounded, ≥ 0 — the unit Kubeshark's
   * dissectors compute and legacy KFL/scripts expect. (KFL2's `elapsed_time` is µs.)
   */
  elapsedTime: number;
  /** Set by `test.pass(data)`. */
  passed: boolean;
  /** Set by `test.fail(data)`. */
  failed: boolean;
  /** Why the item is incomplete, or `null`. */
  error: ItemError | null;
  /** `<stream with "." → "_">-<index>_entry.json`. */
  entryFile: string;
}

export type HttpItem = Item<HttpRequest, HttpResponse>;
export type DnsItem = Item<DnsRequest, DnsResponse>;
export type KafkaItem = Item<KafkaRequest, KafkaResponse>;
export type AmqpItem = Item<AmqpMethod, AmqpMethod>;
export type MongodbItem = Item<MongoRequest, MongoResponse>;

/** What `onPacketCaptured(info)` receives for every packet. */
export interface PacketInfo {
  /** Capture time, RFC 3339 with nanoseconds (UTC), as Kubeshark's Go `time.Time` renders. */
  timestamp: string;
  /** Bytes captured. */
  captureLength: number;
  /** Bytes on the wire. */
  length: number;
  /** The capture cut the packet short (snaplen). */
  truncated: boolean;
  /** The packet is an IP fragment. */
  fragmented: boolean;
}
