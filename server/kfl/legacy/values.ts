/**
 * Kubeshark's operand conversions (eval.go), on JSON-shaped JS values. Go sees integers in the
 * JSON as int64 and everything else numeric as float64; a JS number that is an integer is
 * treated as the int64 it would have been (JSON.stringify writes it without a fraction).
 * Literal numbers in a query are float64 in Kubeshark: the compiler renders them with
 * `formatG6` at compile time, so only document values reach `str` at run time.
 */

/** A compiled regex operand (`r"…"`). */
export class Rx {
  constructor(readonly re: { test(s: string): boolean }) {}
}

const INT64_LIMIT = 9.223372036854776e18;

/** Go strconv.FormatFloat(f, 'g', 6, 64). */
export function formatG6(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const e = f.toExponential(5); // d.ddddde±x, rounded to 6 significant digits
  const [mant, expStr] = e.split('e');
  const exp = Number(expStr);
  if (exp < -4 || exp >= 6) {
    const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
    const ae = Math.abs(exp);
    return `${m}e${exp < 0 ? '-' : '+'}${ae < 10 ? '0' : ''}${ae}`;
  }
  const fixed = Number(e).toFixed(Math.max(0, 5 - exp));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** Rendering of a JSON number as Go would after ojg parsing (int64 exact, float64 'g' 6). */
export function numStr(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < INT64_LIMIT ? String(n) : formatG6(n);
}

/** stringOperand: strings as is, numbers, bools, null → "null", anything else "". */
export function str(v: unknown): string {
  switch (typeof v) {
    case 'string': return v;
    case 'number': return numStr(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'object': return v === null ? 'null' : '';
    default: return '';
  }
}

/** boolOperand: non-empty strings, positive numbers, true, non-empty arrays; objects are false. */
export function truthy(v: unknown): boolean {
  switch (typeof v) {
    case 'string': return v !== '';
    case 'boolean': return v;
    case 'number': return v > 0;
    case 'object': return Array.isArray(v) && v.length > 0;
    default: return false;
  }
}

const GO_FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/** float64Operand: strings via ParseFloat (unparsable → 0), bools 1/0, nil and others 0. */
export function num(v: unknown): number {
  switch (typeof v) {
    case 'number': return v;
    case 'boolean': return v ? 1 : 0;
    case 'string': {
      if (!GO_FLOAT.test(v)) return 0;
      const s = v.toLowerCase().replace(/^\+/, '');
      if (s.endsWith('inf') || s.endsWith('infinity')) return s.startsWith('-') ? -Infinity : Infinity;
      if (s.endsWith('nan')) return NaN;
      return Number(s);
    }
    default: return 0;
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], bb[i])) return false;
    return true;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/** `==` (eql): regex either side, array any-element / array deep-equal, else string renderings. */
export function eql(a: unknown, b: unknown): boolean {
  if (a instanceof Rx) return a.re.test(str(b));
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return deepEqual(a, b);
    const sb = str(b);
    for (const x of a) if (str(x) === sb) return true;
    return false;
  }
  if (b instanceof Rx) return b.re.test(str(a));
  if (Array.isArray(b)) {
    const sa = str(a);
    for (const x of b) if (sa === str(x)) return true;
    return false;
  }
  return str(a) === str(b);
}

/** `!=` (neq): the mirror image, with "no element equal" for arrays. */
export function neq(a: unknown, b: unknown): boolean {
  if (a instanceof Rx) return !a.re.test(str(b));
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return !deepEqual(a, b);
    const sb = str(b);
    for (const x of a) if (str(x) === sb) return false;
    return true;
  }
  if (b instanceof Rx) return !b.re.test(str(a));
  if (Array.isArray(b)) {
    const sa = str(a);
    for (const x of b) if (sa === str(x)) return false;
    return true;
  }
  return str(a) !== str(b);
}

export type CmpOp = '>' | '>=' | '<' | '<=';

const CMP: Record<CmpOp, (x: number, y: number) => boolean> = {
  '>': (x, y) => x > y,
  '>=': (x, y) => x >= y,
  '<': (x, y) => x < y,
  '<=': (x, y) => x <= y,
};

/**
 * Comparisons on float64 renderings. Array vs array: true unless some pair fails; array vs
 * scalar (either side): true when some element satisfies it.
 */
export function cmp(op: CmpOp, a: unknown, b: unknown): boolean {
  const f = CMP[op];
  if (Array.isArray(a)) {
    if (Array.isArray(b)) {
      for (const x of a) for (const y of b) if (!f(num(x), num(y))) return false;
      return true;
    }
    const nb = num(b);
    for (const x of a) if (f(num(x), nb)) return true;
    return false;
  }
  if (Array.isArray(b)) {
    const na = num(a);
    for (const y of b) if (f(na, num(y))) return true;
    return false;
  }
  return f(num(a), num(b));
}

export { CMP };
