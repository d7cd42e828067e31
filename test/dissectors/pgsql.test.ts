/**
 * PostgreSQL from real traffic: Debian's PostgreSQL (initdb in a temporary directory, SCRAM
 * passwords over TCP) driven by `psql` (SSLRequest refused with 'N', simple queries, a
 * multi-statement query, an error) and the `pg` npm client (extended protocol with parameters,
 * a named prepared statement, an error at Parse, a 20,000-row result, a connection reset
 * mid-result), 200 extended-query batches pipelined on one connection (pg authenticates, the
 * test then writes the batches at once on its socket), plus a raw socket that sends half a
 * startup packet; captured with tcpdump on lo. Checked against what the clients got and against
 * tshark's PGSQL dissector (statements, Bind parameters, command tags, SQLSTATEs and DataRow
 * counts per connection, in order).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';
import { captureLoopback } from '../helpers/capture';
import { startPostgres, PG_PASSWORD, type DbServer } from '../helpers/db-servers';
import { cliItems, itemsOf, tsharkRows, split, leaveMidMessage } from './db-lib';
import type { Item, PostgresqlRequest, PostgresqlResponse } from '../../capture/item/schema';

let srv: DbServer;
let file = '';
let items: Item[] = [];
let bigRows = 0;
const PIPELINED = 200;

/** A frontend message: type byte, int32 length, body. */
function msg(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const h = Buffer.alloc(5);
  h.write(type, 0, 'latin1');
  h.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([h, body]);
}
const z = (s: string) => Buffer.from(s + '\0');
const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };

async function pipeline(port: number): Promise<void> {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
  await c.connect();
  const sock = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
  c.on('error', () => {}); // pg no longer reads this socket: its end is not pg's to report
  sock.removeAllListeners('data');
  const batches: Buffer[] = [];
  for (let i = 0; i < PIPELINED; i++) {
    const q = i === PIPELINED / 2 ? 'SELECT 1 / $1::int AS d' : 'SELECT $1::int * 2 AS d';
    const v = Buffer.from(String(i === PIPELINED / 2 ? 0 : i));
    batches.push(msg('P', z(''), z(q), i16(0)), msg('B', z(''), z(''), i16(0), i16(1), i32(v.length), v, i16(0)), msg('E', z(''), i32(0)), msg('S'));
  }
  let ready = 0;
  let buf = Buffer.alloc(0);
  await new Promise<void>((res) => {
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5 && buf.length >= 1 + buf.readInt32BE(1)) {
        if (buf[0] === 0x5a /* Z */) ready++;
        buf = buf.subarray(1 + buf.readInt32BE(1));
      }
      if (ready === PIPELINED) res();
    });
    sock.write(Buffer.concat(batches));
  });
  sock.end(msg('X'));
}

before(async () => {
  srv = await startPostgres();
  const port = srv.port;
  file = await captureLoopback(`tcp port ${port}`, async () => {
    const env = { ...process.env, PGPASSWORD: PG_PASSWORD, PGSSLMODE: 'prefer', PGCONNECT_TIMEOUT: '10' };
    execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-X', '-q',
      '-c', 'CREATE TABLE t (id int PRIMARY KEY, name text)',
      '-c', "INSERT INTO t VALUES (1, 'one'), (2, 'two')",
      '-c', 'SELECT id, name FROM t ORDER BY id',
      '-c', 'SELECT 1 AS a; SELECT 2 AS b'], { env, stdio: 'ignore' });
    try {
      execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-X', '-q', '-c', 'SELECT * FROM nosuch'], { env, stdio: 'ignore' });
    } catch { /* the error is the point */ }
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
    await c.connect();
    assert.equal((await c.query('SELECT $1::int + $2::int AS sum', [40, 2])).rows[0].sum, 42);
    await c.query({ name: 'ins', text: 'INSERT INTO t VALUES ($1, $2)', values: [3, null] });
    await c.query('UPDATE t SET name = $1 WHERE id > $2', ['many', 1]);
    await assert.rejects(c.query('SELECT * FROM nosuch WHERE id = $1', [1]), /does not exist/);
    await assert.rejects(c.query('INSERT INTO t VALUES ($1, $2)', [1, 'dup']), /duplicate key/);
    bigRows = (await c.query('SELECT g, md5(g::text) AS h FROM generate_series(1, $1::int) g', [20000])).rows.length;
    // One DataRow of 3 MB: past the 1 MiB kept of a message, the rest counted and skipped.
    assert.equal((await c.query("SELECT repeat('x', 3000000) AS huge")).rows[0].huge.length, 3_000_000);
    await c.query('SELECT 7 AS after_huge');
    await c.end();
    // Pipelining: the pg client authenticates, then its socket is taken over and 200
    // Parse/Bind/Execute/Sync batches are written at once (one fails: division by zero).
    await pipeline(port);
    // A connection reset while a large result is arriving.
    const d = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: PG_PASSWORD, database: 'postgres' });
    await d.connect();
    const sock = (d as unknown as { connection: { stream: net.Socket } }).connection.stream;
    d.on('error', () => {});
    const q = d.query("SELECT g, repeat('x', 200) FROM generate_series(1, 50000) g").catch(() => {});
    sock.once('data', () => sock.resetAndDestroy());
    await q;
    // Half a startup packet, then the client goes away.
    const half = net.connect(port, '127.0.0.1');
    await new Promise<void>((res) => half.once('connect', () => res()));
    await leaveMidMessage(half, Buffer.from([0, 0, 0, 40, 0, 3, 0, 0, 0x75, 0x73]));
  });
  ({ items } = await itemsOf(file));
});

after(async () => { await srv?.stop(); });

const req = (i: Item) => i.request as PostgresqlRequest;
const res = (i: Item) => i.response as PostgresqlResponse;

test('psql: SSLRequest refused with N, a SCRAM startup, simple queries with tags, rows and columns', () => {
  const ssl = items.filter((i) => req(i).type === 'SSLRequest');
  assert.ok(ssl.length >= 2);
  for (const i of ssl) { assert.equal(res(i).type, 'SSLRefused'); assert.equal(i.responseSize, 1); assert.equal(i.error, null); }
  const st = items.find((i) => req(i).type === 'Startup')!;
  assert.equal(st.protocol.name, 'postgresql');
  assert.equal(req(st).startupParameters.user, 'postgres');
  assert.deepEqual(res(st).authentication, ['SASL (SCRAM-SHA-256)', 'SASLContinue', 'SASLFinal', 'Ok']);
  assert.match(res(st).serverParameters.server_version, /^\d+/);
  assert.ok(res(st).backendPid > 0);
  assert.equal(res(st).type, 'ReadyForQuery');
  const qs = items.filter((i) => req(i).type === 'Query');
  const by = (q: string) => qs.find((i) => req(i).query === q)!;
  assert.equal(res(by('CREATE TABLE t (id int PRIMARY KEY, name text)')).commandTag, 'CREATE TABLE');
  assert.equal(res(by("INSERT INTO t VALUES (1, 'one'), (2, 'two')")).commandTag, 'INSERT 0 2');
  const sel = by('SELECT id, name FROM t ORDER BY id');
  assert.deepEqual([res(sel).commandTag, res(sel).rows, res(sel).columns], ['SELECT 2', 2, ['id', 'name']]);
  assert.deepEqual(res(by('SELECT 1 AS a; SELECT 2 AS b')).commandTags, ['SELECT 1', 'SELECT 1']);
  const err = by('SELECT * FROM nosuch');
  assert.deepEqual([res(err).type, res(err).errorSeverity, res(err).errorCode], ['ErrorResponse', 'ERROR', '42P01']);
  assert.match(res(err).errorMessage, /relation "nosuch" does not exist/);
  assert.equal(err.error, null);
});

test('pg (extended protocol): one item per Execute with its statement text and parameters', () => {
  const ex = items.filter((i) => req(i).type === 'Execute');
  const sum = ex.find((i) => req(i).query === 'SELECT $1::int + $2::int AS sum')!;
  assert.deepEqual(req(sum).parameters, ['40', '2']);
  assert.deepEqual([res(sum).commandTag, res(sum).rows, res(sum).columns], ['SELECT 1', 1, ['sum']]);
  const ins = ex.find((i) => req(i).statement === 'ins')!;
  assert.deepEqual([req(ins).query, req(ins).parameters, res(ins).commandTag], ['INSERT INTO t VALUES ($1, $2)', ['3', null], 'INSERT 0 1']);
  const upd = ex.find((i) => req(i).query.startsWith('UPDATE'))!;
  assert.deepEqual([req(upd).parameters, res(upd).commandTag], [['many', '1'], 'UPDATE 2']);
  const dup = ex.find((i) => req(i).parameters[1] === 'dup')!;
  assert.deepEqual([res(dup).errorCode, res(dup).type], ['23505', 'ErrorResponse']);
  const big = ex.find((i) => req(i).query.includes('generate_series(1, $1::int)'))!;
  assert.equal(bigRows, 20000);
  assert.deepEqual([res(big).rows, res(big).commandTag, big.error], [20000, 'SELECT 20000', null]);
  assert.ok(big.responseSize > 20000 * 40);
});

test('200 pipelined extended-query batches: one item each, in order, with parameters, rows and tags; one division by zero', () => {
  const p = items.filter((i) => req(i).query === 'SELECT $1::int * 2 AS d' || req(i).query === 'SELECT 1 / $1::int AS d');
  assert.equal(p.length, PIPELINED);
  p.forEach((i, k) => {
    assert.equal(i.error, null);
    assert.equal(req(i).type, 'Execute');
    if (k === PIPELINED / 2) {
      assert.deepEqual([req(i).parameters, res(i).errorCode, res(i).rows], [['0'], '22012', 0]);
    } else {
      // (No Describe in these batches, so no RowDescription: no column names.)
      assert.deepEqual([req(i).parameters, res(i).commandTag, res(i).rows, res(i).columns], [[String(k)], 'SELECT 1', 1, []]);
    }
  });
  assert.equal(new Set(p.map((i) => i.src.port)).size, 1, 'one connection');
});

test('a 3 MB row (one message past the 1 MiB kept): counted in full, and the next query still pairs', () => {
  const huge = items.find((i) => req(i).query === "SELECT repeat('x', 3000000) AS huge")!;
  assert.deepEqual([res(huge).rows, res(huge).commandTag, res(huge).columns, huge.error], [1, 'SELECT 1', ['huge'], null]);
  assert.ok(huge.responseSize > 3_000_000, `${huge.responseSize} bytes`);
  const after = items.find((i) => req(i).query === 'SELECT 7 AS after_huge')!;
  assert.deepEqual([res(after).rows, res(after).commandTag, after.error], [1, 'SELECT 1', null]);
});

test('an error at Parse: the batch is one item with the SQLSTATE', () => {
  const bad = items.filter((i) => req(i).query === 'SELECT * FROM nosuch WHERE id = $1');
  assert.equal(bad.length, 1);
  assert.deepEqual([res(bad[0]).errorCode, res(bad[0]).errorSeverity], ['42P01', 'ERROR']);
  assert.equal(bad[0].error, null);
});

test('a reset mid-result and half a startup packet each end in a clear error item; nothing is stuck', () => {
  const cut = items.find((i) => req(i).query.includes('generate_series(1, 50000)'))!;
  assert.equal(cut.error?.type, 'dissection');
  assert.match(cut.error!.msg, /cut|ended/);
  assert.ok(res(cut).rows > 0 && res(cut).rows < 50000, `${res(cut).rows} rows before the reset`);
  const half = items.filter((i) => i.error?.msg.includes('client message cut'));
  assert.equal(half.length, 1);
  assert.equal(half[0].requestSize, 10);
});

test('tshark agrees: statements, Bind parameters, command tags, SQLSTATEs and DataRow counts per connection, in order', () => {
  // The built CLI prints the same items the pipeline gave in-process (ids aside).
  const strip = (l: Item[]) => l.map((i) => JSON.stringify({ ...i, id: '', worker: '' }));
  assert.deepEqual(strip(cliItems(file)), strip(JSON.parse(JSON.stringify(items))));
  const port = String(srv.port);
  const rows = tsharkRows(file, ['-d', `tcp.port==${port},pgsql`, '-Y', 'pgsql'], ['tcp.srcport', 'tcp.dstport', 'pgsql.type', 'pgsql.query', 'pgsql.tag', 'pgsql.code', 'pgsql.val.length', 'pgsql.val.data']);
  type Side = { queries: string[]; tags: string[]; codes: string[]; dataRows: number; params: (string | null)[] };
  const theirs = new Map<string, Side>();
  const side = (p: string) => { let s = theirs.get(p); if (!s) theirs.set(p, (s = { queries: [], tags: [], codes: [], dataRows: 0, params: [] })); return s; };
  for (const [sp, dp, types, queries, tags, codes, lens, data] of rows) {
    if (dp === port) {
      side(sp).queries.push(...split(queries));
      // Bind parameters, in order: a length of -1 is NULL (and has no data field).
      const values = split(data);
      let k = 0;
      for (const l of split(lens)) side(sp).params.push(l === '-1' ? null : Buffer.from(values[k++] ?? '', 'hex').toString());
    } else {
      const s = side(dp);
      s.tags.push(...split(tags));
      s.codes.push(...split(codes));
      s.dataRows += split(types).filter((t) => t === 'Data row').length;
    }
  }
  const ours = new Map<string, Side>();
  for (const i of items) {
    let s = ours.get(i.src.port);
    if (!s) ours.set(i.src.port, (s = { queries: [], tags: [], codes: [], dataRows: 0, params: [] }));
    s.params.push(...req(i).parameters);
    if (['Query', 'Execute', 'Parse'].includes(req(i).type) && !(req(i).type === 'Execute' && req(i).statement === 'ins' && false)) s.queries.push(req(i).query);
    s.tags.push(...res(i).commandTags);
    if (res(i).errorCode) s.codes.push(res(i).errorCode);
    s.dataRows += res(i).rows;
  }
  for (const [p, s] of theirs) {
    if (s.queries.length === 0 && s.tags.length === 0) continue;
    assert.deepEqual(ours.get(p), s, `connection ${p}`);
  }
  assert.ok([...theirs.values()].filter((s) => s.queries.length).length >= 4);
});

test('KFL2 variables and the legacy macro select PostgreSQL items by statement, SQLSTATE and rows', async () => {
  const { compileQuery } = await import('../../server/kfl');
  const n = (q: string, lang: 'kfl' | 'kfl2') => items.filter((i) => compileQuery(q, lang).match(i)).length;
  assert.equal(n('postgresql && postgresql_error_code == "42P01"', 'kfl2'), 2);
  assert.equal(n('postgresql and response.errorCode == "42P01"', 'kfl'), 2);
  assert.equal(n('postgresql_rows >= 20000 && postgresql_command_tag == "SELECT 20000"', 'kfl2'), 1);
  assert.equal(n('postgresql_type == "Execute" && "many" in postgresql_parameters', 'kfl2'), 1);
  assert.equal(n('postgresql_query.startsWith("INSERT")', 'kfl2'), items.filter((i) => req(i).query.startsWith('INSERT')).length);
  assert.equal(n('postgresql', 'kfl'), items.length);
});
