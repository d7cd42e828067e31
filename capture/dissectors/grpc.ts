/**
 * gRPC over HTTP/2 (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): which
 * exchanges are gRPC, and the length-prefixed message framing of their bodies. Messages are
 * protobuf without a schema here, so their bytes are shown as base64.
 */
import type { GrpcMessage } from '../item/schema';

/** gRPC when the request's content type is application/grpc[+proto|+json…] or a grpc-status came back. */
export function isGrpc(reqContentType: string | undefined, grpcStatus: string | undefined): boolean {
  return (reqContentType !== undefined && /^application\/grpc/i.test(reqContentType)) || grpcStatus !== undefined;
}

/**
 * Splits a body into gRPC messages: 1 byte compressed flag, 4 bytes big-endian length, the
 * message. `body` may be a capped preview of `total` bytes: the message the preview cuts is kept
 * with what there is and `truncated: true`.
 */
export function grpcMessages(body: Buffer, total: number): GrpcMessage[] {
  const out: GrpcMessage[] = [];
  let p = 0;
  while (p + 5 <= body.length) {
    const length = body.readUInt32BE(p + 1);
    const s = p + 5;
    const e = Math.min(body.length, s + length);
    const m: GrpcMessage = { compressed: body[p] === 1, length, data: body.toString('base64', s, e) };
    if (e - s < length) m.truncated = true;
    out.push(m);
    p = s + length;
  }
  // A prefix the preview cut in the middle: the message is there, its bytes are not.
  if (p < body.length && body.length < total) out.push({ compressed: body[p] === 1, length: -1, data: '', truncated: true });
  return out;
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
