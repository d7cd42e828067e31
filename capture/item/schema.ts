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
  layer4: 'tcp' | 'udp' | 'icmp';
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
  /** `"HTTP/1.1"`, `"HTTP/1.0"` or `"HTTP/2.0"`. */
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
  /** gRPC items only (`protocol.abbr == "gRPC"`): the call and its request messages. */
  grpc?: GrpcRequest;
  /** GraphQL items only (`protocol.abbr == "GQL"`): the operation(s) the request asks for. */
  graphql?: GraphqlRequest;
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
  /** gRPC items only: the status from the trailers and the response messages. */
  grpc?: GrpcResponse;
}

// ---------------------------------------------------------------- HTTP/2, gRPC, GraphQL (§6.6–§6.8)
// HTTP/2 items use HttpRequest/HttpResponse (pseudo-headers included in `headers`, trailers
// merged in); gRPC and GraphQL items are HTTP items with these extra fields (docs/items.md).

/** One length-prefixed gRPC message. */
export interface GrpcMessage {
  /** The compressed flag of the message's 5-byte prefix: it was compressed with its side's `encoding`. */
  compressed: boolean;
  /** Declared message length in bytes on the wire, compressed size for compressed ones (`-1` when the body preview cut its 5-byte prefix). */
  length: number;
  /**
   * The message bytes (protobuf, not decoded: no schema), base64: decompressed when `compressed`
   * (the decompressed bytes of one body never exceed the body cap), else as sent; the compressed
   * wire bytes when they could not be decompressed (`undecoded` says why).
   */
  data: string;
  /** The body preview (or the body cap, decompressing) ended inside this message. */
  truncated?: boolean;
  /** Why a compressed message's `data` is still the compressed wire bytes, e.g. `"unknown grpc-encoding snappy"`. */
  undecoded?: string;
}

export interface GrpcRequest {
  /** From `:path` `/pkg.Service/Method`: `"pkg.Service"`. */
  service: string;
  /** `"Method"` (KFL2's `grpc_method`). */
  method: string;
  /** The request's `grpc-encoding` (message compression): `"gzip"`, `"deflate"`, …; `"identity"` when absent. */
  encoding: string;
  messages: GrpcMessage[];
}

export interface GrpcResponse {
  /** `grpc-status` from the trailers (or a trailers-only response); `-1` when none came (reset, cut). */
  status: number;
  /** `grpc-message`, percent-decoded; `""` when absent. */
  message: string;
  /** The response's `grpc-encoding`; `"identity"` when absent. */
  encoding: string;
  messages: GrpcMessage[];
}

export interface GraphqlOperation {
  /** The body's `operationName`, else the name of the operation in the query; `""` for anonymous ones. */
  operationName: string;
  operationType: 'query' | 'mutation' | 'subscription';
}

/** One item per HTTP exchange: for a batch, the first operation here and all of them in `operations`. */
export interface GraphqlRequest extends GraphqlOperation {
  /** The body was a JSON array of GraphQL requests (a batch). */
  batch: boolean;
  /** Every operation asked for, in order: one, or one per element of a batch. */
  operations: GraphqlOperation[];
  /** Where the query came from: `"body"` (POST) or `"url"` (GET `?query=`). */
  source: 'body' | 'url';
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

// ---------------------------------------------------------------- WebSocket, TLS handshakes, ICMP, flows (weblayer)

/** One WebSocket message (RFC 6455): the frames of a fragmented message are joined. */
export interface WsMessage {
  /** Who sent it: `"client"` or `"server"`; `""` on the side of the item that carries no message. */
  from: string;
  /** `"text"`, `"binary"`, `"close"`, `"ping"`, `"pong"`, or `"opcode-N"` for reserved opcodes; `""` when empty. */
  opcode: string;
  /** The opcode number (of the first frame), as tshark's `websocket.opcode`; `-1` when empty. */
  opcodeNumber: number;
  /** Frames the message came in (1 unless fragmented). */
  frames: number;
  /** The frames were masked (client frames must be). */
  masked: boolean;
  /** permessage-deflate compressed (RSV1 on the first frame); `payload` is inflated. */
  compressed: boolean;
  /** Payload bytes on the wire (sum of the frames' payload lengths, before inflating). */
  wireLength: number;
  /** Payload bytes after unmasking and inflating. */
  length: number;
  /** The payload, base64 (Kubeshark's `[]byte` encoding), capped for previews. */
  payload: string;
  /** Text messages (and close reasons): the payload as UTF-8, capped; else `""`. */
  text: string;
  /** Close frames: the status code (`1000` normal closure), else `0`. */
  closeCode: number;
}

/** A TLS certificate as the server sent it (TLS ≤ 1.2 only: 1.3 encrypts them). */
export interface TlsCertificate {
  /** Distinguished name, one `KEY=value` per line, as Node's `X509Certificate.subject`. */
  subject: string;
  issuer: string;
  /** Subject alternative names, e.g. `"DNS:example.com, IP Address:127.0.0.1"`, or `""`. */
  subjectAltName: string;
  validFrom: string;
  validTo: string;
  serialNumber: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
}

/** The ClientHello (`tlsx` request). Cipher suites/extensions listed as sent, GREASE values left out. */
export interface TlsClientHello {
  /** server_name extension, or `""`. */
  sni: string;
  /** ALPN protocols offered, e.g. `["h2", "http/1.1"]`. */
  alpn: string[];
  /** The ClientHello's legacy version field, e.g. `"TLS 1.2"`. */
  version: string;
  /** Versions offered: supported_versions when present, else the legacy version. */
  versions: string[];
  /** Cipher suite names (IANA), or `"0x1234"` for ones not in our table. */
  cipherSuites: string[];
  /** Extension type numbers, as sent. */
  extensions: number[];
  /** JA3 string (`version,ciphers,extensions,groups,point formats`) and its MD5. */
  ja3: string;
  ja3Hash: string;
  /** JA4 fingerprint (FoxIO spec), e.g. `"t13d1516h2_8daaf6152771_e5627efa2ab1"`. */
  ja4: string;
}

/** The ServerHello (`tlsx` response); empty strings/lists when none was seen. */
export interface TlsServerHello {
  /** The version chosen (supported_versions when present), e.g. `"TLS 1.3"`. */
  version: string;
  cipherSuite: string;
  /** ALPN protocol chosen, or `""`. */
  alpn: string;
  extensions: number[];
  /** JA3S string and MD5. */
  ja3s: string;
  ja3sHash: string;
  /** The server's certificate chain, leaf first (TLS ≤ 1.2; empty for 1.3). */
  certificates: TlsCertificate[];
  /** A fatal alert from the server during the handshake, e.g. `"handshake_failure"`, else `""`. */
  alert: string;
}

/** The flow an ICMP error message quotes (from the start of the datagram it carries). */
export interface IcmpQuotedFlow {
  /** `"tcp"`, `"udp"`, or the IP protocol number as a string. */
  transport: string;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** That flow's `stream` when this capture tracks it, else `""`. */
  stream: string;
}

/** One ICMP/ICMPv6 message. The side of an item that was not seen has type/code `-1` and empty names. */
export interface IcmpMessage {
  /** 4 (ICMP) or 6 (ICMPv6), KFL2's `icmp_version`. */
  version: number;
  type: number;
  code: number;
  /** gopacket's names (Kubeshark's), e.g. `"EchoRequest"`, `"DestinationUnreachable"`. */
  typeName: string;
  codeName: string;
  /** `"DestinationUnreachable(Port)"`, `"EchoRequest"`: KFL2's `icmp_type`. */
  typeCode: string;
  /** ICMP message bytes (header included). */
  length: number;
  /** Echo identifier and sequence number (0 for other types). */
  id: number;
  seq: number;
  /** Error messages: the flow they refer to; else `null`. */
  original: IcmpQuotedFlow | null;
}

/** An ICMP item's response: the reply, with the round-trip time. */
export interface IcmpResponse extends IcmpMessage {
  /** Echo round-trip time in microseconds (ms precision is too coarse on loopback); `0` when unanswered. */
  rtt: number;
}

/** `open`: still open (periodic report, idle timeout or end of capture); `closed`: FIN both ways (UDP: idled out); `reset`; `refused` (RST to a SYN; UDP: ICMP port unreachable). */
export type ConnState = 'open' | 'closed' | 'reset' | 'refused';
/** Why the item was made: `fin`, `rst`, `idle` (timed out), `capture-end`, or `report` (periodic, flow still open). */
export type ConnEnd = 'fin' | 'rst' | 'idle' | 'capture-end' | 'report';

/** One direction of an unclaimed flow (`request`: client → server, `response`: server → client). */
export interface FlowSide {
  packets: number;
  /** Payload bytes (TCP segment payloads as captured; UDP datagram payloads). */
  bytes: number;
  /** The first payload bytes seen in this direction (≤ 64), base64; `""` when none. */
  payload: string;
  /** Packets and bits per second over the item's span. */
  pps: number;
  bps: number;
}

/** `tcp-conn`/`udp-conn`/`tcp-flow`/`udp-flow` request: the client side plus the flow's facts. */
export interface FlowRequest extends FlowSide {
  state: ConnState;
  end: ConnEnd;
  /** Microseconds from the flow's first packet to its last (reports: to now). */
  duration: number;
  /** Reports only: totals since the flow began (packets/bytes above are since the last report). */
  totalPackets?: number;
  totalBytes?: number;
}

export interface FlowResponse extends FlowSide {
  totalPackets?: number;
  totalBytes?: number;
}

// ---------------------------------------------------------------- Redis (§6.10) — protocols II

/**
 * Both sides of a Redis item (Kubeshark's `RedisPayload`). Request: the command array; response:
 * the reply. A pub/sub message the server pushed is an item whose request is the message
 * (`command` `"MESSAGE"`, `"PMESSAGE"`, `"SMESSAGE"`, or the push's kind) and whose response is
 * empty (`type` `"N/A"`).
 */
export interface RedisMessage {
  /** RESP type: `"Array"`, `"Simple String"`, `"Bulk String"`, `"Integer"`, `"Error"`, RESP3's `"Map"`, `"Set"`, `"Push"`, `"Null"`, `"Boolean"`, `"Double"`, `"Big Number"`, `"Verbatim String"`; `"N/A"` when absent. */
  type: string;
  /** Request: the command, upper-cased (`"GET"`, `"HSET"`); `""` in responses. */
  command: string;
  /** Request: the second element (usually the key; the channel for pushed messages). */
  key: string;
  /** Request: the third element, or `"[v3, v4, …]"` when there are more. Response: the reply as text (`"<nil>"` for a null, `[a, b]` for arrays, `{k: v}` for maps, the message for errors). */
  value: string;
  /** Simple-string replies (`"OK"`, `"PONG"`, `"QUEUED"`), else `""`. */
  keyword: string;
}

// ---------------------------------------------------------------- PostgreSQL — protocols II

export interface PostgresqlRequest {
  /** `"Query"` (simple query), `"Execute"` (extended query), `"Parse"` (a batch that failed before executing), `"Startup"`, `"SSLRequest"`, `"GSSENCRequest"`, `"CancelRequest"`, `"FunctionCall"`; `""` for a server message with no request. */
  type: string;
  /** The SQL text (simple query, or the Parse that prepared the executed statement). */
  query: string;
  /** Prepared statement name (`""`: the unnamed one). */
  statement: string;
  /** Portal name (`""`: the unnamed one). */
  portal: string;
  /** Bind parameters as text (binary ones as `\\x…` hex); `null` for SQL NULL. */
  parameters: (string | null)[];
  /** StartupMessage parameters (`user`, `database`, `application_name`, …). */
  startupParameters: Record<string, string>;
}

export interface PostgresqlResponse {
  /** The message that ended the exchange: `"CommandComplete"`, `"ErrorResponse"`, `"EmptyQueryResponse"`, `"PortalSuspended"`, `"ReadyForQuery"` (startup), `"SSLRefused"`, `"SSLAccepted"`, `"Skipped"` (not run: an earlier message of its batch failed); `""` when none. */
  type: string;
  /** The last CommandComplete tag, e.g. `"SELECT 3"`, `"INSERT 0 1"`. */
  commandTag: string;
  /** Every CommandComplete tag (a simple query may hold several statements). */
  commandTags: string[];
  /** DataRow messages returned. */
  rows: number;
  /** Column names of the (last) RowDescription. */
  columns: string[];
  /** ErrorResponse severity (`"ERROR"`, `"FATAL"`), SQLSTATE code (e.g. `"42P01"`), message and detail; `""` without an error. */
  errorSeverity: string;
  errorCode: string;
  errorMessage: string;
  errorDetail: string;
  /** Startup: the authentication requests in order, e.g. `["SASL (SCRAM-SHA-256)", "SASLContinue", "SASLFinal", "Ok"]`. */
  authentication: string[];
  /** Startup: ParameterStatus values (`server_version`, `client_encoding`, …). */
  serverParameters: Record<string, string>;
  /** Startup: BackendKeyData process id, else `0`. */
  backendPid: number;
}

// ---------------------------------------------------------------- MySQL / MariaDB — protocols II

export interface MysqlRequest {
  /** `"COM_QUERY"`, `"COM_STMT_PREPARE"`, `"COM_STMT_EXECUTE"`, `"COM_PING"`, … (MySQL's names), or `"Handshake"` for the connection's login. */
  command: string;
  /** COM_QUERY / COM_STMT_PREPARE text; for COM_STMT_EXECUTE (and CLOSE/RESET/FETCH) the prepared statement's text. */
  query: string;
  /** Prepared statement id (COM_STMT_*), else `0`. */
  statementId: number;
  /** COM_STMT_EXECUTE parameters as text; `null` for SQL NULL. */
  parameters: (string | null)[];
  /** Handshake / COM_CHANGE_USER: the user name. */
  user: string;
  /** Handshake (database given at login) / COM_INIT_DB: the schema. */
  schema: string;
}

export interface MysqlResponse {
  /** `"OK"`, `"ERR"`, `"EOF"`, `"Result Set"`, `"Prepare OK"`, `"Statistics"`, `"Field List"`, `"LOCAL INFILE"`, `"SSL"` (the connection switched to TLS), `"N/A"` (commands without a response). */
  type: string;
  affectedRows: number;
  lastInsertId: number;
  warnings: number;
  /** ERR: the error number (e.g. `1146`), SQLSTATE (`"42S02"`) and message; `0`/`""` otherwise. */
  errorCode: number;
  sqlState: string;
  errorMessage: string;
  /** Result set column names (of the last result set). */
  columns: string[];
  /** Columns of each result set in order (a multi-statement query or CALL has several); a prepare's column count. */
  columnCounts: number[];
  /** Rows of the result set(s). */
  rows: number;
  /** COM_STMT_PREPARE: the new statement's id and parameter count. */
  statementId: number;
  numParams: number;
  /** Handshake: the server's version string and connection id. */
  serverVersion: string;
  connectionId: number;
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
export type ItemRequest = HttpRequest | DnsRequest
  | WsMessage | TlsClientHello | IcmpMessage | FlowRequest // weblayer
  | RedisMessage | PostgresqlRequest | MysqlRequest // protocols II: Redis, PostgreSQL, MySQL
  | KafkaRequest | AmqpMethod | MongoRequest // Kafka, AMQP 0-9-1, MongoDB (issue 12)
  | Record<string, unknown>;
export type ItemResponse = HttpResponse | DnsResponse
  | WsMessage | TlsServerHello | IcmpResponse | FlowResponse // weblayer
  | RedisMessage | PostgresqlResponse | MysqlResponse // protocols II: Redis, PostgreSQL, MySQL
  | KafkaResponse | AmqpMethod | MongoResponse // Kafka, AMQP 0-9-1, MongoDB (issue 12)
  | Record<string, unknown>;

/** A dissected L7 message: one request/response exchange (Kubeshark's `Entry`). */
export interface Item<Req = ItemRequest, Res = ItemResponse> {
  /** `"<worker>/<stream>-<index>"`. */
  id: string;
  /** n-th item within its stream, from 0. */
  index: number;
  /** Name of the L4 stream: `"000000000042.pcap"` (TCP), `"000000000042_udp.pcap"` (UDP) or `"000000000042_icmp.pcap"` (an ICMP conversation); pass to `pcap.path()`. */
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
export type WsItem = Item<WsMessage, WsMessage>;
export type TlsxItem = Item<TlsClientHello, TlsServerHello>;
export type IcmpItem = Item<IcmpMessage, IcmpResponse>;
/** @protocols tcp-conn udp-conn tcp-flow udp-flow */
export type FlowItem = Item<FlowRequest, FlowResponse>;
// protocols II: Redis, PostgreSQL, MySQL
export type RedisItem = Item<RedisMessage, RedisMessage>;
export type PostgresqlItem = Item<PostgresqlRequest, PostgresqlResponse>;
export type MysqlItem = Item<MysqlRequest, MysqlResponse>;
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
