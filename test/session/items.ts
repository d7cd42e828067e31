/** Items for the session tests: the real pipeline over a real capture, kept with their packets. */
import { openSource, runPipeline } from '../../capture/pipeline';
import type { Item } from '../../capture/item/schema';
import type { RawPacket } from '../../capture/types';
import { resolve } from 'node:path';

export const DEMO = resolve('examples', 'captures', 'demo.pcap');

export interface Captured {
  items: Item[];
  /** Every stream packet, copied, in capture order. */
  packets: { stream: string; pkt: RawPacket }[];
}

const cache = new Map<string, Promise<Captured>>();

/** Runs the pipeline over `file` once per process (items are cloned by each caller that mutates). */
export function captureItems(file = DEMO): Promise<Captured> {
  let p = cache.get(file);
  if (!p) {
    p = (async () => {
      const items: Item[] = [];
      const packets: Captured['packets'] = [];
      await runPipeline(await openSource({ pcap: file }), {
        item: (i) => void items.push(i),
        streamPacket: (stream, pkt) => void packets.push({ stream, pkt: { ...pkt, data: Buffer.from(pkt.data), buf: undefined, off: undefined } }),
      });
      return { items, packets };
    })();
    cache.set(file, p);
  }
  return p;
}

/** A deep copy with a new id (what a long capture of the same traffic looks like to the store). */
export function cloneAs(item: Item, id: string): Item {
  return { ...(JSON.parse(JSON.stringify(item)) as Item), id, protocol: item.protocol };
}
