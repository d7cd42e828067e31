/**
 * Source options shared by `items` and `run`: --pcap FILE|- | --interface IF [--filter BPF]
 * [--count N] [--duration S]. Commands add their own options to the same parseArgs call.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './common';
import { openSource } from '../../capture/pipeline';
import type { PacketSource } from '../../capture/types';

export const SOURCE_OPTIONS = {
  pcap: { type: 'string' },
  interface: { type: 'string', short: 'i' },
  filter: { type: 'string', short: 'f' },
  count: { type: 'string', short: 'c' },
  duration: { type: 'string', short: 'd' },
  speed: { type: 'string' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

export const SOURCE_USAGE = `  --pcap FILE|-        read a pcap/pcapng file, or stdin with '-' (e.g. tcpdump -U -w - | …)
  --interface IF, -i   capture live on interface IF (see 'wirehook interfaces')
  --filter BPF, -f     BPF filter for live capture, e.g. 'tcp port 8080'
  --count N, -c        stop after N items (items, not packets)
  --duration S, -d     stop after S seconds (wall clock live; capture time for files)
  --speed asap|realtime  files: read as fast as possible (default), or replay paced by the
                       packets' timestamps, items written as they complete (like live)`;

export interface SourceSpec {
  pcap?: string;
  interface?: string;
  filter?: string;
  count?: number;
  durationS?: number;
  speed?: 'asap' | 'realtime';
}

/** Parses argv with the source options plus `extra`; throws UsageError on bad usage. */
export function parseSourceArgs<E extends NonNullable<ParseArgsConfig['options']>>(argv: string[], extra: E, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...SOURCE_OPTIONS, ...extra }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const spec: SourceSpec = {};
  if (typeof v.pcap === 'string') spec.pcap = v.pcap;
  if (typeof v.interface === 'string') spec.interface = v.interface;
  if (typeof v.filter === 'string') spec.filter = v.filter;
  if (v.help !== true) {
    if (spec.pcap !== undefined && spec.interface !== undefined) throw new UsageError('give either --pcap or --interface, not both');
    if (spec.pcap === undefined && spec.interface === undefined) throw new UsageError('give --pcap FILE|- or --interface IF');
    if (spec.filter !== undefined && spec.pcap !== undefined) throw new UsageError('--filter applies to live capture (--interface) only');
  }
  if (typeof v.speed === 'string') {
    if (v.speed !== 'asap' && v.speed !== 'realtime') throw new UsageError(`--speed wants asap or realtime, got '${v.speed}'`);
    if (spec.pcap === undefined || spec.pcap === '-') throw new UsageError('--speed applies to --pcap FILE only');
    spec.speed = v.speed;
  }
  if (typeof v.count === 'string') {
    if (!/^\d+$/.test(v.count) || Number(v.count) < 1) throw new UsageError(`--count wants a positive whole number, got '${v.count}'`);
    spec.count = Number(v.count);
  }
  if (typeof v.duration === 'string') {
    const n = Number(v.duration);
    if (!/^\d+(\.\d+)?$/.test(v.duration) || !(n > 0)) throw new UsageError(`--duration wants a positive number of seconds, got '${v.duration}'`);
    spec.durationS = n;
  }
  return { spec, values: parsed.values, positionals: parsed.positionals };
}

/**
 * Opens the source; for live capture, says on stderr once packets are being captured, so a user
 * (or a script driving the CLI) knows when traffic will be seen.
 */
export async function openAnnounced(spec: SourceSpec): Promise<PacketSource> {
  const source = await openSource(spec);
  if (spec.interface !== undefined) {
    const filter = spec.filter ? ` (filter: ${spec.filter})` : '';
    process.stderr.write(`wirehook: capturing on ${spec.interface}${filter}; Ctrl-C stops\n`);
  }
  return source;
}
