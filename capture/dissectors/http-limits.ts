/**
 * Every bound the HTTP/1 dissector puts on one connection, in one place. A hostile or broken
 * stream hits one of these and is cut (counted with ctx.warn, shown by --stats), never grows
 * memory or CPU without limit. docs/items.md (HTTP) states each policy.
 */

/** A head larger than this is not HTTP we can use: give up on the message and resync. */
export const MAX_HEAD = 64 * 1024;
/** Bytes an upgrade-pending client may send before the server answers (kept for replay). */
export const MAX_HELD = 64 * 1024;
/** A chunk-size or trailer line longer than this is malformed. */
export const MAX_CHUNK_LINE = 4096;
/** An incomplete line longer than this cannot become a start line: resync skips it. */
export const MAX_START_LINE = 8192;
/** Trailer lines of one chunked message, in total: a trailer is a head, with a head's cap. */
export const MAX_TRAILERS = 64 * 1024;
/**
 * Exchanges one connection may hold while they wait for their responses (pipelining), and the
 * body-preview bytes they may hold. Past either, the oldest is emitted at once without its
 * response (error pair-not-found, counted in --stats), and the response that comes for it later
 * is skipped, so later responses still pair with their own requests.
 */
export const MAX_HELD_EXCHANGES = 256;
export const MAX_HELD_BODY_BYTES = 8 * 1024 * 1024;

/**
 * Work done by the HTTP dissector, summed over all connections: read by the regression tests of
 * the caps (they count work and memory, never time). A few increments, off the per-byte paths.
 */
export const httpWork = {
  /** Full head parses (readHead); a head split over many segments is parsed once. */
  headParses: 0,
  /** Bytes copied into the sides' pending buffers. */
  bytesBuffered: 0,
  /** Steps of the pairing queue's searches. */
  pairingSteps: 0,
  /** Most exchanges held by one connection, and most body-preview bytes they held. */
  maxHeldExchanges: 0,
  maxHeldBodyBytes: 0,
  reset(): void {
    this.headParses = this.bytesBuffered = this.pairingSteps = this.maxHeldExchanges = this.maxHeldBodyBytes = 0;
  },
};
