/**
 * Direction-independent 4-tuple keys for the flow tables. The last key is remembered: packets
 * of one flow (either direction) tend to come in runs, and handing the Map the same string
 * object again skips building it and re-hashing it (V8 caches a string's hash).
 */
import type { Decoded } from '../decode/packet';

export class FlowKeys {
  /** Set by key(): the packet's sender is the canonical side A (the lower address/port). */
  senderIsA = false;
  private ls = -1;
  private lt = -1;
  private lsp = -1;
  private ldp = -1;
  private lkey = '';
  private lA = false;

  key(d: Decoded): string {
    const sp = d.srcPort;
    const dp = d.dstPort;
    if (d.ipVersion === 4) {
      const s = d.addrBuf.readUInt32BE(d.srcOff);
      const t = d.addrBuf.readUInt32BE(d.dstOff);
      if (s === this.ls && t === this.lt && sp === this.lsp && dp === this.ldp) {
        this.senderIsA = this.lA;
        return this.lkey;
      }
      if (s === this.lt && t === this.ls && sp === this.ldp && dp === this.lsp) {
        this.senderIsA = !this.lA;
        return this.lkey;
      }
      const a = s < t || (s === t && sp <= dp);
      const key = a ? `${s}:${sp}>${t}:${dp}` : `${t}:${dp}>${s}:${sp}`;
      this.ls = s;
      this.lt = t;
      this.lsp = sp;
      this.ldp = dp;
      this.lkey = key;
      this.lA = a;
      this.senderIsA = a;
      return key;
    }
    const s = d.addrBuf.toString('latin1', d.srcOff, d.srcOff + 16);
    const t = d.addrBuf.toString('latin1', d.dstOff, d.dstOff + 16);
    const a = s < t || (s === t && sp <= dp);
    this.senderIsA = a;
    return a ? `6${s}${sp}>${t}${dp}` : `6${t}${dp}>${s}${sp}`;
  }
}
