/**
 * Writes corpus/pipeline/databases.pcap: a short real exchange with each database server
 * (redis-cli and ioredis incl. RESP3 and pub/sub; psql and pg incl. the extended protocol and an
 * error; mysql and mysql2 incl. prepared statements), the fuzz seed of the Redis, PostgreSQL and
 * MySQL dissectors. Run once: `node --import tsx test/hardening/make-db-corpus.ts`.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import Redis from 'ioredis';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { captureLoopback } from '../helpers/capture';
import { startMariadb, startPostgres, startRedis, PG_PASSWORD } from '../helpers/db-servers';

async function main(): Promise<void> {
  const r = await startRedis();
  const p = await startPostgres();
  const m = await startMariadb();
  try {
    await captureLoopback(`tcp port ${r.port} or tcp port ${p.port} or tcp port ${m.port}`, async () => {
      // One command per redis-cli run: fed from stdin it first fetches COMMAND DOCS (~100 KB).
      const rc = (args: string[]) => { try { execFileSync('redis-cli', ['-p', String(r.port), ...args], { stdio: 'ignore' }); } catch { /* NOPE fails */ } };
      for (const c of [['SET', 'a', '1'], ['GET', 'a'], ['RPUSH', 'l', 'x', 'y', 'z'], ['LRANGE', 'l', '0', '-1'], ['NOPE'], ['-3', 'HSET', 'h', 'a', '1', 'b', '2'], ['-3', 'HGETALL', 'h'], ['-3', 'GET', 'none']]) rc(c);
      const io = new Redis({ port: r.port, host: '127.0.0.1' });
      const sub = new Redis({ port: r.port, host: '127.0.0.1' });
      await sub.subscribe('c');
      await io.pipeline().set('x', '1').get('x').incr('n').exec();
      await io.publish('c', 'hello');
      await new Promise((res) => setTimeout(res, 100));
      sub.disconnect(); io.disconnect();
      const env = { ...process.env, PGPASSWORD: PG_PASSWORD };
      try { execFileSync('psql', ['-h', '127.0.0.1', '-p', String(p.port), '-U', 'postgres', '-X', '-q', '-c', 'SELECT 1 AS one, 2 AS two', '-c', 'SELECT nope'], { env, stdio: 'ignore' }); } catch { /* SELECT nope fails: wanted */ }
      const c = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'postgres', password: PG_PASSWORD });
      await c.connect();
      await c.query('SELECT $1::text AS t, $2::int AS n', ['a', 5]);
      await c.query({ name: 's1', text: 'SELECT generate_series(1, $1::int) AS g', values: [20] });
      await c.query('SELECT * FROM nosuch WHERE x = $1', [1]).catch(() => {});
      await c.end();
      execFileSync('mysql', ['-h', '127.0.0.1', '-P', String(m.port), '-u', 'root', '--skip-ssl', 'mysql', '-e', 'SELECT 1 AS one; SELECT seq FROM seq_1_to_10'], { stdio: 'ignore' });
      const my = await mysql.createConnection({ host: '127.0.0.1', port: m.port, user: 'root', database: 'mysql', multipleStatements: true });
      await my.execute('SELECT ? AS a, ? AS b, ? AS c', [1, 'two', null]);
      await my.query('SELECT 1; SELECT 2');
      await my.execute('SELECT * FROM nosuch WHERE id = ?', [1]).catch(() => {});
      await my.end();
    }, { file: resolve('test', 'hardening', 'corpus', 'pipeline', 'databases.pcap') });
  } finally {
    await r.stop(); await p.stop(); await m.stop();
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
