/**
 * An item's JSON text: byte for byte JSON.stringify(item), written by hand for the schema's
 * shapes because node 20's serializer costs ~300 ns per call plus ~90 ns per property and scans
 * every string for escapes (callgrind over the 200k-packet bench capture, B: 10.8 → 8.2 G
 * instructions for the whole run; see docs/capture.md, "Fifth pass").
 * - The run `"stream"…"outgoing"` (~300 bytes, 18 properties, the same for every item of a
 *   stream while its names stay the same) is serialized once per stream and reused.
 * - Known shapes (the item, HTTP and DNS requests/responses, endpoints…) are written by
 *   functions that first check the object's own keys, in order, with for-in (~2 ns per key, no
 *   allocation). Values go through `val` (exact for any JSON value) or, where the schema says
 *   string, `esc`; anything unexpected sends the sub-object or the whole item to JSON.stringify,
 *   so the output is exact for any item (test/capture/item-json.test.ts fuzzes the shapes).
 * - A string without characters JSON escapes (one regex test) is written as it is, between
 *   quotes that sit in the constant pieces. Every `+` makes a rope node that costs again when
 *   the rope is flattened for writing, so constant runs are single pieces and values that
 *   repeat (DNS types, HTTP versions, header names) come from small caches.
 * - A base64 body preview (kilobytes, never needs escaping: Buffer.toString('base64') made it)
 *   is handed out as its own piece, unscanned and uncopied.
 *
 * The first items of each protocol and every 1024th are also compared with JSON.stringify at run
 * time; a difference switches this process to JSON.stringify for good (tests compare every item
 * of the test captures and fuzzed shapes).
 */
import type { Endpoint, Item } from './schema';

type Obj = Record<string, unknown>;

/** What JSON.stringify escapes in a string: `"`, `\`, controls, lone surrogates (tested by pairs too). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function str(s: string): string {
  return s.length === 0 ? '""' : NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/**
 * Set when a typed field holds a value the hand writer does not write (a non-string where a
 * string belongs, a value JSON omits): the whole item then goes to JSON.stringify.
 */
let odd = false;

/**
 * A string field's JSON without its quotes (the writers keep the quotes in their constant
 * pieces: two string concatenations fewer per field, and fewer garbage strings).
 */
function esc(v: unknown): string {
  if (typeof v !== 'string') {
    odd = true;
    return '';
  }
  return v.length === 0 || !NEEDS_ESCAPE.test(v) ? v : JSON.stringify(v).slice(1, -1);
}

/** Any value as JSON.stringify writes it as an object member or array element. */
function val(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return str(v);
    case 'number':
      return Number.isFinite(v) ? '' + v : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      const j = JSON.stringify(v) as string | undefined;
      if (j === undefined) odd = true;
      return j ?? '';
    }
    default:
      odd = true;
      return '';
  }
}

/** Whether `o` is a plain object whose enumerable keys are exactly `keys`, in order. */
function keysAre(o: unknown, keys: readonly string[]): o is Obj {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  let i = 0;
  for (const k in o) {
    if (k !== keys[i]) return false;
    i++;
  }
  return i === keys.length && typeof (o as Obj).toJSON !== 'function';
}

const hasOwn = Object.prototype.hasOwnProperty;

/** A map key's JSON with the quote that opens its string value: as first member, and after one. */
interface KeyJson {
  first: string;
  next: string;
}

/** Map keys (header names…) → KeyJson; bounded (short keys, cleared when full). */
const keyJson = new Map<string, KeyJson>();
function key(k: string): KeyJson {
  let j = keyJson.get(k);
  if (j === undefined) {
    const q = str(k);
    j = { first: '{' + q + ':"', next: '","' + q.slice(1) + ':"' };
    if (k.length > 64) return j;
    if (keyJson.size >= 4096) keyJson.clear();
    keyJson.set(k, j);
  }
  return j;
}

/** A map of strings (headers, cookies, query); any other value sends the map to JSON.stringify. */
function map(o: unknown): string {
  if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof (o as Obj).toJSON === 'function') return val(o);
  let s = '';
  for (const k in o) {
    const v = (o as Obj)[k];
    if (typeof v !== 'string' || !hasOwn.call(o, k)) return val(o);
    const kj = key(k);
    s += (s === '' ? kj.first : kj.next) + esc(v);
  }
  return s === '' ? '{}' : s + '"}';
}

/** An array whose elements go through `each` (JSON.stringify's null for what it would omit). */
function list(a: unknown, each: (x: unknown) => string): string {
  if (!Array.isArray(a) || typeof (a as unknown as Obj).toJSON === 'function') return val(a);
  const n = a.length;
  if (n === 0) return '[]';
  let s = '[';
  for (let i = 0; i < n; i++) {
    const x = a[i];
    s += (i === 0 ? '' : ',') + (x === undefined || typeof x === 'function' || typeof x === 'symbol' ? 'null' : each(x));
  }
  return s + ']';
}

/** An array of strings; anything else goes to JSON.stringify. */
function strings(a: unknown): string {
  if (!Array.isArray(a) || typeof (a as unknown as Obj).toJSON === 'function') return val(a);
  const n = a.length;
  if (n === 0) return '[]';
  let s = '["';
  for (let i = 0; i < n; i++) {
    const x = a[i];
    if (typeof x !== 'string') return val(a);
    s += i === 0 ? esc(x) : '","' + esc(x);
  }
  return s + '"]';
}

/**
 * The last string written at one place and its escaped text: fields like a DNS type or an HTTP
 * version repeat from item to item, and `===` on short strings is far cheaper than the test.
 */
class Last {
  k: unknown = '';
  j = '';
}
function memo(m: Last, v: unknown): string {
  if (v === m.k) return m.j;
  const j = esc(v);
  if (typeof v === 'string') {
    m.k = v;
    m.j = j;
  }
  return j;
}

const M = {
  qName: new Last(), qType: new Last(), qClass: new Last(), rName: new Last(), rType: new Last(), rClass: new Last(), rIp: new Last(), opCode: new Last(), code: new Last(),
  method: new Last(), reqVersion: new Last(), statusText: new Last(), resVersion: new Last(), mimeType: new Last(), encoding: new Last(),
};

// ------------------------------------------------------------------------------------ DNS

const Q_KEYS = ['name', 'type', 'class'];
const question = (q: unknown): string => (keysAre(q, Q_KEYS) ? '{"name":"' + memo(M.qName, q.name) + '","type":"' + memo(M.qType, q.type) + '","class":"' + memo(M.qClass, q.class) + '"}' : val(q));

const RR_KEYS = ['name', 'type', 'class', 'ttl', 'ip', 'ns', 'cname', 'ptr', 'txts', 'soa', 'srv', 'mx', 'opt', 'uri'];
/** Usually only one of the typed fields is set: the empty rest as one constant. */
const RR_EMPTY_TAIL = '","ns":"","cname":"","ptr":"","txts":"","soa":"","srv":"","mx":"","opt":"","uri":""}';
function rr(r: unknown): string {
  if (!keysAre(r, RR_KEYS)) return val(r);
  const head = '{"name":"' + memo(M.rName, r.name) + '","type":"' + memo(M.rType, r.type) + '","class":"' + memo(M.rClass, r.class) + '","ttl":' + val(r.ttl) + ',"ip":"' + memo(M.rIp, r.ip);
  if (r.ns === '' && r.cname === '' && r.ptr === '' && r.txts === '' && r.soa === '' && r.srv === '' && r.mx === '' && r.opt === '' && r.uri === '') return head + RR_EMPTY_TAIL;
  return head + '","ns":"' + esc(r.ns) + '","cname":"' + esc(r.cname) + '","ptr":"' + esc(r.ptr) + '","txts":"' + esc(r.txts) + '","soa":"' + esc(r.soa) + '","srv":"' + esc(r.srv) + '","mx":"' + esc(r.mx) + '","opt":"' + esc(r.opt) + '","uri":"' + esc(r.uri) + '"}';
}

const DNS_REQ_KEYS = ['opCode', 'questions'];
const dnsRequest = (o: unknown): string => (keysAre(o, DNS_REQ_KEYS) ? '{"opCode":"' + memo(M.opCode, o.opCode) + '","questions":' + list(o.questions, question) + '}' : val(o));

const DNS_RES_KEYS = ['code', 'answers', 'authorities', 'additionals'];
const dnsResponse = (o: unknown): string => (keysAre(o, DNS_RES_KEYS) ? '{"code":"' + memo(M.code, o.code) + '","answers":' + list(o.answers, rr) + ',"authorities":' + list(o.authorities, rr) + ',"additionals":' + list(o.additionals, rr) + '}' : val(o));

// ----------------------------------------------------------------------------------- HTTP

const REQ_KEYS = ['method', 'url', 'targetUri', 'path', 'pathSegments', 'httpVersion', 'headers', 'cookies', 'queryString', 'headersSize', 'bodySize'];
const REQ_POST_KEYS = ['method', 'url', 'targetUri', 'path', 'pathSegments', 'httpVersion', 'headers', 'cookies', 'queryString', 'postData', 'headersSize', 'bodySize'];
function httpRequest(o: unknown): string {
  const post = !keysAre(o, REQ_KEYS);
  if (post && !keysAre(o, REQ_POST_KEYS)) return val(o);
  const r = o as Obj;
  const url = esc(r.url);
  // targetUri is the same string as url (as Kubeshark): escaped once.
  const target = r.targetUri === r.url ? url : esc(r.targetUri);
  return '{"method":"' + memo(M.method, r.method) + '","url":"' + url + '","targetUri":"' + target + '","path":"' + esc(r.path) + '","pathSegments":' + strings(r.pathSegments) + ',"httpVersion":"' + memo(M.reqVersion, r.httpVersion) + '","headers":' + map(r.headers) + ',"cookies":' + map(r.cookies) + ',"queryString":' + map(r.queryString) + (post ? ',"postData":' + val(r.postData) : '') + ',"headersSize":' + val(r.headersSize) + ',"bodySize":' + val(r.bodySize) + '}';
}

/** A base64 preview longer than this is handed out as its own piece. */
const SPLICE_MIN = 256;
/** Set by `content` when it leaves the body text out: written where the one CUT is. */
let spliced: string | null = null;
const CONTENT_KEYS = ['size', 'mimeType', 'encoding'];
const CONTENT_TEXT_KEYS = ['size', 'mimeType', 'encoding', 'text'];
const CUT = '\u0000';
function content(o: unknown): string {
  const text = !keysAre(o, CONTENT_KEYS);
  if (text && !keysAre(o, CONTENT_TEXT_KEYS)) return val(o);
  const c = o as Obj;
  const head = '{"size":' + val(c.size) + ',"mimeType":"' + memo(M.mimeType, c.mimeType) + '","encoding":"' + memo(M.encoding, c.encoding);
  if (!text) return head + '"}';
  const t = c.text;
  if (c.encoding === 'base64' && typeof t === 'string' && t.length > SPLICE_MIN && spliced === null) {
    spliced = t;
    return head + '","text":"' + CUT + '"}';
  }
  return head + '","text":' + val(t) + '}';
}

const RES_KEYS = ['status', 'statusText', 'httpVersion', 'headers', 'cookies', 'content', 'redirectURL', 'headersSize', 'bodySize'];
const httpResponse = (o: unknown): string => (keysAre(o, RES_KEYS) ? '{"status":' + val(o.status) + ',"statusText":"' + memo(M.statusText, o.statusText) + '","httpVersion":"' + memo(M.resVersion, o.httpVersion) + '","headers":' + map(o.headers) + ',"cookies":' + map(o.cookies) + ',"content":' + content(o.content) + ',"redirectURL":"' + esc(o.redirectURL) + '","headersSize":' + val(o.headersSize) + ',"bodySize":' + val(o.bodySize) + '}' : val(o));

/** protocol.name → request and response writers. */
const writers = new Map<unknown, [(o: unknown) => string, (o: unknown) => string]>([
  ['dns', [dnsRequest, dnsResponse]],
  ['http', [httpRequest, httpResponse]],
]);

// ------------------------------------------------------------------------------ the run

const EP_KEYS = ['ip', 'port', 'name', 'namespace', 'processName', 'processId'];

/** Per stream: the run `"worker":…,"outgoing":…` and the values it was made from. */
interface RunCache {
  worker: unknown;
  node: unknown;
  protocol: unknown;
  tls: unknown;
  outgoing: unknown;
  src: Endpoint;
  dst: Endpoint;
  json: string;
}

const runs = new Map<string, RunCache>();
const MAX_RUNS = 4096;

const sameEp = (c: Endpoint, e: Endpoint): boolean =>
  c.ip === e.ip && c.port === e.port && c.name === e.name && c.namespace === e.namespace && c.processName === e.processName && c.processId === e.processId;

/**
 * The run's JSON, cached per stream while worker, node and protocol are the same objects and the
 * endpoint fields the same values (a DNS answer that renames an address makes a new one).
 */
function run(item: Item): string {
  const s = item.src, d = item.dst;
  if (!keysAre(s, EP_KEYS) || !keysAre(d, EP_KEYS)) return '';
  let r = runs.get(item.stream);
  if (r !== undefined && r.worker === item.worker && r.node === item.node && r.protocol === item.protocol && r.tls === item.tls && r.outgoing === item.outgoing && sameEp(r.src, s) && sameEp(r.dst, d)) return r.json;
  // `,"stream":…,"worker":…,"outgoing":…,"timestamp":` as one flat string: one piece per item.
  const j = JSON.stringify({ stream: item.stream, worker: item.worker, node: item.node, protocol: item.protocol, tls: item.tls, src: s, dst: d, outgoing: item.outgoing });
  const json = JSON.parse(JSON.stringify(',' + j.slice(1, -1) + ',"timestamp":')) as string;
  r = { worker: item.worker, node: item.node, protocol: item.protocol, tls: item.tls, outgoing: item.outgoing, src: { ...s }, dst: { ...d }, json };
  if (runs.size >= MAX_RUNS) runs.clear();
  runs.set(item.stream, r);
  return r.json;
}

// ----------------------------------------------------------------------------- the item

/** The usual `passed`, `failed` and `error`, up to entryFile's opening quote. */
const PASSED_FAILED_ERROR = ',"passed":false,"failed":false,"error":null,"entryFile":"';

/** build.ts's keys, in order: the only item shape written by hand. */
const ITEM_KEYS = ['id', 'index', 'stream', 'worker', 'node', 'protocol', 'tls', 'src', 'dst', 'outgoing', 'timestamp', 'startTime', 'request', 'response', 'requestSize', 'responseSize', 'elapsedTime', 'passed', 'failed', 'error', 'entryFile'];

/**
 * The item's JSON by hand, or null when JSON.stringify must write it (another shape, or a
 * value it omits). `spliced` is the body left out at the one CUT character, if any.
 */
function handJson(item: Item): string | null {
  if (!keysAre(item, ITEM_KEYS) || typeof item.stream !== 'string') return null;
  const r = run(item);
  if (r === '') return null;
  odd = false;
  spliced = null;
  const w = writers.get((item.protocol as { name?: unknown } | null)?.name);
  const req = w ? w[0](item.request) : val(item.request);
  const res = w ? w[1](item.response) : val(item.response);
  const pfe = item.passed === false && item.failed === false && item.error === null ? PASSED_FAILED_ERROR : ',"passed":' + val(item.passed) + ',"failed":' + val(item.failed) + ',"error":' + val(item.error) + ',"entryFile":"';
  const s = '{"id":"' + esc(item.id) + '","index":' + val(item.index) + r + val(item.timestamp) + ',"startTime":"' + esc(item.startTime) + '","request":' + req + ',"response":' + res + ',"requestSize":' + val(item.requestSize) + ',"responseSize":' + val(item.responseSize) + ',"elapsedTime":' + val(item.elapsedTime) + pfe + esc(item.entryFile) + '"}';
  return odd ? null : s;
}

/**
 * The item's JSON as pieces to `put`, after `reserve` got their total UTF-16 length. The body
 * preview piece is base64 (`ascii` true: a writer may copy it as bytes).
 */
function handParts(item: Item, reserve: (n: number) => void, put: (s: string, ascii?: boolean) => void): boolean {
  const s = handJson(item);
  if (s === null) return false;
  const body = spliced;
  if (body === null) {
    reserve(s.length);
    put(s);
    return true;
  }
  spliced = null;
  // The only CUT in s is ours: any in a string value was escaped (\u0000).
  const k = s.indexOf(CUT);
  reserve(s.length + body.length);
  put(s.slice(0, k));
  put(body, true);
  put(s.slice(k + 1));
  return true;
}

let trusted = true;
let seen = 0;
const checked = new Map<string, number>();
const CHECK_FIRST = 16;
const CHECK_EVERY = 1024;

/**
 * The item's JSON as pieces, in order, to `put`; `reserve` first gets an upper bound of the
 * UTF-16 length.
 */
export function itemJsonParts(item: Item, reserve: (n: number) => void, put: (s: string, ascii?: boolean) => void): void {
  if (trusted) {
    const p = typeof item.protocol?.name === 'string' ? item.protocol.name : '';
    const n = checked.get(p) ?? 0;
    if (n >= CHECK_FIRST && ++seen % CHECK_EVERY !== 0) {
      if (handParts(item, reserve, put)) return;
    } else {
      if (n < CHECK_FIRST) checked.set(p, n + 1);
      const ref = JSON.stringify(item);
      const got = itemJsonUnchecked(item);
      if (got !== ref) {
        trusted = false;
        process.emitWarning(`item JSON (protocol '${p}') differs from the hand writer; using JSON.stringify from now on`);
      }
      reserve(ref.length);
      put(ref);
      return;
    }
  }
  const j = JSON.stringify(item);
  reserve(j.length);
  put(j);
}

/** The hand writer alone, without the run-time check (tests compare it with JSON.stringify). */
export function itemJsonUnchecked(item: Item): string {
  let out = '';
  if (!handParts(item, () => {}, (s) => void (out += s))) return JSON.stringify(item);
  return out;
}

/** JSON.stringify(item), the same way. */
export function itemJson(item: Item): string {
  let out = '';
  itemJsonParts(item, () => {}, (s) => void (out += s));
  return out;
}

/**
 * Whether the hand writer takes this item rather than falling back to JSON.stringify. Tests use
 * it: a shape check broken towards "fall back" keeps the output right and silently loses the
 * hand writer's speed, so real items must be seen taking it.
 */
export function handWritten(item: Item): boolean {
  const taken = handJson(item) !== null;
  spliced = null;
  return taken;
}
