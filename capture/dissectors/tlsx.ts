/**
 * TLS handshakes (`tlsx`, as Kubeshark names it): one item per connection from the ClientHello
 * and the ServerHello (+ the server's certificates when TLS ≤ 1.2 shows them). Nothing is
 * decrypted. Once the handshake's visible part is over (the server's ChangeCipherSpec, its first
 * encrypted record, a TLS 1.3 ServerHello, an alert or a ServerHelloDone) the item is emitted
 * and every further byte is dropped at the cost of one comparison.
 *
 * Hand-written: the handshake header layout is a handful of length-prefixed fields; Node has no
 * public ClientHello parser. X.509 uses node:crypto's X509Certificate.
 */
import type { Direction, Dissector, DissectorContext, TcpStreamParser, Timestamp } from '../types';
import type { TlsCertificate, TlsClientHello, TlsServerHello } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { cryptoLib, isGrease, ja3, ja3s, ja4, type HelloFields } from './tls-fingerprint';
import { alertName, suiteName, versionName } from './tls-names';

/** Handshake bytes kept per direction (a certificate chain fits; more is given up on). */
const HS_CAP = 128 * 1024;
const MAX_RECORD = 16384 + 2048;
const MAX_CERTS = 4;

class Reader {
  constructor(readonly b: Buffer, public p: number, readonly end: number) {}
  ok(n: number): boolean {
    return this.p + n <= this.end;
  }
  u8(): number {
    if (!this.ok(1)) throw new RangeError('short');
    return this.b[this.p++];
  }
  u16(): number {
    if (!this.ok(2)) throw new RangeError('short');
    const v = (this.b[this.p] << 8) | this.b[this.p + 1];
    this.p += 2;
    return v;
  }
  u24(): number {
    if (!this.ok(3)) throw new RangeError('short');
    const v = (this.b[this.p] << 16) | (this.b[this.p + 1] << 8) | this.b[this.p + 2];
    this.p += 3;
    return v;
  }
  sub(n: number): Reader {
    if (!this.ok(n)) throw new RangeError('short');
    const r = new Reader(this.b, this.p, this.p + n);
    this.p += n;
    return r;
  }
  list16(r: Reader): number[] {
    const out: number[] = [];
    while (r.ok(2)) out.push(r.u16());
    return out;
  }
}

function emptyClient(): TlsClientHello {
  return { sni: '', alpn: [], version: '', versions: [], cipherSuites: [], extensions: [], ja3: '', ja3Hash: '', ja4: '' };
}
function emptyServer(): TlsServerHello {
  return { version: '', cipherSuite: '', alpn: '', extensions: [], ja3s: '', ja3sHash: '', certificates: [], alert: '' };
}

/** ClientHello body (after the 4-byte handshake header). Throws RangeError when cut short. */
export function parseClientHello(b: Buffer, start: number, end: number): TlsClientHello {
  const r = new Reader(b, start, end);
  const h: HelloFields = { version: r.u16(), ciphers: [], extensions: [], groups: [], pointFormats: [], sigAlgs: [], supportedVersions: [], alpn: [], sni: false };
  r.sub(32);
  r.sub(r.u8());
  h.ciphers = r.list16(r.sub(r.u16()));
  r.sub(r.u8());
  let sni = '';
  if (r.ok(2)) {
    const ex = r.sub(r.u16());
    while (ex.ok(4)) {
      const type = ex.u16();
      const d = ex.sub(ex.u16());
      h.extensions.push(type);
      if (type === 0) {
        h.sni = true;
        const l = d.sub(d.u16());
        while (l.ok(3)) {
          const kind = l.u8();
          const n = l.sub(l.u16());
          if (kind === 0 && !sni) sni = b.toString('latin1', n.p, n.end);
        }
      } else if (type === 16) {
        const l = d.sub(d.u16());
        while (l.ok(1)) {
          const n = l.sub(l.u8());
          h.alpn.push(b.toString('latin1', n.p, n.end));
        }
      } else if (type === 10) h.groups = d.list16(d.sub(d.u16()));
      else if (type === 11) {
        const l = d.sub(d.u8());
        while (l.ok(1)) h.pointFormats.push(l.u8());
      } else if (type === 13) h.sigAlgs = d.list16(d.sub(d.u16()));
      else if (type === 43) h.supportedVersions = d.list16(d.sub(d.u8()));
    }
  }
  const j3 = ja3(h);
  const sv = h.supportedVersions.filter((v) => !isGrease(v));
  return {
    sni,
    alpn: h.alpn,
    version: versionName(h.version),
    versions: (sv.length ? sv : [h.version]).map(versionName),
    cipherSuites: h.ciphers.filter((v) => !isGrease(v)).map(suiteName),
    extensions: h.extensions.filter((v) => !isGrease(v)),
    ja3: j3.text,
    ja3Hash: j3.hash,
    ja4: ja4(h).fp,
  };
}

/** ServerHello body; returns the item part and the chosen version number. */
export function parseServerHello(b: Buffer, start: number, end: number): { hello: TlsServerHello; version: number } {
  const r = new Reader(b, start, end);
  const legacy = r.u16();
  r.sub(32);
  r.sub(r.u8());
  const cipher = r.u16();
  r.u8();
  const exts: number[] = [];
  let version = legacy;
  let alpn = '';
  if (r.ok(2)) {
    const ex = r.sub(r.u16());
    while (ex.ok(4)) {
      const type = ex.u16();
      const d = ex.sub(ex.u16());
      exts.push(type);
      if (type === 43 && d.ok(2)) version = d.u16();
      else if (type === 16) {
        const l = d.sub(d.u16());
        if (l.ok(1)) {
          const n = l.sub(l.u8());
          alpn = b.toString('latin1', n.p, n.end);
        }
      }
    }
  }
  const j = ja3s(legacy, cipher, exts);
  return { hello: { ...emptyServer(), version: versionName(version), cipherSuite: suiteName(cipher), alpn, extensions: exts, ja3s: j.text, ja3sHash: j.hash }, version };
}

function certificates(b: Buffer, start: number, end: number): TlsCertificate[] {
  const r = new Reader(b, start, end);
  const all = r.sub(r.u24());
  const out: TlsCertificate[] = [];
  while (all.ok(3) && out.length < MAX_CERTS) {
    const c = all.sub(all.u24());
    try {
      const x = new (cryptoLib().X509Certificate)(b.subarray(c.p, c.end));
      out.push({ subject: x.subject, issuer: x.issuer, subjectAltName: x.subjectAltName ?? '', validFrom: x.validFrom, validTo: x.validTo, serialNumber: x.serialNumber, fingerprint256: x.fingerprint256 });
    } catch {
      out.push({ subject: '', issuer: '', subjectAltName: '', validFrom: '', validTo: '', serialNumber: '', fingerprint256: '' });
    }
  }
  return out;
}

class Side {
  /** Record bytes not yet parsed. */
  rec: Buffer = Buffer.alloc(0);
  /** Handshake message bytes not yet parsed. */
  hs: Buffer = Buffer.alloc(0);
  /** After ChangeCipherSpec / a gap: nothing more is readable. */
  dead = false;
  bytes = 0;
}

class TlsParser implements TcpStreamParser {
  private sides: [Side, Side] = [new Side(), new Side()];
  private client: TlsClientHello | null = null;
  private server: TlsServerHello | null = null;
  private clientTs: Timestamp | null = null;
  private done = false;

  constructor(private readonly ctx: DissectorContext) {}

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.done) return;
    const s = this.sides[dir];
    if (s.dead) return;
    s.rec = s.rec.length ? Buffer.concat([s.rec, bytes]) : Buffer.from(bytes);
    let p = 0;
    const b = s.rec;
    while (!this.done && !s.dead && p + 5 <= b.length) {
      const type = b[p];
      const len = (b[p + 3] << 8) | b[p + 4];
      if (type < 20 || type > 24 || b[p + 1] !== 3 || len > MAX_RECORD) {
        this.ctx.warn('tlsx', 'not a TLS record');
        s.dead = true;
        break;
      }
      if (p + 5 + len > b.length) break;
      s.bytes += 5 + len;
      this.record(dir, s, type, b, p + 5, p + 5 + len, ts);
      p += 5 + len;
    }
    s.rec = s.dead || this.done ? Buffer.alloc(0) : b.subarray(p);
  }

  private record(dir: Direction, s: Side, type: number, b: Buffer, start: number, end: number, ts: Timestamp): void {
    if (type === 22) {
      s.hs = s.hs.length ? Buffer.concat([s.hs, b.subarray(start, end)]) : Buffer.from(b.subarray(start, end));
      if (s.hs.length > HS_CAP) {
        this.ctx.warn('tlsx', 'handshake message over 128 KiB');
        s.dead = true;
        if (dir === 1) this.finish(ts);
        return;
      }
      this.handshake(dir, s, ts);
      return;
    }
    if (type === 21 && end - start >= 2) {
      if (dir === 1) {
        (this.server ??= emptyServer()).alert = alertName(b[start + 1]);
        this.finish(ts);
      }
      return;
    }
    // ChangeCipherSpec or application data: the rest of this direction is encrypted.
    s.dead = true;
    if (dir === 1) this.finish(ts);
  }

  private handshake(dir: Direction, s: Side, ts: Timestamp): void {
    let p = 0;
    const b = s.hs;
    while (p + 4 <= b.length && !this.done) {
      const type = b[p];
      const len = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
      if (p + 4 + len > b.length) break;
      const body = p + 4;
      p += 4 + len;
      try {
        if (dir === 0 && type === 1 && !this.client) {
          this.client = parseClientHello(b, body, body + len);
          this.clientTs = ts;
          this.ctx.pending(ts);
        } else if (dir === 1 && type === 2 && !this.server?.version) {
          const { hello, version } = parseServerHello(b, body, body + len);
          this.server = hello;
          if (version === 0x0304) {
            this.finish(ts); // everything after a TLS 1.3 ServerHello is encrypted
            return;
          }
        } else if (dir === 1 && type === 11) {
          (this.server ??= emptyServer()).certificates = certificates(b, body, body + len);
        } else if (dir === 1 && type === 14) {
          this.finish(ts); // ServerHelloDone: the client's keys and the encrypted part follow
          return;
        }
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        this.ctx.warn('tlsx', `malformed handshake message ${type}`);
      }
    }
    s.hs = b.subarray(p);
  }

  private finish(ts: Timestamp | null): void {
    if (this.done) return;
    this.done = true;
    const sizes = [this.sides[0].bytes, this.sides[1].bytes];
    this.sides = [new Side(), new Side()];
    if (!this.client && !this.server) {
      this.ctx.pending(null);
      return;
    }
    const start = this.clientTs ?? ts ?? { sec: 0, nsec: 0 };
    this.ctx.emit({
      protocol: PROTOCOLS.tlsx,
      request: (this.client ?? emptyClient()) as unknown as Record<string, unknown>,
      response: (this.server ?? emptyServer()) as unknown as Record<string, unknown>,
      // The handshake records seen up to the item (what is after is encrypted).
      requestSize: this.client ? sizes[0] : 0,
      responseSize: this.server ? sizes[1] : 0,
      requestTs: start,
      responseTs: this.server && ts ? ts : null,
      // The name the client asked for names the server when nothing else does (as Host does for HTTP).
      dstName: this.client?.sni || undefined,
      error: !this.client ? { type: 'pair-not-found', msg: 'ServerHello without a captured ClientHello' } : !this.server ? { type: 'pair-not-found', msg: 'no ServerHello before the connection ended' } : null,
    });
    this.ctx.pending(null);
  }

  gap(dir: Direction): void {
    if (!this.done) this.sides[dir].dead = true;
  }

  /** The connection (or the server's side) ended before the handshake's visible part did. */
  end(dir: Direction | null, ts: Timestamp): void {
    if (!this.done && dir !== 0) this.finish(ts);
  }
}

/** First bytes of a handshake record carrying a ClientHello (client) or ServerHello (server). */
export function looksLikeTls(first: Buffer, dir: Direction): boolean | 'maybe' {
  if (first[0] !== 0x16) return false;
  if (first.length < 6) return first.length < 2 || first[1] === 3 ? 'maybe' : false;
  if (first[1] !== 3 || first[2] > 4) return false;
  return first[5] === (dir === 0 ? 1 : 2);
}

export const tlsx: Dissector = {
  name: 'tlsx',
  priority: 5,
  detect: (first, dir) => looksLikeTls(first, dir),
  tcp: (ctx) => new TlsParser(ctx),
};
