/**
 * The static types KFL2's checker works with. @bufbuild/cel 0.6 ships a checker that only
 * understands constants and identifiers, so we type-check the parsed AST ourselves (check.ts)
 * with this small model of CEL's types.
 */
export type Scalar =
  | 'bool' | 'int' | 'uint' | 'double' | 'string' | 'bytes' | 'null'
  | 'timestamp' | 'duration' | 'type' | 'dyn';
export type Type = Scalar | { list: Type } | { map: [Type, Type] };

export const list = (t: Type): Type => ({ list: t });
export const map = (k: Type, v: Type): Type => ({ map: [k, v] });

export function show(t: Type): string {
  if (typeof t === 'string') return t === 'null' ? 'null_type' : t;
  if ('list' in t) return `list(${show(t.list)})`;
  return `map(${show(t.map[0])}, ${show(t.map[1])})`;
}

export const isNumeric = (t: Type): boolean => t === 'int' || t === 'uint' || t === 'double';

/** Can a value of type `a` stand where `b` is expected (or vice versa)? `dyn` fits everything. */
export function compatible(a: Type, b: Type): boolean {
  if (a === 'dyn' || b === 'dyn') return true;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if ('list' in a) return 'list' in b && compatible(a.list, b.list);
  return 'map' in b && compatible(a.map[0], b.map[0]) && compatible(a.map[1], b.map[1]);
}

/** The common type of two compatible types (for ternaries and list literals). */
export function join(a: Type, b: Type): Type {
  if (a === 'dyn') return b;
  if (b === 'dyn') return a;
  if (typeof a !== 'string' && typeof b !== 'string') {
    if ('list' in a && 'list' in b) return list(join(a.list, b.list));
    if ('map' in a && 'map' in b) return map(join(a.map[0], b.map[0]), join(a.map[1], b.map[1]));
  }
  return a;
}
