/**
 * Real database servers for tests (Debian's packages, ../shared/docs/test-servers.md): each on
 * a free loopback port of its own, in a temporary directory, stopped (and the directory removed)
 * by `stop()`. scripts/setup-test-servers.sh installs them on the test path.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface DbServer {
  port: number;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (asked from the kernel, then released). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return;
    await sleep(100);
  }
  throw new Error(`${what} did not become ready within ${ms / 1000} s`);
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    c.once('exit', () => r());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 5000).unref();
  });
}

/** `redis-server` with no persistence. */
export async function startRedis(): Promise<DbServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wh-redis-'));
  const c = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  await waitFor('redis-server', () => {
    try { return execFileSync('redis-cli', ['-p', String(port), 'PING'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() === 'PONG'; } catch { return false; }
  });
  return { port, stop: async () => { await stopChild(c); rmSync(dir, { recursive: true, force: true }); } };
}

const PG_BIN = (() => {
  try {
    const v = execFileSync('ls', ['/usr/lib/postgresql']).toString().trim().split('\n').sort((a, b) => Number(b) - Number(a))[0];
    return `/usr/lib/postgresql/${v}/bin`;
  } catch { return '/usr/lib/postgresql/15/bin'; }
})();

export const PG_PASSWORD = 'wirehook-test';

/**
 * PostgreSQL as the `postgres` user (it refuses root): TCP logins need the password
 * (SCRAM-SHA-256, so the startup has a SASL exchange); the socket in the directory is trusted.
 */
export async function startPostgres(): Promise<DbServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wh-pg-'));
  chownSync(dir, uid('postgres'), gid('postgres'));
  const data = join(dir, 'data');
  const su = (cmd: string) => execFileSync('su', ['postgres', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] });
  // initdb once per machine (1–4 s), then a copy of that cluster per server (a fraction of it).
  const template = join(tmpdir(), `wirehook-pg-template-${PG_BIN.split('/').at(-2)}`);
  if (!existsSync(join(template, 'PG_VERSION'))) {
    const fresh = mkdtempSync(join(tmpdir(), 'wh-pg-init-'));
    execFileSync('chown', ['postgres:postgres', fresh]);
    writeFileSync(join(fresh, 'pw'), PG_PASSWORD + '\n');
    su(`${PG_BIN}/initdb -D ${fresh}/data -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile=${fresh}/pw --no-sync -E UTF8`);
    try { renameSync(join(fresh, 'data'), template); } catch { /* another test made it first */ }
    rmSync(fresh, { recursive: true, force: true });
  }
  execFileSync('cp', ['-a', template, data]);
  su(`${PG_BIN}/pg_ctl -D ${data} -l ${dir}/log -o '-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off' -w start`);
  return {
    port,
    stop: async () => {
      try { su(`${PG_BIN}/pg_ctl -D ${data} -m immediate -w stop`); } catch { /* already gone */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uid(user: string): number { return Number(execFileSync('id', ['-u', user]).toString().trim()); }
function gid(user: string): number { return Number(execFileSync('id', ['-g', user]).toString().trim()); }

/** MariaDB without grant tables (any user logs in) and without TLS (the queries stay readable). */
export async function startMariadb(): Promise<DbServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wh-maria-'));
  // Without grant tables mariadbd starts on an empty data directory: no mariadb-install-db
  // (5 s under load), and a small redo log to create.
  const data = join(dir, 'data');
  mkdirSync(data);
  const c = spawn('mariadbd', [`--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${dir}/s.sock`, '--user=root', '--skip-grant-tables', '--skip-ssl', '--skip-log-bin', '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M', `--pid-file=${dir}/pid`], { stdio: 'ignore' });
  await waitFor('mariadbd', () => {
    try { execFileSync('mysql', ['-h', '127.0.0.1', '-P', String(port), '-u', 'root', '--skip-ssl', '-e', 'SELECT 1'], { stdio: 'ignore' }); return true; } catch { return false; }
  }, 30_000);
  return { port, stop: async () => { await stopChild(c); rmSync(dir, { recursive: true, force: true }); } };
}
