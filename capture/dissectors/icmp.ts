/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) messages: type/code names as gopacket prints them (what
 * Kubeshark's Go dissectors show), echo identifier/sequence, and for error messages the flow
 * of the datagram they quote (its IP header and first 8 bytes: the ports). Pairing and items are
 * in capture/stream/icmp.ts; ICMP has no stream, so this is not a `Dissector`.
 */
import { formatIp } from '../decode/packet';
import type { IcmpMessage, IcmpQuotedFlow } from '../item/schema';

const V4_TYPES: Record<number, string> = {
  0: 'EchoReply', 3: 'DestinationUnreachable', 4: 'SourceQuench', 5: 'Redirect', 8: 'EchoRequest',
  9: 'RouterAdvertisement', 10: 'RouterSolicitation', 11: 'TimeExceeded', 12: 'ParameterProblem',
  13: 'TimestampRequest', 14: 'TimestampReply', 15: 'InfoRequest', 16: 'InfoReply',
  17: 'AddressMaskRequest', 18: 'AddressMaskReply',
};
const V4_CODES: Record<number, string[]> = {
  3: ['Net', 'Host', 'Protocol', 'Port', 'FragmentationNeeded', 'SourceRoutingFailed', 'NetUnknown', 'HostUnknown', 'SourceIsolated', 'NetAdminProhibited', 'HostAdminProhibited', 'NetTOS', 'HostTOS', 'CommAdminProhibited', 'HostPrecedence', 'PrecedenceCutoff'],
  5: ['Net', 'Host', 'TOS+Net', 'TOS+Host'],
  11: ['TTLExceeded', 'FragmentReassemblyTimeExceeded'],
  12: ['PointerIndicatesError', 'MissingOption', 'BadLength'],
};
const V6_TYPES: Record<number, string> = {
  1: 'DestinationUnreachable', 2: 'PacketTooBig', 3: 'TimeExceeded', 4: 'ParameterProblem',
  128: 'EchoRequest', 129: 'EchoReply', 130: 'MLDv1MulticastListenerQuery', 131: 'MLDv1MulticastListenerReport',
  132: 'MLDv1MulticastListenerDone', 133: 'RouterSolicitation', 134: 'RouterAdvertisement',
  135: 'NeighborSolicitation', 136: 'NeighborAdvertisement', 137: 'Redirect', 143: 'MLDv2MulticastListenerReport',
};
const V6_CODES: Record<number, string[]> = {
  1: ['NoRouteToDst', 'AdminProhibited', 'BeyondScopeOfSrc', 'AddressUnreachable', 'PortUnreachable', 'SrcAddressFailedPolicy', 'RejectRouteToDst'],
  3: ['HopLimitExceeded', 'FragmentReassemblyTimeExceeded'],
  4: ['ErroneousHeaderField', 'UnrecognizedNextHeader', 'UnrecognizedIPv6Option'],
};

export const ECHO_REQUEST = { 4: 8, 6: 128 } as const;
export const ECHO_REPLY = { 4: 0, 6: 129 } as const;

/** Error messages carry the start of the offending datagram. */
export function isError(v: 4 | 6, type: number): boolean {
  return v === 4 ? type === 3 || type === 4 || type === 5 || type === 11 || type === 12 : type >= 1 && type <= 4;
}

/** Same fields, nothing in them: the side of a pair that was not seen. */
export function emptyIcmp(v: 4 | 6): IcmpMessage {
  return { version: v, type: -1, code: -1, typeName: '', codeName: '', typeCode: '', length: 0, id: 0, seq: 0, original: null };
}

/** Decodes the ICMP message at b[start, end) (end - start ≥ 8, checked by the decoder). Never throws. */
export function parseIcmp(v: 4 | 6, b: Buffer, start: number, end: number): IcmpMessage {
  const type = b[start];
  const code = b[start + 1];
  const typeName = (v === 4 ? V4_TYPES : V6_TYPES)[type] ?? '';
  const codeName = (v === 4 ? V4_CODES : V6_CODES)[type]?.[code] ?? '';
  const echo = type === ECHO_REQUEST[v] || type === ECHO_REPLY[v];
  return {
    version: v,
    type,
    code,
    typeName,
    codeName,
    // gopacket's ICMPv4TypeCode/ICMPv6TypeCode String(): "Type(Code)", or the bare type without code names.
    typeCode: typeName ? (codeName ? `${typeName}(${codeName})` : typeName) : `${type}(${code})`,
    length: end - start,
    id: echo ? (b[start + 4] << 8) | b[start + 5] : 0,
    seq: echo ? (b[start + 6] << 8) | b[start + 7] : 0,
    original: isError(v, type) ? quoted(v, b, start + 8, end) : null,
  };
}

/** The quoted datagram's endpoints (ports when TCP/UDP and present), or null when too short. */
function quoted(v: 4 | 6, b: Buffer, p: number, end: number): IcmpQuotedFlow | null {
  let proto: number, src: string, dst: string, l4: number;
  if (v === 4) {
    if (p + 20 > end || b[p] >> 4 !== 4) return null;
    const ihl = (b[p] & 0x0f) * 4;
    if (ihl < 20) return null;
    proto = b[p + 9];
    src = formatIp(b, p + 12, 4);
    dst = formatIp(b, p + 16, 4);
    l4 = p + ihl;
  } else {
    if (p + 40 > end || b[p] >> 4 !== 6) return null;
    proto = b[p + 6];
    src = formatIp(b, p + 8, 6);
    dst = formatIp(b, p + 24, 6);
    l4 = p + 40;
  }
  const ports = (proto === 6 || proto === 17) && l4 + 4 <= end;
  return {
    transport: proto === 6 ? 'tcp' : proto === 17 ? 'udp' : String(proto),
    srcIp: src,
    srcPort: ports ? (b[l4] << 8) | b[l4 + 1] : 0,
    dstIp: dst,
    dstPort: ports ? (b[l4 + 2] << 8) | b[l4 + 3] : 0,
    stream: '',
  };
}
