/**
 * Fallback live backend through the optional `cap` addon (libpcap), used only when tcpdump is
 * not installed. Its limits are reported, not hidden: it forces immediate mode (loss above
 * ~100k packets/s on lo), gives no packet timestamps (we stamp at delivery, from the clock)
 * and no drop counter (drops() is null: "unknown").
 */
import { createRequire } from 'node:module';
import { CaptureError } from '../errors';
import type { PacketSource, RawPacket } from '../types';
import { PRIVILEGE_HINT } from './tcpdump';

// The addon is optional: load it lazily and survive its absence.
export function loadCap(): { Cap: any } | null {
  try {
    const req = createRequire(__filename);
    return req('cap');
  } catch {
    return null;
  }
}

const LINK: Record<string, number> = { ETHERNET: 1, NULL: 0, LINKTYPE_LINUX_SLL: 113, RAW: 101, IEEE802_11_RADIO: 127 };

/** See CapSource.stop(). */
const closedCaps: unknown[] = [];

export class CapSource implements PacketSource {
  readonly name: string;
  readonly live = true;
  private cap: any;
  private queue: RawPacket[] = [];
  private wake: (() => void) | null = null;
  private stopped = false;
  private linkType = 1;

  constructor(
    private readonly mod: { Cap: any },
    private readonly iface: string,
    private readonly filter: string | undefined,
  ) {
    this.name = `local/${iface}`;
  }

  start(): void {
    const buf = Buffer.alloc(262144);
    this.cap = new this.mod.Cap();
    let lt: string;
    try {
      lt = this.cap.open(this.iface, this.filter ?? '', 64 * 1024 * 1024, buf);
    } catch (e) {
      const m = (e as Error).message ?? String(e);
      if (/permission|not permitted/i.test(m)) throw new CaptureError(`no permission to capture on ${this.iface}: ${PRIVILEGE_HINT}`);
      if (/no such device|doesn't exist/i.test(m)) throw new CaptureError(`no capture interface '${this.iface}' (see 'wirehook interfaces')`);
      if (/filter|syntax/i.test(m)) throw new CaptureError(`bad --filter: ${m}`);
      throw new CaptureError(`cannot capture on ${this.iface}: ${m}`);
    }
    if (!(lt in LINK)) throw new CaptureError(`cannot capture on ${this.iface}: unsupported link type (${lt})`);
    this.linkType = LINK[lt];
    this.cap.on('packet', (nbytes: number, truncated: boolean) => {
      const now = Date.now();
      const data = Buffer.from(buf.subarray(0, nbytes)); // cap reuses one buffer
      // cap says only that the packet was cut, not its wire length: origLen one more than
      // caplen keeps `truncated` true without inventing a length.
      this.queue.push({ linkType: this.linkType, tsSec: Math.floor(now / 1000), tsNsec: (now % 1000) * 1e6, caplen: nbytes, origLen: truncated ? nbytes + 1 : nbytes, data, interfaceId: 0, offset: -1 });
      this.wake?.();
    });
  }

  async *packets(): AsyncGenerator<RawPacket[]> {
    if (!this.cap) this.start();
    while (!this.stopped || this.queue.length) {
      if (!this.queue.length) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      const batch = this.queue;
      this.queue = [];
      yield batch;
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    try {
      this.cap?.close();
    } catch {
      // already closed
    }
    // A closed Cap collected by the GC can crash the process (seen: SIGSEGV in the live test
    // after close; node_pcap#270 reports the same for its sessions): closed handles stay
    // referenced, so their native destructor never runs on a GC thread. One per live capture.
    if (this.cap) closedCaps.push(this.cap);
    this.wake?.();
  }

  drops(): null {
    return null;
  }

  notices(): string[] {
    return ['capture through the cap addon (tcpdump not found): packet timestamps come from the clock at delivery and drops are unknown; install tcpdump for kernel timestamps and drop counts'];
  }
}
