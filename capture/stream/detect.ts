/**
 * Content-based dissector selection for a new TCP stream: keep the first bytes of each
 * direction (up to DETECT_BYTES) and ask every candidate in priority order. true claims,
 * false drops that candidate, 'maybe' waits for more bytes (until the cap, where it counts as
 * false). When no candidate is left the stream is ignored and nothing more is buffered.
 */
import type { Direction, Dissector, FlowAddr, Timestamp } from '../types';

export const DETECT_BYTES = 4096;

export interface Chunk {
  dir: Direction;
  data: Buffer;
  ts: Timestamp;
}

export class TcpDetector {
  /** What was seen so far, both directions in arrival order, replayed to the claiming parser. */
  readonly chunks: Chunk[] = [];
  private bytes = [0, 0];
  private alive: Dissector[];

  constructor(candidates: readonly Dissector[]) {
    this.alive = candidates.filter((d) => typeof d.tcp === 'function');
  }

  /** Returns the claiming dissector, 'ignore' when none can claim, or null to wait. */
  feed(dir: Direction, data: Buffer, ts: Timestamp, flow: FlowAddr): Dissector | 'ignore' | null {
    if (this.alive.length === 0) return 'ignore';
    this.bytes[dir] = Math.min(DETECT_BYTES, this.bytes[dir] + data.length);
    this.chunks.push({ dir, data: Buffer.from(data), ts: { sec: ts.sec, nsec: ts.nsec } });
    const first = this.first(dir);
    const full = this.bytes[dir] >= DETECT_BYTES;
    const next: Dissector[] = [];
    for (const d of this.alive) {
      let r: boolean | 'maybe';
      try {
        r = d.detect(first, dir, flow);
      } catch {
        r = false; // a throwing detector declines; the stream must not die with it
      }
      if (r === true) return d;
      if (r === 'maybe' && !full) next.push(d);
    }
    this.alive = next;
    return next.length === 0 ? 'ignore' : null;
  }

  /** Loss while detecting: start over from the bytes after the hole. */
  reset(): void {
    this.chunks.length = 0;
    this.bytes = [0, 0];
  }

  private first(dir: Direction): Buffer {
    const parts: Buffer[] = [];
    let n = 0;
    for (const c of this.chunks) {
      if (c.dir !== dir) continue;
      parts.push(c.data);
      n += c.data.length;
      if (n >= DETECT_BYTES) break;
    }
    const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return all.length > DETECT_BYTES ? all.subarray(0, DETECT_BYTES) : all;
  }
}
