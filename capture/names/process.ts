/**
 * Local process that owns a socket, for live capture on Linux: /proc/net/{tcp,tcp6,udp,udp6}
 * gives the socket inode of a local ip:port, a scan of /proc/PID/fd maps inodes to pids, and
 * /proc/PID/comm names the process. Called once per new connection (never per packet); the
 * inode → pid scan is cached and redone at most every RESCAN_MS, and only when an inode is
 * missing from it; the socket tables are reused for TABLE_TTL_MS and re-read on a miss at most
 * every MISS_REREAD_MS. Anything unreadable simply yields no name.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { formatIp } from '../decode/packet';
import type { EndpointNames } from '../item/build';

const RESCAN_MS = 200;
const TABLE_TTL_MS = 200;
const MISS_REREAD_MS = 10;

export class ProcessNames {
  private inodePid = new Map<string, number>();
  private lastScan = 0;
  private comm = new Map<number, string>();

  constructor(private readonly proc = '/proc') {}

  /** Names for both ends of a flow (null when not a local socket). */
  resolve(transport: 'tcp' | 'udp', srcIp: string, srcPort: number, dstIp: string, dstPort: number): [EndpointNames | null, EndpointNames | null] {
    const now = Date.now();
    let t = this.tables[transport];
    // Busy hosts open many connections: reuse a recent socket table, re-read it on a miss.
    if (!t || now - t.at > TABLE_TTL_MS) t = this.tables[transport] = { at: now, m: this.sockets(transport) };
    let src = this.lookup(t.m, srcIp, srcPort, dstIp, dstPort);
    let dst = this.lookup(t.m, dstIp, dstPort, srcIp, srcPort);
    if ((!src || !dst) && now - t.at > MISS_REREAD_MS) {
      t = this.tables[transport] = { at: now, m: this.sockets(transport) };
      src ??= this.lookup(t.m, srcIp, srcPort, dstIp, dstPort);
      dst ??= this.lookup(t.m, dstIp, dstPort, srcIp, srcPort);
    }
    return [src, dst];
  }

  private tables: Record<string, { at: number; m: Map<string, string> } | undefined> = {};

  private lookup(table: Map<string, string>, ip: string, port: number, peerIp: string, peerPort: number): EndpointNames | null {
    const inode =
      table.get(`${ip}:${port}>${peerIp}:${peerPort}`) ??
      table.get(`::ffff:${ip}:${port}>::ffff:${peerIp}:${peerPort}`) ??
      table.get(`${ip}:${port}`) ??
      table.get(`::ffff:${ip}:${port}`) ??
      table.get(`*:${port}`);
    if (!inode) return null;
    let pid = this.inodePid.get(inode);
    if (pid === undefined && Date.now() - this.lastScan > RESCAN_MS) {
      this.scan();
      pid = this.inodePid.get(inode);
    }
    if (pid === undefined) return null;
    let name = this.comm.get(pid);
    if (name === undefined) {
      try {
        name = readFileSync(`${this.proc}/${pid}/comm`, 'utf8').trim();
      } catch {
        name = '';
      }
      this.comm.set(pid, name);
    }
    return { name, processName: name, processId: pid };
  }

  /** "ip:port>peer:port" (connected) and "ip:port" / "*:port" (any state) → inode. */
  private sockets(transport: 'tcp' | 'udp'): Map<string, string> {
    const m = new Map<string, string>();
    for (const v6 of [false, true]) {
      let text: string;
      try {
        text = readFileSync(`${this.proc}/net/${transport}${v6 ? '6' : ''}`, 'utf8');
      } catch {
        continue;
      }
      const lines = text.split('\n');
      for (let i = 1; i < lines.length; i++) {
        const f = lines[i].trim().split(/\s+/);
        if (f.length < 10 || f[9] === '0') continue;
        const [lip, lport] = parseAddr(f[1], v6);
        const [rip, rport] = parseAddr(f[2], v6);
        const inode = f[9];
        if (rport) m.set(`${lip}:${lport}>${rip}:${rport}`, inode);
        if (!m.has(`${lip}:${lport}`)) m.set(`${lip}:${lport}`, inode);
        if ((lip === '0.0.0.0' || lip === '::') && !m.has(`*:${lport}`)) m.set(`*:${lport}`, inode);
      }
    }
    return m;
  }

  private scan(): void {
    this.lastScan = Date.now();
    this.inodePid.clear();
    this.comm.clear();
    let pids: string[];
    try {
      pids = readdirSync(this.proc).filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    for (const p of pids) {
      let fds: string[];
      try {
        fds = readdirSync(`${this.proc}/${p}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const l = readlinkSync(`${this.proc}/${p}/fd/${fd}`);
          if (l.startsWith('socket:[')) this.inodePid.set(l.slice(8, -1), Number(p));
        } catch {
          // the fd closed meanwhile
        }
      }
    }
  }
}

/** /proc/net hex "0100007F:1F90" (address words in host byte order, little-endian here). */
function parseAddr(s: string, v6: boolean): [string, number] {
  const [hex, port] = s.split(':');
  const b = Buffer.from(hex, 'hex');
  for (let i = 0; i + 4 <= b.length; i += 4) b.subarray(i, i + 4).reverse();
  return [formatIp(b, 0, v6 ? 6 : 4), parseInt(port, 16)];
}
