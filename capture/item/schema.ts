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

// ---------------------------------------------------------------- the item

/** Request/response bodies by protocol. Dissectors added later extend these unions. */
export type ItemRequest = HttpRequest | DnsRequest
  | RedisMessage | PostgresqlRequest | MysqlRequest // protocols II: Redis, PostgreSQL, MySQL
  | Record<string, unknown>;
export type ItemResponse = HttpResponse | DnsResponse
  | RedisMessage | PostgresqlResponse | MysqlResponse // protocols II: Redis, PostgreSQL, MySQL
  | Record<string, unknown>;

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
// protocols II: Redis, PostgreSQL, MySQL
export type RedisItem = Item<RedisMessage, RedisMessage>;
export type PostgresqlItem = Item<PostgresqlRequest, PostgresqlResponse>;
export type MysqlItem = Item<MysqlRequest, MysqlResponse>;

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
