/**
 * Capture-test plumbing. `record` runs tcpdump in immediate mode: without it, libpcap's
 * TPACKET_V3 ring hands packets over in blocks retired after up to 1 s, and whatever is still in
 * the current block when tcpdump is stopped is lost (seen with test/helpers/capture.ts: the
 * tail of a scenario went missing).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startDnsServer, startHttpServer, httpScenario, dnsScenario } from '../helpers/traffic';

export const OUT = resolve('test', '.out', 'capture');
mkdirSync(OUT, { recursive: true });
let n = 0;
export function outFile(ext: string): string {
  return join(OUT, `t-${process.pid}-${++n}.${ext}`);
}

export async function record(bpf: string, run: () => Promise<void>, opts: { file?: string; nano?: boolean; iface?: string; extra?: string[] } = {}): Promise<string> {
  const file = opts.file ?? outFile('pcap');
  const args = ['-i', opts.iface ?? 'lo', '--immediate-mode', '-U', '-n', '-s', '0', '-w', file, ...(opts.extra ?? [])];
  if (opts.nano) args.push('--time-stamp-precision=nano');
  args.push(bpf);
  const td = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<void>((r) => td.on('close', () => r()));
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`tcpdump did not start: ${err}`)), 10_000);
    td.stderr.on('data', (d: Buffer) => {
      err += d;
      if (/listening on/.test(err)) (clearTimeout(t), res());
    });
    td.on('close', (c) => (clearTimeout(t), rej(new Error(`tcpdump exited ${c}: ${err}`))));
  });
  try {
    await run();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    td.kill('SIGINT');
    await exited;
  }
  return file;
}

/** The helpers' HTTP + DNS scenarios, recorded; cached per process and variant. */
const cache = new Map<string, Promise<{ file: string; http: number; dns: number }>>();
export function mixCapture(variant: { nano?: boolean; iface?: string } = {}): Promise<{ file: string; http: number; dns: number }> {
  const key = JSON.stringify(variant);
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const h = await startHttpServer();
      const d = await startDnsServer();
      let http = 0;
      let dns = 0;
      const file = await record(`port ${h.port} or port ${d.port}`, async () => {
        http = (await httpScenario(h.port)).length;
        dns = (await dnsScenario(d.port)).length;
      }, variant);
      await h.close();
      await d.close();
      return { file, http, dns };
    })();
    cache.set(key, p);
  }
  return p;
}

export function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export const CLI = resolve('dist', 'cli.js');
export function cli(args: string[], input?: Buffer): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
