/** `--pcap FILE|-` / `--interface IF [--filter BPF]` → a PacketSource. */
import { CaptureError } from '../errors';
import type { PacketSource } from '../types';
import { CapSource, loadCap } from './cap';
import { fileSource } from './file';
import { findExecutable, TcpdumpSource } from './tcpdump';

export const MISSING_CAPTURE_TOOLS =
  'live capture needs tcpdump (preferred) or libpcap for the cap addon: apt-get install tcpdump libpcap-dev';

export async function openSourceSpec(spec: { pcap?: string; interface?: string; filter?: string; backend?: 'tcpdump' | 'cap' }): Promise<PacketSource> {
  if (spec.pcap !== undefined && spec.interface !== undefined) throw new CaptureError('give either --pcap or --interface, not both');
  if (spec.pcap !== undefined) {
    if (spec.filter) throw new CaptureError('--filter applies to live capture only (filter a file with tcpdump -r FILE -w - FILTER | wirehook items --pcap -)');
    return fileSource(spec.pcap);
  }
  if (spec.interface === undefined) throw new CaptureError('give --pcap FILE|- or --interface IF');
  // WIREHOOK_LIVE_BACKEND=cap forces the fallback (measurements, troubleshooting).
  const backend = spec.backend ?? (process.env.WIREHOOK_LIVE_BACKEND === 'cap' ? 'cap' : 'tcpdump');
  const tcpdump = backend === 'cap' ? null : findExecutable('tcpdump');
  if (tcpdump) {
    const s = new TcpdumpSource(tcpdump, spec.interface, spec.filter);
    await s.start();
    return s;
  }
  const cap = loadCap();
  if (!cap) throw new CaptureError(MISSING_CAPTURE_TOOLS);
  const s = new CapSource(cap, spec.interface, spec.filter);
  s.start();
  return s;
}
