/**
 * IP fragment reassembly (IPv4 and the IPv6 fragment header). Fragments are rare, so clarity
 * wins over speed here: pieces are copied and joined when the datagram is complete.
 *
 * Policies (docs/capture.md): a datagram waits at most 30 s of capture time (Linux's
 * ipfrag_time); all pending datagrams together hold at most 32 MiB, the oldest is dropped
 * beyond that; a datagram may not exceed 65535 bytes; on overlap the bytes that arrived first
 * win (each overlap is counted as a warning).
 */

export const FRAG_TIMEOUT_S = 30;
export const FRAG_MEMORY_CAP = 32 * 1024 * 1024;
const MAX_DATAGRAM = 65535;
const MAX_PIECES = 1024;

interface Pending {
  pieces: { off: number; data: Buffer }[];
  /** Length of the whole payload, known once the last fragment (MF=0) arrived. */
  total: number;
  bytes: number;
  firstSec: number;
}

export type FragWarn = (kind: string) => void;

export class FragmentReassembler {
  private pending = new Map<string, Pending>();
  private bytes = 0;

  constructor(private readonly warn: FragWarn) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Adds one fragment (`off` in bytes of the fragmentable payload). Returns the reassembled
   * payload when this fragment completes the datagram, else null.
   */
  add(key: string, off: number, more: boolean, data: Buffer, nowSec: number): Buffer | null {
    if (off + data.length > MAX_DATAGRAM) {
      this.warn('ip.fragment-too-large');
      this.drop(key);
      return null;
    }
    let p = this.pending.get(key);
    if (!p) {
      p = { pieces: [], total: -1, bytes: 0, firstSec: nowSec };
      this.pending.set(key, p);
    }
    if (p.pieces.length >= MAX_PIECES) {
      this.warn('ip.fragment-too-many');
      this.drop(key);
      return null;
    }
    if (!more) {
      const total = off + data.length;
      if (p.total !== -1 && p.total !== total) this.warn('ip.fragment-conflicting-end');
      if (p.total === -1) p.total = total;
    }
    for (const q of p.pieces) {
      if (off < q.off + q.data.length && q.off < off + data.length) {
        this.warn('ip.fragment-overlap');
        break;
      }
    }
    p.pieces.push({ off, data: Buffer.from(data) });
    p.bytes += data.length;
    this.bytes += data.length;
    if (this.bytes > FRAG_MEMORY_CAP) this.evictOldest(key);
    if (p.total < 0) return null;

    // Complete when the pieces cover [0, total).
    const sorted = [...p.pieces].sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const q of sorted) {
      if (q.off > covered) return null;
      covered = Math.max(covered, q.off + q.data.length);
    }
    if (covered < p.total) return null;
    const out = Buffer.alloc(p.total);
    // Later arrivals first, so the bytes that arrived first overwrite them (first wins).
    for (let i = p.pieces.length - 1; i >= 0; i--) {
      const q = p.pieces[i];
      if (q.off < p.total) q.data.copy(out, q.off, 0, Math.min(q.data.length, p.total - q.off));
    }
    this.drop(key);
    return out;
  }

  /** Drops datagrams that waited longer than the timeout (capture time). */
  sweep(nowSec: number): void {
    for (const [k, p] of this.pending) {
      if (p.firstSec > nowSec) p.firstSec = nowSec; // the clock stepped back (SweepClock)
      if (nowSec - p.firstSec > FRAG_TIMEOUT_S) {
        this.warn('ip.fragment-timeout');
        this.drop(k);
      }
    }
  }

  private evictOldest(keep: string): void {
    for (const k of this.pending.keys()) {
      if (this.bytes <= FRAG_MEMORY_CAP) return;
      if (k === keep) continue;
      this.warn('ip.fragment-memory-cap');
      this.drop(k);
    }
  }

  private drop(key: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    this.bytes -= p.bytes;
    this.pending.delete(key);
  }
}
