/**
 * gRPC over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): which
 * exchanges are gRPC, and the length-prefixed message framing of their bodies. Messages are
 * protobuf without a schema here, so their bytes are shown as base64; compressed ones
 * (`grpc-encoding` gzip or deflate, the prefix's compressed flag) are decompressed first with
 * node:zlib, through the same capped decoder as HTTP bodies (http-body.ts).
 */
import type { GrpcMessage } from '../item/schema';
import { decodeBody } from './http-body';

/** gRPC when the request's content type is application/grpc[+proto|+json…] or a grpc-status came back. */
export function isGrpc(reqContentType: string | undefined, grpcStatus: string | undefined): boolean {
  return (reqContentType !== undefined && /^application\/grpc/i.test(reqContentType)) || grpcStatus !== undefined;
}

/** The side's `grpc-encoding`, lower-cased; `"identity"` when absent or empty. */
export function grpcEncoding(v: string | undefined): string {
  // What grpc-js and grpc-go send, as sent: no string work per item.
  if (v === undefined || v === 'identity' || v === 'gzip' || v === 'deflate') return v ?? 'identity';
  const e = v.trim().toLowerCase();
  return e ? e : 'identity';
}

/** Encodings we decompress: the ones the gRPC spec names and zlib implements. */
const KNOWN = new Set(['gzip', 'deflate']);

/**
 * Splits a body into gRPC messages: 1 byte compressed flag, 4 bytes big-endian length, the
 * message. `body` may be a capped preview of `total` bytes: the message the preview cuts is kept
 * with what there is and `truncated: true`. Compressed messages are decompressed (`encoding` is
 * the side's grpc-encoding); all the decompressed output of one body stays within `cap` bytes, so
 * a small body cannot inflate to more than a body preview. `warn` hears of what cannot be
 * decompressed (once per body).
 */
export function grpcMessages(body: Buffer, total: number, encoding = 'identity', cap = Infinity, warn?: (detail: string) => void): GrpcMessage[] {
  const out: GrpcMessage[] = [];
  let budget = cap;
  let warned = false;
  let p = 0;
  while (p + 5 <= body.length) {
    const length = body.readUInt32BE(p + 1);
    const s = p + 5;
    const e = Math.min(body.length, s + length);
    if (body[p] !== 1) {
      // Uncompressed (nearly every message): as before, no decoder involved.
      const m: GrpcMessage = { compressed: false, length, data: body.toString('base64', s, e) };
      if (e - s < length) m.truncated = true;
      budget -= e - s;
      out.push(m);
    } else {
      const [m, used] = compressedMessage(body, s, e, length, encoding, budget);
      budget -= used;
      // Said once per body; running out of budget is the cap doing its job, not worth a warning.
      if (m.undecoded !== undefined && m.undecoded !== OVER_CAP && warn && !warned) {
        warned = true;
        warn(m.undecoded);
      }
      out.push(m);
    }
    p = s + length;
  }
  // A prefix the preview cut in the middle: the message is there, its bytes are not.
  if (p < body.length && body.length < total) out.push({ compressed: body[p] === 1, length: -1, data: '', truncated: true });
  return out;
}

const OVER_CAP = 'over the body cap';

/**
 * One message with the compressed flag: decompressed within `budget` bytes, or its wire bytes and
 * why not; with the budget it used.
 */
function compressedMessage(body: Buffer, s: number, e: number, length: number, encoding: string, budget: number): [GrpcMessage, number] {
  const m: GrpcMessage = { compressed: true, length, data: '' };
  if (e - s < length) m.truncated = true;
  if (!KNOWN.has(encoding)) {
    m.data = body.toString('base64', s, e);
    m.undecoded = encoding === 'identity' ? 'compressed message without a grpc-encoding' : `unknown grpc-encoding ${encoding}`;
    return [m, e - s];
  }
  if (budget <= 0) {
    m.truncated = true;
    m.undecoded = OVER_CAP;
    return [m, 0];
  }
  const dec = decodeBody(body.subarray(s, e), encoding, budget);
  if (dec.corrupt) {
    m.data = body.toString('base64', s, e);
    m.undecoded = `corrupt ${encoding} data`;
    return [m, e - s];
  }
  m.data = dec.body.toString('base64');
  if (dec.truncated) m.truncated = true;
  return [m, dec.body.length];
}

/** `/pkg.Service/Method` → service and method (`""` when the path has another shape). */
export function grpcPath(path: string): { service: string; method: string } {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return m ? { service: m[1], method: m[2] } : { service: '', method: '' };
}

/** grpc-message is percent-encoded (the gRPC spec's rule); invalid escapes are kept as sent. */
export function grpcMessageText(v: string | undefined): string {
  if (!v) return '';
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
