/**
 * MySQL/MariaDB from real traffic: Debian's MariaDB (mariadbd in a temporary directory,
 * --skip-ssl, no grant tables) driven by the `mysql` client (handshake, COM_QUERY, COM_INIT_DB,
 * an error) and the `mysql2` npm client (prepared statements via execute() with parameters of
 * several types, a multi-statement query, a 20,000-row result, a reset mid-result), plus a raw
 * socket that sends half a login packet, and 200 COM_QUERY packets pipelined on one connection
 * (mysql2 logs in, the test then writes them at once on its socket); captured with tcpdump on
 * lo. Checked against what the clients got and against tshark's MySQL dissector (commands,
 * statements, error codes, column counts per connection, in order; prepared statements'
 * parameters).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import mysql from 'mysql2/promise';
import { captureLoopback } from '../helpers/capture';
import { startMariadb, type DbServer } from '../helpers/db-servers';
import { cliItems, itemsOf, tsharkRows, split, leaveMidMessage } from './db-lib';
import type { Item, MysqlRequest, MysqlResponse } from '../../capture/item/schema';

let srv: DbServer;
let file = '';
let items: Item[] = [];
let bigRows = 0;
const PIPELINED = 200;

/** A client packet: 3-byte length, sequence id 0, payload. */
function packet(payload: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([h, payload]);
}

async function pipeline(port: number): Promise<void> {
  const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database: 'd' });
  const sock = (c as unknown as { connection: { stream: net.Socket } }).connection.stream;
  c.on('error', () => {}); // mysql2 no longer reads this socket
  sock.removeAllListeners('data');
  const queries = Array.from({ length: PIPELINED }, (_, i) => (i === PIPELINED / 2 ? 'SELECT * FROM nosuch2' : `SELECT ${i} AS n`));
  queries.push("SELECT 'pipeline-end'");
  let seen = Buffer.alloc(0);
  await new Promise<void>((res) => {
    // Done at the last result's closing packet: after the column definition and the row holding
    // 'pipeline-end', the first EOF/OK packet (0xfe). Read from the packets, not after a sleep.
    const ended = (): boolean => {
      let hits = 0;
      for (let o = 0; o + 4 <= seen.length; ) {
        const n = seen.readUIntLE(o, 3);
        if (o + 4 + n > seen.length) return false;
        const p = seen.subarray(o + 4, o + 4 + n);
        if (hits >= 2 && p[0] === 0xfe) return true;
        if (p.includes('pipeline-end')) hits++;
        o += 4 + n;
      }
      return false;
    };
    sock.on('data', (d: Buffer) => { seen = Buffer.concat([seen, d]); if (ended()) res(); });
    sock.write(Buffer.concat(queries.map((q) => packet(Buffer.concat([Buffer.from([0x03]), Buffer.from(q)])))));
  });
  sock.end(packet(Buffer.from([0x01]))); // COM_QUIT
}

before(async () => {
  srv = await startMariadb();
  const port = srv.port;
  file = await captureLoopback(`tcp port ${port}`, async () => {
    const sql = (args: string[]) => execFileSync('mysql', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '--skip-ssl', ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    sql(['-e', "CREATE DATABASE d; USE d; CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20), at DATETIME); INSERT INTO t VALUES (1, 'one', NULL), (2, 'two', NULL); SELECT id, name FROM t ORDER BY id"]);
    assert.throws(() => sql(['d', '-e', 'SELECT * FROM nosuch']));
    const c = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database: 'd', multipleStatements: true });
    const [sum] = await c.execute('SELECT ? + ? AS s', [40, 2]);
    assert.equal(Number((sum as { s: number }[])[0].s), 42);
    await c.execute('INSERT INTO t VALUES (?, ?, ?)', [3, 'three', new Date(Date.UTC(2024, 1, 29, 12, 30, 45))]);
    await c.execute('INSERT INTO t VALUES (?, ?, ?)', [4, null, null]);
    await assert.rejects(c.execute('INSERT INTO t VALUES (?, ?, ?)', [1, 'dup', null]), /Duplicate entry/);
    await assert.rejects(c.execute('SELECT * FROM nosuch WHERE id = ?', [1]), /doesn't exist/);
    await c.query('SELECT 1 AS a; SELECT 2 AS b, 3 AS c');
    const [big] = await c.execute('SELECT seq, MD5(seq) AS h FROM seq_1_to_20000 WHERE seq > ?', [0]);
    bigRows = (big as unknown[]).length;
    // One row of 3 MB: past the 1 MiB kept of a packet, the rest counted and skipped.
    const [huge] = await c.query("SELECT REPEAT('x', 3000000) AS huge");
    assert.equal((huge as { huge: string }[])[0].huge.length, 3_000_000);
    await c.query('SELECT 7 AS after_huge');
    await c.end();
    // Pipelining: mysql2 logs in, then its socket is taken over and 200 COM_QUERY packets are
    // written at once (one fails: no such table).
    await pipeline(port);
    // A reset while a large text result set is arriving.
    const d = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database: 'd' });
    const sock = (d as unknown as { connection: { stream: net.Socket } }).connection.stream;
    d.on('error', () => {});
    const q = d.query("SELECT seq, REPEAT('x', 200) FROM seq_1_to_50000").catch(() => {});
    sock.once('data', () => sock.resetAndDestroy());
    await q;
    // Half a login packet after the greeting, then the client goes away.
    const half = net.connect(port, '127.0.0.1');
    await new Promise<void>((res) => half.once('data', () => res())); // the greeting
    await leaveMidMessage(half, Buffer.from([60, 0, 0, 1, 0x85, 0xa6]));
  });
  ({ items } = await itemsOf(file));
});

after(async () => { await srv?.stop(); });

const req = (i: Item) => i.request as MysqlRequest;
const res = (i: Item) => i.response as MysqlResponse;

test('mysql client: handshake, COM_QUERY and COM_INIT_DB with OK, result sets and ERR', () => {
  const hs = items.filter((i) => req(i).command === 'Handshake' && res(i).type === 'OK');
  assert.ok(hs.length >= 4);
  assert.equal(hs[0].protocol.name, 'mysql');
  assert.match(res(hs[0]).serverVersion, /MariaDB/);
  assert.ok(res(hs[0]).connectionId > 0);
  assert.equal(req(hs[0]).user, 'root');
  const q = (text: string) => items.find((i) => req(i).command === 'COM_QUERY' && req(i).query === text)!;
  assert.equal(res(q('CREATE DATABASE d')).type, 'OK');
  assert.equal(items.filter((i) => req(i).command === 'COM_INIT_DB' && req(i).schema === 'd').length >= 1, true);
  const ins = q("INSERT INTO t VALUES (1, 'one', NULL), (2, 'two', NULL)");
  assert.deepEqual([res(ins).type, res(ins).affectedRows], ['OK', 2]);
  const sel = q('SELECT id, name FROM t ORDER BY id');
  assert.deepEqual([res(sel).type, res(sel).columns, res(sel).rows], ['Result Set', ['id', 'name'], 2]);
  const err = q('SELECT * FROM nosuch');
  assert.deepEqual([res(err).type, res(err).errorCode, res(err).sqlState], ['ERR', 1146, '42S02']);
  assert.match(res(err).errorMessage, /nosuch' doesn't exist/);
  assert.equal(err.error, null);
});

test('mysql2 execute(): COM_STMT_PREPARE then COM_STMT_EXECUTE with the statement text and its parameters', () => {
  const prep = items.filter((i) => req(i).command === 'COM_STMT_PREPARE');
  const sumPrep = prep.find((i) => req(i).query === 'SELECT ? + ? AS s')!;
  assert.deepEqual([res(sumPrep).type, res(sumPrep).numParams, res(sumPrep).columns], ['Prepare OK', 2, ['s']]);
  const ex = items.filter((i) => req(i).command === 'COM_STMT_EXECUTE');
  const sum = ex.find((i) => req(i).query === 'SELECT ? + ? AS s')!;
  assert.equal(req(sum).statementId, res(sumPrep).statementId);
  assert.deepEqual(req(sum).parameters, ['40', '2']);
  assert.deepEqual([res(sum).type, res(sum).rows, res(sum).columns], ['Result Set', 1, ['s']]);
  const ins = ex.filter((i) => req(i).query === 'INSERT INTO t VALUES (?, ?, ?)');
  assert.deepEqual(ins.map((i) => req(i).parameters[0]), ['3', '4', '1']);
  assert.equal(req(ins[0]).parameters[1], 'three');
  assert.match(req(ins[0]).parameters[2]!, /^2024-02-29 \d\d:30:45/);
  assert.deepEqual(req(ins[1]).parameters.slice(1), [null, null]);
  assert.deepEqual([res(ins[0]).type, res(ins[0]).affectedRows], ['OK', 1]);
  assert.deepEqual([res(ins[2]).type, res(ins[2]).errorCode, res(ins[2]).sqlState], ['ERR', 1062, '23000']);
  const bad = prep.find((i) => req(i).query === 'SELECT * FROM nosuch WHERE id = ?')!;
  assert.deepEqual([res(bad).type, res(bad).errorCode], ['ERR', 1146]);
  const big = ex.find((i) => req(i).query.includes('seq_1_to_20000'))!;
  assert.equal(bigRows, 20000);
  assert.deepEqual([res(big).rows, res(big).columns, big.error], [20000, ['seq', 'h'], null]);
});

test('200 pipelined COM_QUERY packets: one item each, in order, with its result set; one ERR', () => {
  const p = items.filter((i) => /^SELECT \d+ AS n$|^SELECT \* FROM nosuch2$/.test(req(i).query));
  assert.equal(p.length, PIPELINED);
  p.forEach((i, k) => {
    assert.equal(i.error, null);
    if (k === PIPELINED / 2) assert.deepEqual([res(i).type, res(i).errorCode, res(i).sqlState], ['ERR', 1146, '42S02']);
    else assert.deepEqual([req(i).query, res(i).type, res(i).columns, res(i).rows], [`SELECT ${k} AS n`, 'Result Set', ['n'], 1]);
  });
  assert.equal(new Set(p.map((i) => i.src.port)).size, 1, 'one connection');
  const end = items.find((i) => req(i).query === "SELECT 'pipeline-end'")!;
  assert.deepEqual([res(end).rows, end.error], [1, null]);
});

test('a 3 MB row (one packet past the 1 MiB kept): counted in full, and the next query still pairs', () => {
  const huge = items.find((i) => req(i).query === "SELECT REPEAT('x', 3000000) AS huge")!;
  assert.deepEqual([res(huge).type, res(huge).rows, res(huge).columns, huge.error], ['Result Set', 1, ['huge'], null]);
  assert.ok(huge.responseSize > 3_000_000, `${huge.responseSize} bytes`);
  const after = items.find((i) => req(i).query === 'SELECT 7 AS after_huge')!;
  assert.deepEqual([res(after).type, res(after).rows, after.error], ['Result Set', 1, null]);
});

test('a multi-statement query adds up its result sets', () => {
  const m = items.find((i) => req(i).query === 'SELECT 1 AS a; SELECT 2 AS b, 3 AS c')!;
  assert.deepEqual([res(m).type, res(m).rows, res(m).columns, res(m).columnCounts, m.error], ['Result Set', 2, ['b', 'c'], [1, 2], null]);
});

test('a reset mid-result and half a login packet each end in a clear error item; nothing is stuck', () => {
  const cut = items.find((i) => req(i).query.includes('seq_1_to_50000'))!;
  assert.equal(cut.error?.type, 'dissection');
  assert.ok(res(cut).rows > 0 && res(cut).rows < 50000, `${res(cut).rows} rows before the reset`);
  const half = items.filter((i) => i.error?.msg.includes('client packet cut'));
  assert.equal(half.length, 1);
  assert.equal(half[0].requestSize, 6);
});

// MySQL's command numbers, written out here so the test does not reuse the dissector's table.
const CMD: Record<string, string> = { COM_QUIT: '1', COM_INIT_DB: '2', COM_QUERY: '3', COM_PING: '14', COM_STMT_PREPARE: '22', COM_STMT_EXECUTE: '23', COM_STMT_CLOSE: '25' };

test('tshark agrees: commands, statements, error codes and column counts per connection, in order', () => {
  // The built CLI prints the same items the pipeline gave in-process (ids aside).
  const strip = (l: Item[]) => l.map((i) => JSON.stringify({ ...i, id: '', worker: '' }));
  assert.deepEqual(strip(cliItems(file)), strip(JSON.parse(JSON.stringify(items))));
  const port = String(srv.port);
  const rows = tsharkRows(file, ['-d', `tcp.port==${port},mysql`, '-Y', 'mysql'], ['tcp.srcport', 'tcp.dstport', 'mysql.command', 'mysql.query', 'mysql.error_code', 'mysql.num_fields']);
  // Column counts: tshark gives one per result set and per prepare (parameters' not counted).
  type Side = { cmds: string[]; queries: string[]; errors: string[]; fields: string[] };
  const fresh = (): Side => ({ cmds: [], queries: [], errors: [], fields: [] });
  const theirs = new Map<string, Side>();
  for (const [sp, dp, cmds, queries, errs, nf] of rows) {
    const client = sp === port ? dp : sp;
    const s = theirs.get(client) ?? fresh();
    theirs.set(client, s);
    if (dp === port) { s.cmds.push(...split(cmds)); s.queries.push(...split(queries)); }
    else { s.errors.push(...split(errs)); s.fields.push(...split(nf)); }
  }
  const ours = new Map<string, Side>();
  for (const i of items) {
    const s = ours.get(i.src.port) ?? fresh();
    ours.set(i.src.port, s);
    const r = req(i);
    if (r.command in CMD) s.cmds.push(CMD[r.command]);
    if (r.command === 'COM_QUERY' || r.command === 'COM_STMT_PREPARE') s.queries.push(r.query);
    if (res(i).errorCode) s.errors.push(String(res(i).errorCode));
    if (res(i).type === 'Result Set' || res(i).type === 'Prepare OK') s.fields.push(...res(i).columnCounts.map(String));
  }
  let compared = 0;
  for (const [p, s] of theirs) {
    if (s.cmds.length === 0) continue;
    compared++;
    const o = ours.get(p) ?? fresh();
    assert.deepEqual(o, s, `connection ${p}`);
  }
  assert.ok(compared >= 4, `${compared} connections compared`);
});

test('tshark agrees: the parameters of every COM_STMT_EXECUTE (binary protocol), per connection, in order', () => {
  const port = String(srv.port);
  const f = ['string', 'double', 'longlong', 'long', 'tiny', 'short', 'year', 'month', 'day', 'hour', 'minute', 'second'];
  const rows = tsharkRows(file, ['-d', `tcp.port==${port},mysql`, '-Y', `mysql.command == 23 && tcp.dstport == ${port}`], ['tcp.srcport', 'mysql.stmt_id', ...f.map((x) => `mysql.exec.field.${x}`)]);
  const pad = (x: string) => x.padStart(2, '0');
  const theirs = new Map<string, string[][]>();
  for (const [sp, ids, ...v] of rows) {
    assert.ok(!ids.includes('|'), 'one execute per frame');
    const [str, dbl, ll, l, tiny, short, y, mo, d, h, mi, sec] = v.map(split);
    // tshark has no field order across types: each execute's values are compared as a sorted list.
    const vals = [...str, ...[...dbl, ...ll, ...l, ...tiny, ...short].map((x) => String(Number(x)))];
    y.forEach((yy, k) => vals.push(`${yy}-${pad(mo[k])}-${pad(d[k])} ${pad(h[k] ?? '0')}:${pad(mi[k] ?? '0')}:${pad(sec[k] ?? '0')}`));
    const l2 = theirs.get(sp) ?? [];
    theirs.set(sp, l2);
    l2.push(vals.sort());
  }
  const ours = new Map<string, string[][]>();
  for (const i of items.filter((x) => req(x).command === 'COM_STMT_EXECUTE')) {
    const l2 = ours.get(i.src.port) ?? [];
    ours.set(i.src.port, l2);
    // Datetimes: tshark shows no fraction of a second when it is 0; ours may.
    l2.push(req(i).parameters.filter((x): x is string => x !== null).map((x) => (/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/.test(x) ? x.slice(0, 19) : x)).sort());
  }
  assert.deepEqual(ours, theirs);
  assert.equal([...ours.values()].flat().length, 5, 'executes compared');
  const all = [...ours.values()].flat().flat();
  assert.ok(all.includes('three') && all.some((x) => x.startsWith('2024-02-29 ')), 'a string and a datetime among them');
});

test('KFL2 variables and the legacy macro select MySQL items by command, error code and rows', async () => {
  const { compileQuery } = await import('../../server/kfl');
  const n = (q: string, lang: 'kfl' | 'kfl2') => items.filter((i) => compileQuery(q, lang).match(i)).length;
  assert.equal(n('mysql && mysql_error_code == 1146', 'kfl2'), 3);
  assert.equal(n('mysql and response.errorCode == 1146', 'kfl'), 3);
  assert.equal(n('mysql_command == "COM_STMT_EXECUTE" && "three" in mysql_parameters', 'kfl2'), 1);
  assert.equal(n('mysql_rows == 20000 && mysql_response_type == "Result Set"', 'kfl2'), 1);
  assert.equal(n('mysql_sql_state == "23000"', 'kfl2'), 1);
  assert.equal(n('mysql', 'kfl'), items.length);
});
