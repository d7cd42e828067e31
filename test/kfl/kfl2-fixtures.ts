// Real-shaped items for the KFL tests: Kubeshark's 2023 HTTP item and the DNS item printed on
// the Network Hooks page (shared/reference), plus a DNS answer built to capture/item/schema.ts.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Item } from '../../capture/item/schema';
import { PROTOCOLS } from '../../capture/item/protocols';

// shared/reference sits next to the repository (or next to a parent of it: a git worktree under
// /work/wt, Stryker's sandbox copy under .stryker-tmp/): found from this file, not from the cwd.
function findShared(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const p = join(dir, 'shared', 'reference');
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) throw new Error('shared/reference not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
export const SHARED = findShared();
/** A file of shared/reference, as text. */
export const sharedRef = (p: string): string => readFileSync(join(SHARED, p), 'utf8');

export function httpSample(): Item {
  return JSON.parse(readFileSync(join(SHARED, 'samples', 'kubeshark-http-item-2023.json'), 'utf8'));
}

export function dnsSample(): Item {
  const seed = readFileSync(join(SHARED, 'network-hooks-seed.md'), 'utf8');
  const m = /DATA: (\{.*\})/.exec(seed);
  if (!m) throw new Error('DNS sample not found in network-hooks-seed.md');
  return JSON.parse(m[1]);
}

const rr = (o: Partial<Record<string, string | number>>) => ({
  name: '', type: 'A', class: 'IN', ttl: 30, ip: '<nil>', ns: '', cname: '', ptr: '', txts: '', soa: '', srv: '', mx: '', opt: '', uri: '', ...o,
});

/** An A lookup answered through a CNAME, as our DNS dissector shapes it. */
export function dnsAnswered(): Item {
  return {
    id: 'local/lo/000000000007_udp.pcap-0', index: 0, stream: '000000000007_udp.pcap', worker: 'local/lo',
    node: { name: 'devbox', ip: '10.0.0.5' }, protocol: PROTOCOLS.dns, tls: false,
    src: { ip: '127.0.0.1', port: '53001', name: 'dig', namespace: '', processName: 'dig', processId: 4242 },
    dst: { ip: '127.0.0.53', port: '53', name: '', namespace: '', processName: '', processId: 0 },
    outgoing: false, timestamp: 1700000000123, startTime: '2023-11-14T22:13:20.123456789Z',
    request: { opCode: 'Query', questions: [{ name: 'www.example.com', type: 'A', class: 'IN' }] },
    response: {
      code: 'Non-Existent Domain',
      answers: [rr({ name: 'www.example.com', type: 'CNAME', cname: 'example.com' }), rr({ name: 'example.com', ip: '93.184.216.34' })],
      authorities: [], additionals: [],
    },
    requestSize: 75, responseSize: 120, elapsedTime: 3, passed: false, failed: false, error: null,
    entryFile: '000000000007_udp_pcap-0_entry.json',
  } as Item;
}
