/**
 * HTTP/1.x field helpers: header-name canonicalisation (Go textproto rules), cookies, query
 * strings and request-target splitting, shaped the way Kubeshark's items present them.
 */
import type { HttpParam } from '../item/schema';

const canonCache = new Map<string, string>();

/** Characters Go's CanonicalMIMEHeaderKey accepts; a name with any other byte stays as sent. */
export function isTokenChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2d || c === 0x21 || c === 0x23 || c === 0x24 || c === 0x25 || c === 0x26 || c === 0x27 ||
    c === 0x2a || c === 0x2b || c === 0x2e || c === 0x5e || c === 0x5f || c === 0x60 || c === 0x7c || c === 0x7e;
}

/** `content-type` → `Content-Type`, as Go's textproto.CanonicalMIMEHeaderKey does. */
export function canonicalHeader(name: string): string {
  const hit = canonCache.get(name);
  if (hit !== undefined) return hit;
  let out = '';
  let upper = true;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (!isTokenChar(c)) { out = name; break; }
    const ch = name[i];
    out += upper ? ch.toUpperCase() : ch.toLowerCase();
    upper = c === 0x2d;
  }
  // Bounded: header names from hostile traffic must not grow the cache without limit.
  if (canonCache.size < 4096) canonCache.set(name, out);
  return out;
}

function decodeComponent(s: string, plusIsSpace: boolean): string {
  const t = plusIsSpace && s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!t.includes('%')) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return t; // invalid escapes: keep what was sent rather than lose the value
  }
}

/** `a=1&a=2&b=` → `{a: ['1','2'], b: ''}` (Go url.ParseQuery decoding, Kubeshark's array rule). */
export function parseQuery(q: string): Record<string, string | string[]> {
  return parseQueryIn(q, 0, q.length);
}

/**
 * parseQuery of q[s..e), in one pass: no split() array, and decodeComponent only for parts that
 * hold `+` or `%` (it returns the text unchanged otherwise). Measured ~3x faster than
 * split('&') + indexOf + decodeComponent per part on `page=12345`.
 */
function parseQueryIn(q: string, s: number, e: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  let p = s;
  while (p < e) {
    let amp = p;
    let eq = -1;
    let encK = false;
    let encV = false;
    for (; amp < e; amp++) {
      const c = q.charCodeAt(amp);
      if (c === 0x26) break; // &
      if (c === 0x3d) { if (eq < 0) eq = amp; } // =
      else if (c === 0x2b || c === 0x25) { if (eq < 0) encK = true; else encV = true; } // + %
    }
    if (amp > p) {
      const kEnd = eq < 0 ? amp : eq;
      const k = encK ? decodeComponent(q.slice(p, kEnd), true) : q.slice(p, kEnd);
      const v = eq < 0 ? '' : encV ? decodeComponent(q.slice(eq + 1, amp), true) : q.slice(eq + 1, amp);
      const prev = out[k];
      if (prev === undefined) out[k] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else out[k] = [prev, v];
    }
    p = amp + 1;
  }
  return out;
}

/** Form bodies as HAR params (one entry per pair, repeats kept). */
export function parseFormParams(body: string): HttpParam[] {
  const out: HttpParam[] = [];
  for (const part of body.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    out.push({ name: decodeComponent(eq < 0 ? part : part.slice(0, eq), true), value: eq < 0 ? '' : decodeComponent(part.slice(eq + 1), true) });
  }
  return out;
}

/**
 * multipart/form-data bodies as HAR params: one per part, `fileName`/`contentType` for file
 * parts. Works on the (possibly capped) preview text: a part cut by the cap is left out.
 */
export function parseMultipartParams(body: string, contentType: string): HttpParam[] {
  const m = /boundary=(?:"([^"]+)"|([^;,\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return [];
  const out: HttpParam[] = [];
  const parts = body.split(`--${boundary}`);
  // parts[0] is the preamble; the last complete part is followed by "--" (the close delimiter).
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i];
    if (part.startsWith('--')) break;
    const sep = part.indexOf('\r\n\r\n');
    if (sep < 0 || i === parts.length - 1) continue;
    const headers = part.slice(0, sep);
    const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /[;\s]name="([^"]*)"/i.exec(disp)?.[1] ?? /[;\s]name=([^;\s]+)/i.exec(disp)?.[1];
    if (name === undefined) continue;
    const p: HttpParam = { name, value: part.slice(sep + 4).replace(/\r\n$/, '') };
    const fileName = /filename="([^"]*)"/i.exec(disp)?.[1];
    if (fileName !== undefined) p.fileName = fileName;
    const ct = /content-type:\s*([^\r\n]*)/i.exec(headers)?.[1];
    if (ct) p.contentType = ct.trim();
    out.push(p);
  }
  return out;
}

/** `Cookie: a=1; b=2` → `{a: '1', b: '2'}`. */
export function parseCookieHeader(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!v) return out;
  for (const part of v.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name) out[name] = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/** Each `Set-Cookie` value → its leading `name=value`. */
export function parseSetCookies(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const semi = v.indexOf(';');
    const pair = semi < 0 ? v : v.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return out;
}

export interface Target {
  path: string;
  pathSegments: string[];
  queryString: Record<string, string | string[]>;
}

/**
 * Splits a request-target like Go's url.Parse: origin-form `/p?q`, absolute-form
 * `http://h/p?q`; anything else (authority-form `host:443`, `*`) keeps the raw target as path.
 */
export function splitTarget(url: string): Target {
  // Origin-form without percent-escapes in the path (nearly every request): one scan of the
  // target, segments sliced directly (no decode, split() or shift()). Measured ~2.5x faster on
  // `/api/items/123?page=123`. Anything else takes the general path below.
  if (url.charCodeAt(0) !== 0x2f) return splitTargetGeneral(url);
  const n = url.length;
  let end = n;
  let qm = -1;
  for (let i = 1; i < n; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x23) { end = i; break; } // #
    if (c === 0x3f) { qm = i; break; } // ?
    if (c === 0x25) return splitTargetGeneral(url); // %: the path needs decoding
  }
  if (qm >= 0) {
    const hash = url.indexOf('#', qm + 1);
    if (hash >= 0) end = hash;
  }
  const pathEnd = qm >= 0 ? qm : end;
  const path = pathEnd === n ? url : url.slice(0, pathEnd);
  const segs: string[] = [];
  let st = 1;
  for (let i = 1; i < pathEnd; i++) {
    if (url.charCodeAt(i) === 0x2f) { segs.push(url.slice(st, i)); st = i + 1; }
  }
  segs.push(url.slice(st, pathEnd));
  return { path, pathSegments: segs, queryString: qm < 0 ? {} : parseQueryIn(url, qm + 1, end) };
}

/** splitTarget for any target (the original, general code). */
function splitTargetGeneral(url: string): Target {
  let rest = url;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  if (!rest.startsWith('/')) {
    const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?]*/.exec(rest);
    if (m) rest = rest.slice(m[0].length);
    else return { path: url, pathSegments: [url], queryString: {} };
  }
  const qm = rest.indexOf('?');
  const rawPath = qm < 0 ? rest : rest.slice(0, qm);
  const path = decodeComponent(rawPath, false);
  const segs = path.split('/');
  if (segs[0] === '') segs.shift();
  return { path, pathSegments: segs, queryString: qm < 0 ? {} : parseQuery(rest.slice(qm + 1)) };
}

let lastAuthority = '';
let lastHost = '';

/**
 * The host of a `Host` / `:authority` value, port dropped (`dst.port` has it): `api:8080` →
 * `api`, `[::1]:80` → `::1`. `""` for an absent or empty value.
 */
export function hostOf(authority: string | undefined): string {
  if (!authority) return '';
  // A connection sends the same Host on every request (often the very same string, from the
  // header parser's memo): remember the last answer.
  if (authority === lastAuthority) return lastHost;
  lastAuthority = authority;
  return (lastHost = hostOfUncached(authority));
}

function hostOfUncached(authority: string): string {
  if (authority.charCodeAt(0) === 0x5b) {
    const close = authority.indexOf(']');
    return close > 0 ? authority.slice(1, close) : authority;
  }
  const colon = authority.indexOf(':');
  // More than one colon: a bare IPv6 address (not valid in Host, but keep it whole).
  if (colon < 0 || authority.indexOf(':', colon + 1) >= 0) return authority;
  return authority.slice(0, colon);
}
