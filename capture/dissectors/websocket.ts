/**
 * WebSocket (RFC 6455) after an HTTP/1.1 `Upgrade: websocket` (handed over by http.ts through
 * upgrades.ts): one item per message, in `request` when the client sent it and in `response`
 * when the server did (the other side is an empty message with `from: ""`). Frames are unmasked,
 * fragmented messages joined (control frames may come between their fragments and are items of
 * their own), permessage-deflate messages inflated (ws-deflate.ts).
 *
 * Frames are parsed as they stream in: a frame's payload is never buffered whole, only what the
 * preview (bodyCap) or inflation (INFLATE_CAP) needs. Hand-written: frame headers are 2–14 bytes
 * and the `ws` package has no public parser that works on captured bytes of both directions.
 */
import type { Direction, DissectorContext, TcpStreamParser, Timestamp } from '../types';
import type { WsMessage } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { registerUpgrade, type UpgradeExchange } from './upgrades';
import { hostOf } from './http-fields';
import { Inflater, INFLATE_CAP, negotiated } from './ws-deflate';

const EMPTY = Buffer.alloc(0);

/** Bytes the frame header starting with `h` takes (2 until the second byte is known). */
function headerLength(h: Buffer): number {
  if (h.length < 2) return 2;
  const l7 = h[1] & 0x7f;
  return 2 + (l7 === 126 ? 2 : l7 === 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
}

const OPCODES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

export function emptyWs(): WsMessage {
  return { from: '', opcode: '', opcodeNumber: -1, frames: 0, masked: false, compressed: false, wireLength: 0, length: 0, payload: '', text: '', closeCode: 0 };
}

/** A message being assembled (a control frame is a message of one frame). */
interface Msg {
  opcode: number;
  compressed: boolean;
  masked: boolean;
  frames: number;
  wireLength: number;
  /** Frame header + payload bytes. */
  wireBytes: number;
  parts: Buffer[];
  kept: number;
  /** Payload bytes dropped beyond what is kept. */
  cut: boolean;
  /** Payload bytes were lost to a capture gap. */
  lost: boolean;
  ts: Timestamp;
}

class Side {
  /** Header bytes not yet complete. */
  head: Buffer = EMPTY;
  /** The current frame is its message's last. */
  fin = false;
  /** Current frame: payload bytes still to come, mask key, position in the payload. */
  left = 0;
  mask: Buffer | null = null;
  pos = 0;
  frameMsg: Msg | null = null;
  /** The data message being fragmented, if any. */
  data: Msg | null = null;
  dead = false;
  inflater: Inflater | null = null;
}

class WsStream implements TcpStreamParser {
  private sides: [Side, Side] = [new Side(), new Side()];
  /** Earliest start of a message still being assembled (for ctx.pending). */
  private pendingTs: Timestamp | null = null;

  /** The upgrade request's Host (port dropped): dst.name of every message, as of the 101 item. */
  private readonly dstName: string | undefined;

  constructor(private readonly ctx: DissectorContext, ex: UpgradeExchange) {
    this.dstName = ex.request ? hostOf(ex.request.headers['Host']) : undefined;
    const d = negotiated(ex.response.headers['Sec-Websocket-Extensions']);
    if (d) {
      this.sides[0].inflater = new Inflater(!d.clientNoTakeover);
      this.sides[1].inflater = new Inflater(!d.serverNoTakeover);
    }
  }

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    const s = this.sides[dir];
    let p = 0;
    while (p < bytes.length && !s.dead) {
      if (s.left > 0) {
        const n = Math.min(s.left, bytes.length - p);
        this.payload(s, bytes, p, n);
        p += n;
        s.left -= n;
        if (s.left === 0) this.frameDone(dir, s, ts);
        continue;
      }
      // Frame header: 2 bytes, +2/+8 extended length, +4 mask key (at most 14), maybe split.
      const had = s.head.length;
      const take = Math.min(14 - had, bytes.length - p);
      const h = had ? Buffer.concat([s.head, bytes.subarray(p, p + take)]) : bytes.subarray(p, p + take);
      const want = headerLength(h);
      if (h.length < want) {
        s.head = Buffer.from(h); // (take was all that is left)
        p += take;
        continue;
      }
      p += want - had;
      s.head = EMPTY;
      this.header(dir, s, h.subarray(0, want), ts);
      if (s.left === 0 && !s.dead) this.frameDone(dir, s, ts);
    }
  }

  private header(dir: Direction, s: Side, h: Buffer, ts: Timestamp): void {
    const fin = (h[0] & 0x80) !== 0;
    const rsv1 = (h[0] & 0x40) !== 0;
    const op = h[0] & 0x0f;
    const l7 = h[1] & 0x7f;
    let len = l7;
    let o = 2;
    if (l7 === 126) { len = (h[2] << 8) | h[3]; o = 4; }
    else if (l7 === 127) { len = h.readUInt32BE(2) * 2 ** 32 + h.readUInt32BE(6); o = 10; }
    s.mask = h[1] & 0x80 ? Buffer.from(h.subarray(o, o + 4)) : null;
    s.pos = 0;
    s.left = len;
    const control = op >= 8;
    if ((control && (!fin || len > 125)) || (op > 2 && op < 8) || op > 10 || len > Number.MAX_SAFE_INTEGER) {
      this.ctx.warn('ws', `bad frame (opcode ${op}, length ${len})`);
      s.dead = true;
      return;
    }
    let m: Msg;
    if (op === 0) {
      if (!s.data) {
        this.ctx.warn('ws', 'continuation frame without a message');
        m = this.newMsg(0, false, ts);
        s.data = m;
      }
      m = s.data;
    } else {
      if (!control && s.data) {
        this.ctx.warn('ws', 'new message before the previous one ended');
        this.emit(dir, s.data, ts, { type: 'dissection', msg: 'message not finished' });
      }
      m = this.newMsg(op, rsv1 && !control, ts);
      if (!control) s.data = m;
    }
    m.frames++;
    m.masked ||= s.mask !== null;
    m.wireLength += len;
    m.wireBytes += h.length + len;
    s.frameMsg = m;
    s.fin = fin;
    this.updatePending();
  }

  private newMsg(opcode: number, compressed: boolean, ts: Timestamp): Msg {
    return { opcode, compressed, masked: false, frames: 0, wireLength: 0, wireBytes: 0, parts: [], kept: 0, cut: false, lost: false, ts };
  }

  /** Payload bytes b[p, p+n) of the current frame: unmasked and kept as far as needed. */
  private payload(s: Side, b: Buffer, p: number, n: number): void {
    const m = s.frameMsg!;
    const cap = m.compressed ? INFLATE_CAP : this.ctx.lean ? 0 : m.opcode === 8 ? 125 : this.ctx.bodyCap;
    const take = Math.min(n, Math.max(0, cap - m.kept));
    if (take < n) m.cut = true;
    if (take > 0) {
      const part = Buffer.from(b.subarray(p, p + take));
      const k = s.mask;
      if (k) for (let i = 0; i < take; i++) part[i] ^= k[(s.pos + i) & 3];
      m.parts.push(part);
      m.kept += take;
    }
    s.pos += n;
  }

  private frameDone(dir: Direction, s: Side, ts: Timestamp): void {
    const m = s.frameMsg;
    if (!m) return;
    s.frameMsg = null;
    if (m.opcode >= 8) this.emit(dir, m, ts, null);
    else if (s.fin) {
      s.data = null;
      this.emit(dir, m, ts, null);
    }
  }

  private emit(dir: Direction, m: Msg, ts: Timestamp, error: { type: 'dissection'; msg: string } | null): void {
    const s = this.sides[dir];
    let body = m.parts.length === 1 ? m.parts[0] : Buffer.concat(m.parts);
    let length = m.wireLength;
    if (m.lost) error ??= { type: 'dissection', msg: 'capture gap inside the message' };
    if (m.compressed && s.inflater) {
      if (m.cut) {
        error ??= { type: 'dissection', msg: 'compressed message too large to inflate' };
        body = Buffer.alloc(0);
        length = 0;
      } else {
        try {
          body = s.inflater.message(body);
          length = body.length;
        } catch (e) {
          error ??= { type: 'dissection', msg: `permessage-deflate: ${(e as Error).message}` };
          this.ctx.warn('ws', 'message does not inflate');
        }
      }
    } else if (m.compressed) {
      error ??= { type: 'dissection', msg: 'RSV1 set but permessage-deflate was not negotiated' };
    }
    const msg = emptyWs();
    msg.from = dir === 0 ? 'client' : 'server';
    msg.opcode = OPCODES[m.opcode] ?? `opcode-${m.opcode}`;
    msg.opcodeNumber = m.opcode;
    msg.frames = m.frames;
    msg.masked = m.masked;
    msg.compressed = m.compressed;
    msg.wireLength = m.wireLength;
    msg.length = length;
    if (!this.ctx.lean) {
      const preview = body.length > this.ctx.bodyCap ? body.subarray(0, this.ctx.bodyCap) : body;
      msg.payload = preview.toString('base64');
      if (m.opcode === 8 && body.length >= 2) {
        msg.closeCode = body.readUInt16BE(0);
        msg.text = body.toString('utf8', 2);
      } else if (m.opcode === 1) msg.text = preview.toString('utf8');
    } else if (m.opcode === 8 && body.length >= 2) msg.closeCode = body.readUInt16BE(0);
    const mine = msg as unknown as Record<string, unknown>;
    const other = emptyWs() as unknown as Record<string, unknown>;
    this.ctx.emit({
      protocol: PROTOCOLS.ws,
      request: dir === 0 ? mine : other,
      response: dir === 1 ? mine : other,
      requestSize: dir === 0 ? m.wireBytes : 0,
      responseSize: dir === 1 ? m.wireBytes : 0,
      requestTs: m.ts,
      responseTs: ts,
      error,
      dstName: this.dstName,
    });
    this.updatePending();
  }

  private updatePending(): void {
    let t: Timestamp | null = null;
    for (const s of this.sides) {
      for (const m of [s.data, s.frameMsg]) if (m && (!t || m.ts.sec < t.sec || (m.ts.sec === t.sec && m.ts.nsec < t.nsec))) t = m.ts;
    }
    if (t !== this.pendingTs) this.ctx.pending((this.pendingTs = t));
  }

  gap(dir: Direction, length: number, ts: Timestamp): void {
    const s = this.sides[dir];
    if (s.dead) return;
    // Inside a frame's payload the frame boundaries survive; anywhere else they are lost.
    if (s.left >= length && s.head.length === 0) {
      const m = s.frameMsg!;
      m.cut = true;
      m.lost = true;
      s.pos += length;
      s.left -= length;
      if (m.compressed && s.inflater) s.inflater.broken = true;
      if (s.left === 0) this.frameDone(dir, s, ts);
      return;
    }
    this.ctx.warn('ws', 'capture gap: frames lost in this direction');
    this.abort(dir, ts, 'capture gap inside a message');
    s.dead = true;
  }

  private abort(dir: Direction, ts: Timestamp, why: string): void {
    const s = this.sides[dir];
    const m = s.frameMsg ?? s.data;
    s.frameMsg = null;
    if (m && m !== s.data && s.data) this.emit(dir, s.data, ts, { type: 'dissection', msg: why });
    s.data = null;
    if (m) this.emit(dir, m, ts, { type: 'dissection', msg: why });
  }

  end(dir: Direction | null, ts: Timestamp): void {
    for (const d of dir === null ? ([0, 1] as Direction[]) : [dir]) {
      if (!this.sides[d].dead) this.abort(d, ts, 'connection ended inside a message');
      this.sides[d].dead = true;
    }
    this.updatePending();
  }
}

registerUpgrade('websocket', (ctx, ex) => new WsStream(ctx, ex));

/** Name for the registry's import (registration happens on load). */
export const websocketUpgrade = 'websocket';
