/**
 * Link layers → offset of the IP header. Returns the offset, NOT_IP for frames that carry
 * something else (ARP, LLC…), or SHORT for frames too short for their own header.
 */
export const NOT_IP = -1;
export const SHORT = -2;
export const UNKNOWN_LINK = -3;

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

/** Walks stacked 802.1Q / 802.1ad / QinQ tags from the ethertype at `off`. */
function afterEthertype(d: Buffer, off: number): number {
  for (;;) {
    if (off + 2 > d.length) return SHORT;
    const t = (d[off] << 8) | d[off + 1];
    if (t === ETH_IPV4 || t === ETH_IPV6) return off + 2;
    if (t === 0x8100 || t === 0x88a8 || t === 0x9100) {
      off += 4; // 2 bytes TCI, then the inner ethertype
      continue;
    }
    return NOT_IP;
  }
}

export function ipOffset(linkType: number, d: Buffer): number {
  switch (linkType) {
    case 1: // Ethernet
      if (d.length < 14) return SHORT;
      return afterEthertype(d, 12);
    case 113: // Linux cooked v1: 16-byte header, protocol at 14
      if (d.length < 16) return SHORT;
      return afterEthertype(d, 14);
    case 276: // Linux cooked v2: protocol at 0, 20-byte header
      if (d.length < 20) return SHORT;
      {
        const t = (d[0] << 8) | d[1];
        if (t === ETH_IPV4 || t === ETH_IPV6) return 20;
        if (t === 0x8100 || t === 0x88a8) return afterEthertype(d, 22);
        return NOT_IP;
      }
    case 101: // raw IP (and the old DLT_RAW values)
    case 12:
    case 14:
    case 228:
    case 229:
      return d.length < 1 ? SHORT : 0;
    case 0: // BSD null: address family in host byte order
    case 108: {
      // BSD loop: network byte order (accept either; families are small numbers)
      if (d.length < 4) return SHORT;
      let af = d.readUInt32LE(0);
      if (af > 0xffff) af = d.readUInt32BE(0);
      // AF_INET = 2 everywhere; AF_INET6 = 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS)
      if (af === 2 || af === 10 || af === 24 || af === 28 || af === 30) return 4;
      return NOT_IP;
    }
    default:
      return UNKNOWN_LINK;
  }
}
