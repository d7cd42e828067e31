/**
 * AMQP 0-9-1 wire format (the RabbitMQ-published spec, with RabbitMQ's extensions): frames,
 * the class/method table with argument types, field tables and basic properties. Hand-written:
 * amqplib's codec is generated internal code, not public API.
 */

import type { AmqpProperties } from '../item/schema';

export class AmqpShort extends Error {}

/** Argument types: o octet, s short, l long, L longlong, S shortstr, X longstr, b bit, T table, t timestamp. */
type ArgType = 'o' | 's' | 'l' | 'L' | 'S' | 'X' | 'b' | 'T' | 't';

export interface MethodDef {
  /** "queue declare", "basic publish", "queue declare-ok". */
  name: string;
  /** [field, type]; fields named `reserved…` are read and not shown. */
  args: [string, ArgType][];
  /** Method ids of the replies this synchronous request waits for. */
  replies?: number[];
  /** Followed by a content header and body frames. */
  content?: boolean;
}

const close: [string, ArgType][] = [['replyCode', 's'], ['replyText', 'S'], ['classId', 's'], ['methodId', 's']];

/** class id → [class name, method id → definition]. */
export const CLASSES: Record<number, [string, Record<number, MethodDef>]> = {
  10: ['connection', {
    10: { name: 'start', args: [['versionMajor', 'o'], ['versionMinor', 'o'], ['serverProperties', 'T'], ['mechanisms', 'X'], ['locales', 'X']], replies: [11] },
    11: { name: 'start-ok', args: [['clientProperties', 'T'], ['mechanism', 'S'], ['response', 'X'], ['locale', 'S']] },
    20: { name: 'secure', args: [['challenge', 'X']], replies: [21] },
    21: { name: 'secure-ok', args: [['response', 'X']] },
    30: { name: 'tune', args: [['channelMax', 's'], ['frameMax', 'l'], ['heartbeat', 's']], replies: [31] },
    31: { name: 'tune-ok', args: [['channelMax', 's'], ['frameMax', 'l'], ['heartbeat', 's']] },
    40: { name: 'open', args: [['virtualHost', 'S'], ['reserved1', 'S'], ['reserved2', 'b']], replies: [41] },
    41: { name: 'open-ok', args: [['reserved1', 'S']] },
    // Kubeshark spells connection close's reply code `relyCode`; kept for scripts written against it.
    50: { name: 'close', args: [['relyCode', 's'], ['replyText', 'S'], ['classId', 's'], ['methodId', 's']], replies: [51] },
    51: { name: 'close-ok', args: [] },
    60: { name: 'blocked', args: [['reason', 'S']] },
    61: { name: 'unblocked', args: [] },
    70: { name: 'update-secret', args: [['newSecret', 'X'], ['reason', 'S']], replies: [71] },
    71: { name: 'update-secret-ok', args: [] },
  }],
  20: ['channel', {
    10: { name: 'open', args: [['reserved1', 'S']], replies: [11] },
    11: { name: 'open-ok', args: [['reserved1', 'X']] },
    20: { name: 'flow', args: [['active', 'b']], replies: [21] },
    21: { name: 'flow-ok', args: [['active', 'b']] },
    40: { name: 'close', args: close, replies: [41] },
    41: { name: 'close-ok', args: [] },
  }],
  30: ['access', {
    10: { name: 'request', args: [['realm', 'S'], ['exclusive', 'b'], ['passive', 'b'], ['active', 'b'], ['write', 'b'], ['read', 'b']], replies: [11] },
    11: { name: 'request-ok', args: [['reserved1', 's']] },
  }],
  40: ['exchange', {
    10: { name: 'declare', args: [['reserved1', 's'], ['exchange', 'S'], ['type', 'S'], ['passive', 'b'], ['durable', 'b'], ['autoDelete', 'b'], ['internal', 'b'], ['noWait', 'b'], ['arguments', 'T']], replies: [11] },
    11: { name: 'declare-ok', args: [] },
    20: { name: 'delete', args: [['reserved1', 's'], ['exchange', 'S'], ['ifUnused', 'b'], ['noWait', 'b']], replies: [21] },
    21: { name: 'delete-ok', args: [] },
    30: { name: 'bind', args: [['reserved1', 's'], ['destination', 'S'], ['source', 'S'], ['routingKey', 'S'], ['noWait', 'b'], ['arguments', 'T']], replies: [31] },
    31: { name: 'bind-ok', args: [] },
    40: { name: 'unbind', args: [['reserved1', 's'], ['destination', 'S'], ['source', 'S'], ['routingKey', 'S'], ['noWait', 'b'], ['arguments', 'T']], replies: [51] },
    51: { name: 'unbind-ok', args: [] },
  }],
  50: ['queue', {
    10: { name: 'declare', args: [['reserved1', 's'], ['queue', 'S'], ['passive', 'b'], ['durable', 'b'], ['exclusive', 'b'], ['autoDelete', 'b'], ['noWait', 'b'], ['arguments', 'T']], replies: [11] },
    11: { name: 'declare-ok', args: [['queue', 'S'], ['messageCount', 'l'], ['consumerCount', 'l']] },
    20: { name: 'bind', args: [['reserved1', 's'], ['queue', 'S'], ['exchange', 'S'], ['routingKey', 'S'], ['noWait', 'b'], ['arguments', 'T']], replies: [21] },
    21: { name: 'bind-ok', args: [] },
    30: { name: 'purge', args: [['reserved1', 's'], ['queue', 'S'], ['noWait', 'b']], replies: [31] },
    31: { name: 'purge-ok', args: [['messageCount', 'l']] },
    40: { name: 'delete', args: [['reserved1', 's'], ['queue', 'S'], ['ifUnused', 'b'], ['ifEmpty', 'b'], ['noWait', 'b']], replies: [41] },
    41: { name: 'delete-ok', args: [['messageCount', 'l']] },
    50: { name: 'unbind', args: [['reserved1', 's'], ['queue', 'S'], ['exchange', 'S'], ['routingKey', 'S'], ['arguments', 'T']], replies: [51] },
    51: { name: 'unbind-ok', args: [] },
  }],
  60: ['basic', {
    10: { name: 'qos', args: [['prefetchSize', 'l'], ['prefetchCount', 's'], ['global', 'b']], replies: [11] },
    11: { name: 'qos-ok', args: [] },
    20: { name: 'consume', args: [['reserved1', 's'], ['queue', 'S'], ['consumerTag', 'S'], ['noLocal', 'b'], ['noAck', 'b'], ['exclusive', 'b'], ['noWait', 'b'], ['arguments', 'T']], replies: [21] },
    21: { name: 'consume-ok', args: [['consumerTag', 'S']] },
    30: { name: 'cancel', args: [['consumerTag', 'S'], ['noWait', 'b']], replies: [31] },
    31: { name: 'cancel-ok', args: [['consumerTag', 'S']] },
    40: { name: 'publish', args: [['reserved1', 's'], ['exchange', 'S'], ['routingKey', 'S'], ['mandatory', 'b'], ['immediate', 'b']], content: true },
    50: { name: 'return', args: [['replyCode', 's'], ['replyText', 'S'], ['exchange', 'S'], ['routingKey', 'S']], content: true },
    60: { name: 'deliver', args: [['consumerTag', 'S'], ['deliveryTag', 'L'], ['redelivered', 'b'], ['exchange', 'S'], ['routingKey', 'S']], content: true },
    70: { name: 'get', args: [['reserved1', 's'], ['queue', 'S'], ['noAck', 'b']], replies: [71, 72] },
    71: { name: 'get-ok', args: [['deliveryTag', 'L'], ['redelivered', 'b'], ['exchange', 'S'], ['routingKey', 'S'], ['messageCount', 'l']], content: true },
    72: { name: 'get-empty', args: [['reserved1', 'S']] },
    80: { name: 'ack', args: [['deliveryTag', 'L'], ['multiple', 'b']] },
    90: { name: 'reject', args: [['deliveryTag', 'L'], ['requeue', 'b']] },
    100: { name: 'recover-async', args: [['requeue', 'b']] },
    110: { name: 'recover', args: [['requeue', 'b']], replies: [111] },
    111: { name: 'recover-ok', args: [] },
    120: { name: 'nack', args: [['deliveryTag', 'L'], ['multiple', 'b'], ['requeue', 'b']] },
  }],
  85: ['confirm', {
    10: { name: 'select', args: [['noWait', 'b']], replies: [11] },
    11: { name: 'select-ok', args: [] },
  }],
  90: ['tx', {
    10: { name: 'select', args: [], replies: [11] },
    11: { name: 'select-ok', args: [] },
    20: { name: 'commit', args: [], replies: [21] },
    21: { name: 'commit-ok', args: [] },
    30: { name: 'rollback', args: [], replies: [31] },
    31: { name: 'rollback-ok', args: [] },
  }],
};

/** Method ids that are replies (so they pair instead of opening an item). */
export const REPLY_IDS: Record<number, Set<number>> = {};
for (const [cls, [, methods]] of Object.entries(CLASSES)) {
  const s = new Set<number>();
  for (const def of Object.values(methods)) for (const r of def.replies ?? []) s.add(r);
  REPLY_IDS[Number(cls)] = s;
}

export function methodDef(classId: number, methodId: number): { full: string; def: MethodDef } | null {
  const c = CLASSES[classId];
  const def = c?.[1][methodId];
  return def ? { full: `${c[0]} ${def.name}`, def } : null;
}

/** Bounds-checked reader over one frame payload. */
export class Reader {
  constructor(readonly b: Buffer, public p = 0) {}
  private need(n: number): void {
    if (n < 0 || this.p + n > this.b.length) throw new AmqpShort('truncated');
  }
  u8(): number { this.need(1); return this.b[this.p++]; }
  u16(): number { this.need(2); const v = this.b.readUInt16BE(this.p); this.p += 2; return v; }
  u32(): number { this.need(4); const v = this.b.readUInt32BE(this.p); this.p += 4; return v; }
  u64(): number | string { this.need(8); const v = this.b.readBigUInt64BE(this.p); this.p += 8; return v <= 9007199254740991n ? Number(v) : v.toString(); }
  i64(): number | string { this.need(8); const v = this.b.readBigInt64BE(this.p); this.p += 8; return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString(); }
  raw(n: number): Buffer { this.need(n); const v = this.b.subarray(this.p, this.p + n); this.p += n; return v; }
  shortstr(): string { return this.raw(this.u8()).toString('utf8'); }
  longstr(): string { return this.raw(this.u32()).toString('utf8'); }
  timestamp(): string {
    const v = this.u64();
    const ms = Number(v) * 1000;
    return Number.isFinite(ms) && ms <= 8.64e15 ? new Date(ms).toISOString().replace('.000Z', 'Z') : String(v);
  }
  /** A field table (RabbitMQ's type letters). Nesting is bounded by the frame size. */
  table(depth = 0): Record<string, unknown> {
    const len = this.u32();
    const end = this.p + len;
    if (end > this.b.length) throw new AmqpShort('table past the end');
    const out: Record<string, unknown> = {};
    while (this.p < end) {
      const k = this.shortstr();
      out[k] = this.value(depth);
    }
    this.p = end;
    return out;
  }
  private array(depth: number): unknown[] {
    const len = this.u32();
    const end = this.p + len;
    if (end > this.b.length) throw new AmqpShort('array past the end');
    const out: unknown[] = [];
    while (this.p < end) out.push(this.value(depth));
    this.p = end;
    return out;
  }
  private value(depth: number): unknown {
    if (depth > 64) throw new AmqpShort('tables nested too deep');
    const t = String.fromCharCode(this.u8());
    switch (t) {
      case 't': return this.u8() !== 0;
      case 'b': this.need(1); return this.b.readInt8(this.p++);
      case 'B': return this.u8();
      case 's': { this.need(2); const v = this.b.readInt16BE(this.p); this.p += 2; return v; }
      case 'u': return this.u16();
      case 'I': { this.need(4); const v = this.b.readInt32BE(this.p); this.p += 4; return v; }
      case 'i': return this.u32();
      case 'l': return this.i64();
      case 'L': return this.u64();
      case 'f': { this.need(4); const v = this.b.readFloatBE(this.p); this.p += 4; return v; }
      case 'd': { this.need(8); const v = this.b.readDoubleBE(this.p); this.p += 8; return v; }
      case 'D': { const scale = this.u8(); const v = this.u32(); return v / 10 ** scale; }
      case 'S': return this.longstr();
      case 'x': return this.raw(this.u32()).toString('base64');
      case 'A': return this.array(depth + 1);
      case 'T': return this.timestamp();
      case 'F': return this.table(depth + 1);
      case 'V': return null;
      default: throw new AmqpShort(`unknown field type ${JSON.stringify(t)}`);
    }
  }
}

/** Reads a method's arguments into `out` (reserved fields skipped, consecutive bits packed). */
export function readArgs(r: Reader, def: MethodDef, out: Record<string, unknown>): void {
  let bits = 0, bit = 8;
  for (const [name, type] of def.args) {
    if (type !== 'b') bit = 8;
    let v: unknown;
    switch (type) {
      case 'o': v = r.u8(); break;
      case 's': v = r.u16(); break;
      case 'l': v = r.u32(); break;
      case 'L': v = r.u64(); break;
      case 'S': v = r.shortstr(); break;
      case 'X': v = r.longstr(); break;
      case 't': v = r.timestamp(); break;
      case 'T': v = r.table(); break;
      case 'b':
        if (bit === 8) { bits = r.u8(); bit = 0; }
        v = ((bits >> bit++) & 1) === 1;
        break;
    }
    if (!name.startsWith('reserved')) out[name] = v;
  }
}

/** Basic properties as the item shows them (the list lives in schema.ts's AmqpProperties). */
export function emptyProperties(): AmqpProperties {
  return { contentType: '', contentEncoding: '', headers: {}, deliveryMode: 0, priority: 0, correlationId: '', replyTo: '', expiration: '', messageId: '', timestamp: '', type: '', userId: '', appId: '' };
}

/** Content header payload → body size and basic properties. */
export function readContentHeader(b: Buffer): { bodySize: number; properties: AmqpProperties } {
  const r = new Reader(b);
  r.u16(); // class
  r.u16(); // weight
  const size = r.u64();
  const bodySize = typeof size === 'number' ? size : Number.MAX_SAFE_INTEGER;
  const flags = r.u16();
  // Continuation flags (bit 0) extend the list; basic properties fit in the first word.
  let more = flags & 1;
  while (more) more = r.u16() & 1;
  const p = emptyProperties();
  if (flags & 0x8000) p.contentType = r.shortstr();
  if (flags & 0x4000) p.contentEncoding = r.shortstr();
  if (flags & 0x2000) p.headers = r.table();
  if (flags & 0x1000) p.deliveryMode = r.u8();
  if (flags & 0x0800) p.priority = r.u8();
  if (flags & 0x0400) p.correlationId = r.shortstr();
  if (flags & 0x0200) p.replyTo = r.shortstr();
  if (flags & 0x0100) p.expiration = r.shortstr();
  if (flags & 0x0080) p.messageId = r.shortstr();
  if (flags & 0x0040) p.timestamp = r.timestamp();
  if (flags & 0x0020) p.type = r.shortstr();
  if (flags & 0x0010) p.userId = r.shortstr();
  if (flags & 0x0008) p.appId = r.shortstr();
  return { bodySize, properties: p };
}
