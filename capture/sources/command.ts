/**
 * A capture from a command's stdout: `tcpdump -U -w - -i eth0`, `ssh host tcpdump -U -w -`,
 * `kubectl exec POD -- tcpdump -U -w -`, or anything that writes pcap/pcapng. The argv is
 * spawned as given (no shell), in its own process group so stop() reaches its children too
 * (ssh, kubectl and sh start some). Live: items go out as they complete.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename } from 'node:path';
import { CaptureError } from '../errors';
import type { PacketSource, RawPacket } from '../types';
import { PcapReader } from './pcap-reader';

/** Bytes of the command's stderr kept for error messages (its last lines). */
const STDERR_TAIL = 2048;

export class CommandSource implements PacketSource {
  readonly name: string;
  readonly live = true;
  private child: ChildProcess | null = null;
  private stderr = '';
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  private stopped = false;
  private reader: PcapReader;
  private readonly label: string;

  constructor(private readonly argv: readonly string[]) {
    if (!argv.length || !argv[0]) throw new CaptureError('command: give the program to run and its arguments');
    this.name = `command/${basename(argv[0])}`;
    this.label = `command '${argv[0]}'`;
    this.reader = new PcapReader(this.label);
  }

  /** Spawns the command; throws CaptureError when it cannot be started. */
  async start(): Promise<void> {
    const child = spawn(this.argv[0], this.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    const kill = () => this.signal('SIGTERM');
    process.once('exit', kill);
    this.exit = new Promise((res) => {
      child.once('close', (code, signal) => {
        process.off('exit', kill);
        res({ code, signal });
      });
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.stderr = (this.stderr + s).slice(-STDERR_TAIL);
      for (const l of this.stderrListeners) l(this.stderr);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new CaptureError(`cannot run ${this.label}: ${e.message}`)));
    });
  }

  async *packets(): AsyncGenerator<RawPacket[]> {
    if (!this.child) await this.start();
    const child = this.child!;
    let failure: unknown = null;
    let killed = false;
    try {
      for await (const batch of this.reader.read(child.stdout!)) {
        for (const p of batch) p.offset = -1;
        yield batch;
      }
    } catch (e) {
      failure = e;
    } finally {
      // Output still open: bad data, or our consumer left early; we end the command. (Output
      // that ended means the command is exiting by itself: its status is awaited below.)
      if (!child.stdout!.readableEnded && child.exitCode === null && child.signalCode === null) {
        killed = true;
        this.signal('SIGTERM');
      }
    }
    const { code, signal } = await this.exit!;
    if (this.stopped || (killed && !failure)) return;
    // The exit status says more than the reader's "empty input" when the command failed.
    if (code !== 0 || failure) throw this.failure(killed ? null : code, killed ? null : signal, failure);
  }

  private failure(code: number | null, signal: NodeJS.Signals | null, cause: unknown): CaptureError {
    const status = code !== null ? `exited with code ${code}` : signal ? `was killed by ${signal}` : 'was stopped (its output is not a capture)';
    const why = cause ? `: ${(cause as Error).message}` : '';
    const tail = this.stderr.trim() ? `; its stderr ends: ${this.stderr.trim().split('\n').slice(-5).join(' | ')}` : '; it printed nothing on stderr';
    const err = new CaptureError(`${this.label} ${status}${why}${tail}`);
    (err as CaptureError & { exitCode?: number | null; stderr?: string }).exitCode = code;
    (err as CaptureError & { exitCode?: number | null; stderr?: string }).stderr = this.stderr;
    return err;
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.child!.exitCode !== null || this.child!.signalCode !== null) return;
    try {
      process.kill(-pid, sig); // the whole group: sh/ssh/kubectl children too
    } catch {
      this.child!.kill(sig);
    }
  }

  private stderrListeners: ((tail: string) => void)[] = [];

  /** Resolves once the command's stderr (its last 2 KiB) matches, e.g. tcpdump's "listening on"; rejects if it exits first. */
  stderrMatch(re: RegExp): Promise<string> {
    if (re.test(this.stderr)) return Promise.resolve(this.stderr);
    return new Promise((resolve, reject) => {
      const l = (tail: string) => {
        if (!re.test(tail)) return;
        this.stderrListeners = this.stderrListeners.filter((x) => x !== l);
        resolve(tail);
      };
      this.stderrListeners.push(l);
      void this.exit?.then(({ code }) => reject(new CaptureError(`${this.label} exited (${code}) before its stderr matched ${re}: ${this.stderr.trim()}`)));
    });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.signal('SIGTERM');
  }

  drops(): null {
    return null;
  }

  notices(): string[] {
    return this.reader.truncated ? [this.reader.truncated] : [];
  }
}
