/** `--pcap FILE|-` / `--interface IF [--filter BPF]` / a command's pcap output → a PacketSource. */
import { CaptureError } from '../errors';
import type { PacketSource } from '../types';
import { CapSource, loadCap } from './cap';
import { CommandSource } from './command';
import { fileSource, type Speed } from './file';
import { findExecutable, TcpdumpSource } from './tcpdump';

export const MISSING_CAPTURE_TOOLS =
  'live capture needs tcpdump (preferred) or libpcap for the cap addon: apt-get install tcpdump libpcap-dev';

export interface SourceSpec {
  /** A pcap/pcapng file, or `-` for stdin. */
  pcap?: string;
  /** File sources: 'asap' (default) reads as fast as possible; 'realtime' paces packets by their timestamps (live delivery). */
  speed?: Speed;
  /** Live capture on this interface. */
  interface?: string;
  filter?: string;
  backend?: 'tcpdump' | 'cap';
  /** Live: hand each packet over as it arrives (low latency, the editor's choice) instead of in blocks (throughput, the CLI's). */
  immediate?: boolean;
  /** argv of a command that writes pcap/pcapng on stdout (no shell), e.g. ['ssh', 'host', 'tcpdump', '-U', '-w', '-']. */
  command?: string[];
}

export async function openSourceSpec(spec: SourceSpec): Promise<PacketSource> {
  const given = [spec.pcap !== undefined && '--pcap', spec.interface !== undefined && '--interface', spec.command !== undefined && 'a command'].filter(Boolean);
  if (given.length > 1) throw new CaptureError(`give one of --pcap, --interface or a command, not ${given.join(' and ')}`);
  if (spec.speed !== undefined && spec.speed !== 'asap' && spec.speed !== 'realtime') throw new CaptureError(`speed must be 'asap' or 'realtime', got '${spec.speed}'`);
  if (spec.speed === 'realtime' && spec.pcap === undefined) throw new CaptureError("speed 'realtime' applies to files only");
  if (spec.command !== undefined) {
    if (spec.filter) throw new CaptureError('--filter applies to --interface only (give the filter to the command)');
    const s = new CommandSource(spec.command);
    await s.start();
    return s;
  }
  if (spec.pcap !== undefined) {
    if (spec.filter) throw new CaptureError('--filter applies to live capture only (filter a file with tcpdump -r FILE -w - FILTER | wirehook items --pcap -)');
    return fileSource(spec.pcap, spec.speed);
  }
  if (spec.interface === undefined) throw new CaptureError('give --pcap FILE|-, --interface IF or a command');
  // WIREHOOK_LIVE_BACKEND=cap forces the fallback (measurements, troubleshooting).
  const backend = spec.backend ?? (process.env.WIREHOOK_LIVE_BACKEND === 'cap' ? 'cap' : 'tcpdump');
  const tcpdump = backend === 'cap' ? null : findExecutable('tcpdump');
  if (tcpdump) {
    const s = new TcpdumpSource(tcpdump, spec.interface, spec.filter, spec.immediate === true);
    await s.start();
    return s;
  }
  const cap = loadCap();
  if (!cap) throw new CaptureError(MISSING_CAPTURE_TOOLS);
  const s = new CapSource(cap, spec.interface, spec.filter);
  s.start();
  return s;
}
