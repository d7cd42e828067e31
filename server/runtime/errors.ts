/** Script errors with locations mapped back to the user's source. */

/** A script failed to load (syntax error, top-level throw, limit hit). `message` is `FILE:LINE:COL: text`. */
export class ScriptLoadError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly text: string,
    readonly stack2 = '',
  ) {
    super(`${file}:${line}:${col}: ${text}`);
    this.name = 'ScriptLoadError';
  }
}

/**
 * The user's source is wrapped as `(function(){` + source + `\n;return …})` on the same first
 * line, so only columns of line 1 move. `fix` undoes that in any `file:LINE:COL` it finds.
 */
export function locationFixer(file: string, prefixLen: number): (text: string) => string {
  const esc = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`${esc}:1:(\\d+)`, 'g');
  return (text) =>
    text
      .split('\n')
      .filter((l) => !l.includes('wirehook:prelude') && !/^\s*at \w+ \(native\)$/.test(l))
      .join('\n')
      .replace(re, (_m, c: string) => `${file}:1:${Math.max(1, Number(c) - prefixLen)}`);
}

/** First `file:LINE:COL` in a QuickJS stack, or null. */
export function firstLocation(stack: string, file: string): { line: number; col: number } | null {
  const i = stack.indexOf(`${file}:`);
  if (i < 0) return null;
  const m = /^:(\d+)(?::(\d+))?/.exec(stack.slice(i + file.length));
  return m ? { line: Number(m[1]), col: Number(m[2] ?? 1) } : null;
}
