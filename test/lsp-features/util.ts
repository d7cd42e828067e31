/** Test helpers: a cursor marker in source text, and applying LSP text edits. */
import type { TextEdit } from 'vscode-languageserver';
import { NO_OBSERVATIONS, type ObservedValues } from '../../server/session/observed';
import type { FeatureContext } from '../../server/lsp/features/index';
import { positionToOffset } from '../../server/lsp/features/text';

/** `src` with `|` marking the cursor → [text, offset]. */
export function at(src: string): [string, number] {
  const o = src.indexOf('|');
  if (o < 0) throw new Error('no | cursor in test source');
  return [src.slice(0, o) + src.slice(o + 1), o];
}

export function ctxOf(observed: ObservedValues = NO_OBSERVATIONS, over: Partial<FeatureContext> = {}): FeatureContext {
  return { observed, es5Warning: true, envKeys: [], ...over };
}

export function applyEdits(text: string, edits: TextEdit[]): string {
  const spans = edits
    .map((e) => ({ s: positionToOffset(text, e.range.start), e: positionToOffset(text, e.range.end), t: e.newText }))
    .sort((a, b) => b.s - a.s);
  let out = text;
  for (const x of spans) out = out.slice(0, x.s) + x.t + out.slice(x.e);
  return out;
}
