/**
 * MySQL / MariaDB client/server protocol (4.1+) over TCP. Items:
 *  - the handshake: server greeting + login request + authentication exchange, up to OK/ERR;
 *  - one per command (sequence id 0 from the client) with its response: OK (affected rows,
 *    insert id, warnings), ERR (code, SQLSTATE, message), a result set (column names, row
 *    count; several result sets of one multi-statement/CALL add up), a prepare's statement id
 *    and parameter count. COM_STMT_EXECUTE carries the prepared text and its decoded binary
 *    parameters. COM_QUIT, COM_STMT_CLOSE and COM_STMT_SEND_LONG_DATA have no response.
 * TLS (an SSL request in the login) and the compressed protocol end the dissection of the
 * connection after the handshake item.
 */
import type { Direction, Dissector, DissectorContext, TcpStreamParser, Timestamp } from '../types';
import type { MysqlRequest, MysqlResponse } from '../item/schema';
import { PROTOCOLS } from '../item/protocols';
import { ByteQueue, ExchangeQueue, MAX_KEEP, type Exchange } from './exchanges';
import { Reader, binaryValue } from './mysql-wire';

const QUERY_CAP = 16 * 1024;
const MAX_COLUMNS = 256;

const CLIENT_CONNECT_WITH_DB = 0x8;
const CLIENT_COMPRESS = 0x20;
const CLIENT_SSL = 0x800;
const CLIENT_SECURE_CONNECTION = 0x8000;
const CLIENT_PLUGIN_AUTH = 0x80000;
const CLIENT_PLUGIN_AUTH_LENENC = 0x200000;
const CLIENT_DEPRECATE_EOF = 0x1000000;
const CLIENT_QUERY_ATTRIBUTES = 0x8000000;
const MORE_RESULTS = 0x8;

export const COMMANDS: Record<number, string> = {
  0x00: 'COM_SLEEP', 0x01: 'COM_QUIT', 0x02: 'COM_INIT_DB', 0x03: 'COM_QUERY', 0x04: 'COM_FIELD_LIST',
  0x05: 'COM_CREATE_DB', 0x06: 'COM_DROP_DB', 0x07: 'COM_REFRESH', 0x08: 'COM_SHUTDOWN', 0x09: 'COM_STATISTICS',
  0x0a: 'COM_PROCESS_INFO', 0x0b: 'COM_CONNECT', 0x0c: 'COM_PROCESS_KILL', 0x0d: 'COM_DEBUG', 0x0e: 'COM_PING',
  0x0f: 'COM_TIME', 0x10: 'COM_DELAYED_INSERT', 0x11: 'COM_CHANGE_USER', 0x12: 'COM_BINLOG_DUMP',
  0x13: 'COM_TABLE_DUMP', 0x14: 'COM_CONNECT_OUT', 0x15: 'COM_REGISTER_SLAVE', 0x16: 'COM_STMT_PREPARE',
  0x17: 'COM_STMT_EXECUTE', 0x18: 'COM_STMT_SEND_LONG_DATA', 0x19: 'COM_STMT_CLOSE', 0x1a: 'COM_STMT_RESET',
  0x1b: 'COM_SET_OPTION', 0x1c: 'COM_STMT_FETCH', 0x1d: 'COM_DAEMON', 0x1e: 'COM_BINLOG_DUMP_GTID',
  0x1f: 'COM_RESET_CONNECTION', 0xfa: 'COM_STMT_BULK_EXECUTE',
};
/** Commands the server never answers. */
const NO_RESPONSE = new Set([0x01, 0x18, 0x19]);

type Ex = Exchange<MysqlRequest, MysqlResponse>;
type State = 'first' | 'cols' | 'colsEof' | 'rows' | 'prep' | 'fieldList' | 'auth';
/** steps (prepare responses): [kind, count] with kind 0 parameter definitions, 1 EOF (count 1, or 2 for "maybe"), 2 column definitions. */
interface Cmd { e: Ex; cmd: number; state: State; left: number; steps?: [number, number][] }
interface Stmt { query: string; numParams: number; types: number[] | null }

const newRequest = (command: string): MysqlRequest => ({ command, query: '', statementId: 0, parameters: [], user: '', schema: '' });
const newResponse = (): MysqlResponse => ({ type: '', affectedRows: 0, lastInsertId: 0, warnings: 0, errorCode: 0, sqlState: '', errorMessage: '', columns: [], columnCounts: [], rows: 0, statementId: 0, numParams: 0, serverVersion: '', connectionId: 0 });

class MysqlStream implements TcpStreamParser {
  private readonly q: ExchangeQueue<MysqlRequest, MysqlResponse>;
  private readonly bq: [ByteQueue, ByteQueue] = [new ByteQueue(), new ByteQueue()];
  /** A payload split over 16 MiB packets: its kept start and total size so far. */
  private readonly big: [{ b: Buffer; size: number; seq: number } | null, { b: Buffer; size: number; seq: number } | null] = [null, null];
  private phase: 'start' | 'login' | 'auth' | 'command' = 'start';
  private hs: Ex | null = null;
  private serverCaps = 0;
  /** Negotiated capabilities, or -1 while unknown (capture began mid-connection). */
  private caps = -1;
  private waiting: Cmd[] = [];
  private stmts = new Map<number, Stmt>();
  private dead = false;
  private ts: Timestamp = { sec: 0, nsec: 0 };
  private msgTs: [Timestamp | null, Timestamp | null] = [null, null];

  constructor(private readonly ctx: DissectorContext) {
    this.q = new ExchangeQueue(ctx, PROTOCOLS.mysql);
  }

  data(dir: Direction, bytes: Buffer, ts: Timestamp): void {
    if (this.dead || bytes.length === 0) return;
    this.ts = ts;
    const bq = this.bq[dir];
    if (bq.length === 0) this.msgTs[dir] = ts;
    bq.push(bytes);
    // Any 3-byte length frames a packet: there is no framing error to catch here, only gaps.
    this.pump(dir);
    bq.settle();
    this.q.flush();
  }

  gap(dir: Direction, length: number, _ts: Timestamp, why?: 'lost' | 'snaplen'): void {
    if (this.dead) return;
    this.fail(why === 'snaplen' ? "cut by the capture's snap length" : `capture gap of ${length} bytes in the ${dir === 0 ? 'client' : 'server'} packets`);
  }

  end(dir: Direction | null, ts: Timestamp, reason: 'fin' | 'rst' | 'timeout' | 'eof'): void {
    if (dir !== null || this.dead) return;
    this.dead = true;
    const left0 = this.bq[0].unfinished + (this.big[0]?.size ?? 0);
    if (left0 > 0) this.q.addCut(newRequest(''), newResponse(), this.msgTs[0] ?? ts, left0, `client packet cut: the connection ended mid-packet (${reason})`);
    const left1 = this.bq[1].unfinished + (this.big[1]?.size ?? 0);
    const head = this.phase === 'command' ? this.waiting[0]?.e : this.hs;
    if (left1 > 0 && head && !head.done) {
      head.answered = true;
      head.responseSize += left1;
    }
    if (this.hs && !this.hs.done && !this.hs.answered && this.phase !== 'start') this.hs.answered = true; // the greeting was its start
    this.q.endAll(reason, left1 > 0 ? `response cut: the connection ended mid-packet (${reason})` : null);
  }

  private fail(why: string): void {
    this.ctx.warn('mysql', why);
    this.dead = true;
    this.q.failAll(why);
  }

  private pump(dir: Direction): void {
    const bq = this.bq[dir];
    for (;;) {
      if (this.dead || !bq.payOwed() || bq.length < 4) return;
      const [h, ho] = bq.peek(4);
      const len = h[ho] | (h[ho + 1] << 8) | (h[ho + 2] << 16);
      const seq = h[ho + 3];
      const keep = Math.min(4 + len, MAX_KEEP);
      if (bq.length < keep) return;
      const [b, o] = bq.peek(keep);
      const mts = this.msgTs[dir] ?? this.ts;
      const big = this.big[dir];
      if (len === 0xffffff) {
        // The payload continues in the next packet.
        if (big) big.size += 4 + len;
        else this.big[dir] = { b: Buffer.from(b.subarray(o + 4, o + keep)), size: 4 + len, seq };
      } else if (big) {
        this.big[dir] = null;
        this.packet(dir, big.seq, big.b, 0, big.b.length, big.size + 4 + len, mts);
      } else {
        this.packet(dir, seq, b, o + 4, o + keep, 4 + len, mts);
      }
      bq.drop(4 + len); // past MAX_KEEP: the rest is counted, not kept
      this.msgTs[dir] = this.ts;
    }
  }

  private packet(dir: Direction, seq: number, b: Buffer, p: number, end: number, size: number, ts: Timestamp): void {
    if (dir === 1) {
      if (this.phase === 'start' && seq === 0 && b[p] === 0x0a) return this.greeting(new Reader(b, p + 1, end), size, ts);
      if (this.phase === 'login' || this.phase === 'auth') return this.authReply(b, p, end, size);
      if (this.phase === 'start') this.phase = 'command';
      return this.response(b, p, end, size);
    }
    if (this.phase === 'login' && seq === 1) return this.login(new Reader(b, p, end), size);
    if (this.phase === 'auth' || (this.phase === 'login' && seq > 1)) {
      if (this.hs && !this.hs.done) this.hs.requestSize += size;
      return;
    }
    if (this.phase === 'start') this.phase = 'command';
    if (seq !== 0) {
      // Not a command: more of the current one (LOCAL INFILE data, COM_CHANGE_USER auth).
      const w = this.waiting[0];
      if (w && !w.e.done) w.e.requestSize += size;
      return;
    }
    this.command(new Reader(b, p, end), size, ts);
  }

  // ------------------------------------------------------------------ handshake

  private greeting(r: Reader, size: number, ts: Timestamp): void {
    const e = this.q.add(newRequest('Handshake'), newResponse(), ts, 0);
    e.response.serverVersion = r.cstr();
    e.response.connectionId = r.u32();
    r.p += 9; // auth data part 1 + filler
    let caps = r.u16();
    r.u8(); // charset
    r.u16(); // status
    caps |= r.u16() << 16;
    this.serverCaps = caps >>> 0;
    e.responseSize = size;
    e.answered = true;
    e.responseTs = this.ts;
    this.hs = e;
    this.phase = 'login';
  }

  private login(r: Reader, size: number): void {
    const e = this.hs!;
    e.requestSize += size;
    const caps = r.u32();
    this.caps = (caps & this.serverCaps) >>> 0;
    if (r.left <= 28 && caps & CLIENT_SSL) {
      // An SSL request: TLS follows, nothing more is readable.
      e.response.type = 'SSL';
      e.done = true;
      this.dead = true;
      return;
    }
    r.p += 4 + 1 + 23;
    e.request.user = r.cstr();
    if (caps & CLIENT_PLUGIN_AUTH_LENENC) r.p += r.lenenc();
    else if (caps & CLIENT_SECURE_CONNECTION) r.p += r.u8();
    else r.cstr();
    if (caps & CLIENT_CONNECT_WITH_DB && r.left > 0) e.request.schema = r.cstr();
    this.phase = 'auth';
  }

  private authReply(b: Buffer, p: number, end: number, size: number): void {
    const e = this.hs;
    if (!e || e.done) return;
    e.responseSize += size;
    e.responseTs = this.ts;
    const c = b[p];
    if (c === 0x00 || c === 0xff) {
      if (c === 0x00) e.response.type = 'OK';
      else this.err(e.response, new Reader(b, p + 1, end));
      e.done = true;
      this.phase = 'command';
      if (c === 0x00 && this.caps !== -1 && this.caps & CLIENT_COMPRESS) {
        this.ctx.warn('mysql', 'compressed protocol: not dissected');
        this.dead = true;
      }
    }
    // 0xfe auth switch, 0x01 more auth data: the exchange goes on.
  }

  // ------------------------------------------------------------------ commands

  private command(r: Reader, size: number, ts: Timestamp): void {
    const cmd = r.u8();
    const e = this.q.add(newRequest(COMMANDS[cmd] ?? `COM_0x${cmd.toString(16).padStart(2, '0')}`), newResponse(), ts, size);
    const req = e.request;
    switch (cmd) {
      case 0x03:
        if (this.caps !== -1 && this.caps & CLIENT_QUERY_ATTRIBUTES) {
          const n = r.lenenc();
          r.lenenc();
          if (n > 0) { req.query = ''; break; } // query attributes with values: not decoded
        }
        req.query = r.bytes(r.left, QUERY_CAP);
        break;
      case 0x16:
        req.query = r.bytes(r.left, QUERY_CAP);
        break;
      case 0x02:
        req.schema = r.bytes(r.left, 256);
        break;
      case 0x17:
        this.execute(r, req);
        break;
      case 0x18: case 0x19: case 0x1a: case 0x1c:
        req.statementId = r.u32();
        req.query = this.stmts.get(req.statementId)?.query ?? '';
        if (cmd === 0x19) this.stmts.delete(req.statementId);
        break;
      case 0x11:
        req.user = r.cstr();
        break;
    }
    if (NO_RESPONSE.has(cmd)) {
      e.response.type = 'N/A';
      e.done = true;
      return;
    }
    this.waiting.push({ e, cmd, state: 'first', left: 0 });
  }

  private execute(r: Reader, req: MysqlRequest): void {
    const id = r.u32();
    req.statementId = id;
    r.u8(); // flags
    r.u32(); // iterations
    const st = this.stmts.get(id);
    if (!st) return;
    req.query = st.query;
    const n = st.numParams;
    if (n === 0 || r.left <= 0) return;
    const nullMap = r.p;
    r.p += (n + 7) >> 3;
    if (r.u8() === 1) {
      const types: number[] = [];
      for (let i = 0; i < n; i++) types.push(r.u16());
      st.types = types;
    }
    const types = st.types;
    if (!types) return;
    const out: (string | null)[] = [];
    for (let i = 0; i < n && r.p <= r.end; i++) {
      if (r.b[nullMap + (i >> 3)] & (1 << (i & 7))) { out.push(null); continue; }
      out.push(binaryValue(r, types[i]));
    }
    req.parameters = out;
  }

  private response(b: Buffer, p: number, end: number, size: number): void {
    const w = this.waiting[0];
    const c = b[p];
    if (!w) {
      if (c !== 0x00 && c !== 0xff) return;
      // An OK/ERR whose command was never seen (the capture began mid-connection).
      const e = this.q.add(newRequest(''), newResponse(), this.ts, 0);
      if (c === 0xff) this.err(e.response, new Reader(b, p + 1, end));
      else this.ok(e.response, new Reader(b, p + 1, end));
      e.responseSize = size; e.responseTs = this.ts; e.answered = true;
      e.error = { type: 'pair-not-found', msg: 'response without a command (the capture began mid-connection?)' };
      e.done = true;
      return;
    }
    const e = w.e;
    const res = e.response;
    e.answered = true;
    e.responseSize += size;
    e.responseTs = this.ts;
    const len = end - p;
    const r = new Reader(b, p + 1, end);
    const eof = c === 0xfe && len < 9;
    switch (w.state) {
      case 'first':
        if (c === 0xff) { this.err(res, r); return this.done(); }
        if (c === 0x00 && w.cmd === 0x16) {
          res.type = 'Prepare OK';
          res.statementId = r.u32();
          const cols = r.u16();
          res.columnCounts.push(cols);
          res.numParams = r.u16();
          r.u8();
          res.warnings = r.u16();
          this.stmts.set(res.statementId, { query: e.request.query, numParams: res.numParams, types: null });
          if (this.stmts.size > 10000) this.stmts.clear();
          // Then: the parameter definitions, an EOF, the column definitions, an EOF (no EOFs
          // with CLIENT_DEPRECATE_EOF; 2 = "maybe" while the capabilities are unknown).
          const eofStep = this.caps === -1 ? 2 : this.caps & CLIENT_DEPRECATE_EOF ? 0 : 1;
          const steps: [number, number][] = (w.steps = []);
          if (res.numParams > 0) { steps.push([0, res.numParams]); if (eofStep) steps.push([1, eofStep]); }
          if (cols > 0) { steps.push([2, cols]); if (eofStep) steps.push([1, eofStep]); }
          w.state = 'prep';
          if (steps.length === 0) this.done();
          return;
        }
        if (c === 0x00 && len >= 7) {
          this.ok(res, r);
          if (!(this.status & MORE_RESULTS)) this.done();
          return;
        }
        if (eof) { res.type ||= 'EOF'; return this.done(); }
        if (c === 0xfe && w.cmd === 0x11) { w.state = 'auth'; return; } // COM_CHANGE_USER: auth switch
        if (c === 0xfb) { res.type = 'LOCAL INFILE'; w.state = 'auth'; return; } // ends with OK/ERR after the file
        if (w.cmd === 0x09) { res.type = 'Statistics'; return this.done(); }
        if (w.cmd === 0x04) { res.type = 'Field List'; w.state = 'fieldList'; this.column(res, new Reader(b, p, end)); return; }
        res.type = 'Result Set';
        r.p = p;
        w.left = r.lenenc();
        res.columnCounts.push(w.left);
        if (res.columns.length) res.columns = []; // a later result set of a multi-result: its columns
        w.state = 'cols';
        return;
      case 'cols':
        this.column(res, new Reader(b, p, end));
        if (--w.left <= 0) w.state = this.caps !== -1 && this.caps & CLIENT_DEPRECATE_EOF ? 'rows' : 'colsEof';
        return;
      case 'colsEof':
        w.state = 'rows';
        // Capabilities unknown: a 5-byte EOF here is the end of the columns, anything else is a row or the end.
        if (eof && (this.caps !== -1 || len === 5)) return;
        return this.response2(w, c, len, r);
      case 'rows':
        return this.response2(w, c, len, r);
      case 'fieldList':
        if (eof || c === 0xff) { if (c === 0xff) this.err(res, r); return this.done(); }
        this.column(res, new Reader(b, p, end));
        return;
      case 'prep': {
        if (c === 0xff) { this.err(res, r); return this.done(); }
        const steps = w.steps!;
        let used = false;
        while (steps.length && !used) {
          const step = steps[0];
          if (step[0] === 1) {
            steps.shift();
            if (eof) used = true; // the EOF after a list of definitions
            else if (step[1] === 1) used = true; // (should have been an EOF: counted anyway)
            // else: no EOF after all (DEPRECATE_EOF): the packet is the next step's
          } else {
            if (step[0] === 2) this.column(res, new Reader(b, p, end));
            if (--step[1] === 0) steps.shift();
            used = true;
          }
        }
        if (!used) {
          // It belonged to the next command: the prepare ended before it.
          e.responseSize -= size;
          this.done();
          return this.response(b, p, end, size);
        }
        if (steps.length === 0) this.done();
        return;
      }
      case 'auth':
        if (c === 0x00 || c === 0xff) {
          if (c === 0xff) this.err(res, r);
          else this.ok(res, r);
          this.done();
        }
        return;
    }
  }

  /** The rows of a result set, up to its end (EOF/OK with 0xfe, or ERR). */
  private response2(w: Cmd, c: number, len: number, r: Reader): void {
    const res = w.e.response;
    if (c === 0xff) { this.err(res, r); return this.done(); }
    if (c === 0xfe && len < 0xffffff) {
      let status: number;
      if (len < 9 && len <= 5) { res.warnings = r.u16(); status = r.u16(); }
      else { r.lenenc(); r.lenenc(); status = r.u16(); res.warnings = r.u16(); }
      if (status & MORE_RESULTS) { w.state = 'first'; return; }
      return this.done();
    }
    res.rows++;
  }

  private status = 0;

  private ok(res: MysqlResponse, r: Reader): void {
    res.type = 'OK';
    res.affectedRows += r.lenenc();
    const id = r.lenenc();
    if (id) res.lastInsertId = id;
    this.status = r.u16();
    res.warnings = r.u16();
  }

  private err(res: MysqlResponse, r: Reader): void {
    res.type = 'ERR';
    res.errorCode = r.u16();
    if (r.b[r.p] === 0x23 /* # */) {
      r.p++;
      res.sqlState = r.b.toString('latin1', r.p, Math.min(r.end, r.p + 5));
      r.p += 5;
    }
    res.errorMessage = r.bytes(r.left, 4096);
  }

  private column(res: MysqlResponse, r: Reader): void {
    r.lenencStr(256); // catalog
    r.lenencStr(256); // schema
    r.lenencStr(256); // table
    r.lenencStr(256); // org_table
    const name = r.lenencStr(256);
    if (res.columns.length < MAX_COLUMNS) res.columns.push(name);
  }

  private done(): void {
    const w = this.waiting.shift();
    if (w) {
      w.e.done = true;
      w.e.response.type ||= 'OK';
    }
    this.status = 0;
  }
}

/**
 * Server side: the initial handshake packet (sequence 0, protocol 10, a version string starting
 * with a digit). Client side, for a capture begun mid-connection: a complete COM_QUERY packet
 * (sequence 0, command 3, printable text).
 */
export function detectMysql(b: Buffer, dir: Direction): boolean | 'maybe' {
  if (b.length < 4) return b.length > 0 ? 'maybe' : false;
  if (b[3] !== 0) return false;
  const len = b[0] | (b[1] << 8) | (b[2] << 16);
  if (dir === 1) {
    if (len < 20 || len > 1024) return false;
    if (b.length < 6) return 'maybe';
    if (b[4] !== 0x0a || b[5] < 0x30 || b[5] > 0x39) return false;
    if (b.length < 4 + len) return 'maybe';
    const z = b.indexOf(0, 5);
    return z > 5 && z < 4 + len;
  }
  if (len < 2 || len > 1 << 20) return false;
  if (b.length < 5) return 'maybe';
  if (b[4] !== 0x03) return false;
  const stop = Math.min(b.length, 4 + len);
  for (let i = 5; i < stop; i++) if (b[i] < 0x09) return false;
  return stop === 4 + len ? true : b.length >= 4096 ? false : 'maybe';
}

export const mysql: Dissector = {
  name: 'mysql',
  priority: PROTOCOLS.mysql.priority,
  detect: (first, dir) => detectMysql(first, dir),
  tcp: (ctx) => new MysqlStream(ctx),
};
