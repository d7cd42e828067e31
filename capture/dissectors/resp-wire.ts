/**
 * A streaming RESP2/RESP3 reader (Redis's wire format). Resumable: a value split over any
 * number of segments is parsed once, left to right (an aggregate's state lives on a stack, a
 * bulk string's bytes are counted down), so huge replies and long pipelines cost linear time.
 * Only the first `keep` bytes of each string and the first MAX_ELEMS elements of each
 * aggregate are kept for the item; sizes are exact. Hand-written: the npm RESP parsers
 * (redis-parser, resp3 in @redis/client) are client-side, buffer whole replies and have no
 * notion of a capture's byte accounting.
 */
import { EMPTY } from './exchanges';

export class RespError extends Error {}

/** One RESP value. `k` is the type byte ('+', '$', '*', '%', '>', …; 'i' for an inline command). */
export interface RVal {
  k: string;
  /** Scalars: the text (strings cut to `keep` bytes). */
  s: string;
  /** Aggregates: the first MAX_ELEMS elements (a map's keys and values alternate). */
  a: RVal[] | null;
  /** Aggregates: declared element count (map: pairs); bulk strings: declared byte length. */
  n: number;
  nil: boolean;
}

export const MAX_ELEMS = 64;
const MAX_DEPTH = 64;
const MAX_LINE = 64 * 1024;
const MAX_BULK = 512 * 1024 * 1024;
const CR = 13;
const LF = 10;

interface Frame {
  v: RVal;
  left: number;
}

export type OnValue = (v: RVal, size: number) => void;

export class RespReader {
  private buf: Buffer = EMPTY;
  private stack: Frame[] = [];
  /** Bulk string being read: its value, content bytes still to come, kept parts. */
  private bulk: RVal | null = null;
  private bulkLeft = 0;
  private bulkParts: Buffer[] = [];
  private bulkKept = 0;
  /** Bytes of the trailing CRLF after a bulk string still to skip. */
  private crlf = 0;
  /** Bytes of the current top-level value so far. */
  private size = 0;

  constructor(private readonly keep: number, private readonly inline: boolean, private readonly onValue: OnValue) {}

  /** Bytes of a value begun but not finished. */
  get partialBytes(): number {
    return this.size + this.buf.length;
  }

  /** The unfinished top-level aggregate (its complete elements), if any. */
  partial(): RVal | null {
    return this.stack.length ? this.stack[0].v : null;
  }

  /** Parses what `chunk` completes; throws RespError on bytes that are not RESP. */
  feed(chunk: Buffer): void {
    let b = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let p = 0;
    const end = b.length;
    while (p < end) {
      if (this.bulk !== null) {
        const take = Math.min(this.bulkLeft, end - p);
        if (take > 0) {
          if (this.bulkKept < this.keep) {
            const k = Math.min(take, this.keep - this.bulkKept);
            this.bulkParts.push(Buffer.from(b.subarray(p, p + k)));
            this.bulkKept += k;
          }
          p += take;
          this.size += take;
          this.bulkLeft -= take;
        }
        if (this.bulkLeft > 0) break;
        const v = this.bulk;
        const raw = this.bulkParts.length === 1 ? this.bulkParts[0] : Buffer.concat(this.bulkParts);
        v.s = raw.toString('utf8');
        if (v.k === '=' && v.s.length >= 4 && v.s[3] === ':') v.s = v.s.slice(4); // verbatim: drop "txt:"
        this.bulk = null;
        this.bulkParts = [];
        this.crlf = 2;
      }
      if (this.crlf > 0) {
        while (this.crlf > 0 && p < end) {
          if (b[p] !== (this.crlf === 2 ? CR : LF)) throw new RespError('bulk string not followed by CRLF');
          p++;
          this.size++;
          this.crlf--;
        }
        if (this.crlf > 0) break;
        this.leaf(this.pendingBulk!);
        this.pendingBulk = null;
        continue;
      }
      const nl = b.indexOf(LF, p);
      if (nl < 0) {
        if (end - p > MAX_LINE) throw new RespError('line longer than 64 KiB');
        break;
      }
      const lineEnd = nl > p && b[nl - 1] === CR ? nl - 1 : nl;
      const c = b[p];
      const consumed = nl + 1 - p;
      this.size += consumed;
      this.line(c, b, p, lineEnd);
      p = nl + 1;
    }
    // Keep only the unparsed tail (a partial line), copied: the caller may reuse `chunk`.
    this.buf = p >= end ? EMPTY : Buffer.from(b.subarray(p));
    b = EMPTY;
  }

  private pendingBulk: RVal | null = null;

  private line(c: number, b: Buffer, p: number, lineEnd: number): void {
    const t = String.fromCharCode(c);
    switch (t) {
      case '+': case '-': case ':': case ',': case '(': case '#':
        this.leaf({ k: t, s: b.toString('utf8', p + 1, lineEnd), a: null, n: 0, nil: false });
        return;
      case '_':
        this.leaf({ k: t, s: '', a: null, n: 0, nil: true });
        return;
      case '$': case '!': case '=': {
        const n = this.count(b, p + 1, lineEnd);
        if (n === -1) { this.leaf({ k: t, s: '', a: null, n: -1, nil: true }); return; }
        if (n > MAX_BULK) throw new RespError(`bulk string of ${n} bytes`);
        const v: RVal = { k: t, s: '', a: null, n, nil: false };
        this.pendingBulk = v;
        this.bulk = v;
        this.bulkLeft = n;
        this.bulkKept = 0;
        return;
      }
      case '*': case '%': case '~': case '>': case '|': {
        const n = this.count(b, p + 1, lineEnd);
        if (n === -1) { this.leaf({ k: t, s: '', a: null, n: -1, nil: true }); return; }
        const v: RVal = { k: t, s: '', a: [], n, nil: false };
        const left = t === '%' || t === '|' ? 2 * n : n;
        if (left === 0) { this.leaf(v); return; }
        if (this.stack.length >= MAX_DEPTH) throw new RespError('aggregates nested too deep');
        this.stack.push({ v, left });
        return;
      }
      default:
        if (this.inline && this.stack.length === 0 && c >= 0x20 && c < 0x7f) {
          // Inline command (telnet style): words separated by spaces.
          const words = b.toString('latin1', p, lineEnd).trim().split(/\s+/).filter(Boolean);
          if (words.length === 0) { this.size = 0; return; } // empty line: nothing to report
          this.leaf({ k: 'i', s: '', a: words.slice(0, MAX_ELEMS).map((w) => ({ k: '$', s: w, a: null, n: w.length, nil: false })), n: words.length, nil: false });
          return;
        }
        throw new RespError(`unexpected byte 0x${c.toString(16).padStart(2, '0')} where a RESP type was expected`);
    }
  }

  private count(b: Buffer, from: number, to: number): number {
    const s = b.toString('latin1', from, to);
    if (s === '?') throw new RespError('streamed RESP3 aggregates are not supported');
    const n = Number(s);
    if (s === '' || !Number.isInteger(n) || n < -1 || n > 0x7fffffff) throw new RespError(`bad length "${s.slice(0, 20)}"`);
    return n;
  }

  /** A complete value: into its parent aggregate, or out as a top-level value. */
  private leaf(v: RVal): void {
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        const size = this.size;
        this.size = 0;
        if (v.k !== '|') this.onValue(v, size); // an attribute only annotates the next value
        return;
      }
      if (v.k !== '|') {
        if (top.v.a!.length < MAX_ELEMS) top.v.a!.push(v);
        top.left--;
      }
      if (top.left > 0) return;
      this.stack.pop();
      v = top.v;
    }
  }
}

/** Type names: Kubeshark's for RESP2, RESP3's own names for the rest. */
export function respType(k: string): string {
  switch (k) {
    case '+': return 'Simple String';
    case '-': case '!': return 'Error';
    case ':': return 'Integer';
    case '$': return 'Bulk String';
    case '*': return 'Array';
    case '_': return 'Null';
    case '#': return 'Boolean';
    case ',': return 'Double';
    case '(': return 'Big Number';
    case '=': return 'Verbatim String';
    case '%': return 'Map';
    case '~': return 'Set';
    case '>': return 'Push';
    case 'i': return 'Inline Command';
    default: return 'N/A';
  }
}

/** A value as text: scalars as they are, nulls `<nil>`, aggregates `[a, b]`, maps `{k: v}`, cut at `cap`. */
export function render(v: RVal, cap: number): string {
  const out: string[] = [];
  let len = 0;
  const put = (s: string): boolean => {
    if (len >= cap) return false;
    out.push(s);
    len += s.length;
    return true;
  };
  const walk = (x: RVal): void => {
    if (x.nil) { put('<nil>'); return; }
    if (x.a === null) { put(x.s); return; }
    const map = x.k === '%';
    put(map ? '{' : '[');
    for (let i = 0; i < x.a.length; i++) {
      if (i > 0) put(map && i % 2 === 1 ? ': ' : ', ');
      walk(x.a[i]);
      if (len >= cap) return;
    }
    const total = map ? 2 * x.n : x.n;
    if (total > x.a.length) put(`, … (${total - x.a.length} more)`);
    put(map ? '}' : ']');
  };
  walk(v);
  const s = out.join('');
  return s.length > cap ? s.slice(0, cap) + '…' : s;
}
