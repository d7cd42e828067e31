/**
 * Debian's RabbitMQ, started for one test file on random ports in a temporary directory
 * (../shared/docs/test-servers.md): node name, AMQP port, distribution port, mnesia and log dirs
 * of its own. Ready in 5–10 s; stop() stops the node and `epmd -kill`s the port mapper it
 * started.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export interface RabbitMq {
  port: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => res(p));
    });
  });
}

export async function startRabbitMq(): Promise<RabbitMq> {
  const dir = mkdtempSync(join(tmpdir(), 'wirehook-rabbit-'));
  // Debian's wrapper runs the node as the `rabbitmq` user: its folders must be theirs.
  for (const d of ['mnesia', 'log']) mkdirSync(join(dir, d));
  spawnSync('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
  const port = await freePort();
  const dist = await freePort();
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: `wh${process.pid}@localhost`,
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_DIST_PORT: String(dist),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
  };
  const child: ChildProcess = spawn('rabbitmq-server', [], { env, cwd: dir, stdio: 'ignore', detached: true });
  const ctl = (args: string[]) => spawnSync('rabbitmqctl', ['-q', ...args], { env, encoding: 'utf8', timeout: 30_000 });
  const stop = async () => {
    ctl(['stop']);
    try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone already */ }
    spawnSync('epmd', ['-kill'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); res(true); });
      s.once('error', () => res(false));
    });
    if (ok && ctl(['status']).status === 0) break;
    if (child.exitCode !== null || Date.now() - t0 > 60_000) {
      await stop();
      throw new Error(`rabbitmq-server did not start (exit ${child.exitCode})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { port, stop };
}
