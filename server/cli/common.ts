/** Shared CLI plumbing: the `wirehook: …` error convention and exit codes. */

/** Bad usage, unreadable/malformed input, missing privileges: exit 2 with one line on stderr. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function fail(message: string): never {
  throw new UsageError(message);
}

/** Prints `wirehook: message` and exits 2 for expected errors; re-throws real bugs. */
export function reportAndExit(err: unknown): never {
  const e = err as { name?: string; message?: string; code?: string };
  if (e && (e.name === 'UsageError' || e.name === 'CaptureError' || e.name === 'QueryError' || e.name === 'ScriptLoadError')) {
    process.stderr.write(`wirehook: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`wirehook: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(70);
}
