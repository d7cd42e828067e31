/**
 * Names for remote addresses from DNS answers seen earlier in the same capture: each A/AAAA
 * answer maps its address to the name the client asked for (a CNAME chain resolves to the
 * asked name, not to the canonical one); a later answer renames the address. Bounded: past
 * MAX_NAMES the table starts over.
 *
 * Decision: a loopback address keeps a name only while every answer agrees on it. Every local
 * service shares 127.0.0.1/::1, so a dev resolver that points many names there would otherwise
 * rename every local connection (and the resolver itself) after each answer; with one name
 * (`myapp.test`) it is still shown, with several it is dropped ("" - unknown, not wrong).
 * Remote addresses keep "last answer wins": a connection usually follows its own lookup.
 */
import type { DnsResponse, DnsRequest, Item } from '../item/schema';

const MAX_NAMES = 100_000;

export class DnsNames {
  private byIp = new Map<string, string>();
  /** Loopback addresses given different names: they stay unnamed. */
  private ambiguous = new Set<string>();

  get size(): number {
    return this.byIp.size;
  }

  /** Learns from a DNS item; other items are ignored. */
  learn(item: Item): void {
    if (item.protocol.name !== 'dns') return;
    const req = item.request as DnsRequest;
    const res = item.response as DnsResponse;
    const q = req?.questions?.[0]?.name;
    if (!q || !Array.isArray(res?.answers)) return;
    const answers = res.answers;
    let hasAddr = false;
    let hasCname = false;
    for (let i = 0; i < answers.length; i++) {
      const t = answers[i].type;
      if (t === 'A' || t === 'AAAA') hasAddr = true;
      else if (t === 'CNAME') hasCname = true;
    }
    if (!hasAddr) return;
    const name = trimDot(q);
    // Lower-cased only when needed (not when every address record names the question itself).
    let asked = hasCname ? name.toLowerCase() : null;
    // Names that are the asked name or reachable from it through CNAMEs (no Set without CNAMEs:
    // the common case, once per DNS item).
    const chain = hasCname ? new Set([asked!]) : null;
    for (let grew = hasCname; chain && grew; ) {
      grew = false;
      for (const rr of answers) {
        if (rr.type === 'CNAME' && chain.has(trimDot(rr.name).toLowerCase())) {
          const t = trimDot(rr.cname).toLowerCase();
          if (!chain.has(t)) (chain.add(t), (grew = true));
        }
      }
    }
    for (let i = 0; i < answers.length; i++) {
      const rr = answers[i];
      // rr.name === q: the decoder hands out the question's own string for a pointer to it.
      if ((rr.type === 'A' || rr.type === 'AAAA') && rr.ip && rr.ip !== '<nil>' && (chain ? chain.has(trimDot(rr.name).toLowerCase()) : rr.name === q || trimDot(rr.name).toLowerCase() === (asked ??= name.toLowerCase()))) {
        const had = this.byIp.get(rr.ip);
        if (had === name) continue;
        if (isLoopback(rr.ip)) {
          if (this.ambiguous.has(rr.ip)) continue;
          if (had !== undefined) {
            this.ambiguous.add(rr.ip);
            this.byIp.delete(rr.ip);
            continue;
          }
        }
        if (this.byIp.size >= MAX_NAMES) this.byIp.clear();
        this.byIp.set(rr.ip, name);
      }
    }
  }

  lookup(ip: string): string {
    return this.byIp.get(ip) ?? '';
  }
}

/** 127.0.0.0/8 and ::1 (as formatIp and the DNS decoder write them). */
function isLoopback(ip: string): boolean {
  return ip.startsWith('127.') || ip === '::1';
}

/** A trailing "." dropped (not from "."). charCodeAt: endsWith's call showed in profiles. */
function trimDot(s: string): string {
  return s.length > 1 && s.charCodeAt(s.length - 1) === 0x2e ? s.slice(0, -1) : s;
}
