/** Every dotted path of the item schema (`request.path`, `dst.name`, …), for "did you mean". */
import { deref, membersOf, type T } from './model';

let cached: string[] | null = null;

export function itemPaths(): string[] {
  if (cached) return cached;
  const out: string[] = [];
  const visit = (t: T, prefix: string, depth: number) => {
    if (depth > 5) return;
    t = deref(t);
    if (t.k === 'array') return visit(t.of, prefix, depth + 1);
    for (const m of membersOf(t, null)) {
      const p = prefix ? `${prefix}.${m.name}` : m.name;
      out.push(p);
      visit(m.type, p, depth + 1);
    }
  };
  visit({ k: 'ref', name: 'Item' }, '', 0);
  cached = [...new Set(out)];
  return cached;
}

