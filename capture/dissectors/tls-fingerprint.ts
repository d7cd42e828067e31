/**
 * JA3/JA3S (Salesforce) and JA4 (FoxIO) fingerprints of a ClientHello/ServerHello. Inputs are
 * the numbers as sent; GREASE values (RFC 8701: 0x?a?a with both bytes equal) are left out
 * everywhere, as both specs say.
 */
import type * as Crypto from 'node:crypto';

export const isGrease = (v: number): boolean => (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);

export interface HelloFields {
  /** Legacy version field (0x0303 for TLS 1.2 and 1.3). */
  version: number;
  ciphers: number[];
  extensions: number[];
  groups: number[];
  pointFormats: number[];
  sigAlgs: number[];
  supportedVersions: number[];
  alpn: string[];
  sni: boolean;
}

// node:crypto is loaded with the first TLS handshake: loading it cost ~4 ms of every start (docs/capture.md).
let crypto: typeof Crypto | null = null;
export const cryptoLib = (): typeof Crypto => (crypto ??= require('node:crypto') as typeof Crypto);
const createHash = (alg: string) => cryptoLib().createHash(alg);
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sha12 = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 12);
const noGrease = (l: number[]) => l.filter((v) => !isGrease(v));

/** JA3: `version,ciphers,extensions,groups,pointformats`, lists joined by `-`, decimal. */
export function ja3(h: HelloFields): { text: string; hash: string } {
  const text = [h.version, noGrease(h.ciphers).join('-'), noGrease(h.extensions).join('-'), noGrease(h.groups).join('-'), h.pointFormats.join('-')].join(',');
  return { text, hash: md5(text) };
}

/** JA3S: `version,cipher,extensions` of the ServerHello. */
export function ja3s(version: number, cipher: number, extensions: number[]): { text: string; hash: string } {
  const text = `${version},${cipher},${extensions.join('-')}`;
  return { text, hash: md5(text) };
}

const hex4 = (v: number) => v.toString(16).padStart(4, '0');

function ja4Version(v: number): string {
  switch (v) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0002: return 's2';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

const alnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** First and last character of the first ALPN value; their hex digits when not alphanumeric; `00` without ALPN. */
function ja4Alpn(alpn: string[]): string {
  const a = alpn[0];
  if (!a) return '00';
  const b = Buffer.from(a, 'latin1');
  const f = b[0], l = b[b.length - 1];
  if (alnum(f) && alnum(l)) return String.fromCharCode(f) + String.fromCharCode(l);
  const h = b.toString('hex');
  return h[0] + h[h.length - 1];
}

/** JA4 (`t13d1516h2_<ciphers>_<extensions>`) and its raw form (JA4_r, the hashed strings unhashed). */
export function ja4(h: HelloFields, transport: 't' | 'q' | 'd' = 't'): { fp: string; raw: string } {
  const ciphers = noGrease(h.ciphers);
  const exts = noGrease(h.extensions);
  const sv = noGrease(h.supportedVersions);
  const version = ja4Version(sv.length ? Math.max(...sv) : h.version);
  const n2 = (n: number) => String(Math.min(n, 99)).padStart(2, '0');
  const a = `${transport}${version}${h.sni ? 'd' : 'i'}${n2(ciphers.length)}${n2(exts.length)}${ja4Alpn(h.alpn)}`;
  const cs = ciphers.map(hex4).sort().join(',');
  // SNI (0x0000) and ALPN (0x0010) are left out of the hashed extension list (they are in `a`).
  const es = exts.filter((e) => e !== 0x0000 && e !== 0x0010).map(hex4).sort().join(',');
  const sig = noGrease(h.sigAlgs).map(hex4).join(',');
  const c = sig ? `${es}_${sig}` : es;
  const b = ciphers.length ? sha12(cs) : '000000000000';
  const hc = exts.length ? sha12(c) : '000000000000';
  return { fp: `${a}_${b}_${hc}`, raw: `${a}_${cs}_${c}` };
}
