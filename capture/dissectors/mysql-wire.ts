/**
 * MySQL wire-format readers: a bounds-checked cursor over a packet (little-endian integers,
 * length-encoded integers and strings, NUL-terminated strings) and the binary-protocol value
 * decoder COM_STMT_EXECUTE parameters need. Reads past the end return zeros/empty, never throw.
 */
import { clip } from './exchanges';

const QUERY_CAP = 16 * 1024;
const PARAM_CAP = 1024;

export class Reader {
  constructor(public b: Buffer, public p: number, public end: number) {}
  get left(): number { return this.end - this.p; }
  u8(): number { return this.p < this.end ? this.b[this.p++] : 0; }
  u16(): number { if (this.p + 2 > this.end) { this.p = this.end; return 0; } const v = this.b.readUInt16LE(this.p); this.p += 2; return v; }
  u32(): number { if (this.p + 4 > this.end) { this.p = this.end; return 0; } const v = this.b.readUInt32LE(this.p); this.p += 4; return v; }
  /** Length-encoded integer (as a JS number; 8-byte values beyond 2^53 lose precision). */
  lenenc(): number {
    const c = this.u8();
    if (c < 0xfb) return c;
    if (c === 0xfc) return this.u16();
    if (c === 0xfd) { const v = this.p + 3 <= this.end ? this.b.readUIntLE(this.p, 3) : 0; this.p = Math.min(this.end, this.p + 3); return v; }
    if (c === 0xfe) { const lo = this.u32(), hi = this.u32(); return hi * 2 ** 32 + lo; }
    return 0; // 0xfb NULL, 0xff invalid
  }
  lenencStr(cap = QUERY_CAP): string {
    const n = this.lenenc();
    return this.bytes(n, cap);
  }
  bytes(n: number, cap: number): string {
    const stop = Math.min(this.end, this.p + n);
    const shown = Math.min(stop, this.p + cap);
    const s = this.b.toString('utf8', this.p, shown) + (stop > shown ? '…' : '');
    this.p = stop;
    return s;
  }
  cstr(): string {
    const z = this.b.indexOf(0, this.p);
    const stop = z < 0 || z >= this.end ? this.end : z;
    const s = this.b.toString('utf8', this.p, stop);
    this.p = Math.min(this.end, stop + 1);
    return s;
  }
}

export /** A COM_STMT_EXECUTE parameter in the binary protocol, as text. */
function binaryValue(r: Reader, type: number): string {
  const unsigned = (type & 0x8000) !== 0;
  const b = r.b;
  const p = r.p;
  const need = (n: number): boolean => { if (p + n > r.end) { r.p = r.end + 1; return false; } r.p = p + n; return true; };
  switch (type & 0xff) {
    case 1: return need(1) ? String(unsigned ? b.readUInt8(p) : b.readInt8(p)) : '';
    case 2: case 13: return need(2) ? String(unsigned ? b.readUInt16LE(p) : b.readInt16LE(p)) : '';
    case 3: case 9: return need(4) ? String(unsigned ? b.readUInt32LE(p) : b.readInt32LE(p)) : '';
    case 8: return need(8) ? String(unsigned ? b.readBigUInt64LE(p) : b.readBigInt64LE(p)) : '';
    case 4: return need(4) ? String(b.readFloatLE(p)) : '';
    case 5: return need(8) ? String(b.readDoubleLE(p)) : '';
    case 6: return 'NULL';
    case 7: case 10: case 12: {
      const n = r.u8();
      const q = r.p;
      if (q + n > r.end) { r.p = r.end + 1; return ''; }
      r.p = q + n;
      if (n === 0) return '0000-00-00 00:00:00';
      const d = `${b.readUInt16LE(q)}-${pad(b[q + 2])}-${pad(b[q + 3])}`;
      if (n < 7) return d;
      const t = `${d} ${pad(b[q + 4])}:${pad(b[q + 5])}:${pad(b[q + 6])}`;
      return n >= 11 ? `${t}.${String(b.readUInt32LE(q + 7)).padStart(6, '0')}` : t;
    }
    case 11: {
      const n = r.u8();
      const q = r.p;
      if (q + n > r.end) { r.p = r.end + 1; return ''; }
      r.p = q + n;
      if (n < 8) return '00:00:00';
      const days = b.readUInt32LE(q + 1);
      const t = `${b[q] ? '-' : ''}${pad(days * 24 + b[q + 5])}:${pad(b[q + 6])}:${pad(b[q + 7])}`;
      return n >= 12 ? `${t}.${String(b.readUInt32LE(q + 8)).padStart(6, '0')}` : t;
    }
    default: {
      const n = r.lenenc();
      if (r.p + n > r.end) { r.p = r.end + 1; return ''; }
      return clip(r.bytes(n, PARAM_CAP), PARAM_CAP);
    }
  }
}

const pad = (n: number): string => (n < 10 ? '0' + n : String(n));
