/**
 * `wirehook items`: dissect a capture (file, pipe or live) and write one item per line (NDJSON)
 * to stdout: in request order for files, as each exchange completes for live sources.
 */
import { runPipeline, type CaptureStats } from '../../capture/pipeline';
import type { Item } from '../../capture/item/schema';
import { itemJsonParts } from '../../capture/item/json';
import { UsageError } from './common';
import { loadBundle } from './load';
import { openAnnounced, parseSourceArgs, SOURCE_USAGE } from './source-options';

const USAGE = `usage: wirehook items (--pcap FILE|- | --interface IF [--filter BPF]) [options]

Writes one Kubeshark-shaped item per line (NDJSON) to stdout: from a file in request order;
live, from a pipe or with --speed realtime, each item as soon as its exchange completes.

${SOURCE_USAGE}
  --query Q, -q        keep only items matching the KFL/KFL2 query Q
  --quiet              write no items (with --stats: just count)
  --stats              print packets, bytes, items per protocol, drops, gaps, skipped, elapsed to stderr
  --help, -h           this help
`;

/**
 * Buffer's own UTF-8 writer: Buffer#write(s, pos) first normalizes its optional arguments, which
 * showed in profiles at one or three calls per item.
 */
type Utf8Writer = Buffer & { utf8Write(s: string, offset: number): number };

/** Output is gathered into ~64 KiB writes; a full pipe pauses the pipeline (backpressure). */
const WRITE_CHUNK = 64 * 1024;
const OUT_BUFFER = 256 * 1024;

export async function main(argv: string[]): Promise<number> {
  const { spec, values } = parseSourceArgs(argv, {
    query: { type: 'string', short: 'q' },
    quiet: { type: 'boolean' },
    stats: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let filter: ((item: Item) => boolean) | undefined;
  if (typeof values.query === 'string') {
    try {
      // Loaded only when asked for: the query engines cost startup time (their own bundle).
      const { compileQuery } = loadBundle<typeof import('../kfl/index')>('kfl', '../kfl/index');
      const q = compileQuery(values.query);
      filter = (item) => q.match(item);
    } catch (e) {
      if ((e as Error).name === 'QueryError') throw new UsageError(`query ${(e as Error).message}`);
      throw e;
    }
  }

  const source = await openAnnounced(spec);
  const ac = new AbortController();
  const onSigint = () => ac.abort();
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const quiet = values.quiet === true;
  // --quiet never touches stdout: creating the stream object alone measured ~10–30 ms.
  const out = quiet ? null! : process.stdout;
  let closed = false;
  out?.on('error', (e: NodeJS.ErrnoException) => {
    // `| head` closed the pipe: stop quietly.
    if (e.code === 'EPIPE') {
      closed = true;
      ac.abort();
    }
  });
  // Items are encoded straight into reused 256 KiB buffers: building a 64 KiB string per write
  // and converting it cost a fresh buffer (page faults) and an extra copy per chunk. A buffer
  // goes back to the pool when the stream is done with it, so pipes (async) are safe too.
  const free: Buffer[] = [];
  let cur: Buffer | null = null;
  let pos = 0;
  // One pending wait per blocked stream: pushes while blocked share it (a listener per push
  // piled up and tripped MaxListenersExceededWarning on slow pipes).
  let draining: Promise<void> | null = null;
  const send = (data: Buffer | string, release?: () => void): void => {
    const ok = out.write(data, release);
    if (!ok && !closed && !draining) {
      draining = new Promise<void>((r) => {
        const done = () => { out.off('drain', done); out.off('close', done); out.off('error', done); draining = null; r(); };
        out.on('drain', done);
        out.on('close', done);
        out.on('error', done);
      });
    }
  };
  const push = (): Promise<void> => {
    if (cur && pos > 0 && !closed) {
      const chunk = cur;
      send(chunk.subarray(0, pos), () => free.push(chunk));
      cur = null;
    }
    pos = 0;
    return draining ?? Promise.resolve();
  };
  let big: string | null = null;
  const reserve = (n: number): void => {
    // A UTF-16 code unit is at most 3 UTF-8 bytes; +1 for the newline.
    const need = n * 3 + 1;
    if (need > OUT_BUFFER) {
      void push();
      big = '';
      return;
    }
    if (cur && pos + need > cur.length) void push();
    if (!cur) cur = free.pop() ?? Buffer.allocUnsafeSlow(OUT_BUFFER);
  };
  const put = (s: string): void => {
    if (big !== null) big += s;
    else {
      // reserve() made room for the whole item; this only guards a bad estimate (write() would
      // silently truncate): an item may span two buffers, they go out in order.
      if (pos + s.length * 3 > cur!.length) {
        void push();
        cur = free.pop() ?? Buffer.allocUnsafeSlow(Math.max(OUT_BUFFER, s.length * 3));
      }
      pos += (cur as Utf8Writer).utf8Write(s, pos);
    }
  };
  const writeItem = (item: Item): void => {
    itemJsonParts(item, reserve, put);
    if (big !== null) {
      // An item larger than a buffer (a big body preview) goes out on its own.
      send(big + '\n');
      big = null;
      return;
    }
    cur![pos++] = 10;
    if (pos >= WRITE_CHUNK) void push();
  };

  let stats: CaptureStats;
  try {
    stats = await runPipeline(
      source,
      {
        item: quiet
          ? undefined
          : (item) => {
              if (closed) return;
              writeItem(item);
            },
        flush: quiet ? undefined : push,
      },
      // --quiet without --query: nothing reads the items, so they are not built (tshark's -q
      // without a tree does the same); --stats counts stay exact (test/capture/cli.test.ts).
      { count: spec.count, durationS: spec.durationS, signal: ac.signal, filter, lean: quiet && !filter },
    );
  } catch (e) {
    // Items before the bad byte were written; show the error after them.
    await push().catch(() => {});
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
  await push();
  for (const n of stats.notices) process.stderr.write(`wirehook: warning: ${n}\n`);
  if (values.stats) process.stderr.write(formatStats(stats, spec.pcap !== undefined));
  return 0;
}

export function formatStats(s: CaptureStats, file = false): string {
  // Sorted (most first, then by name): lean and full runs meet the protocols in different orders.
  const bucket = (o: Record<string, number>) => Object.entries(o).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
  const items = bucket(s.itemsByProtocol);
  const total = Object.values(s.itemsByProtocol).reduce((a, b) => a + b, 0);
  const drops = s.drops ? `kernel=${s.drops.kernel} ifdrop=${s.drops.ifdrop}` : file ? 'n/a (file)' : 'unknown';
  const lines = [
    `packets: ${s.packets} (${bucket(s.packetsBy ?? {})})`,
    `bytes: ${s.bytes}`,
    `items: ${total} (${items})`,
    `drops: ${drops}`,
    `gaps: ${s.gaps}`,
    `skipped: ${s.skipped}`,
    `elapsed: ${s.elapsedMs} ms`,
  ];
  const w = Object.entries(s.warnings);
  if (w.length) lines.push(`warnings: ${w.map(([k, v]) => `${k} ×${v}`).join('; ')}`);
  return lines.map((l) => `wirehook: ${l}\n`).join('');
}
