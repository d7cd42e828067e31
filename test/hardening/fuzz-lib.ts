/**
 * Shared plumbing for the property-based fuzz suites (fast-check): run counts, real seed
 * captures, byte-level mutations, an in-memory packet source and the per-input deadline.
 *
 * CI runs a small fixed number of cases per property (~20 s for all suites); set
 * WIREHOOK_FUZZ_RUNS=N to run N cases per property instead (docs/reliability.md; the
 * hand-written loops of test/dissectors/fuzz*.test.ts take it too, through rounds()).
 * WIREHOOK_FUZZ_TALLY=FILE appends the cases each test process asked for and its peak RSS
 * (scripts/fuzz-long.sh).
 * WIREHOOK_FUZZ_SEED fixes the seed to replay a reported failure.
 */
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PacketSource, RawPacket } from '../../capture/types';
import { PcapReader } from '../../capture/sources/pcap-reader';

export const DEMO = resolve('examples', 'captures', 'demo.pcap');
export const CORPUS = resolve('test', 'hardening', 'corpus');
const OUT = resolve('test', '.out', 'hardening');
mkdirSync(OUT, { recursive: true });

/**
 * CPU-time bound for ONE fuzz input (its whole run through the target), measured with
 * process.cpuUsage() (user + system), not the wall clock: a machine loaded by other work slows
 * the wall clock of an input, not the CPU time it takes. Generous on purpose: it catches a hang
 * or a quadratic blow-up (seconds of CPU), not a slow machine (milliseconds).
 */
export const DEADLINE_MS = 5_000;

/** Cases asked for in this process (runs/rounds), for scripts/fuzz-long.sh's tally. */
let tally = 0;
const TALLY = process.env.WIREHOOK_FUZZ_TALLY;
// One line per test process: cases, then its own peak RSS in KiB (children such as editcap not counted).
if (TALLY) process.on('exit', () => appendFileSync(TALLY, `${tally} ${process.resourceUsage().maxRSS}\n`));

/** Cases per property: `ci` unless WIREHOOK_FUZZ_RUNS says otherwise. Call once per property. */
export function runs(ci: number): number {
  const n = Number(process.env.WIREHOOK_FUZZ_RUNS);
  const r = Number.isInteger(n) && n > 0 ? n : ci;
  tally += r;
  return r;
}

/**
 * Rounds of a hand-written fuzz loop (test/dissectors/fuzz*.test.ts): WIREHOOK_FUZZ_RUNS when it
 * is larger than the CI count, never fewer (their floors, e.g. "> 30 warnings", assume at least
 * the CI rounds). Call once per loop, not in its condition.
 */
export function rounds(ci: number): number {
  const n = Number(process.env.WIREHOOK_FUZZ_RUNS);
  const r = Number.isInteger(n) && n > ci ? n : ci;
  tally += r;
  return r;
}

/** fast-check parameters: run count, optional fixed seed, and the failing input in the message. */
export function params(ci: number): fc.Parameters<unknown> {
  const seed = Number(process.env.WIREHOOK_FUZZ_SEED);
  return { numRuns: runs(ci), ...(Number.isInteger(seed) ? { seed } : {}) };
}

/** The start of one input's run, for checkDeadline: this process's CPU time so far. */
export function startClock(): NodeJS.CpuUsage {
  return process.cpuUsage();
}

/** CPU milliseconds (user + system) this process spent since `t0` (from startClock). */
export function cpuMsSince(t0: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** Throws when the CPU time spent since `t0` (startClock()) is over `limitMs` (DEADLINE_MS). */
export function checkDeadline(t0: NodeJS.CpuUsage, what: string, limitMs = DEADLINE_MS): void {
  const ms = cpuMsSince(t0);
  if (ms > limitMs) throw new Error(`${what}: one input took ${Math.round(ms)} ms of CPU (deadline ${limitMs} ms): a hang or a blow-up`);
}

let pcapng: string | null = null;
/** demo.pcap converted to pcapng by editcap (real file, real tool). */
export function demoPcapng(): string {
  if (!pcapng) {
    pcapng = join(OUT, `demo-${process.pid}.pcapng`);
    execFileSync('editcap', ['-F', 'pcapng', DEMO, pcapng]);
  }
  return pcapng;
}

/** Corpus files of one kind (`reader`, `pipeline`), replayed by the suites as regression inputs. */
export function corpus(kind: string): { name: string; bytes: Buffer }[] {
  const dir = join(CORPUS, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((name) => ({ name, bytes: readFileSync(join(dir, name)) }));
}

/** One edit of a byte string. Positions are fractions so they fit any length. */
export type Edit =
  | { k: 'flip'; at: number; v: number }
  | { k: 'cut'; at: number }
  | { k: 'splice'; at: number; from: number; len: number }
  | { k: 'drop'; at: number; len: number }
  | { k: 'u32'; at: number; v: number };

const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
export const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('flip' as const), at: frac, v: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cut' as const), at: frac }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('splice' as const), at: frac, from: frac, len: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('drop' as const), at: frac, len: fc.integer({ min: 1, max: 200 }) }) },
  // Length fields are where readers go wrong: overwrite 4 bytes with an edge value.
  { weight: 2, arbitrary: fc.record({ k: fc.constant('u32' as const), at: frac, v: fc.constantFrom(0, 1, 7, 8, 12, 16, 28, 0x7fffffff, 0xffffffff, 0x1000000, 65535) }) },
);

/** Applies edits in order; `donor` feeds splices (itself, or another real capture). */
export function applyEdits(src: Buffer, edits: Edit[], donor: Buffer = src): Buffer {
  let b = Buffer.from(src);
  for (const e of edits) {
    const at = Math.floor(e.at * b.length);
    if (e.k === 'flip') { if (b.length) b[at] = e.v; }
    else if (e.k === 'cut') b = b.subarray(0, at);
    else if (e.k === 'splice') {
      const f = Math.floor(e.from * donor.length);
      b = Buffer.concat([b.subarray(0, at), donor.subarray(f, f + e.len), b.subarray(at)]);
    } else if (e.k === 'drop') b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
    else if (at + 4 <= b.length) (e.v & 1 ? b.writeUInt32LE(e.v >>> 0, at) : b.writeUInt32BE(e.v >>> 0, at));
  }
  return b;
}

/** Splits `b` at the given fractions (sorted, deduplicated): the chunks a stream may deliver. */
export function chunked(b: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * b.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let p = 0;
  for (const a of at) { out.push(b.subarray(p, a)); p = a; }
  out.push(b.subarray(p));
  return out;
}

/** Every packet of a capture file's bytes, copied out. */
export async function packetsOf(bytes: Buffer): Promise<RawPacket[]> {
  const out: RawPacket[] = [];
  for await (const batch of new PcapReader('seed').read([bytes])) for (const p of batch) out.push({ ...p, data: Buffer.from(p.data) });
  return out;
}

/** A PacketSource over packets in memory, delivered in batches of `batch`. */
export function memorySource(pkts: RawPacket[], batch = 16): PacketSource {
  return {
    name: 'file/fuzz.pcap',
    async *packets() {
      for (let i = 0; i < pkts.length; i += batch) yield pkts.slice(i, i + batch);
    },
    stop() {},
    drops: () => null,
  };
}
