/**
 * PostgreSQL frontend/backend protocol v3 over TCP. Items:
 *  - the SSLRequest (or GSSENCRequest) with the server's one-byte answer ('N' refused, 'S' TLS:
 *    the rest is encrypted and not read);
 *  - the startup: StartupMessage, authentication exchange, ParameterStatus, up to ReadyForQuery
 *    (or the fatal error);
 *  - one per simple Query (all of its statements' tags) and one per extended-protocol Execute,
 *    with the statement text from its Parse and the parameters from its Bind; the response
 *    counts DataRows and carries the CommandComplete tag or the ErrorResponse's SQLSTATE and
 *    message. A Parse/Bind/Sync batch that failed before executing is an item (type "Parse");
 *    one that executed nothing and failed nothing is not.
 * The server answers in order, so each client message queues an "op" that its response pops.
 */
import type { Direction, Dissector, DissectorContext, TcpStreamParser, Timestamp } from '../types';
import type { PostgresqlRequest, PostgresqlResponse } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { ByteQueue, ExchangeQueue, MAX_KEEP, clip, type Exchange } from './exchanges';

const CODE_V3 = 196608;
const CODE_SSL = 80877103;
const CODE_GSSENC = 80877104;
const CODE_CANCEL = 80877102;
/** Kept characters of a statement / of one parameter value. */
const QUERY_CAP = 16 * 1024;
const PARAM_CAP = 1024;
const MAX_COLUMNS = 256;

const CLIENT_TYPES = new Set('QPBDEHSCFXpdcf'.split('').map((c) => c.charCodeAt(0)));
const SERVER_TYPES = new Set('RSKZENA123ntTDCIsGHWdcVv'.split('').map((c) => c.charCodeAt(0)));

const AUTH: Record<number, string> = { 0: 'Ok', 2: 'KerberosV5', 3: 'CleartextPassword', 5: 'MD5Password', 7: 'GSS', 8: 'GSSContinue', 9: 'SSPI', 10: 'SASL', 11: 'SASLContinue', 12: 'SASLFinal' };

type Ex = Exchange<PostgresqlRequest, PostgresqlResponse>;
interface Slot { e: Ex; ops: number; closed: boolean; exec: boolean }
interface Op { kind: string; slot: Slot | null }

const newRequest = (type: string): PostgresqlRequest => ({ type, query: '', statement: '', portal: '', parameters: [], startupParameters: {} });
const newResponse = (): PostgresqlResponse => ({ type: '', commandTag: '', commandTags: [], rows: 0, columns: [], errorSeverity: '', errorCode: '', errorMessage: '', errorDetail: '', authentication: [], serverParameters: {}, backendPid: 0 });

/** NUL-terminated string at b[p]; returns [text, offset after the NUL] (end when unterminated). */
function cstr(b: Buffer, p: number, end: number): [string, number] {
  const z = b.indexOf(0, p);
  if (z < 0 || z >= end) return [b.toString('utf8', p, end), end];
  return [b.toString('utf8', p, z), z + 1];
}

class PgStream implements TcpStreamParser {
  private readonly q: ExchangeQueue<PostgresqlRequest, PostgresqlResponse>;
  private readonly bq: [ByteQueue, ByteQueue] = [new ByteQueue(), new ByteQueue()];
  private clientStartup = true;
  private sslPending: Slot | null = null;
  private startup: Slot | null = null;
  private ops: Op[] = [];
  private draft: Slot | null = null;
  private lastInBatch: Slot | null = null;
  private stmts = new Map<string, string>();
  private portals = new Map<string, { stmt: string; params: (string | null)[] }>();
  private dead = false;
  private ts: Timestamp = { sec: 0, nsec: 0 };
  /** Arrival time of the first byte of the message being read, per direction. */
  private msgTs: [Timestamp | null, Timestamp | null] = [null, null];

  constructor(private readonly ctx: DissectorContext) {
    this.q = new ExchangeQueue(ctx, PROTOCOLS.postgresql);
  }

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.dead || bytes.length === 0) return;
    this.ts = ts;
    const bq = this.bq[dir];
    if (bq.length === 0) this.msgTs[dir] = ts;
    bq.push(bytes);
    try {
      this.pump(dir);
    } catch (e) {
      if (!(e instanceof PgError)) throw e;
      this.fail(e.message);
    }
    bq.settle();
    this.q.flush();
  }

  gap(dir: Direction, length: number, _ts: Timestamp, why?: 'lost' | 'snaplen'): void {
    if (this.dead) return;
    // Message boundaries cannot be found again after a hole: the connection ends here.
    this.fail(why === 'snaplen' ? "cut by the capture's snap length" : `capture gap of ${length} bytes in the ${dir === 0 ? 'client' : 'server'} messages`);
  }

  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (dir !== null || this.dead) return;
    this.dead = true;
    const left0 = this.bq[0].unfinished;
    if (left0 > 0) this.q.addCut(newRequest(''), newResponse(), this.msgTs[0] ?? ts, left0, `client message cut: the connection ended mid-message (${reason})`);
    const left1 = this.bq[1].unfinished;
    const head = this.target();
    if (left1 > 0 && head) {
      head.e.answered = true;
      head.e.responseSize += left1;
    }
    this.q.endAll(reason, left1 > 0 ? `response cut: the connection ended mid-message (${reason})` : null);
  }

  private fail(why: string): void {
    this.ctx.warn('postgresql', why);
    this.dead = true;
    this.q.failAll(why);
  }

  private pump(dir: Direction): void {
    const bq = this.bq[dir];
    for (;;) {
      if (this.dead || !bq.payOwed() || bq.length === 0) return;
      const mts = this.msgTs[dir] ?? this.ts;
      if (dir === 1 && this.sslPending) {
        const [b, o] = bq.peek(1);
        this.sslAnswer(b[o]);
        bq.skip(1);
        this.msgTs[1] = this.ts;
        continue;
      }
      if (dir === 0 && this.clientStartup) {
        const [b0, o0] = bq.peek(1);
        if (b0[o0] !== 0) {
          this.clientStartup = false; // typed messages: the capture began after the startup
          continue;
        }
        if (bq.length < 8) return;
        const [b, o] = bq.peek(8);
        const len = b.readInt32BE(o);
        if (len < 8 || len > 10000) throw new PgError(`startup packet of ${len} bytes`);
        if (bq.length < len) return;
        const [c, co] = bq.peek(len);
        this.untyped(c, co, co + len, mts);
        bq.skip(len);
        this.msgTs[0] = this.ts;
        continue;
      }
      if (bq.length < 5) return;
      const [h, ho] = bq.peek(5);
      const type = h[ho];
      const len = h.readInt32BE(ho + 1);
      if (!(dir === 0 ? CLIENT_TYPES : SERVER_TYPES).has(type)) throw new PgError(`unknown ${dir === 0 ? 'client' : 'server'} message type 0x${type.toString(16)}`);
      if (len < 4) throw new PgError(`message length ${len}`);
      const total = 1 + len;
      const keep = Math.min(total, MAX_KEEP);
      if (bq.length < keep) return;
      const [b, o] = bq.peek(keep);
      if (dir === 0) this.client(type, b, o + 5, o + keep, total, mts);
      else this.server(type, b, o + 5, o + keep, total);
      bq.drop(total); // an oversized message: the rest past `keep` is counted, not kept
      this.msgTs[dir] = this.ts;
    }
  }

  // ------------------------------------------------------------------ client → server

  private slot(type: string, ts: Timestamp, closed: boolean): Slot {
    return { e: this.q.add(newRequest(type), newResponse(), ts, 0), ops: 0, closed, exec: false };
  }

  private draftSlot(ts: Timestamp): Slot {
    if (!this.draft) {
      this.draft = this.slot('Parse', ts, false);
      this.lastInBatch = this.draft;
    }
    return this.draft;
  }

  private closeDraft(): void {
    const d = this.draft;
    if (!d) return;
    this.draft = null;
    d.closed = true;
    this.maybeDone(d);
  }

  private addOp(kind: string, slot: Slot | null): void {
    this.ops.push({ kind, slot });
    if (slot) slot.ops++;
  }

  private popOp(): Op | undefined {
    const op = this.ops.shift();
    if (op?.slot) {
      op.slot.ops--;
      this.maybeDone(op.slot);
    }
    return op;
  }

  private maybeDone(s: Slot): void {
    if (s.ops > 0 || !s.closed || s.e.done) return;
    s.e.done = true;
    // A batch that executed nothing and failed nothing (e.g. a bare prepare) is not an item.
    if (!s.exec && s.e.request.type === 'Parse' && !s.e.response.errorCode) s.e.drop = true;
  }

  private untyped(b: Buffer, p: number, end: number, ts: Timestamp): void {
    const len = end - p;
    const code = b.readInt32BE(p + 4);
    if (code === CODE_SSL || code === CODE_GSSENC) {
      const s = this.slot(code === CODE_SSL ? 'SSLRequest' : 'GSSENCRequest', ts, true);
      s.e.requestSize = len;
      this.sslPending = s;
    } else if (code === CODE_CANCEL) {
      const s = this.slot('CancelRequest', ts, true);
      s.e.requestSize = len;
      s.e.done = true; // the server answers by closing the connection
    } else if (code >> 16 === 3) {
      const s = this.slot('Startup', ts, true);
      s.e.requestSize = len;
      const params: Record<string, string> = {};
      let q = p + 8;
      while (q < end && b[q] !== 0) {
        let k: string, v: string;
        [k, q] = cstr(b, q, end);
        [v, q] = cstr(b, q, end);
        params[k] = v;
      }
      s.e.request.startupParameters = params;
      this.startup = s;
      this.clientStartup = false;
    } else {
      throw new PgError(`unknown startup code ${code}`);
    }
  }

  private sslAnswer(byte: number): void {
    const s = this.sslPending!;
    this.sslPending = null;
    const e = s.e;
    e.answered = true;
    e.responseSize = 1;
    e.responseTs = this.ts;
    e.done = true;
    if (byte === 0x4e /* N */) {
      e.response.type = e.request.type === 'SSLRequest' ? 'SSLRefused' : 'GSSENCRefused';
    } else if (byte === 0x53 /* S */ || byte === 0x47 /* G */) {
      e.response.type = byte === 0x53 ? 'SSLAccepted' : 'GSSENCAccepted';
      this.dead = true; // encrypted from here on
      this.q.flush();
    } else if (byte === 0x45 /* E: an old server's error instead of N */) {
      e.response.type = 'ErrorResponse';
      this.clientStartup = false;
    } else {
      throw new PgError(`SSLRequest answered with 0x${byte.toString(16)}`);
    }
  }

  private client(type: number, b: Buffer, p: number, end: number, size: number, ts: Timestamp): void {
    const t = String.fromCharCode(type);
    let s: Slot | null = null;
    switch (t) {
      case 'Q': {
        this.closeDraft();
        this.lastInBatch = null;
        s = this.slot('Query', ts, true);
        s.e.request.query = clip(cstr(b, p, end)[0], QUERY_CAP);
        this.addOp('Q', s);
        break;
      }
      case 'F':
        this.closeDraft();
        s = this.slot('FunctionCall', ts, true);
        this.addOp('F', s);
        break;
      case 'P': {
        const [name, q] = cstr(b, p, end);
        const text = clip(cstr(b, q, end)[0], QUERY_CAP);
        this.stmts.set(name, text);
        if (this.stmts.size > 10000) this.stmts.clear();
        s = this.draftSlot(ts);
        if (!s.exec) { s.e.request.query = text; s.e.request.statement = name; }
        this.addOp('P', s);
        break;
      }
      case 'B': {
        let q = p;
        let portal: string, stmt: string;
        [portal, q] = cstr(b, q, end);
        [stmt, q] = cstr(b, q, end);
        const params = this.bindParams(b, q, end);
        this.portals.set(portal, { stmt, params });
        if (this.portals.size > 10000) this.portals.clear();
        s = this.draftSlot(ts);
        const r = s.e.request;
        if (!s.exec) {
          r.portal = portal; r.statement = stmt; r.parameters = params;
          r.query = this.stmts.get(stmt) ?? r.query;
        }
        this.addOp('B', s);
        break;
      }
      case 'D': case 'C':
        s = this.draftSlot(ts);
        this.addOp(t, s);
        break;
      case 'E': {
        const portal = cstr(b, p, end)[0];
        s = this.draftSlot(ts);
        const r = s.e.request;
        r.type = 'Execute';
        r.portal = portal;
        const bound = this.portals.get(portal);
        if (bound) {
          r.statement = bound.stmt;
          r.parameters = bound.params;
          r.query = this.stmts.get(bound.stmt) ?? r.query;
        }
        s.exec = true;
        this.addOp('E', s);
        this.closeDraft();
        this.lastInBatch = s;
        break;
      }
      case 'S':
        s = this.draft ?? this.lastInBatch;
        this.addOp('S', s);
        this.closeDraft();
        this.lastInBatch = null;
        break;
      case 'H':
        s = this.draft ?? this.lastInBatch;
        break;
      case 'p':
        s = this.startup;
        break;
      default: // copy data / done / fail, Terminate
        s = this.ops[0]?.slot ?? null;
    }
    if (s && !s.e.done) s.e.requestSize += size;
  }

  private bindParams(b: Buffer, p: number, end: number): (string | null)[] {
    if (p + 2 > end) return [];
    const nf = b.readUInt16BE(p);
    p += 2;
    const fmts: number[] = [];
    for (let i = 0; i < nf && p + 2 <= end; i++, p += 2) fmts.push(b.readUInt16BE(p));
    if (p + 2 > end) return [];
    const n = b.readUInt16BE(p);
    p += 2;
    const out: (string | null)[] = [];
    for (let i = 0; i < n && p + 4 <= end; i++) {
      const len = b.readInt32BE(p);
      p += 4;
      if (len < 0) { out.push(null); continue; }
      const stop = Math.min(end, p + len);
      const binary = (nf === 1 ? fmts[0] : fmts[i]) === 1;
      const shown = Math.min(stop, p + PARAM_CAP);
      let v = binary ? '\\x' + b.toString('hex', p, shown) : b.toString('utf8', p, shown);
      if (stop > shown) v += '…';
      out.push(v);
      p += len;
    }
    return out;
  }

  // ------------------------------------------------------------------ server → client

  /** The exchange the server is answering now. */
  private target(): Slot | null {
    if (this.startup && !this.startup.e.done) return this.startup;
    return this.ops[0]?.slot ?? null;
  }

  private server(type: number, b: Buffer, p: number, end: number, size: number): void {
    const t = String.fromCharCode(type);
    const inStartup = this.startup !== null && !this.startup.e.done;
    const head = this.ops[0];
    const s = this.target();
    const e = s && !s.e.done ? s.e : null;
    if (e) {
      e.answered = true;
      e.responseSize += size;
      e.responseTs = this.ts;
    }
    const r = e?.response;
    switch (t) {
      case 'R': {
        if (r && inStartup && end - p >= 4) {
          const code = b.readInt32BE(p);
          let name = AUTH[code] ?? `Auth${code}`;
          if (code === 10) {
            const mechs: string[] = [];
            let q = p + 4;
            while (q < end && b[q] !== 0) { let m: string; [m, q] = cstr(b, q, end); mechs.push(m); }
            name += ` (${mechs.join(', ')})`;
          }
          r.authentication.push(name);
        }
        return;
      }
      case 'S':
        if (r && inStartup) { const [k, q] = cstr(b, p, end); r.serverParameters[k] = cstr(b, q, end)[0]; }
        return;
      case 'K':
        if (r && inStartup && end - p >= 4) r.backendPid = b.readInt32BE(p);
        return;
      case 'Z':
        if (inStartup) {
          r!.type ||= 'ReadyForQuery';
          this.startup!.e.done = true;
          return;
        }
        // Ends a simple query, a function call or an extended batch (its Sync).
        while (this.ops.length) {
          const op = this.popOp()!;
          if (op.kind === 'Q' || op.kind === 'F' || op.kind === 'S') break;
        }
        return;
      case 'E': {
        const err = this.errorFields(b, p, end);
        if (!e) {
          if (inStartup || head || !err.code) return;
          // An error with nothing asked (e.g. the server shutting down): an item of its own.
          const x = this.q.add(newRequest(''), { ...newResponse(), type: 'ErrorResponse', errorSeverity: err.severity, errorCode: err.code, errorMessage: err.message, errorDetail: err.detail }, this.ts, 0);
          x.responseSize = size; x.responseTs = this.ts; x.answered = true; x.done = true;
          return;
        }
        if (!r!.errorCode) {
          r!.type = 'ErrorResponse';
          r!.errorSeverity = err.severity; r!.errorCode = err.code; r!.errorMessage = err.message; r!.errorDetail = err.detail;
        }
        if (inStartup) { this.startup!.e.done = true; return; }
        if (head && 'PBDEC'.includes(head.kind)) {
          // Extended query: the server skips every message up to the Sync.
          while (this.ops.length && 'PBDEC'.includes(this.ops[0].kind)) {
            const op = this.popOp()!;
            const x = op.slot?.e;
            if (x && !x.done && x !== e && !x.response.errorCode) x.response.type = 'Skipped';
          }
        }
        return;
      }
      case '1': case '2': case '3': case 'n':
        if (head && head.kind === ({ '1': 'P', '2': 'B', '3': 'C', n: 'D' } as Record<string, string>)[t]) this.popOp();
        return;
      case 'T': {
        if (r) {
          const n = end - p >= 2 ? b.readUInt16BE(p) : 0;
          const cols: string[] = [];
          let q = p + 2;
          for (let i = 0; i < n && i < MAX_COLUMNS && q < end; i++) {
            let c: string;
            [c, q] = cstr(b, q, end);
            cols.push(c);
            q += 18;
          }
          r.columns = cols;
        }
        if (head?.kind === 'D') this.popOp();
        return;
      }
      case 'D':
        if (r) r.rows++;
        return;
      case 'C': case 'I': case 's': {
        if (r) {
          if (t === 'C') {
            const tag = cstr(b, p, end)[0];
            r.commandTag = tag;
            r.commandTags.push(tag);
            if (!r.errorCode) r.type = 'CommandComplete';
          } else if (!r.errorCode) r.type = t === 'I' ? 'EmptyQueryResponse' : 'PortalSuspended';
        }
        if (head?.kind === 'E') this.popOp();
        return;
      }
      case 'V':
        if (r && !r.errorCode) r.type = 'FunctionCallResponse';
        return;
      default: // N notice, A notification, t, G/H/W copy, d/c copy data, v negotiate
        return;
    }
  }

  private errorFields(b: Buffer, p: number, end: number): { severity: string; code: string; message: string; detail: string } {
    const f: Record<string, string> = {};
    let q = p;
    while (q < end && b[q] !== 0) {
      const k = String.fromCharCode(b[q]);
      let v: string;
      [v, q] = cstr(b, q + 1, end);
      f[k] = v;
    }
    return { severity: f.V ?? f.S ?? '', code: f.C ?? '', message: f.M ?? '', detail: f.D ?? '' };
  }
}

class PgError extends Error {}

/**
 * Client side: a StartupMessage (protocol 3.x), SSLRequest, GSSENCRequest or CancelRequest —
 * an int32 length and a known int32 code — or, for a capture begun mid-connection, a complete
 * simple Query message ('Q', length, NUL-terminated printable text).
 */
export function detectPg(b: Buffer, dir: Direction): boolean | 'maybe' {
  if (dir !== 0 || b.length === 0) return false;
  if (b[0] === 0) {
    if (b.length < 8) return b[1] === undefined || b[1] === 0 ? 'maybe' : false;
    const len = b.readInt32BE(0);
    const code = b.readInt32BE(4);
    if (code === CODE_SSL || code === CODE_GSSENC) return len === 8;
    if (code === CODE_CANCEL) return len === 16;
    return code >> 16 === 3 && (code & 0xffff) < 16 && len > 8 && len < 10000;
  }
  if (b[0] !== 0x51 /* Q */) return false;
  if (b.length < 5) return 'maybe';
  const len = b.readInt32BE(1);
  if (len < 6 || len > 1 << 20) return false;
  if (b.length < 1 + len) return b.length >= 4096 ? false : 'maybe';
  if (b[len] !== 0) return false;
  for (let i = 5; i < len; i++) if (b[i] < 0x09) return false;
  return true;
}

export const postgresql: Dissector = {
  name: 'postgresql',
  priority: PROTOCOLS.postgresql.priority,
  detect: (first, dir) => detectPg(first, dir),
  tcp: (ctx) => new PgStream(ctx),
};
