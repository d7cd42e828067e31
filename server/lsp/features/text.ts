/** Offsets ↔ LSP positions (0-based line and UTF-16 character). */
import type { Position, Range } from 'vscode-languageserver';

export function offsetToPosition(text: string, off: number): Position {
  let line = 0;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < off; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, character: off - start };
}

export function positionToOffset(text: string, p: Position): number {
  let off = 0;
  for (let l = 0; l < p.line; l++) {
    const i = text.indexOf('\n', off);
    if (i < 0) return text.length;
    off = i + 1;
  }
  const eol = text.indexOf('\n', off);
  return Math.min(off + p.character, eol < 0 ? text.length : eol);
}

export function rangeOf(text: string, s: number, e: number): Range {
  return { start: offsetToPosition(text, s), end: offsetToPosition(text, e) };
}
