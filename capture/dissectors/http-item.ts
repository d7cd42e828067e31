/** Builds the schema's HttpRequest / HttpResponse from parsed messages (capture/item/schema.ts). */
import { STATUS_CODES } from 'node:http';
import type { Timestamp } from '../types';
import type { HttpRequest, HttpResponse } from '../item/schema';
import { parseCookieHeader, parseFormParams, parseMultipartParams, parseSetCookies, splitTarget } from './http-fields';
import { decodeBody, type BodyCollector } from './http-body';
import type { Head, ReqLine, StatusLine } from './http-wire';

/** One parsed HTTP message (request or response) in progress or complete. */
export interface Message {
  head: Head;
  startTs: Timestamp;
  endTs: Timestamp | null;
  wireBytes: number;
  body: BodyCollector;
  /** Set when the body ended abnormally (gap, truncated stream, bad chunk). */
  problem: string | null;
}

function bodyPreview(msg: Message, cap: number): { body: Buffer; size: number } {
  const raw = msg.body.bytes();
  const ce = msg.head.headers['Content-Encoding'];
  const dec = decodeBody(raw, ce, cap);
  const encoded = !!ce && !/^\s*identity\s*$/i.test(ce);
  // Plain bodies: the decoded size is the de-chunked size. Encoded bodies decoded in full: their
  // real size; otherwise only the preview's size is known (see docs/items.md).
  const size = !encoded ? msg.body.total : dec.body.length;
  return { body: dec.body, size };
}

export function buildRequest(msg: Message | null, cap: number): HttpRequest {
  if (!msg) {
    return { method: '', url: '', targetUri: '', path: '', pathSegments: [], httpVersion: '', headers: {}, cookies: {}, queryString: {}, headersSize: -1, bodySize: 0 };
  }
  const line = msg.head.line as ReqLine;
  const t = splitTarget(line.url);
  const req: HttpRequest = {
    method: line.method,
    url: line.url,
    targetUri: line.url,
    path: t.path,
    pathSegments: t.pathSegments,
    httpVersion: line.version,
    headers: msg.head.headers,
    cookies: parseCookieHeader(msg.head.headers['Cookie']),
    queryString: t.queryString,
    headersSize: -1,
    bodySize: msg.body.total,
  };
  if (msg.body.total > 0) {
    const { body } = bodyPreview(msg, cap);
    const mimeType = msg.head.headers['Content-Type'] ?? '';
    const text = body.toString('utf8');
    const params = /^application\/x-www-form-urlencoded/i.test(mimeType) ? parseFormParams(text)
      : /^multipart\/form-data/i.test(mimeType) ? parseMultipartParams(text, mimeType) : [];
    req.postData = { mimeType, params, text };
  }
  return req;
}

export function buildResponse(msg: Message | null, cap: number): HttpResponse {
  if (!msg) {
    return { status: 0, statusText: '', httpVersion: '', headers: {}, cookies: {}, content: { size: 0, mimeType: '', encoding: 'base64' }, redirectURL: '', headersSize: -1, bodySize: 0 };
  }
  const line = msg.head.line as StatusLine;
  const h = msg.head.headers;
  const mimeType = h['Content-Type'] ?? '';
  let size = 0;
  let text: string | undefined;
  if (msg.body.total > 0) {
    if (h['Content-Encoding'] === undefined) {
      // Plain body (decodeBody would return the kept bytes unchanged: they never exceed the cap).
      size = msg.body.total;
      if (msg.body.kept > 0) text = msg.body.text('base64');
    } else {
      const p = bodyPreview(msg, cap);
      size = p.size;
      if (p.body.length > 0) text = p.body.toString('base64');
    }
  }
  // One literal per shape (no property added afterwards); key order as before.
  return {
    status: line.status,
    statusText: line.reason || STATUS_CODES[line.status] || '',
    httpVersion: line.version,
    headers: h,
    cookies: parseSetCookies(msg.head.setCookies),
    content: text === undefined ? { size, mimeType, encoding: 'base64' } : { size, mimeType, encoding: 'base64', text },
    redirectURL: h['Location'] ?? '',
    headersSize: -1,
    bodySize: msg.body.total,
  };
}
