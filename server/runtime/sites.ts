/**
 * Where a console line came from, at no cost per call: before the script is evaluated, the
 * `console` of every direct `console.x(…)` call is replaced by a site name of the same length
 * (`$$c` + 4 base-36 digits), a frozen global in the script's context whose methods push the
 * site number with the line. Same length, so every line and column of the source (and of error
 * stacks) is unchanged. Capturing a stack in `console.log` instead would cost a QuickJS stack
 * walk and a parse per line.
 *
 * Not located (line 0): `console.log` passed around or called through `.call/.apply`, and every
 * line of a script that declares or assigns its own `console` (analyze.ts leaves its sites out).
 */
import type { ConsoleSite } from './analyze';

const PREFIX = '$$c';
const DIGITS = 7 - PREFIX.length;
export const MAX_SITES = 36 ** DIGITS;

export function siteName(i: number): string {
  return PREFIX + i.toString(36).padStart(DIGITS, '0');
}

/** The source with each site's `console` renamed; sites past MAX_SITES, or all when the script already uses the prefix, stay unlocated. */
export function instrument(source: string, sites: ConsoleSite[]): { source: string; sites: ConsoleSite[] } {
  if (sites.length === 0 || source.includes(PREFIX)) return { source, sites: [] };
  const used = sites.slice(0, MAX_SITES);
  let out = '';
  let at = 0;
  used.forEach((s, i) => {
    out += source.slice(at, s.offset) + siteName(i);
    at = s.offset + 'console'.length;
  });
  return { source: out + source.slice(at), sites: used };
}
