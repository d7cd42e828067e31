/**
 * Link layers → offset of the IP header. Returns the offset, NOT_IP for frames that carry
 * something else (ARP, LLC…), or SHORT for frames too short for their own header.
 */
export const NOT_IP = -1;
export const SHORT = -2;
export const UNKNOWN_LINK = -3;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/** Walks stacked 802.1Q / 802.1ad / QinQ tags from the ethertype at `off` (frame ends at `e`). */
function afterEthertype(d: Buffer, off: number, e: number): number {
  for (;;) {
    if (off + 2 > e) return SHORT;
    const t = (d[off] << 8) | d[off + 1];
    if (t === ETH_IPV4 || t === ETH_IPV6) return off + 2;
    if (t === 0x8100 || t === 0x88a8 || t === 0x9100) {
      off += 4; // 2 bytes TCI, then the inner ethertype
      continue;
    }
    return NOT_IP;
  }
}

/** Offset of the IP header in the frame d[s, e) (absolute, in d), or NOT_IP / SHORT / UNKNOWN_LINK. */
export function ipOffset(linkType: number, d: Buffer, s = 0, e = d.length): number {
  const len = e - s;
  switch (linkType) {
    case 1: // Ethernet
      if (len < 14) return SHORT;
      return afterEthertype(d, s + 12, e);
    case 113: // Linux cooked v1: 16-byte header, protocol at 14
      if (len < 16) return SHORT;
      return afterEthertype(d, s + 14, e);
    case 276: // Linux cooked v2: protocol at 0, 20-byte header
      if (len < 20) return SHORT;
      {
        const t = (d[s] << 8) | d[s + 1];
        if (t === ETH_IPV4 || t === ETH_IPV6) return s + 20;
        if (t === 0x8100 || t === 0x88a8) return afterEthertype(d, s + 22, e);
        return NOT_IP;
      }
    case 101: // raw IP (and the old DLT_RAW values)
    case 12:
    case 14:
    case 228:
    case 229:
      return len < 1 ? SHORT : s;
    case 0: // BSD null: address family in host byte order
    case 108: {
      // BSD loop: network byte order (accept either; families are small numbers)
      if (len < 4) return SHORT;
      let af = d.readUInt32LE(s);
      if (af > 0xffff) af = d.readUInt32BE(s);
      // AF_INET = 2 everywhere; AF_INET6 = 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS)
      if (af === 2 || af === 10 || af === 24 || af === 28 || af === 30) return s + 4;
      return NOT_IP;
    }
    default:
      return UNKNOWN_LINK;
  }
}
