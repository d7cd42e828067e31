/** Shared plumbing of the database dissector tests: items of a capture, tshark's fields. */
import { execFileSync } from 'node:child_process';
import { runPipeline, type CaptureStats } from '../../capture/pipeline';
import { fileSource } from '../../capture/sources/file';
import type { Item } from '../../capture/item/schema';

export async function itemsOf(file: string): Promise<{ items: Item[]; stats: CaptureStats }> {
  const items: Item[] = [];
  const stats = await runPipeline(fileSource(file), { item: (i) => items.push(i) });
  return { items, stats };
}

/** tshark -T fields rows (tab-separated fields, `|` between a field's occurrences in one frame). */
export function tsharkRows(file: string, args: string[], fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=|', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f])], { maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

export const split = (s: string | undefined): string[] => (s ? s.split('|') : []);

/** Groups by the client port (the end that is not the server's). */
export function byClient<T>(rows: T[], ports: (r: T) => [string, string], server: number): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const [a, b] = ports(r);
    const c = a === String(server) ? b : a;
    const l = m.get(c) ?? [];
    l.push(r);
    m.set(c, l);
  }
  return m;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
