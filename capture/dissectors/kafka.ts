/**
 * Kafka over TCP. Requests and responses are int32-length-prefixed frames; a response carries
 * its request's correlation id, and only that, so requests are remembered by correlation id with
 * their api key and version (needed to read the response). Produce with acks 0 gets no response
 * and leaves at once. Items follow Kubeshark's Kafka shape (kubeshark-compat §6.10) plus a
 * `summary` of topics and partitions (or the group/coordinator key).
 *
 * Detection (length-prefixed binary, so it checks the request header's shape): size 10..100 MiB,
 * api key one of the 76 known, version ≤ 20, correlation id ≥ 0, client id null or 0..512
 * printable ASCII bytes that fit in the frame. A server speaking first only keeps Kafka in the
 * running ('maybe') while its first bytes read as size + correlation id.
 */
import type { Direction, Dissector, DissectorContext } from '../types';
import type { KafkaRequest, KafkaResponse } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { rfc3339 } from '../item/build';
import { FramedStream, printable, type Exchange, type Frame } from './framed';
import { API_NAMES, KafkaShort, MAX_VERSION, decodeRequest, decodeResponse, readRequestHeader, responseBody } from './kafka-wire';

/** Largest frame taken for Kafka (the broker default message.max.bytes is ~1 MiB; fetches can be bigger). */
const MAX_SIZE = 100 * 1024 * 1024;
const MAX_CLIENT_ID = 512;

interface Waiting {
  x: Exchange;
  apiKey: number;
  apiVersion: number;
}

const EMPTY_REQUEST = (): KafkaRequest => ({ size: 0, apiKeyName: '', apiKey: -1, apiVersion: -1, correlationID: -1, clientID: '', payload: {}, captureTime: '', summary: '' });
const EMPTY_RESPONSE = (): KafkaResponse => ({ size: 0, correlationID: -1, payload: {}, captureTime: '' });

/** "orders[0,1], audit[2]": topics with the partitions the request names. */
function summarize(topics: Map<string, number[]>, subject: string, clientId: string): string {
  if (topics.size === 0) return subject || clientId;
  const out: string[] = [];
  for (const [t, parts] of topics) out.push(parts.length ? `${t}[${parts.join(',')}]` : t);
  return out.join(', ');
}

class KafkaStream extends FramedStream {
  private readonly waiting = new Map<number, Waiting>();

  constructor(ctx: DissectorContext) {
    super(ctx, 'kafka');
  }

  protected frameLength(b: Buffer, dir: Direction): number {
    if (b.length < 4) return -1;
    const size = b.readInt32BE(0);
    if (size < (dir === 0 ? 10 : 4) || size > MAX_SIZE) return -2;
    return size + 4;
  }

  protected override plausible(b: Buffer, dir: Direction): boolean {
    return dir === 0 ? detectKafka(b, 0) !== false : this.frameLength(b, dir) > 0 && b.length >= 8 && this.waiting.has(b.readInt32BE(4));
  }

  protected protocol(): typeof PROTOCOLS.kafka {
    return PROTOCOLS.kafka;
  }
  protected emptyRequest(): Record<string, unknown> { return EMPTY_REQUEST() as unknown as Record<string, unknown>; }
  protected emptyResponse(): Record<string, unknown> { return EMPTY_RESPONSE() as unknown as Record<string, unknown>; }

  protected frame(f: Frame): void {
    if (f.dir === 0) this.request(f);
    else this.response(f);
  }

  private request(f: Frame): void {
    const b = f.bytes;
    const req = EMPTY_REQUEST();
    req.size = f.wireLen - 4;
    req.captureTime = rfc3339(f.startTs.sec, f.startTs.nsec);
    let cut = f.cut;
    let noResponse = false;
    let waitKey = -1;
    let h: ReturnType<typeof readRequestHeader> | null = null;
    if (b.length >= 14) {
      try {
        h = readRequestHeader(b.subarray(4));
      } catch (e) {
        if (!(e instanceof KafkaShort)) throw e;
        // The client id runs past the frame: keep the fixed fields, flag the request.
        h = { apiKey: b.readInt16BE(4), apiVersion: b.readInt16BE(6), correlationId: b.readInt32BE(8), clientId: null, body: b.length };
        cut ??= 'request header shorter than its fields say';
      }
    }
    if (h) {
      req.apiKey = h.apiKey;
      req.apiVersion = h.apiVersion;
      req.apiKeyName = API_NAMES[h.apiKey] ?? `Unknown(${h.apiKey})`;
      req.correlationID = h.correlationId;
      req.clientID = h.clientId ?? '';
      const d = decodeRequest(h.apiKey, h.apiVersion, b.subarray(4 + h.body), this.ctx.bodyCap);
      req.payload = d.payload;
      req.summary = summarize(d.topics, d.subject, req.clientID);
      noResponse = d.noResponse;
      // (A frame past FRAME_KEEP bytes was kept in part on purpose: what it has is not an error.)
      if (d.truncated && !cut && b.length === f.wireLen) {
        cut = 'request payload shorter than its fields say';
        this.ctx.warn('kafka', `malformed ${req.apiKeyName} v${req.apiVersion} request`);
      }
      waitKey = h.correlationId;
    } else {
      cut ??= 'request shorter than a request header';
    }
    const x = this.open({ request: req as unknown as Record<string, unknown>, requestSize: f.wireLen, requestTs: f.startTs });
    if (cut) x.error = { type: 'dissection', msg: cut };
    if (noResponse) {
      x.done = true;
      return;
    }
    if (b.length < 14) {
      // Without a correlation id nothing can answer it: it leaves with its error.
      x.done = true;
      return;
    }
    const prev = this.waiting.get(waitKey);
    if (prev) {
      prev.x.done = true;
      prev.x.error ??= { type: 'pair-not-found', msg: `correlation id ${waitKey} reused before a response came` };
    }
    this.waiting.set(waitKey, { x, apiKey: req.apiKey, apiVersion: req.apiVersion });
  }

  private response(f: Frame): void {
    const b = f.bytes;
    const res = EMPTY_RESPONSE();
    res.size = f.wireLen - 4;
    res.captureTime = rfc3339(f.startTs.sec, f.startTs.nsec);
    const corr = b.length >= 8 ? b.readInt32BE(4) : -1;
    res.correlationID = corr;
    const w = corr >= 0 ? this.waiting.get(corr) : undefined;
    let cut = f.cut ?? (b.length < 8 ? 'response shorter than a response header' : null);
    if (w) {
      this.waiting.delete(corr);
      try {
        const body = responseBody(b.subarray(4), w.apiKey, w.apiVersion);
        const d = decodeResponse(w.apiKey, w.apiVersion, b.subarray(4 + body), this.ctx.bodyCap);
        res.payload = d.payload;
        if (d.truncated && !cut && b.length === f.wireLen) {
          cut = 'response payload shorter than its fields say';
          this.ctx.warn('kafka', `malformed ${API_NAMES[w.apiKey] ?? w.apiKey} v${w.apiVersion} response`);
        }
      } catch (e) {
        if (!(e instanceof KafkaShort)) throw e;
        cut ??= 'response header shorter than its fields say';
      }
      const x = w.x;
      x.response = res as unknown as Record<string, unknown>;
      x.responseSize = f.wireLen;
      x.responseTs = f.endTs;
      if (cut && !x.error) x.error = { type: 'dissection', msg: cut };
      x.done = true;
      return;
    }
    const x = this.open({ request: null, requestSize: 0, requestTs: f.startTs, response: res as unknown as Record<string, unknown>, responseSize: f.wireLen, responseTs: f.endTs });
    x.error = cut ? { type: 'dissection', msg: cut } : null;
    x.done = true;
  }
}

/** See the file comment. `first` holds the first bytes of direction `dir`. */
export function detectKafka(first: Buffer, dir: Direction): boolean | 'maybe' {
  const n = first.length;
  if (n < 4) {
    // The size's top byte: at most 100 MiB.
    return n === 0 || first[0] <= 0x06 ? 'maybe' : false;
  }
  const size = first.readInt32BE(0);
  if (dir === 1) {
    if (size < 4 || size > MAX_SIZE) return false;
    return n < 8 || first.readInt32BE(4) >= 0 ? 'maybe' : false;
  }
  if (size < 10 || size > MAX_SIZE) return false;
  if (n < 6) return 'maybe';
  const key = first.readInt16BE(4);
  if (key < 0 || key >= API_NAMES.length) return false;
  if (n < 8) return 'maybe';
  const version = first.readInt16BE(6);
  if (version < 0 || version > MAX_VERSION) return false;
  if (n < 12) return 'maybe';
  if (first.readInt32BE(8) < 0) return false;
  if (n < 14) return 'maybe';
  const clen = first.readInt16BE(12);
  if (clen === -1) return true;
  if (clen < 0 || clen > MAX_CLIENT_ID || clen > size - 10) return false;
  const end = Math.min(n, 14 + clen);
  if (!printable(first, 14, end)) return false;
  return end === 14 + clen ? true : 'maybe';
}

export const kafka: Dissector = {
  name: 'kafka',
  priority: PROTOCOLS.kafka.priority,
  detect: (first, dir) => detectKafka(first, dir),
  tcp: (ctx) => new KafkaStream(ctx),
};
