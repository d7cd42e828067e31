/**
 * Errors the capture stages raise for bad input or a missing capture facility. The CLI prints
 * `wirehook: <message>` and exits 2 for these (server/cli/common.ts matches on `name`).
 */
export class CaptureError extends Error {
  constructor(
    message: string,
    /** Byte offset in the file/stream where the problem was found, or -1. */
    readonly offset = -1,
  ) {
    super(message);
    this.name = 'CaptureError';
  }
}
