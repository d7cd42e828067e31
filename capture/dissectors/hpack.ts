/**
 * HPACK (RFC 7541) header block decoding with the dynamic table, for HTTP/2.
 *
 * Hand-written: Node's nghttp2 is not exposed, and the one npm HPACK decoder in wide use
 * (hpack.js, last released 2018) is stream-oriented and cannot be installed here anyway. The
 * decoder is small: integers, strings, Huffman (below), the static table and a ring of dynamic
 * entries. Each direction of a connection has its own Decoder (its own dynamic table).
 *
 * Errors throw HpackError: the connection's decoding state is then unknown, so the caller stops
 * decoding header blocks on that direction (HTTP/2 treats this as a connection error too).
 */

export class HpackError extends Error {}

/** RFC 7541 Appendix A. Index 1 is STATIC[0]. */
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];

/**
 * Huffman code lengths of symbols 0..256 (RFC 7541 Appendix B; 256 is EOS). The code is
 * canonical (codes ascend with length, then symbol), so the lengths alone define it.
 */
const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

/**
 * Canonical decoding tables: for each length L, the first code of that length, how many codes
 * have it, and where its symbols start in SYMBOLS (symbols sorted by length, then value).
 */
const MAX_LEN = 30;
const FIRST = new Int32Array(MAX_LEN + 1);
const COUNT = new Int32Array(MAX_LEN + 1);
const OFFSET = new Int32Array(MAX_LEN + 1);
const SYMBOLS = new Uint16Array(257);
{
  const order = Array.from({ length: 257 }, (_, s) => s).sort((a, b) => LENGTHS[a] - LENGTHS[b] || a - b);
  order.forEach((s, i) => (SYMBOLS[i] = s));
  for (const l of LENGTHS) COUNT[l]++;
  let code = 0;
  let off = 0;
  for (let l = 1; l <= MAX_LEN; l++) {
    FIRST[l] = code;
    OFFSET[l] = off;
    code = (code + COUNT[l]) << 1;
    off += COUNT[l];
  }
}

/**
 * Decodes Huffman-coded b[s..e) as latin1. Canonical decoding bit by bit into a scratch buffer.
 * Padding must be a prefix of EOS (all ones) shorter than 8 bits.
 *
 * Clients send the same values again and again without indexing them (grpc-js: `:path`,
 * `grpc-timeout`…), so short strings are memoised by their coded bytes: measured the bit loop
 * as the top self time on gRPC traffic, and a lookup of the raw latin1 text costs a fraction of
 * it. Bounded (cleared when full); long strings are never memoised.
 */
export function huffmanDecode(b: Buffer, s: number, e: number): string {
  const short = e - s <= MEMO_MAX_BYTES;
  let key = '';
  if (short) {
    key = b.toString('latin1', s, e);
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
  }
  // Each symbol takes at least 5 bits: at most 8/5 output bytes per input byte.
  const need = Math.ceil(((e - s) * 8) / 5);
  if (scratch.length < need) scratch = Buffer.allocUnsafe(Math.max(need, scratch.length * 2));
  const out = scratch;
  let n = 0;
  let code = 0;
  let len = 0;
  for (let i = s; i < e; i++) {
    const byte = b[i];
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const idx = code - FIRST[len];
      if (idx >= 0 && idx < COUNT[len]) {
        const sym = SYMBOLS[OFFSET[len] + idx];
        if (sym === 256) throw new HpackError('EOS in a Huffman string');
        out[n++] = sym;
        code = 0;
        len = 0;
      } else if (len >= MAX_LEN) {
        throw new HpackError('bad Huffman code');
      }
    }
  }
  if (len > 7 || code !== (1 << len) - 1) throw new HpackError('bad Huffman padding');
  const text = out.toString('latin1', 0, n);
  if (short) {
    if (memo.size >= MEMO_MAX_ENTRIES) memo.clear();
    memo.set(key, text);
  }
  return text;
}

const MEMO_MAX_BYTES = 64;
const MEMO_MAX_ENTRIES = 2048;
const memo = new Map<string, string>();
let scratch = Buffer.allocUnsafe(256);

export interface HeaderField {
  name: string;
  value: string;
}

/** One decoding context (one direction of a connection). */
export class HpackDecoder {
  /** Dynamic entries, newest first. */
  private dyn: HeaderField[] = [];
  private size = 0;
  /** The limit SETTINGS_HEADER_TABLE_SIZE allows (a table size update may not exceed it). */
  private maxAllowed: number;
  private max: number;
  private pos = 0;

  constructor(maxSize = 4096) {
    this.maxAllowed = maxSize;
    this.max = maxSize;
  }

  /** The peer's SETTINGS_HEADER_TABLE_SIZE, as the encoder of this direction received it. */
  setMaxAllowed(n: number): void {
    // We may see SETTINGS before or after the encoder applies them: accept updates up to the larger.
    this.maxAllowed = Math.max(this.maxAllowed, n);
  }

  /** Decodes one complete header block b[s..e) into fields (in order). */
  decode(b: Buffer, s: number, e: number): HeaderField[] {
    const out: HeaderField[] = [];
    this.pos = s;
    while (this.pos < e) {
      const c = b[this.pos];
      if (c & 0x80) {
        // Indexed header field.
        const i = this.int(b, e, 7);
        out.push(this.at(i));
      } else if (c & 0x40) {
        // Literal with incremental indexing.
        const f = this.literal(b, e, 6);
        out.push(f);
        this.add(f);
      } else if (c & 0x20) {
        // Dynamic table size update.
        const n = this.int(b, e, 5);
        if (n > this.maxAllowed) throw new HpackError(`table size update ${n} over the limit ${this.maxAllowed}`);
        this.max = n;
        this.evict();
      } else {
        // Literal without indexing (0000) or never indexed (0001).
        out.push(this.literal(b, e, 4));
      }
    }
    return out;
  }

  private at(i: number): HeaderField {
    if (i === 0) throw new HpackError('index 0');
    if (i <= STATIC.length) {
      const [name, value] = STATIC[i - 1];
      return { name, value };
    }
    const d = this.dyn[i - STATIC.length - 1];
    if (!d) throw new HpackError(`index ${i} outside the table`);
    return d;
  }

  private literal(b: Buffer, e: number, prefix: number): HeaderField {
    const i = this.int(b, e, prefix);
    const name = i === 0 ? this.str(b, e) : this.at(i).name;
    return { name, value: this.str(b, e) };
  }

  private add(f: HeaderField): void {
    const sz = f.name.length + f.value.length + 32;
    if (sz > this.max) {
      // An entry larger than the table empties it (RFC 7541 §4.4).
      this.dyn = [];
      this.size = 0;
      return;
    }
    this.dyn.unshift(f);
    this.size += sz;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.max && this.dyn.length) {
      const f = this.dyn.pop()!;
      this.size -= f.name.length + f.value.length + 32;
    }
  }

  /** RFC 7541 §5.1 integer with an N-bit prefix at this.pos. */
  private int(b: Buffer, e: number, n: number): number {
    const mask = (1 << n) - 1;
    let v = b[this.pos++] & mask;
    if (v < mask) return v;
    let m = 0;
    for (;;) {
      if (this.pos >= e) throw new HpackError('integer runs past the block');
      const c = b[this.pos++];
      v += (c & 0x7f) * 2 ** m;
      m += 7;
      if (!(c & 0x80)) break;
      if (m > 28) throw new HpackError('integer too large');
    }
    return v;
  }

  /** RFC 7541 §5.2 string literal. Header text is latin1 (HTTP field values are octets). */
  private str(b: Buffer, e: number): string {
    if (this.pos >= e) throw new HpackError('string runs past the block');
    const huff = (b[this.pos] & 0x80) !== 0;
    const len = this.int(b, e, 7);
    const s = this.pos;
    if (s + len > e) throw new HpackError('string runs past the block');
    this.pos = s + len;
    return huff ? huffmanDecode(b, s, s + len) : b.toString('latin1', s, s + len);
  }
}
