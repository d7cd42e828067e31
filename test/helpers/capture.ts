/**
 * Records real loopback traffic into a capture file with tcpdump, for tests that need a pcap
 * made from real packets. Always pass a BPF filter on your own ports: other tests capture on
 * `lo` at the same time.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dnsScenario, httpScenario, startDnsServer, startHttpServer, type DnsExchange, type HttpExchange } from './traffic';

/** Tests, benches and scripts run from the repository root. */
export const OUT_DIR = resolve('test', '.out');

let seq = 0;

export interface CaptureOptions {
  /** Output path; default `test/.out/cap-<pid>-<n>.<ext>`. */
  file?: string;
  /** pcapng is produced by converting tcpdump's pcap with editcap (tcpdump cannot write pcapng). */
  format?: 'pcap' | 'pcapng';
  /** Nanosecond timestamps (pcap magic 0xa1b23c4d). */
  nano?: boolean;
  iface?: string;
  /** Extra tcpdump arguments, e.g. `['-y', 'LINUX_SLL2']`. */
  extra?: string[];
}

/** Runs tcpdump on `lo` (or `opts.iface`) with `bpf` while `run()` executes; returns the file path. */
export async function captureLoopback(bpf: string, run: () => Promise<void>, opts: CaptureOptions = {}): Promise<string> {
  mkdirSync(OUT_DIR, { recursive: true });
  const format = opts.format ?? 'pcap';
  const file = resolve(opts.file ?? join(OUT_DIR, `cap-${process.pid}-${++seq}.${format}`));
  const raw = format === 'pcapng' ? `${file}.tmp.pcap` : file;
  // Immediate mode: without it libpcap hands packets over in blocks up to 1 s late, and tcpdump
  // exits on SIGINT without draining them. Immediate mode on lo costs one 128 KiB ring slot per
  // packet, so a 128 MiB buffer absorbs bursts.
  const args = ['-i', opts.iface ?? 'lo', '--immediate-mode', '-B', '131072', '-U', '-n', '-s', '0', '-w', raw, ...(opts.extra ?? [])];
  if (opts.nano) args.push('--time-stamp-precision=nano');
  // The end of the recording is a marker datagram seen in the file, not a sleep; it is taken out after.
  const markPort = 40000 + Math.floor(Math.random() * 20000);
  const mark = Buffer.from(`wirehook-capture-end-${process.pid}-${seq}-${markPort}`);
  args.push(`(${bpf}) or (udp and dst host 127.0.0.1 and dst port ${markPort})`);
  const td = spawn('tcpdump', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((r) => td.on('close', (code) => r(code)));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => { td.kill('SIGKILL'); rej(new Error(`tcpdump did not start: ${stderr}`)); }, 10_000);
    td.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/listening on/.test(stderr)) { clearTimeout(timer); res(); }
    });
    td.on('error', (e) => { clearTimeout(timer); rej(e); });
    td.on('close', (code) => { clearTimeout(timer); rej(new Error(`tcpdump exited (${code}): ${stderr}`)); });
  });
  try {
    await run();
    // Everything run() sent went through the kernel before the marker: once tcpdump has written
    // the marker (-U: per packet), it has written them too.
    await untilMarked(raw, mark, markPort);
  } finally {
    td.kill('SIGINT');
    await exited;
  }
  if (process.env.WIREHOOK_DEBUG_CAPTURE) process.stderr.write(stderr);
  const dropped = Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0);
  if (dropped > 0) throw new Error(`tcpdump dropped ${dropped} packets: the capture ${file} is incomplete`);
  stripMarker(raw, mark);
  if (format === 'pcapng') {
    execFileSync('editcap', ['-F', 'pcapng', raw, file]);
    renameSync(raw, `${file}.src.pcap`);
  }
  statSync(file);
  return file;
}

/** Sends the marker datagram until it is in the file (at most 20 s). */
async function untilMarked(file: string, mark: Buffer, port: number): Promise<void> {
  const sock = createSocket('udp4');
  try {
    for (let i = 0; i < 400; i++) {
      if (i % 10 === 0) await new Promise<void>((r) => sock.send(mark, port, '127.0.0.1', () => r()));
      await new Promise((r) => setTimeout(r, 50));
      if (readFileSync(file).includes(mark)) return;
    }
    throw new Error(`tcpdump never wrote the end marker to ${file}`);
  } finally {
    sock.close();
  }
}

/**
 * Waits until `file` holds `mark` (tcpdump -U writes per packet), polling every 20 ms; throws
 * after `ms` (a deadline for a real hang only: a busy machine takes milliseconds, not seconds).
 */
export async function untilInFile(file: string, mark: Buffer, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (existsSync(file) && readFileSync(file).includes(mark)) return;
    if (Date.now() - t0 > ms) throw new Error(`${file} never held ${JSON.stringify(mark.toString('latin1'))} (${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Takes the marker datagrams out of a classic pcap (tcpdump writes host order: little-endian here). */
export function stripMarker(file: string, mark: Buffer): void {
  const b = readFileSync(file);
  const parts = [b.subarray(0, 24)];
  let o = 24;
  while (o + 16 <= b.length) {
    const end = o + 16 + b.readUInt32LE(o + 8);
    if (end > b.length) break;
    const rec = b.subarray(o, end);
    if (!rec.includes(mark)) parts.push(rec);
    o = end;
  }
  writeFileSync(file, Buffer.concat(parts));
}

export interface ScenarioCapture {
  file: string;
  http: HttpExchange[];
  dns: DnsExchange[];
  /** The servers' ports (closed by now), e.g. for tshark's decode-as. */
  httpPort: number;
  dnsPort: number;
}

const scenarios = new Map<string, Promise<ScenarioCapture>>();

/**
 * The HTTP and DNS scenarios (test/helpers/traffic.ts) against fresh servers, recorded once per
 * test process and capture variant; returns the file and what the clients saw.
 */
export function scenarioCapture(opts: Omit<CaptureOptions, 'file'> = {}): Promise<ScenarioCapture> {
  const key = JSON.stringify(opts);
  let p = scenarios.get(key);
  if (!p) {
    p = (async () => {
      const h = await startHttpServer();
      const d = await startDnsServer();
      let http: HttpExchange[] = [];
      let dns: DnsExchange[] = [];
      try {
        const file = await captureLoopback(`port ${h.port} or port ${d.port}`, async () => {
          http = await httpScenario(h.port);
          dns = await dnsScenario(d.port);
        }, opts);
        return { file, http, dns, httpPort: h.port, dnsPort: d.port };
      } finally {
        await h.close();
        await d.close();
      }
    })();
    scenarios.set(key, p);
  }
  return p;
}

export interface LiveCli {
  /** Everything the CLI printed so far. */
  out(): string;
  err(): string;
  /** SIGINT (as a terminal's Ctrl-C), then the exit code. */
  interrupt(): Promise<number | null>;
}

/**
 * Starts `node dist/cli.js ARGS` on a live interface and resolves once it says on stderr that
 * it is capturing (so traffic sent after this is seen); fails if it exits or stays silent.
 */
export function startLiveCli(args: string[]): Promise<LiveCli> {
  const p = spawn(process.execPath, [resolve('dist', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  p.stdout!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => p.on('close', (c) => r(c)));
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { p.kill('SIGKILL'); rej(new Error(`no 'capturing on' line within 15 s: ${err}`)); }, 15_000);
    p.stderr!.on('data', (d) => {
      err += d;
      if (/^wirehook: capturing on /m.test(err)) {
        clearTimeout(timer);
        res({ out: () => out, err: () => err, interrupt: () => (p.kill('SIGINT'), exited) });
      }
    });
    void exited.then((c) => { clearTimeout(timer); rej(new Error(`the CLI exited (${c}) before capturing: ${err}`)); });
  });
}
