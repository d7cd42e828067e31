/**
 * Pairing and emission: requests queue up, responses pair with them in order (pipelining), and
 * finished exchanges leave as L7Messages in request order.
 */
import type { DissectorContext, L7Message, Timestamp } from '../types';
import type { ItemError } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { BodyCollector } from './http-body';
import { buildRequest, buildResponse, type Message } from './http-item';
import { MAX_HELD_BODY_BYTES, MAX_HELD_EXCHANGES, httpWork } from './http-limits';
import { markGraphql } from './graphql';
import { hostOf } from './http-fields';
import type { ReqLine, StatusLine } from './http-wire';

/** An exchange waiting to be emitted, in request order. */
export interface Pending {
  req: Message | null;
  res: Message | null;
  reqDone: boolean;
  resDone: boolean;
  /** Bytes of skipped 1xx interim responses, counted into responseSize. */
  interimBytes: number;
  /** Body-preview bytes of its finished messages, counted in Exchanges.heldBodyBytes. */
  bodyBytes: number;
  /** Not in the queue: the response to a request emitted early (MAX_HELD_EXCHANGES). */
  detached?: boolean;
}

const EMPTY_TS: Timestamp = { sec: 0, nsec: 0 };
const LEAN: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export class Exchanges {
  readonly queue: Pending[] = [];
  private lastPending: Timestamp | null | undefined = undefined;
  /** Body-preview bytes held by queued exchanges (MAX_HELD_BODY_BYTES). */
  private heldBodyBytes = 0;
  /** Responses still to come for requests emitted early: skipped, so later ones pair right. */
  skipResponses = 0;

  constructor(private readonly ctx: DissectorContext) {}

  /** Queues a new exchange (a request, or a response with no request seen). */
  push(p: Pending): Pending {
    this.queue.push(p);
    this.cap();
    return p;
  }

  /**
   * Holds at most MAX_HELD_EXCHANGES exchanges, MAX_HELD_BODY_BYTES of their previews: past
   * that the oldest goes out now, without the response it waits for (a peer that never answers
   * pipelined requests once cost quadratic time and all their bodies' memory).
   */
  private cap(): void {
    const q = this.queue;
    if (q.length > httpWork.maxHeldExchanges) httpWork.maxHeldExchanges = q.length;
    if (this.heldBodyBytes > httpWork.maxHeldBodyBytes) httpWork.maxHeldBodyBytes = this.heldBodyBytes;
    while (q.length > 1 && (q.length > MAX_HELD_EXCHANGES || this.heldBodyBytes > MAX_HELD_BODY_BYTES)) {
      const which = q.length > MAX_HELD_EXCHANGES ? `${MAX_HELD_EXCHANGES} held exchanges` : '8 MiB of held body previews';
      const p = q.shift()!;
      this.heldBodyBytes -= p.bodyBytes;
      p.detached = true;
      if (!p.res) this.skipResponses++;
      this.ctx.warn('http', `exchange emitted before its response: over the ${which} cap`);
      this.emit(p, p.res ? null : { type: 'pair-not-found', msg: 'no response before the connection held too many unanswered requests (capped, see --stats)' });
      // A message still arriving goes on being parsed, into a collector that only counts.
      if (p.req && !p.reqDone) p.req.body = new BodyCollector(0);
      if (p.res && !p.resDone) p.res.body = new BodyCollector(0);
    }
  }

  get last(): Pending | undefined {
    return this.queue[this.queue.length - 1];
  }

  /** The first queued exchange without a response yet (a loop: no closure per response). */
  unanswered(): Pending | undefined {
    const q = this.queue;
    for (let i = 0; i < q.length; i++) {
      httpWork.pairingSteps++;
      if (!q[i].res) return q[i];
    }
    return undefined;
  }

  /**
   * `msg` is complete (or abandoned): mark its half of exchange `p` done and emit what can go.
   * The side knows its exchange (no search: a search per message was quadratic over a long queue).
   */
  done(msg: Message, p: Pending | null): void {
    if (p) {
      if (p.req === msg) p.reqDone = true;
      else p.resDone = true;
      if (!p.detached) {
        const kept = msg.body.kept;
        p.bodyBytes += kept;
        this.heldBodyBytes += kept;
      }
    }
    this.flush();
    if (p && !p.detached) this.cap();
  }

  /** Emits finished exchanges from the front of the queue, keeping request order. */
  flush(): void {
    while (this.queue.length > 0) {
      const p = this.queue[0];
      if (!p.reqDone || !p.res || !p.resDone) return;
      this.queue.shift();
      this.heldBodyBytes -= p.bodyBytes;
      this.emit(p, null);
    }
  }

  /** The connection closed: emit everything queued, unanswered requests with `reason`'s error. */
  close(reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    for (const p of this.queue) {
      if (!p.resDone && p.req) {
        const error: ItemError = reason === 'timeout'
          ? { type: 'timeout', msg: 'no response before the connection timed out' }
          : { type: 'pair-not-found', msg: `no response before the connection ended (${reason})` };
        this.emit(p, error);
      } else {
        this.emit(p, null);
      }
    }
    this.queue.length = 0;
    this.heldBodyBytes = 0;
  }

  private emit(p: Pending, error: ItemError | null): void {
    if (!p.req && !p.res) return;
    const req = p.req;
    const res = p.res;
    const reqVersion = req ? (req.head.line as ReqLine).version : res ? (res.head.line as StatusLine).version : 'HTTP/1.1';
    let err = error;
    if (!err && !req) err = { type: 'pair-not-found', msg: 'response without a request (capture started mid-stream or the request was lost)' };
    if (!err && (req?.problem || res?.problem)) err = { type: 'dissection', msg: (req?.problem ?? res?.problem)! };
    const msg: L7Message = {
      protocol: reqVersion === 'HTTP/1.0' ? PROTOCOLS.http10 : PROTOCOLS.http11,
      // Lean (nothing will read them, DissectorContext.lean): the exchange counts, its fields are not built.
      request: this.ctx.lean ? LEAN : (buildRequest(req, this.ctx.bodyCap) as unknown as Record<string, unknown>),
      response: this.ctx.lean ? LEAN : (buildResponse(res, this.ctx.bodyCap) as unknown as Record<string, unknown>),
      requestSize: req ? req.wireBytes : 0,
      responseSize: res ? res.wireBytes + p.interimBytes : 0,
      requestTs: req ? req.startTs : res ? res.startTs : EMPTY_TS,
      responseTs: res && p.resDone ? res.endTs ?? res.startTs : null,
      error: err,
      // dst.name when nothing else names the server (kubeshark-compat §6.6: "else Host"). In the
      // literal, not added later: one object shape for every HTTP message.
      dstName: req && !this.ctx.lean ? hostOf(req.head.headers['Host']) : undefined,
    };
    // GraphQL over HTTP/1.1 (kubeshark-compat §6.8): a request body that is a GraphQL request.
    if (!this.ctx.lean && req) markGraphql(msg, PROTOCOLS.gql11);
    if (req) req.body.release();
    if (res) res.body.release();
    this.ctx.emit(msg);
  }

  /** Tells the pipeline the earliest request time still owed (`headTs`: a request head in progress). */
  updatePending(headTs: Timestamp | null): void {
    let ts: Timestamp | null = this.queue.length ? (this.queue[0].req ?? this.queue[0].res)!.startTs : null;
    if (!ts) ts = headTs;
    const last = this.lastPending;
    if (last !== undefined && (last === ts || (last && ts && last.sec === ts.sec && last.nsec === ts.nsec))) return;
    this.lastPending = ts;
    this.ctx.pending(ts);
  }
}
