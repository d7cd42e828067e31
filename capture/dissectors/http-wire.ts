/**
 * HTTP/1.x wire syntax: start lines, header lines, chunk sizes, Content-Length, and detection.
 * Works on Buffers byte by byte with latin1 decoding (no regex per byte, few native calls).
 */
import type { Direction } from '../types';
import { canonicalHeader, isTokenChar } from './http-fields';
import { bytesEqual, latin1 } from './latin1';

export const CR = 13, LF = 10, SP = 32, HT = 9;

function isTchar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x21 || c === 0x2b;
}

/** `HTTP/1.0` or `HTTP/1.1` at b[i..i+8). */
function isVersion(b: Buffer, i: number): boolean {
  return b[i] === 0x48 && b[i + 1] === 0x54 && b[i + 2] === 0x54 && b[i + 3] === 0x50 && b[i + 4] === 0x2f &&
    b[i + 5] === 0x31 && b[i + 6] === 0x2e && (b[i + 7] === 0x30 || b[i + 7] === 0x31);
}

export interface ReqLine { method: string; url: string; version: string }

/** b[s..e) holds exactly the latin1 text `t`. */
function bytesAre(b: Buffer, s: number, e: number, t: string): boolean {
  if (e - s !== t.length) return false;
  for (let i = 0; i < t.length; i++) if (b[s + i] !== t.charCodeAt(i)) return false;
  return true;
}

/**
 * Start-line pieces that repeat on every message (methods, versions, reasons) are returned as
 * the same strings instead of being decoded each time: one Buffer.toString per piece showed up
 * in profiles. Identical text, so identical output.
 */
const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
const versionAt = (b: Buffer, i: number): string => (b[i + 7] === 0x31 ? 'HTTP/1.1' : 'HTTP/1.0');
let lastReason = '';
let lastReasonTrimmed = '';

function methodText(b: Buffer, s: number, e: number): string {
  for (let k = 0; k < METHODS.length; k++) if (bytesAre(b, s, e, METHODS[k])) return METHODS[k];
  return b.toString('latin1', s, e);
}

function reasonText(b: Buffer, s: number, e: number): string {
  if (bytesAre(b, s, e, lastReason)) return lastReasonTrimmed;
  if (e - s > 64) return b.toString('latin1', s, e).trim();
  lastReason = b.toString('latin1', s, e);
  lastReasonTrimmed = lastReason.trim();
  return lastReasonTrimmed;
}
export interface StatusLine { readonly version: string; readonly status: number; readonly reason: string }
let lastStatus: StatusLine | null = null;

/** Parses `METHOD SP target SP HTTP/1.x` in b[s..e), or null. */
export function parseRequestLine(b: Buffer, s: number, e: number): ReqLine | null {
  let i = s;
  while (i < e && i - s < 24 && isTchar(b[i])) i++;
  if (i === s || i >= e || b[i] !== SP) return null;
  const method = methodText(b, s, i);
  // Methods are upper-case tokens in practice; insisting on it keeps detection honest.
  for (let k = s; k < i; k++) if (b[k] >= 0x61 && b[k] <= 0x7a) return null;
  const t0 = i + 1;
  // The version is the last 8 bytes, after a space: the same test as lastIndexOf(SP) + length
  // check, without a native call (the 8 version bytes hold no space).
  const sp2 = e - 9;
  if (sp2 <= t0 || b[sp2] !== SP || !isVersion(b, sp2 + 1)) return null;
  for (let k = t0; k < sp2; k++) if (b[k] <= SP || b[k] === 0x7f) return null;
  return { method, url: latin1(b, t0, sp2), version: versionAt(b, sp2 + 1) };
}

/** Parses `HTTP/1.x SP ddd [SP reason]` in b[s..e), or null. */
export function parseStatusLine(b: Buffer, s: number, e: number): StatusLine | null {
  if (e - s < 12 || !isVersion(b, s) || b[s + 8] !== SP) return null;
  let status = 0;
  for (let k = s + 9; k < s + 12; k++) {
    const d = b[k] - 0x30;
    if (d < 0 || d > 9) return null;
    status = status * 10 + d;
  }
  if (e > s + 12 && b[s + 12] !== SP) return null;
  if (status < 100) return null;
  const version = versionAt(b, s);
  const reason = e > s + 13 ? reasonText(b, s + 13, e) : '';
  // Status lines repeat (`HTTP/1.1 200 OK`): the same read-only object, one allocation fewer.
  const last = lastStatus;
  if (last !== null && last.status === status && last.reason === reason && last.version === version) return last;
  return (lastStatus = { version, status, reason });
}

export interface Head {
  line: ReqLine | StatusLine;
  /** Canonical name → value(s); framing reads it too (`Content-Length`, `Transfer-Encoding`). */
  headers: Record<string, string>;
  setCookies: string[];
}

/**
 * Adds the header lines in `text` (latin1, LF or CRLF line ends, no blank line). One string per
 * head and substrings of it: cheaper than a Buffer slice per name and per value.
 */
export function addHeaderLines(head: Head, text: string): void {
  let q = 0;
  while (q < text.length) {
    let nl = text.indexOf('\n', q);
    if (nl < 0) nl = text.length;
    const le = nl > q && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
    if (le > q) addHeader(head, text, q, le);
    q = nl + 1;
  }
}

const isPrintable = (c: number): boolean => c > SP && c < 0x7f;

/** Bytes Go's CanonicalMIMEHeaderKey canonicalises (all printable): the fast path's names. */
const TOKEN = new Uint8Array(256);
for (let c = 0; c < 256; c++) TOKEN[c] = isTokenChar(c) ? 1 : 0;

/**
 * Header names and values repeat from message to message, so the byte parser below keeps, per
 * hash slot of the raw name bytes, the raw name, its canonical form and the last value seen:
 * a head whose names and values match them (compared byte by byte) allocates no strings.
 * Direct-mapped and fixed-size (hostile traffic only causes misses). Any string whose char codes
 * equal the bytes is the same latin1 text, so the output is identical.
 */
const SLOTS = 512;
const slotRaw: string[] = new Array<string>(SLOTS).fill('');
const slotCanon: string[] = new Array<string>(SLOTS).fill('');
const slotValue: string[] = new Array<string>(SLOTS).fill('');
/** Longer values are decoded each time (comparing costs about as much as decoding). */
const MAX_CACHED_VALUE = 128;

/**
 * Parses the header lines of a head from b[s..] through the blank line that ends it: returns
 * the offset after that blank line, or -1 when the head is not complete in b (`head` then holds
 * a part of it and must be dropped). One pass over the bytes, no per-line toString/indexOf:
 * plain `Name: value` lines are done here, anything else (obs-fold, no colon, odd bytes around
 * the name or value) goes through addHeader with the line's text, as before.
 */
export function addHeaderBytes(head: Head, b: Buffer, s: number): number {
  const n = b.length;
  let q = s;
  while (q < n) {
    let i = q;
    let h = 0;
    while (i < n) {
      const c = b[i];
      if (TOKEN[c] !== 1) break;
      h = (Math.imul(h, 31) + c) | 0;
      i++;
    }
    let nl = i;
    while (nl < n && b[nl] !== LF) nl++;
    if (nl >= n) return -1;
    const le = nl > q && b[nl - 1] === CR ? nl - 1 : nl;
    if (le === q) return nl + 1;
    if (i > q && b[i] === 0x3a) {
      let vs = i + 1;
      while (vs < le && (b[vs] === SP || b[vs] === HT)) vs++;
      if (vs < le && isPrintable(b[vs]) && isPrintable(b[le - 1])) {
        const slot = (h ^ (h >>> 11) ^ (i - q)) & (SLOTS - 1);
        if (!bytesEqual(b, q, i, slotRaw[slot])) {
          const raw = latin1(b, q, i);
          slotRaw[slot] = raw;
          slotCanon[slot] = canonicalHeader(raw);
          slotValue[slot] = '';
        }
        const name = slotCanon[slot];
        let value = slotValue[slot];
        if (!bytesEqual(b, vs, le, value)) {
          value = latin1(b, vs, le);
          if (le - vs <= MAX_CACHED_VALUE) slotValue[slot] = value;
        }
        const prev = head.headers[name];
        head.headers[name] = prev === undefined ? value : prev + ',' + value;
        if (name === 'Set-Cookie') head.setCookies.push(value);
        q = nl + 1;
        continue;
      }
    }
    addHeader(head, latin1(b, q, le), 0, le - q);
    q = nl + 1;
  }
  return -1;
}

export function addHeader(head: Head, t: string, s: number, e: number): void {
  const c0 = t.charCodeAt(s);
  if (c0 === SP || c0 === HT) {
    // obs-fold continuation: belongs to the previous header.
    const keys = Object.keys(head.headers);
    const k = keys[keys.length - 1];
    if (k !== undefined) head.headers[k] += ' ' + t.slice(s, e).trim();
    return;
  }
  const colon = t.indexOf(':', s);
  if (colon < 0 || colon >= e || colon === s) return; // not a header line; ignored
  // Plain `Name: value` lines (printable ASCII at the edges) need no trim() calls; anything
  // else takes the general path. Same strings either way.
  const name = canonicalHeader(isPrintable(t.charCodeAt(colon - 1)) ? t.slice(s, colon) : t.slice(s, colon).trimEnd());
  let vs = colon + 1;
  while (vs < e && (t.charCodeAt(vs) === SP || t.charCodeAt(vs) === HT)) vs++;
  const value = vs < e && isPrintable(t.charCodeAt(vs)) && isPrintable(t.charCodeAt(e - 1)) ? t.slice(vs, e) : t.slice(colon + 1, e).trim();
  const prev = head.headers[name];
  head.headers[name] = prev === undefined ? value : prev + ',' + value;
  if (name === 'Set-Cookie') head.setCookies.push(value);
}

/** Shared by memos without Set-Cookie (only read). */
const NO_COOKIES: string[] = [];

/**
 * The previous head's header block on one side of a connection (bytes from after the start
 * line through the blank line), with what it parsed to. Clients and servers repeat their headers
 * message after message, so a byte compare (~1.6 ns/byte) against the last block usually replaces
 * the whole parse: measured ~250 ns vs ~900 ns for a 5-header response head. The parsed result is
 * kept as a private copy (the emitted item's headers object is never reused).
 */
export class HeadMemo {
  bytes: Uint8Array = new Uint8Array(0);
  len = 0;
  headers: Record<string, string> = {};
  setCookies: string[] = NO_COOKIES;
  /** Set by readHead: the offset after the block it just read. */
  end = -1;
  /** Heads in a row that did not match. */
  misses = 0;
}

/** Header blocks longer than this are not remembered. */
const MAX_MEMO = 1024;

/**
 * The head after a start line `line` whose header block starts at b[s]: reuses `memo` when the
 * block's bytes equal the previous one's, else parses it (addHeaderBytes) and remembers it.
 * Returns null when the block is not complete in b; otherwise `memo.end` is the offset after it.
 */
export function readHead(line: ReqLine | StatusLine, b: Buffer, s: number, memo: HeadMemo): Head | null {
  const len = memo.len;
  if (len > 0 && b.length - s >= len) {
    const m = memo.bytes;
    // A JS loop: Buffer#compare with offsets measured slower here (argument validation).
    let k = 0;
    while (k < len && b[s + k] === m[k]) k++;
    if (k === len) {
      memo.misses = 0;
      // Same bytes, same parse. Spread keeps the key order (and is ~4x cheaper than re-adding).
      memo.end = s + len;
      return { line, headers: { ...memo.headers }, setCookies: memo.setCookies.length > 0 ? memo.setCookies.slice() : [] };
    }
  }
  const head: Head = { line, headers: {}, setCookies: [] };
  const end = addHeaderBytes(head, b, s);
  if (end < 0) return null;
  memo.end = end;
  // A side whose blocks never repeat (request ids, changing lengths) stops paying for the copy:
  // after 4 misses in a row the memo is refreshed only every 16th head.
  const misses = ++memo.misses;
  if (misses > 4 && (misses & 15) !== 0) return head;
  const n = end - s;
  if (n <= MAX_MEMO) {
    if (memo.bytes.length < n) memo.bytes = new Uint8Array(n);
    b.copy(memo.bytes, 0, s, end);
    memo.len = n;
    memo.headers = { ...head.headers };
    memo.setCookies = head.setCookies.length > 0 ? head.setCookies.slice() : NO_COOKIES;
  } else memo.len = 0;
  return head;
}

/** addHeaderBytes through the memo (readHead) into an existing head; -1 when incomplete. */
export function addHeaderBytesMemo(head: Head, b: Buffer, s: number, memo: HeadMemo): number {
  const h = readHead(head.line, b, s, memo);
  if (h === null) return -1;
  head.headers = h.headers;
  head.setCookies = h.setCookies;
  return memo.end;
}

export function parseChunkSize(b: Buffer, s: number, e: number): number {
  let n = 0;
  let i = s;
  for (; i < e; i++) {
    const c = b[i];
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) break;
    n = n * 16 + d;
    if (n > Number.MAX_SAFE_INTEGER / 16) return -1;
  }
  if (i === s) return -1;
  // Whatever follows must be whitespace or a chunk extension.
  while (i < e && (b[i] === SP || b[i] === HT)) i++;
  if (i < e && b[i] !== 0x3b) return -1;
  return n;
}

export function parseLength(v: string): number {
  if (v.length > 0 && v.length <= 15) {
    let n = 0;
    let i = 0;
    for (; i < v.length; i++) {
      const d = v.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (i === v.length) return n; // the common case: plain digits
  }
  // Repeated identical values ("5, 5") are allowed by RFC 9110; anything else is an error.
  const parts = v.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d{1,15}$/.test(p) && p === parts[0])) return -1;
  return Number(parts[0]);
}

/**
 * Client side: a request line; server side: a status line (capture began mid-stream).
 * 'maybe' while the first line is incomplete but still consistent with HTTP.
 */
export function detectHttp(first: Buffer, dir: Direction): boolean | 'maybe' {
  const nl = first.indexOf(LF);
  if (nl < 0) {
    if (first.length >= 4096) return false;
    return prefixPlausible(first, dir) ? 'maybe' : false;
  }
  const e = nl > 0 && first[nl - 1] === CR ? nl - 1 : nl;
  return dir === 0 ? parseRequestLine(first, 0, e) !== null : parseStatusLine(first, 0, e) !== null;
}

function prefixPlausible(b: Buffer, dir: Direction): boolean {
  if (b.length === 0) return true;
  if (dir === 1) {
    const v = 'HTTP/1.';
    for (let i = 0; i < Math.min(b.length, v.length); i++) if (b[i] !== v.charCodeAt(i)) return false;
    return true;
  }
  let i = 0;
  while (i < b.length && i < 24 && b[i] >= 0x41 && b[i] <= 0x5a) i++;
  if (i === b.length) return true;
  if (i === 0 || b[i] !== SP) return false;
  // A segment may end between the line's CR and its LF: that CR is no reason to decline.
  const end = b[b.length - 1] === CR ? b.length - 1 : b.length;
  for (let k = i + 1; k < end; k++) if (b[k] < SP || b[k] === 0x7f) return false;
  return true;
}
