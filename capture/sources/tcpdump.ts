/**
 * Live capture through a `tcpdump -U -w -` child read by the pcap stream reader: the default
 * backend (docs/capture.md has the measurements). It gives kernel timestamps (nanosecond
 * precision), a large kernel buffer (-B) with TPACKET_V3 (no immediate mode, so no loss at
 * 250k packets/s on lo) and drop counters: tcpdump prints them on stderr at exit and whenever
 * it gets SIGUSR1 (Linux), which we send every second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { CaptureError } from '../errors';
import type { PacketSource, RawPacket } from '../types';
import type { Readable } from 'node:stream';
import { PcapReader } from './pcap-reader';

/**
 * The pipe's chunks, with whatever else is already buffered joined to each: in immediate mode
 * tcpdump writes every packet on its own, and after any pause of the capture thread hundreds
 * wait in the pipe; one batch for them all, not one pipeline turn per packet, lets it catch up.
 */
async function* coalesced(r: Readable): AsyncGenerator<Buffer> {
  for await (const c of r as AsyncIterable<Buffer>) {
    let more = r.read() as Buffer | null;
    if (more === null) {
      yield c;
      continue;
    }
    const parts = [c];
    for (; more !== null; more = r.read() as Buffer | null) parts.push(more);
    yield Buffer.concat(parts);
  }
}

/** Kernel buffer for tcpdump -B, KiB. */
export const LIVE_BUFFER_KIB = 64 * 1024;
/** tcpdump's packet-buffer timeout (1 s) plus a margin. */
export const STOP_GRACE_MS = 1200;

export function findExecutable(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/sbin', '/sbin', '/usr/local/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    if (existsSync(p)) return p;
  }
  return null;
}

export const PRIVILEGE_HINT =
  'run as root, or grant the capability: setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which tcpdump))' +
  ' (or for the cap backend: setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node)))';

/** Maps tcpdump's stderr at a failed start to one clear line. */
export function tcpdumpFailure(iface: string, stderr: string, code: number | null): CaptureError {
  const text = stderr.trim();
  if (/permission|not permitted/i.test(text)) return new CaptureError(`no permission to capture on ${iface}: ${PRIVILEGE_HINT}`);
  if (/no such device|doesn't exist|not found/i.test(text)) return new CaptureError(`no capture interface '${iface}' (see 'wirehook interfaces')`);
  if (/syntax error|filter|expression/i.test(text)) return new CaptureError(`bad --filter: ${lastLine(text).replace(/^tcpdump: /, '')}`);
  return new CaptureError(`tcpdump failed on ${iface} (exit ${code}): ${lastLine(text).replace(/^tcpdump: /, '') || 'no message'}`);
}

function lastLine(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim() && !/^(listening on|tcpdump: verbose output|\d+ packets)/.test(l));
  return lines[lines.length - 1] ?? '';
}

export class TcpdumpSource implements PacketSource {
  readonly name: string;
  readonly live = true;
  private child: ChildProcess | null = null;
  private stderr = '';
  private exit: Promise<number | null> | null = null;
  private counters: { kernel: number; ifdrop: number } | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private reader: PcapReader;

  constructor(
    private readonly tcpdump: string,
    private readonly iface: string,
    private readonly filter: string | undefined,
    /**
     * Immediate mode: each packet is handed over as it arrives. Without it, TPACKET_V3 hands
     * over blocks when full or after tcpdump's fixed 1 s timeout, so at a few hundred packets/s
     * a packet waits up to a second (measured: save → first line 250–830 ms, 53–215 ms with it).
     * Its cost is loss in floods (one ring slot per packet; shared/docs/measured-baselines.md).
     */
    private readonly immediate = false,
  ) {
    this.name = `local/${iface}`;
    this.reader = new PcapReader(`tcpdump on ${iface}`);
  }

  /** Starts tcpdump and waits until it listens; throws CaptureError when it cannot. */
  async start(): Promise<void> {
    // Immediate mode gives each packet a ring slot sized for the MTU (128 KiB on lo): twice the
    // buffer keeps ~1,000 slots there, ~50 ms of a 20k packets/s burst.
    const kib = this.immediate ? LIVE_BUFFER_KIB * 2 : LIVE_BUFFER_KIB;
    const args = ['-U', '-n', '-w', '-', '-s', '262144', '-B', String(kib), '--time-stamp-precision=nano', '-i', this.iface];
    if (this.immediate) args.unshift('--immediate-mode');
    if (this.filter) args.push(this.filter);
    // Own process group: a terminal's Ctrl-C reaches us, and we stop tcpdump ourselves (below).
    const child = spawn(this.tcpdump, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const kill = () => child.kill('SIGTERM');
    process.once('exit', kill);
    child.once('close', () => process.off('exit', kill));
    this.exit = new Promise((res) => {
      child.on('close', (code) => res(code));
      child.on('error', () => res(-1));
    });
    child.stderr!.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      const onData = (s: string) => {
        this.stderr += s;
        this.parseCounters();
        if (/listening on/.test(this.stderr)) resolve();
      };
      child.stderr!.on('data', onData);
      child.on('error', (e) => reject(new CaptureError(`cannot run ${this.tcpdump}: ${e.message}`)));
      void this.exit!.then((code) => reject(tcpdumpFailure(this.iface, this.stderr, code)));
    });
    this.timer = setInterval(() => {
      if (!this.stopped) this.child?.kill('SIGUSR1');
    }, 1000);
    this.timer.unref();
  }

  private parseCounters(): void {
    const k = [...this.stderr.matchAll(/(\d+) packets? dropped by kernel/g)];
    if (!k.length) return;
    const i = [...this.stderr.matchAll(/(\d+) packets? dropped by interface/g)];
    this.counters = { kernel: Number(k[k.length - 1][1]), ifdrop: i.length ? Number(i[i.length - 1][1]) : 0 };
    // Keep stderr small on long captures: only the latest report matters.
    if (this.stderr.length > 64 * 1024) this.stderr = this.stderr.slice(-4096);
  }

  async *packets(): AsyncGenerator<RawPacket[]> {
    if (!this.child) await this.start();
    const child = this.child!;
    try {
      for await (const batch of this.reader.read(coalesced(child.stdout!))) {
        for (const p of batch) p.offset = -1;
        yield batch;
      }
    } finally {
      if (this.timer) clearInterval(this.timer);
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await this.exit;
      this.parseCounters();
      if (code !== 0 && code !== null && !this.stopped) {
        // Mid-capture (the interface went away, a read error): tcpdump says why in a pcap_loop
        // line, then prints its counters and exits 1. What came before is kept by the pipeline.
        const loop = /pcap_loop: (.*)/.exec(this.stderr);
        // eslint-disable-next-line no-unsafe-finally
        if (loop) throw new CaptureError(`capture on ${this.iface} ended early: ${loop[1].trim()} (the items of the packets captured before are kept)`);
        // eslint-disable-next-line no-unsafe-finally
        if (!/packets captured/.test(this.stderr)) throw tcpdumpFailure(this.iface, this.stderr, code);
      }
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    // libpcap (TPACKET_V3) hands packets over in blocks retired after at most tcpdump's 1 s
    // timeout, and a block still open when tcpdump exits is lost: wait for it, then SIGTERM
    // (tcpdump writes what it has, prints its counters and exits; stdout then ends).
    const t = setTimeout(() => this.child?.kill('SIGTERM'), STOP_GRACE_MS);
    this.child?.once('close', () => clearTimeout(t));
  }

  drops(): { kernel: number; ifdrop: number } | null {
    return this.counters;
  }

  notices(): string[] {
    return this.reader.truncated ? [this.reader.truncated] : [];
  }
}
