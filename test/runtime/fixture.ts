/**
 * Shared fixtures for the runtime tests: a real loopback capture (HTTP + DNS scenarios from
 * test/helpers/traffic.ts, recorded with tcpdump filtered on our own ports), made once per
 * process, and the sample items.
 */
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Item } from '../../capture/item/schema';
import { scenarioCapture } from '../helpers/capture';

// The shared references sit next to the checkout (/work/shared beside /work/main); worktrees and
// Stryker's sandbox copies are deeper: the nearest `shared/` up from here.
const SAMPLE = Array.from({ length: 8 }, (_, up) => new URL(`${'../'.repeat(up + 2)}shared/reference/samples/kubeshark-http-item-2023.json`, import.meta.url)).find((u) => existsSync(u));
if (!SAMPLE) throw new Error('the shared references (shared/reference/samples) are not beside this checkout');
export const HTTP_SAMPLE = JSON.parse(readFileSync(SAMPLE!, 'utf8')) as Item;

export const CLI = resolve('dist/cli.js');

/** One pcap with the HTTP and DNS scenarios (made once per test process). */
export const scenarioPcap = () => scenarioCapture();

/** Items of a capture, through the built CLI (`wirehook items`). */
export function itemsOf(pcap: string): Item[] {
  const out = execFileSync(process.execPath, [CLI, 'items', '--pcap', pcap], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Item);
}

export const OUT = resolve('test', '.out');
export const tmpName = (name: string) => join(OUT, `runtime-${process.pid}-${name}`);
