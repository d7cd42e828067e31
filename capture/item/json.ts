/**
 * An item's JSON text: byte for byte JSON.stringify(item), with the measured hot spots taken out
 * of V8's serializer (node 20's spends ~30–50 ns per property and scans every string for
 * escapes):
 * - the run `"worker"…"outgoing"` (worker, node, protocol, tls, src, dst, outgoing: ~300 bytes
 *   and 17 properties, the same for every item of a stream while its names stay the same) is
 *   serialized once per stream and spliced in: DNS items measured 8.4 → 4.7 µs;
 * - a base64 body preview (kilobytes, never needs escaping) is spliced in unscanned.
 * Splicing = stringify a stand-in with sentinel strings, then hand the pieces in order to `put`
 * (the CLI encodes them straight into its output buffer, no joined copy).
 *
 * Only items with build.ts's keys in its order take this path (checked per item); the rest go
 * to JSON.stringify. Also, the first items of each protocol and every 1024th are compared with
 * JSON.stringify at run time, and a difference switches this process to JSON.stringify for good
 * (tests compare every test item).
 */
import type { Endpoint, Item } from './schema';

const SENTINEL = `\u0000wirehook-${Math.random().toString(36).slice(2)}`;
const SENTINEL_JSON = JSON.stringify(SENTINEL);
const RUN_TOKEN = '"worker":' + SENTINEL_JSON;
const PROTO_SENTINEL = Object.freeze({ [SENTINEL]: 1 });
const PROTO_SENTINEL_JSON = JSON.stringify(PROTO_SENTINEL);
const protoJson = new Map<object, string>();

/** One endpoint's JSON, kept while its fields stay the same. */
interface EpCache extends Endpoint {
  json: string;
}

/** Whether `e` has the cached fields; if not, they are taken over and the JSON is dropped. */
function sameEp(c: EpCache, e: Endpoint): boolean {
  if (c.ip === e.ip && c.port === e.port && c.name === e.name && c.namespace === e.namespace && c.processName === e.processName && c.processId === e.processId) return true;
  c.ip = e.ip;
  c.port = e.port;
  c.name = e.name;
  c.namespace = e.namespace;
  c.processName = e.processName;
  c.processId = e.processId;
  c.json = '';
  return false;
}

const newEp = (): EpCache => ({ ip: '', port: '', name: '', namespace: '', processName: '', processId: NaN, json: '' });

/** Per stream: the run's head `"worker":…,"tls":…,"src":` and each endpoint's JSON. */
interface RunCache {
  worker: string;
  node: unknown;
  protocol: unknown;
  tls: boolean;
  head: string;
  src: EpCache;
  dst: EpCache;
}

const runs = new Map<string, RunCache>();
const MAX_RUNS = 4096;

/**
 * The stream's run cache when the run can be spliced: its endpoints are the same as for the
 * stream's previous item. When they changed (a DNS answer renamed an address) the plain writer
 * is cheaper than re-serializing them apart (measured on a stream renamed at every item).
 */
function runFor(item: Item): RunCache | null {
  let r = runs.get(item.stream);
  if (!r || r.worker !== item.worker || r.node !== item.node || r.protocol !== item.protocol || r.tls !== item.tls) {
    const j = JSON.stringify({ worker: item.worker, node: item.node, protocol: item.protocol, tls: item.tls, src: 0 });
    r = { worker: item.worker, node: item.node, protocol: item.protocol, tls: item.tls, head: j.slice(1, -2), src: newEp(), dst: newEp() };
    if (runs.size >= MAX_RUNS) runs.clear();
    runs.set(item.stream, r);
  }
  const a = sameEp(r.src, item.src);
  const b = sameEp(r.dst, item.dst);
  return a && b ? r : null;
}

/** Puts the run `"worker":…,"outgoing":…` (no braces) from the cache. */
function putRun(r: RunCache, item: Item, put: (s: string) => void): void {
  if (r.src.json === '') r.src.json = JSON.stringify(item.src);
  if (r.dst.json === '') r.dst.json = JSON.stringify(item.dst);
  put(r.head);
  put(r.src.json);
  put(',"dst":');
  put(r.dst.json);
  put(item.outgoing ? ',"outgoing":true' : ',"outgoing":false');
}

/** build.ts's keys, in order: the only shape the spliced writer takes. */
const ITEM_KEYS = ['id', 'index', 'stream', 'worker', 'node', 'protocol', 'tls', 'src', 'dst', 'outgoing', 'timestamp', 'startTime', 'request', 'response', 'requestSize', 'responseSize', 'elapsedTime', 'passed', 'failed', 'error', 'entryFile'];

/** Measured ~0.1 µs: cheap next to what splicing saves, and it makes any other shape exact. */
function builtShape(item: Item): boolean {
  const k = Object.keys(item);
  if (k.length !== ITEM_KEYS.length) return false;
  for (let i = 0; i < k.length; i++) if (k[i] !== ITEM_KEYS[i]) return false;
  const s = item.src, d = item.dst;
  return typeof s === 'object' && s !== null && typeof d === 'object' && d !== null && typeof item.outgoing === 'boolean' && typeof item.stream === 'string';
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
export function itemJsonParts(item: Item, reserve: (n: number) => void, put: (s: string) => void): void {
  if (!trusted || !builtShape(item)) {
    const j = JSON.stringify(item);
    reserve(j.length);
    put(j);
    return;
  }
  const p = item.protocol?.name ?? '';
  const n = checked.get(p) ?? 0;
  if (n < CHECK_FIRST || ++seen % CHECK_EVERY === 0) {
    if (n < CHECK_FIRST) checked.set(p, n + 1);
    let got = '';
    fastParts(item, () => {}, (s) => void (got += s));
    const ref = JSON.stringify(item);
    if (got !== ref) {
      trusted = false;
      process.emitWarning(`item JSON (protocol '${p}') differs from the spliced writer; using JSON.stringify from now on`);
    }
    reserve(ref.length);
    put(ref);
    return;
  }
  fastParts(item, reserve, put);
}

function fastParts(item: Item, reserve: (n: number) => void, put: (s: string) => void): void {
  const run = runFor(item);
  const content = (item.response as { content?: { encoding?: string; text?: unknown } } | null)?.content;
  const text = content && content.encoding === 'base64' && typeof content.text === 'string' && content.text.length > 256 ? content.text : null;
  const proto = item.protocol;
  if (text !== null) content!.text = SENTINEL;
  let json: string;
  try {
    if (run) {
      // build.ts's key order, with the run collapsed into one sentinel-valued key.
      json = JSON.stringify({
        id: item.id,
        index: item.index,
        stream: item.stream,
        worker: SENTINEL,
        timestamp: item.timestamp,
        startTime: item.startTime,
        request: item.request,
        response: item.response,
        requestSize: item.requestSize,
        responseSize: item.responseSize,
        elapsedTime: item.elapsedTime,
        passed: item.passed,
        failed: item.failed,
        error: item.error,
        entryFile: item.entryFile,
      });
    } else {
      // Only the shared protocol object is spliced.
      (item as { protocol: object }).protocol = PROTO_SENTINEL;
      try {
        json = JSON.stringify(item);
      } finally {
        item.protocol = proto;
      }
    }
  } finally {
    if (text !== null) content!.text = text;
  }
  let pj = '';
  if (!run) {
    const c = protoJson.get(proto);
    if (c === undefined) protoJson.set(proto, (pj = JSON.stringify(proto)));
    else pj = c;
  }
  const e1 = item.src, e2 = item.dst;
  // The run is its endpoints plus a few hundred characters: 2 KB of slack bounds it.
  reserve(json.length + pj.length + 2048 + e1.name.length + e1.processName.length + e2.name.length + e2.processName.length + (text === null ? 0 : text.length + 2));
  const token = run ? RUN_TOKEN : PROTO_SENTINEL_JSON;
  const i = json.indexOf(token);
  put(json.slice(0, i));
  if (run) putRun(run, item, put);
  else put(pj);
  let rest = i + token.length;
  if (text !== null) {
    const k = json.indexOf(SENTINEL_JSON, rest);
    put(json.slice(rest, k));
    put('"');
    put(text);
    put('"');
    rest = k + SENTINEL_JSON.length;
  }
  put(json.slice(rest));
}

/** The spliced writer alone, without the run-time check (tests compare it with JSON.stringify). */
export function itemJsonUnchecked(item: Item): string {
  if (!builtShape(item)) return JSON.stringify(item);
  let out = '';
  fastParts(item, () => {}, (s) => void (out += s));
  return out;
}

/** JSON.stringify(item), the same way. */
export function itemJson(item: Item): string {
  let out = '';
  itemJsonParts(item, () => {}, (s) => void (out += s));
  return out;
}
