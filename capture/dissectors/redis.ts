/**
 * Redis (RESP2 and RESP3) over TCP: one item per command with its reply, in command order
 * (pipelining pairs replies in order). Pub/sub messages the server pushes (RESP3 `>` pushes, or
 * RESP2 `message`/`pmessage`/`smessage` arrays once the connection subscribed) are items of
 * their own: the message is the request, the response is empty (Kubeshark's AMQP does the same
 * for one-way methods). (P|S)SUBSCRIBE and their UNSUBSCRIBEs take one confirmation per channel.
 * Item shape: Kubeshark's `{type, command, key, value, keyword}` on both sides (kubeshark-compat
 * §6.10, docs/items.md).
 */
import type { Direction, Dissector, DissectorContext, TcpStreamParser, Timestamp } from '../types';
import type { RedisMessage } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { ExchangeQueue, type Exchange } from './exchanges';
import { RespError, RespReader, render, respType, type RVal } from './resp-wire';

/** Kept bytes per string value, and characters per rendered value. */
const KEEP = 4096;

type Ex = Exchange<RedisMessage, RedisMessage>;

interface Waiting {
  e: Ex;
  /** Replies still expected (subscribe family: one per channel); -1: until a count of 0. */
  replies: number;
  sub: boolean;
  got: string[];
}

const SUB_CMDS = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE']);
const SUB_REPLIES = new Set(['subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);
const MESSAGES = new Set(['message', 'pmessage', 'smessage']);

const empty = (): RedisMessage => ({ type: 'N/A', command: '', key: '', value: '', keyword: '' });

const str = (v: RVal | undefined): string => (v === undefined ? '' : v.a === null ? (v.nil ? '<nil>' : v.s) : render(v, KEEP));

class RedisStream implements TcpStreamParser {
  private readonly q: ExchangeQueue<RedisMessage, RedisMessage>;
  private readonly readers: [RespReader, RespReader];
  private waiting: Waiting[] = [];
  private subscribed = false;
  private dead = false;
  private ts: Timestamp = { sec: 0, nsec: 0 };
  /** Start time of the value being read, per direction. */
  private startTs: [Timestamp | null, Timestamp | null] = [null, null];

  constructor(private readonly ctx: DissectorContext) {
    this.q = new ExchangeQueue(ctx, PROTOCOLS.redis);
    this.readers = [
      new RespReader(KEEP, true, (v, size) => this.command(v, size)),
      new RespReader(KEEP, false, (v, size) => this.reply(v, size)),
    ];
  }

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.dead || bytes.length === 0) return;
    this.ts = ts;
    if (this.startTs[dir] === null) this.startTs[dir] = ts;
    try {
      this.readers[dir].feed(bytes);
    } catch (e) {
      if (!(e instanceof RespError)) throw e;
      this.fail(`not RESP in the ${dir === 0 ? 'commands' : 'replies'}: ${e.message}`);
      return;
    }
    // A value begun in this chunk starts at this chunk's time.
    this.startTs[dir] = this.readers[dir].partialBytes > 0 ? (this.startTs[dir] ?? ts) : null;
    this.q.flush();
  }

  gap(dir: Direction, length: number, _ts: Timestamp, why?: 'lost' | 'snaplen'): void {
    if (this.dead) return;
    // RESP has no markers to find the next value after a hole: this connection ends here.
    this.fail(why === 'snaplen' ? "cut by the capture's snap length" : `capture gap of ${length} bytes in the ${dir === 0 ? 'commands' : 'replies'}`);
  }

  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (dir !== null || this.dead) return;
    this.dead = true;
    const r0 = this.readers[0];
    if (r0.partialBytes > 0) {
      // A command cut mid-message: what arrived of it, flagged.
      const v = r0.partial();
      this.q.addCut(v ? this.request(v) : empty(), empty(), this.startTs[0] ?? ts, r0.partialBytes, `command cut: the connection ended mid-message (${reason})`);
    }
    const r1 = this.readers[1];
    const cut = r1.partialBytes > 0 ? `reply cut: the connection ended mid-message after ${r1.partialBytes} bytes (${reason})` : null;
    if (cut && this.waiting.length) {
      const w = this.waiting[0];
      w.e.answered = true;
      w.e.responseSize += r1.partialBytes;
      const v = r1.partial();
      if (v) w.e.response = this.response(v);
    }
    this.waiting = [];
    this.q.endAll(reason, cut);
  }

  private fail(why: string): void {
    this.ctx.warn('redis', why);
    this.dead = true;
    this.waiting = [];
    this.q.failAll(why);
  }

  private request(v: RVal): RedisMessage {
    const args = v.a ?? [v];
    const n = v.a ? v.n : 1;
    const value = n > 3 ? `[${args.slice(2).map(str).join(', ')}${n > args.length ? `, … (${n - args.length} more)` : ''}]` : str(args[2]);
    return { type: respType(v.k), command: str(args[0]).toUpperCase(), key: str(args[1]), value, keyword: '' };
  }

  private response(v: RVal): RedisMessage {
    return { type: respType(v.k), command: '', key: '', value: str(v), keyword: v.k === '+' ? v.s : '' };
  }

  private command(v: RVal, size: number): void {
    const ts = this.startTs[0] ?? this.ts;
    this.startTs[0] = null;
    const req = this.request(v);
    const e = this.q.add(req, empty(), ts, size);
    const sub = SUB_CMDS.has(req.command);
    const nargs = v.a ? v.n - 1 : 0;
    if (sub && req.command.endsWith('SUBSCRIBE') && !req.command.includes('UN')) this.subscribed = true;
    const replies = sub ? (nargs > 0 ? nargs : req.command.includes('UN') ? -1 : 1) : 1;
    this.waiting.push({ e, replies, sub, got: [] });
  }

  private reply(v: RVal, size: number): void {
    const ts = this.startTs[1] ?? this.ts;
    this.startTs[1] = null;
    const kind = (v.k === '>' || v.k === '*') && v.a && v.a.length > 0 && v.a[0].a === null ? v.a[0].s.toLowerCase() : '';
    const w = this.waiting[0];
    if (kind !== '' && SUB_REPLIES.has(kind) && (v.k === '>' || this.subscribed) && w?.sub) {
      w.got.push(str(v));
      this.answer(w, v, size);
      const count = v.a!.length >= 3 ? Number(v.a![2].s) : NaN;
      if (count === 0 && kind.includes('unsub')) this.subscribed = false; // RESP2 replies are plain again
      if (w.replies > 0) w.replies--;
      if (w.replies === 0 || (w.replies < 0 && count === 0)) this.finish();
      return;
    }
    if (v.k === '>' || (kind !== '' && MESSAGES.has(kind) && this.subscribed) || (kind !== '' && SUB_REPLIES.has(kind) && this.subscribed)) {
      this.push(v, kind, size, ts);
      return;
    }
    if (w === undefined) {
      // A reply to a command never seen (the capture began mid-connection).
      const e = this.q.add(empty(), this.response(v), ts, 0);
      e.responseSize = size;
      e.responseTs = this.ts;
      e.error = { type: 'pair-not-found', msg: 'reply without a command (the capture began mid-connection?)' };
      e.done = true;
      return;
    }
    if (w.sub && w.got.length > 0) this.finish(); // an UNSUBSCRIBE without a final count: another command's reply
    const w2 = this.waiting[0];
    if (w2 === undefined) return this.reply(v, size);
    this.answer(w2, v, size);
    this.finish();
  }

  private answer(w: Waiting, v: RVal, size: number): void {
    const e = w.e;
    e.answered = true;
    e.responseSize += size;
    e.responseTs = this.ts;
    if (w.got.length > 1) {
      e.response = { ...this.response(v), value: `[${w.got.join(', ')}]` };
    } else e.response = this.response(v);
  }

  private finish(): void {
    const w = this.waiting.shift();
    if (w) w.e.done = true;
  }

  /** A pushed pub/sub message (or other push): its own item, the message as the request. */
  private push(v: RVal, kind: string, size: number, ts: Timestamp): void {
    const a = v.a ?? [];
    let key = str(a[1]);
    let value = a.length > 2 ? str(a[a.length - 1]) : '';
    if (kind === 'pmessage') key = str(a[2]); // [pmessage, pattern, channel, payload]
    if (a.length > 3 && kind !== 'pmessage') value = `[${a.slice(2).map(str).join(', ')}]`;
    const e = this.q.add({ type: respType(v.k), command: kind.toUpperCase(), key, value, keyword: '' }, empty(), ts, size);
    e.done = true;
  }
}

/**
 * Client side: a RESP array whose first element is a bulk string of letters (`*2\r\n$3\r\nGET`);
 * 'maybe' while that prefix is incomplete. A few byte comparisons decide most non-Redis streams.
 */
export function detectRedis(b: Buffer, dir: Direction): boolean | 'maybe' {
  if (dir !== 0 || b.length === 0 || b[0] !== 0x2a /* * */) return false;
  let p = 1;
  let n = 0;
  for (; p < b.length && b[p] >= 0x30 && b[p] <= 0x39; p++) if (p > 6) return false; else n = n * 10 + b[p] - 0x30;
  if (p === b.length) return p < 8 ? 'maybe' : false;
  if (p === 1 || n === 0 || b[p] !== 13) return false;
  if (++p === b.length) return 'maybe';
  if (b[p] !== 10) return false;
  if (++p === b.length) return 'maybe';
  if (b[p] !== 0x24 /* $ */) return false;
  let len = 0;
  const start = ++p;
  for (; p < b.length && b[p] >= 0x30 && b[p] <= 0x39; p++) if (p - start > 4) return false; else len = len * 10 + b[p] - 0x30;
  if (p === b.length) return 'maybe';
  if (p === start || len === 0 || len > 64 || b[p] !== 13) return false;
  if (++p === b.length) return 'maybe';
  if (b[p] !== 10) return false;
  p++;
  for (let i = 0; i < len; i++, p++) {
    if (p === b.length) return 'maybe';
    const c = b[p] | 0x20;
    if (!((c >= 0x61 && c <= 0x7a) || b[p] === 0x5f || b[p] === 0x2d || b[p] === 0x7c)) return false;
  }
  if (p === b.length || (p + 1 === b.length && b[p] === 13)) return 'maybe';
  return b[p] === 13 && b[p + 1] === 10;
}

export const redis: Dissector = {
  name: 'redis',
  priority: PROTOCOLS.redis.priority,
  detect: (first, dir) => detectRedis(first, dir),
  tcp: (ctx) => new RedisStream(ctx),
};
