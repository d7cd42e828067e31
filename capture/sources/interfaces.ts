/**
 * Capture interfaces: from the cap addon's libpcap device list when it loads, else `tcpdump -D`,
 * else /sys/class/net. Addresses are filled in from os.networkInterfaces() when the source
 * has none.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { loadCap } from './cap';
import { findExecutable } from './tcpdump';

export interface InterfaceInfo {
  name: string;
  description: string;
  addresses: string[];
  up: boolean | null;
  loopback: boolean;
  /** Where the entry came from: "libpcap", "tcpdump" or "sysfs". */
  via: string;
}

function osAddresses(name: string): string[] {
  return (networkInterfaces()[name] ?? []).map((a) => a.address);
}

function sysFlags(name: string): number | null {
  try {
    return parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
  } catch {
    return null;
  }
}

function withSys(i: InterfaceInfo): InterfaceInfo {
  const f = sysFlags(i.name);
  if (f !== null) {
    if (i.up === null) i.up = (f & 0x1) !== 0;
    i.loopback ||= (f & 0x8) !== 0;
  }
  if (!i.addresses.length) i.addresses = osAddresses(i.name);
  return i;
}

export function listInterfaces(): InterfaceInfo[] {
  const cap = loadCap();
  if (cap) {
    try {
      const list = cap.Cap.deviceList() as { name: string; description?: string; addresses?: { addr?: string }[]; flags?: string }[];
      return list.map((d) =>
        withSys({
          name: d.name,
          description: d.description ?? '',
          addresses: (d.addresses ?? []).map((a) => a.addr ?? '').filter(Boolean),
          up: null,
          loopback: /LOOPBACK/.test(d.flags ?? ''),
          via: 'libpcap',
        }),
      );
    } catch {
      // fall through to tcpdump
    }
  }
  const td = findExecutable('tcpdump');
  if (td) {
    try {
      const out = execFileSync(td, ['-D'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
      const res: InterfaceInfo[] = [];
      for (const line of out.split('\n')) {
        // "3.lo [Up, Running, Loopback]" or "1.eth0 (Description) [Up, Running]"
        const m = /^\d+\.(\S+)(?:\s+\(([^)]*)\))?(?:\s+\[([^\]]*)\])?/.exec(line.trim());
        if (!m) continue;
        const flags = m[3] ?? '';
        res.push(withSys({ name: m[1], description: m[2] ?? '', addresses: [], up: flags ? /\bUp\b/.test(flags) : null, loopback: /Loopback/.test(flags), via: 'tcpdump' }));
      }
      if (res.length) return res;
    } catch {
      // fall through to sysfs
    }
  }
  try {
    return readdirSync('/sys/class/net').map((name) => withSys({ name, description: '', addresses: [], up: null, loopback: false, via: 'sysfs' }));
  } catch {
    return Object.keys(networkInterfaces()).map((name) => ({ name, description: '', addresses: osAddresses(name), up: null, loopback: name === 'lo', via: 'os' }));
  }
}
