/**
 * HTTP/2 streams → items: the HttpRequest/HttpResponse shape of HTTP/1 (http-item.ts builds
 * them), with pseudo-headers kept in `headers` and trailers merged in (kubeshark-compat §6.6),
 * and the gRPC (§6.7) or GraphQL (§6.8) protocol entry when the exchange is one of those.
 */
import type { L7Message, Timestamp } from '../types';
import type { HttpRequest, HttpResponse, ItemError } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import type { BodyCollector } from './http-body';
import { canonicalHeader, hostOf } from './http-fields';
import { buildRequest, buildResponse, type Message } from './http-item';
import type { HeaderField } from './hpack';
import { grpcEncoding, grpcMessages, grpcMessageText, grpcPath, isGrpc } from './grpc';
import { markGraphql } from './graphql';

/** One direction of a stream: the request or the response. */
export interface H2Part {
  headers: HeaderField[] | null;
  trailers: HeaderField[] | null;
  body: BodyCollector;
  /** Frame bytes on the wire for this part (9-byte frame headers included). */
  wire: number;
  startTs: Timestamp | null;
  endTs: Timestamp | null;
  /** END_STREAM seen (or nothing more can come). */
  done: boolean;
  problem: string | null;
}

export interface H2Stream {
  id: number;
  req: H2Part;
  res: H2Part;
  error: ItemError | null;
  /** Bytes of 1xx header blocks, counted into the response. */
  interim: number;
  pushed: boolean;
  /** Stream 1 of an h2c Upgrade: the request was HTTP/1.1. */
  upgraded: boolean;
  /** The HTTP/1.1 request line of an upgraded stream 1 (its headers carry no pseudo-headers). */
  h1Line: { method: string; url: string } | null;
  /** A response whose request was never seen. */
  noRequest: boolean;
  closed: boolean;
  emitted: boolean;
}

const VERSION = 'HTTP/2.0';
const EMPTY_TS: Timestamp = { sec: 0, nsec: 0 };
const LEAN: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** Header fields → the item's map: pseudo-headers as sent, others in Go's canonical case, repeats joined with ",". */
function headerMap(fields: HeaderField[], trailers: HeaderField[] | null, setCookies: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  const add = (list: HeaderField[]) => {
    for (const f of list) {
      const name = f.name.charCodeAt(0) === 0x3a ? f.name : canonicalHeader(f.name);
      const prev = h[name];
      // HTTP/2 splits Cookie into one field per crumb (RFC 9113 §8.2.3); they rejoin with "; ".
      h[name] = prev === undefined ? f.value : prev + (name === 'Cookie' ? '; ' : ',') + f.value;
      if (name === 'Set-Cookie') setCookies.push(f.value);
    }
  };
  add(fields);
  if (trailers) add(trailers);
  return h;
}

function message(part: H2Part, line: Message['head']['line'], headers: Record<string, string>, setCookies: string[]): Message {
  return { head: { line, headers, setCookies }, startTs: part.startTs ?? EMPTY_TS, endTs: part.endTs, wireBytes: part.wire, body: part.body, problem: part.problem };
}

/** `warn`: hears what could not be decoded (a gRPC message in an unknown grpc-encoding). */
export function buildH2Message(st: H2Stream, lean: boolean, cap: number, error: ItemError | null, warn?: (detail: string) => void): L7Message {
  const { req, res } = st;
  const reqCookies: string[] = [];
  const resCookies: string[] = [];
  const reqH = req.headers ? headerMap(req.headers, req.trailers, reqCookies) : null;
  const resH = res.headers ? headerMap(res.headers, res.trailers, resCookies) : null;
  const grpc = isGrpc(reqH?.['Content-Type'], resH?.['Grpc-Status']);
  const msg: L7Message = {
    protocol: grpc ? PROTOCOLS.grpc : PROTOCOLS.http2,
    request: LEAN,
    response: LEAN,
    requestSize: req.wire,
    responseSize: res.wire + st.interim,
    requestTs: req.startTs ?? res.startTs ?? EMPTY_TS,
    responseTs: res.headers ? res.endTs : null,
    error,
    dstName: undefined,
  };
  if (lean) return msg;
  let request: HttpRequest;
  if (reqH) {
    const method = st.h1Line?.method ?? reqH[':method'] ?? '';
    // CONNECT has no :path; its target is :authority (RFC 9113 §8.5).
    const url = st.h1Line?.url ?? reqH[':path'] ?? reqH[':authority'] ?? '';
    request = buildRequest(message(req, { method, url, version: st.upgraded ? 'HTTP/1.1' : VERSION }, reqH, reqCookies), cap);
    // dst.name when nothing else names the server: `:authority`, else `Host` (an h2c upgrade's
    // HTTP/1.1 request, or a client that sent Host) — kubeshark-compat §6.6.
    const authority = reqH[':authority'] ?? reqH['Host'];
    if (authority !== undefined) msg.dstName = hostOf(authority);
  } else {
    request = buildRequest(null, cap);
  }
  const status = resH ? Number.parseInt(resH[':status'] ?? '', 10) : NaN;
  const response: HttpResponse = resH
    ? buildResponse(message(res, { version: VERSION, status: Number.isFinite(status) ? status : 0, reason: '' }, resH, resCookies), cap)
    : buildResponse(null, cap);
  if (grpc) {
    const rb = req.body.bytes();
    if (request.postData) request.postData.text = rb.toString('base64');
    const reqEnc = grpcEncoding(reqH?.['Grpc-Encoding']);
    const resEnc = grpcEncoding(resH?.['Grpc-Encoding']);
    request.grpc = { ...grpcPath(request.path), encoding: reqEnc, messages: grpcMessages(rb, req.body.total, reqEnc, cap, warn) };
    const gs = resH?.['Grpc-Status'];
    const code = gs !== undefined && /^\d+$/.test(gs) ? Number(gs) : -1;
    response.grpc = { status: code, message: grpcMessageText(resH?.['Grpc-Message']), encoding: resEnc, messages: grpcMessages(res.body.bytes(), res.body.total, resEnc, cap, warn) };
  }
  msg.request = request as unknown as Record<string, unknown>;
  msg.response = response as unknown as Record<string, unknown>;
  if (!grpc) markGraphql(msg, PROTOCOLS.gql2);
  return msg;
}
