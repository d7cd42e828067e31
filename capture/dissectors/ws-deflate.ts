/**
 * permessage-deflate (RFC 7692) for the WebSocket dissector: the negotiated parameters and one
 * inflater per direction.
 *
 * With context takeover (the default) a message may refer back to the previous messages'
 * output (the LZ77 window), so each direction keeps the last 32 KiB it inflated and hands it to
 * zlib as the preset dictionary of the next message: for raw deflate that is exactly the state
 * a long-lived inflate stream would have, and it keeps inflation synchronous (node:zlib's
 * streams are asynchronous; the parser must emit in order). With `*_no_context_takeover` the
 * window is dropped after each message.
 */
import { constants, inflateRawSync } from 'node:zlib';

const WINDOW = 32 * 1024;
/** A message inflating past this is shown cut (and the direction's window is lost). */
export const INFLATE_CAP = 16 * 1024 * 1024;
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

export interface DeflateParams {
  /** The client's messages are compressed without context takeover. */
  clientNoTakeover: boolean;
  serverNoTakeover: boolean;
}

/** The server's Sec-WebSocket-Extensions answer (it decides), or null when deflate was not agreed. */
export function negotiated(header: string | undefined): DeflateParams | null {
  if (!header) return null;
  for (const ext of header.split(',')) {
    const parts = ext.split(';').map((p) => p.trim().toLowerCase());
    if (parts[0] !== 'permessage-deflate') continue;
    const has = (k: string) => parts.some((p) => p === k || p.startsWith(`${k}=`));
    return { clientNoTakeover: has('client_no_context_takeover'), serverNoTakeover: has('server_no_context_takeover') };
  }
  return null;
}

export class Inflater {
  private window: Buffer | null = null;
  /** The window was lost (a message failed or was too large): later messages may not inflate. */
  broken = false;

  constructor(private readonly takeover: boolean) {}

  /** Inflates one message's payload (the frames' payloads joined); throws on corrupt data. */
  message(payload: Buffer): Buffer {
    const input = Buffer.concat([payload, TAIL]);
    let out: Buffer;
    try {
      out = inflateRawSync(input, { dictionary: this.window ?? undefined, maxOutputLength: INFLATE_CAP, finishFlush: constants.Z_SYNC_FLUSH });
    } catch (e) {
      this.window = null;
      this.broken = this.takeover;
      throw e;
    }
    if (this.takeover) {
      const w = this.window ? Buffer.concat([this.window, out]) : out;
      this.window = w.length > WINDOW ? Buffer.from(w.subarray(w.length - WINDOW)) : Buffer.from(w);
    }
    return out;
  }
}
