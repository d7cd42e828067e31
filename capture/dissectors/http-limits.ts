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
