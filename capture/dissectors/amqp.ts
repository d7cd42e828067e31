/**
 * AMQP 0-9-1 over TCP (RabbitMQ's protocol). One item per method, in Kubeshark's shape
 * (kubeshark-compat §6.10): the request is the method's fields plus `method` ("basic publish"),
 * the response the `-ok` reply that answers it on the same channel from the other side, or
 * `{method: "empty"}` for methods without a reply (publish, deliver, ack, no-wait declares…).
 * Content headers and bodies attach to the method they follow (publish, deliver, get-ok,
 * return): `properties` and `body` (base64, capped). Server-initiated synchronous methods
 * (connection start/tune, a server's channel close) are items too, answered by the client.
 * A channel or connection close fails the other side's unanswered requests on it, with the
 * close's reply code and text.
 *
 * Detection: the protocol header `AMQP\0\0\x09\x01` from the client; mid-stream, a method frame
 * of a known class/method that ends with the frame-end octet 0xCE.
 */
import type { Direction, Dissector, DissectorContext } from '../types';
import type { AmqpMethod, AmqpProperties } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { FramedStream, type Exchange, type Frame } from './framed';
import { AmqpShort, REPLY_IDS, Reader, emptyProperties, methodDef, readArgs, readContentHeader } from './amqp-wire';

const HEADER = Buffer.from('AMQP\x00\x00\x09\x01', 'latin1');
const FRAME_END = 0xce;
/** Larger frames are not AMQP we take (RabbitMQ's frame_max is 128 KiB by default, at most 2 GiB in theory). */
const MAX_FRAME = 64 * 1024 * 1024;

interface Waiting {
  x: Exchange;
  classId: number;
  replies: number[];
}

/** A method waiting for its content header and body frames. */
interface Content {
  x: Exchange;
  target: AmqpMethod;
  side: 'request' | 'response';
  bodySize: number;
  got: number;
  parts: Buffer[];
  kept: number;
  properties: AmqpProperties | null;
}

const EMPTY_METHOD = (): AmqpMethod => ({ method: '', channel: 0 });

class AmqpStream extends FramedStream {
  /** Synchronous requests waiting for a reply, by `${dir}:${channel}`, oldest first. */
  private readonly waiting = new Map<string, Waiting[]>();
  private readonly content = new Map<string, Content>();

  constructor(ctx: DissectorContext) {
    super(ctx, 'amqp');
  }

  protected frameLength(b: Buffer): number {
    if (b.length === 0) return -1;
    if (b[0] === 0x41) {
      for (let i = 1; i < Math.min(4, b.length); i++) if (b[i] !== HEADER[i]) return -2;
      return 8;
    }
    const t = b[0];
    if (t !== 1 && t !== 2 && t !== 3 && t !== 8) return -2;
    if (b.length < 7) return -1;
    const size = b.readUInt32BE(3);
    if (size > MAX_FRAME) return -2;
    return size + 8;
  }

  protected override plausible(b: Buffer): boolean {
    return detectAmqp(b) !== false;
  }

  protected protocol(): typeof PROTOCOLS.amqp {
    return PROTOCOLS.amqp;
  }
  protected emptyRequest(): Record<string, unknown> { return EMPTY_METHOD(); }
  protected emptyResponse(): Record<string, unknown> { return EMPTY_METHOD(); }

  protected frame(f: Frame): void {
    const b = f.bytes;
    if (b.length > 0 && b[0] === 0x41) {
      if (f.cut === null && !b.equals(HEADER)) this.ctx.warn('amqp', `protocol header ${JSON.stringify(b.toString('latin1'))} is not AMQP 0-9-1`);
      return;
    }
    const complete = f.cut === null && b.length === f.wireLen;
    if (complete && b[b.length - 1] !== FRAME_END) {
      this.lose(f.dir, 'frame without its frame-end octet');
      return;
    }
    if (b.length < 7) {
      this.cutItem(f, 'frame cut before its header ended');
      return;
    }
    const type = b[0];
    const channel = b.readUInt16BE(1);
    const payload = b.subarray(7, complete ? b.length - 1 : b.length);
    try {
      if (type === 1) this.method(f, channel, payload);
      else if (type === 2) this.header(f, channel, payload);
      else if (type === 3) this.body(f, channel, payload);
    } catch (e) {
      if (!(e instanceof AmqpShort)) throw e;
      if (f.cut) this.cutItem(f, f.cut);
      else this.lose(f.dir, `malformed frame: ${e.message}`);
    }
  }

  /** A frame too broken to read: an item that says so (a method frame's fields, when readable, come from method()). */
  private cutItem(f: Frame, why: string): void {
    const m = EMPTY_METHOD();
    const x = f.dir === 0
      ? this.open({ request: m, requestSize: f.wireLen, requestTs: f.startTs, response: { method: 'empty' } })
      : this.open({ request: null, requestSize: 0, requestTs: f.startTs, response: m, responseSize: f.wireLen, responseTs: f.endTs });
    x.error = { type: 'dissection', msg: why };
    x.done = true;
  }

  private method(f: Frame, channel: number, payload: Buffer): void {
    const r = new Reader(payload);
    const classId = r.u16();
    const methodId = r.u16();
    const md = methodDef(classId, methodId);
    const m: AmqpMethod = { method: md ? md.full : `class ${classId} method ${methodId}`, channel };
    let cut = f.cut;
    if (md) {
      try {
        readArgs(r, md.def, m);
      } catch (e) {
        if (!(e instanceof AmqpShort)) throw e;
        cut ??= `malformed ${md.full}: ${e.message}`;
        this.ctx.warn('amqp', `malformed ${md.full}`);
      }
    } else {
      this.ctx.warn('amqp', `unknown method ${classId}.${methodId}`);
      cut ??= `unknown method ${classId}.${methodId}`;
    }
    const dir = f.dir;
    this.abandonContent(dir, channel, 'content cut short by the next method');
    if (md && REPLY_IDS[classId]?.has(methodId)) {
      const key = `${dir ^ 1}:${channel}`;
      const list = this.waiting.get(key);
      const i = list ? list.findIndex((w) => w.classId === classId && w.replies.includes(methodId)) : -1;
      if (list && i >= 0) {
        const w = list.splice(i, 1)[0];
        if (list.length === 0) this.waiting.delete(key);
        const x = w.x;
        x.response = m;
        x.responseSize = f.wireLen;
        x.responseTs = f.endTs;
        if (cut) x.error ??= { type: 'dissection', msg: cut };
        if (md.def.content && !cut) this.expectContent(dir, channel, x, m, 'response');
        else x.done = true;
        return;
      }
      const x = this.open({ request: null, requestSize: 0, requestTs: f.startTs, response: m, responseSize: f.wireLen, responseTs: f.endTs });
      if (cut) x.error = { type: 'dissection', msg: cut };
      if (md.def.content && !cut) this.expectContent(dir, channel, x, m, 'response');
      else x.done = true;
      return;
    }
    const x = this.open({ request: m, requestSize: f.wireLen, requestTs: f.startTs });
    if (cut) x.error = { type: 'dissection', msg: cut };
    if (md && (md.full === 'channel close' || md.full === 'connection close')) this.closing(dir, md.full === 'connection close' ? null : channel, m);
    if (md?.def.replies && m.noWait !== true) {
      const key = `${dir}:${channel}`;
      const list = this.waiting.get(key) ?? [];
      list.push({ x, classId, replies: md.def.replies });
      this.waiting.set(key, list);
      return;
    }
    x.response = { method: 'empty' };
    if (md?.def.content && !cut) this.expectContent(dir, channel, x, m, 'request');
    else x.done = true;
  }

  /** A close from `dir`: the other side's requests on that channel (all channels: null) get no reply now. */
  private closing(dir: Direction, channel: number | null, m: AmqpMethod): void {
    const code = m.relyCode ?? m.replyCode;
    const why = `${channel === null ? 'connection' : 'channel'} closed by the ${dir === 0 ? 'client' : 'server'}: ${code} ${m.replyText ?? ''}`.trim();
    for (const [key, list] of this.waiting) {
      const [d, ch] = key.split(':').map(Number);
      if (d !== (dir ^ 1) || (channel !== null && ch !== channel)) continue;
      for (const w of list) {
        w.x.done = true;
        w.x.error ??= { type: 'connection', msg: why };
      }
      this.waiting.delete(key);
    }
  }

  private expectContent(dir: Direction, channel: number, x: Exchange, target: AmqpMethod, side: 'request' | 'response'): void {
    this.content.set(`${dir}:${channel}`, { x, target, side, bodySize: -1, got: 0, parts: [], kept: 0, properties: null });
  }

  private header(f: Frame, channel: number, payload: Buffer): void {
    const c = this.content.get(`${f.dir}:${channel}`);
    if (!c || c.properties) {
      this.ctx.warn('amqp', 'content header without a method');
      return;
    }
    this.count(c, f);
    if (f.cut) {
      this.finishContent(f.dir, channel, c, f.cut);
      return;
    }
    const h = readContentHeader(payload);
    c.properties = h.properties;
    c.bodySize = h.bodySize;
    if (c.bodySize === 0) this.finishContent(f.dir, channel, c, null);
  }

  private body(f: Frame, channel: number, payload: Buffer): void {
    const c = this.content.get(`${f.dir}:${channel}`);
    if (!c || !c.properties) {
      this.ctx.warn('amqp', 'content body without a header');
      return;
    }
    this.count(c, f);
    c.got += f.cut ? f.wireLen - 8 : payload.length;
    const room = this.ctx.bodyCap - c.kept;
    if (room > 0 && payload.length > 0) {
      const keep = payload.length > room ? payload.subarray(0, room) : payload;
      c.parts.push(Buffer.from(keep));
      c.kept += keep.length;
    }
    if (f.cut) this.finishContent(f.dir, channel, c, f.cut);
    else if (c.got >= c.bodySize) this.finishContent(f.dir, channel, c, null);
  }

  private count(c: Content, f: Frame): void {
    if (c.side === 'request') c.x.requestSize += f.wireLen;
    else {
      c.x.responseSize += f.wireLen;
      c.x.responseTs = f.endTs;
    }
  }

  private finishContent(dir: Direction, channel: number, c: Content, problem: string | null): void {
    this.content.delete(`${dir}:${channel}`);
    c.target.properties = c.properties ?? emptyProperties();
    c.target.body = Buffer.concat(c.parts).toString('base64');
    c.target.bodySize = Math.max(c.got, 0);
    if (problem) c.x.error ??= { type: 'dissection', msg: problem };
    c.x.done = true;
  }

  private abandonContent(dir: Direction, channel: number, why: string): void {
    const c = this.content.get(`${dir}:${channel}`);
    if (c) this.finishContent(dir, channel, c, why);
  }

  protected override beforeClose(reason: string): void {
    for (const [key, c] of [...this.content]) {
      const [dir, channel] = key.split(':').map(Number);
      this.finishContent(dir as Direction, channel, c, `stream ended (${reason}) before the message body was complete`);
    }
  }
}

/** See the file comment. */
export function detectAmqp(first: Buffer): boolean | 'maybe' {
  const n = first.length;
  if (n === 0) return 'maybe';
  const t = first[0];
  if (t === 0x41) {
    for (let i = 1; i < Math.min(n, 8); i++) if (first[i] !== HEADER[i]) return false;
    return n >= 8 ? true : 'maybe';
  }
  if (t !== 1 && t !== 2 && t !== 3 && t !== 8) return false;
  // Mid-stream: walk whole frames; claim on a complete known method frame.
  let p = 0;
  for (let k = 0; k < 4; k++) {
    if (n - p < 7) return 'maybe';
    const type = first[p];
    if (type !== 1 && type !== 2 && type !== 3 && type !== 8) return false;
    const size = first.readUInt32BE(p + 3);
    if (size > 1024 * 1024) return false;
    if (type === 1 && size < 4) return false;
    const end = p + 7 + size;
    if (end >= n) return n >= 4096 ? false : 'maybe';
    if (first[end] !== FRAME_END) return false;
    if (type === 1) return methodDef(first.readUInt16BE(p + 7), first.readUInt16BE(p + 9)) !== null;
    p = end + 1;
  }
  return false;
}

export const amqp: Dissector = {
  name: 'amqp',
  priority: PROTOCOLS.amqp.priority,
  detect: (first) => detectAmqp(first),
  tcp: (ctx) => new AmqpStream(ctx),
};
