/**
 * Macro expansion as Kubeshark's `ExpandMacros` does it (kubeshark-compat §8.7): textual, longest
 * macro first, one pass per macro, only where an even number of `"` follows (i.e. outside
 * double-quoted strings, with no notion of escapes), each expansion wrapped in parentheses.
 *
 * Kubeshark's own 2023 macros are replaced with no word-boundary check, so `dnsName` becomes
 * `(protocol.abbr == "DNS")Name` — kept, and linted. The local macros (whose Kubeshark
 * expansions are not public) only replace a standalone term, because names like `error`, `ws`,
 * `conn`, `flow` are common inside field names (`response.payload.errorCode` in Kubeshark's own
 * examples) and a textual replacement would break those queries.
 */

/** Macro → expansion, WITHOUT the wrapping parentheses (expansion adds them, like AddMacro). */
export const LEGACY_MACROS: Record<string, string> = {
  // kubeshark/base 2023, exactly.
  http: 'protocol.abbr == "HTTP"',
  http2: 'protocol.abbr == "HTTP/2"',
  grpc: 'protocol.abbr == "gRPC"',
  gql: 'protocol.abbr == "GQL"',
  dns: 'protocol.abbr == "DNS"',
  redis: 'protocol.name == "redis"',
  kafka: 'protocol.name == "kafka"',
  amqp: 'protocol.name == "amqp"',
  // Helm's default custom macro (2024+).
  https: 'tls and (http or http2)',
  // Local choices (docs/kfl-legacy.md).
  tls: 'tls == true',
  error: 'error.msg != ""',
  // Kubeshark's raw L4 items are ours `tcp-conn`/`tcp-flow` (`udp-…`): what `tcp and data.payload…` meant.
  tcp: 'protocol.name == r"^tcp-(conn|flow)$"',
  udp: 'protocol.name == r"^udp-(conn|flow)$"',
  icmp: 'protocol.name == "icmp"',
  tlsx: 'protocol.name == "tlsx"',
  ws: 'protocol.name == "ws"',
  ldap: 'protocol.name == "ldap"',
  radius: 'protocol.name == "radius"',
  diameter: 'protocol.name == "diameter"',
  mongodb: 'protocol.name == "mongodb"',
  mysql: 'protocol.name == "mysql"',
  postgresql: 'protocol.name == "postgresql"',
  sctp: 'protocol.name == "sctp"',
  conn: 'protocol.name == r"^(tcp|udp)-conn$"',
  flow: 'protocol.name == r"^(tcp|udp)-flow$"',
  // weblayer: one macro per flow item kind (docs/kfl-legacy.md)
  tcp_conn: 'protocol.name == "tcp-conn"',
  udp_conn: 'protocol.name == "udp-conn"',
  tcp_flow: 'protocol.name == "tcp-flow"',
  udp_flow: 'protocol.name == "udp-flow"',
  // end weblayer
};

/** Kubeshark's macros: expanded textually, even inside identifiers. */
export const TEXTUAL_MACROS = new Set(['http', 'http2', 'grpc', 'gql', 'dns', 'redis', 'kafka', 'amqp']);

/**
 * Processing order: longest first. Kubeshark breaks length ties arbitrarily (Go map + sort.Slice);
 * we put `https` before `http2` so the `http2` inside the `https` expansion is expanded too.
 */
const ORDER = Object.keys(LEGACY_MACROS).sort((a, b) => b.length - a.length || (a === 'https' ? -1 : b === 'https' ? 1 : a < b ? -1 : 1));

const IDENT_CHAR = /[\p{L}\p{Nd}_]/u;

export interface Expansion {
  /** Expanded text. */
  text: string;
  /** For every char of `text`, the offset in the source it came from (inserted text: the macro's start). */
  origin: number[];
  /** Macro occurrences replaced, in source offsets. */
  uses: { macro: string; start: number; end: number; insideIdent: boolean }[];
}

export function expandWithOrigins(source: string): Expansion {
  let text = source;
  let origin = Array.from({ length: source.length + 1 }, (_, i) => i);
  const uses: Expansion['uses'] = [];
  for (const macro of ORDER) {
    if (!text.includes(macro)) continue;
    const textual = TEXTUAL_MACROS.has(macro);
    const wrapped = `(${LEGACY_MACROS[macro]})`;
    // quotesAfter[i] = number of `"` at or after i; a match is outside strings when the count after it is even.
    const quotesAfter = new Array<number>(text.length + 1).fill(0);
    for (let i = text.length - 1; i >= 0; i--) quotesAfter[i] = quotesAfter[i + 1] + (text[i] === '"' ? 1 : 0);
    let out = '';
    const outOrigin: number[] = [];
    let last = 0;
    let at = text.indexOf(macro);
    while (at >= 0) {
      const end = at + macro.length;
      const before = text[at - 1] ?? '';
      const after = text[end] ?? '';
      const insideIdent = (before !== '' && IDENT_CHAR.test(before)) || (after !== '' && IDENT_CHAR.test(after));
      const standalone = !insideIdent && before !== '.' && !/[.([:]/.test(after);
      if (quotesAfter[end] % 2 === 0 && (textual || standalone)) {
        out += text.slice(last, at) + wrapped;
        for (let k = last; k < at; k++) outOrigin.push(origin[k]);
        for (let k = 0; k < wrapped.length; k++) outOrigin.push(origin[at]);
        uses.push({ macro, start: origin[at], end: origin[end - 1] + 1, insideIdent });
        last = end;
        at = text.indexOf(macro, end);
      } else {
        at = text.indexOf(macro, at + 1);
      }
    }
    if (last === 0) continue;
    out += text.slice(last);
    for (let k = last; k <= text.length; k++) outOrigin.push(origin[k]);
    text = out;
    origin = outOrigin;
  }
  return { text, origin, uses };
}

export function expandMacros(source: string): string {
  return expandWithOrigins(source).text;
}
