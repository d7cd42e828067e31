/** A CodeLens over each hook declaration with its run statistics. */
import type { CodeLens } from 'vscode-languageserver';
import type { HookStats } from '../../protocol';
import { docOf, hooksIn } from './structure';
import { rangeOf } from './text';

const fmt = new Intl.NumberFormat('en-US');
const plural = (n: number, one: string) => `${fmt.format(n)} ${one}${n === 1 ? '' : 's'}`;

export function lensTitle(s: HookStats | undefined): string {
  if (!s || s.calls === 0) return 'not run yet';
  const us = s.meanUs >= 100 ? fmt.format(Math.round(s.meanUs)) : s.meanUs.toFixed(1);
  return `${plural(s.calls, 'call')} · ${plural(s.errors, 'error')} · ${us} µs/call`;
}

export function codeLenses(text: string, stats: HookStats[]): CodeLens[] {
  const d = docOf(text);
  return hooksIn(d).map((h) => {
    const mine = stats.filter((s) => s.hook === h.hook);
    // Several stats for one hook name (e.g. another document's): the one on this line, else the first.
    const s = mine.find((x) => x.line === h.line) ?? mine[0];
    const t = d.toks[h.tok];
    return { range: rangeOf(text, t.s, t.e), command: { title: lensTitle(s), command: '' } };
  });
}
