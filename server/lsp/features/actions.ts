/** Quick fixes: the fixes of this text's wirehook diagnostics that the client asked about. */
import { CodeActionKind, type CodeAction, type Diagnostic, type Range } from 'vscode-languageserver';
import type { FeatureContext } from './index';
import { diagnostics, type Fix } from './diagnostics';

const overlaps = (a: Range, b: Range) =>
  !(cmp(a.end, b.start) < 0 || cmp(b.end, a.start) < 0);
const cmp = (p: Range['start'], q: Range['start']) => p.line - q.line || p.character - q.character;
const same = (a: Range, b: Range) => cmp(a.start, b.start) === 0 && cmp(a.end, b.end) === 0;

export function codeActions(text: string, uri: string, range: Range, given: Diagnostic[], ctx: FeatureContext): CodeAction[] {
  const asked = given.filter((g) => g.source === 'wirehook');
  if (!asked.length) return [];
  // Recomputed from the current text: a fix never applies to a stale version.
  const current = diagnostics(text, ctx);
  const out: CodeAction[] = [];
  for (const g of asked) {
    const d = current.find((c) => c.code === g.code && same(c.range, g.range)) ?? null;
    if (!d || !overlaps(d.range, range)) continue;
    const fixes = ((d.data as { fixes?: Fix[] } | undefined)?.fixes ?? []);
    fixes.forEach((f, k) => {
      out.push({
        title: f.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [g],
        isPreferred: k === 0,
        edit: { changes: { [uri]: f.edits } },
      });
    });
  }
  return out;
}
