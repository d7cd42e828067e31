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
  /** GraphQL items only (`protocol.abbr == "GQL"`): the operation the body asks for. */
  graphql?: GraphqlOperation;
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
  /** The message is compressed (grpc-encoding); `data` is then the compressed bytes. */
  compressed: boolean;
  /** Declared message length in bytes (`-1` when the body preview cut its 5-byte prefix). */
  length: number;
  /** The message bytes (protobuf, not decoded: no schema), base64; capped like body previews. */
  data: string;
  /** The body preview ended inside this message. */
  truncated?: boolean;
}

export interface GrpcRequest {
  /** From `:path` `/pkg.Service/Method`: `"pkg.Service"`. */
  service: string;
  /** `"Method"` (KFL2's `grpc_method`). */
  method: string;
  messages: GrpcMessage[];
}

export interface GrpcResponse {
  /** `grpc-status` from the trailers (or a trailers-only response); `-1` when none came (reset, cut). */
  status: number;
  /** `grpc-message`, percent-decoded; `""` when absent. */
  message: string;
  messages: GrpcMessage[];
}

export interface GraphqlOperation {
  /** The body's `operationName`, else the name of the operation in the query; `""` for anonymous ones. */
  operationName: string;
  operationType: 'query' | 'mutation' | 'subscription';
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
