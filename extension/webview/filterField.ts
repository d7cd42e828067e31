/**
 * "+" on a detail field: the filter clause `field == value`. KFL2 names (docs/kfl2.md) where one
 * exists for the field; otherwise legacy KFL's item path (docs/kfl-legacy.md).
 */

export interface Clause {
  text: string;
  language: 'kfl2' | 'kfl';
}

function lit(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(String(v ?? ''));
}

const KFL2_SCALARS: Record<string, { name: string; int?: boolean; scale?: number }> = {
  'request.method': { name: 'method' },
  'request.url': { name: 'url' },
  'request.path': { name: 'path' },
  'request.httpVersion': { name: 'http_version' },
  'response.status': { name: 'status_code', int: true },
  'src.ip': { name: 'src.ip' },
  'dst.ip': { name: 'dst.ip' },
  'src.port': { name: 'src.port', int: true },
  'dst.port': { name: 'dst.port', int: true },
  'src.name': { name: 'src.name' },
  'dst.name': { name: 'dst.name' },
  'protocol.abbr': { name: 'protocol' },
  'id': { name: 'id' },
  'stream': { name: 'stream' },
  'node.name': { name: 'node_name' },
  'node.ip': { name: 'node_ip' },
  'elapsedTime': { name: 'elapsed_time', int: true, scale: 1000 },
  'request.bodySize': { name: 'request_body_size', int: true },
  'response.bodySize': { name: 'response_body_size', int: true },
};

/** `path` is the item path as segments, e.g. ["request","headers","Content-Type"]. */
export function clauseFor(path: (string | number)[], value: unknown): Clause {
  const dotted = path.join('.');
  const known = KFL2_SCALARS[dotted];
  if (known) {
    let v: unknown = value;
    if (known.int) v = Math.round(Number(value) * (known.scale ?? 1));
    return { text: `${known.name} == ${lit(v)}`, language: 'kfl2' };
  }
  if (path.length === 3 && (path[0] === 'request' || path[0] === 'response') && (path[1] === 'headers' || path[1] === 'cookies')) {
    // KFL2 header maps have lower-cased names; cookie names keep their case.
    const key = path[1] === 'headers' ? String(path[2]).toLowerCase() : String(path[2]);
    return { text: `${path[0]}.${path[1]}[${JSON.stringify(key)}] == ${lit(value)}`, language: 'kfl2' };
  }
  if (path[0] === 'request' && path[1] === 'questions' && path[3] === 'name') {
    return { text: `${lit(value)} in dns_questions`, language: 'kfl2' };
  }
  if (path[0] === 'protocol' && path[1] === 'name') {
    return { text: String(value), language: 'kfl2' };
  }
  // Legacy KFL reads any item path; array indices as [n].
  const legacy = path.map((p, i) => (typeof p === 'number' ? `[${p}]` : /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) ? (i ? '.' : '') + p : `[${JSON.stringify(p)}]`)).join('');
  return { text: `${legacy} == ${lit(value)}`, language: 'kfl' };
}

/** Appends a clause to the current query with the right conjunction. */
export function addClause(query: string, clause: Clause): string {
  const q = query.trim();
  if (!q) return clause.text;
  const legacy = /\b(and|or)\b/.test(q.replace(/"([^"\\]|\\.)*"/g, '""')) && !/&&|\|\|/.test(q);
  const and = clause.language === 'kfl' || legacy ? ' and ' : ' && ';
  const wrapped = /\|\||\bor\b/.test(q) ? `(${q})` : q;
  return `${wrapped}${and}${clause.text}`;
}
