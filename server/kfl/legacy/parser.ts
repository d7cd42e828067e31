/**
 * Recursive-descent parser for Kubeshark's participle grammar (kubeshark-compat §8.2):
 *
 *   query      := ε | logical
 *   logical    := equality [ ("and" | "or") logical ]            -- right-nested
 *   equality   := comparison [ ("!" "=" | "=" "=") equality ]
 *   comparison := unary [ (">" "=" | ">" | "<" "=" | "<") comparison ]
 *   unary      := ("!" | "-") unary | primary
 *   primary    := Float | Int | String | Char | RawString | "r" String… | "true" | "false"
 *               | "nil" | call | "(" logical ")"
 *   call       := Ident { ("." "*" | ".") [Ident] } [ "(" [param {"," param}] ")" ] [select]
 *   select     := [ "[" Int "]" ] [ "[" (String|Char|RawString|"*") "]" ] [ "." "." Ident ]
 *                 [ "." logical ]                                  -- swallows the rest (§8.6)
 *   param      := [ Ident ":" ] logical
 *
 * Errors are reported at the token where parsing fails, as participle words them:
 * `unexpected token "X"`.
 */
import { lex, type Token } from './lexer';

export interface Pos { pos: number; end: number }

export type Node =
  | { t: 'bin'; level: 'logical' | 'eq' | 'cmp'; op: string; left: Node; right: Node; opTok: Token } & Pos
  | { t: 'unary'; op: '!' | '-'; operand: Node } & Pos
  | { t: 'num'; value: number; raw: string } & Pos
  | { t: 'str'; raw: string; quote: 'string' | 'char' | 'raw' } & Pos
  | { t: 'regex'; raw: string; quote: 'string' | 'char' | 'raw' } & Pos
  | { t: 'bool'; value: boolean } & Pos
  | { t: 'nil' } & Pos
  | { t: 'sub'; expr: Node } & Pos
  | { t: 'call'; call: Call } & Pos;

export interface Call {
  ident: string;
  identPos: number;
  identEnd: number;
  /** null for no parentheses AND for empty `()` (participle leaves the slice nil). */
  params: { tag?: string; expr: Node }[] | null;
  parenPos?: number;
  select?: Select;
}

export interface Select {
  index?: number;
  key?: { raw: string; quote: 'string' | 'char' | 'raw' | 'star' };
  rd?: string;
  /** The continuation: everything after "." (§8.6). */
  expr?: Node;
  /** Where the select part starts (for lints). */
  pos: number;
  dotPos?: number;
}

export class ParseError extends Error {
  constructor(readonly tok: Token, readonly text: string, readonly tokens: Token[]) {
    super(text);
  }
}

const quoteOf = (t: Token) => (t.type === 'string' ? 'string' : t.type === 'char' ? 'char' : 'raw') as 'string' | 'char' | 'raw';
const isStr = (t: Token) => t.type === 'string' || t.type === 'char' || t.type === 'raw';

export function parse(text: string): { ast: Node | null; tokens: Token[] } {
  const toks = lex(text);
  if (text === '') return { ast: null, tokens: toks };
  let p = 0;
  const peek = (k = 0) => toks[Math.min(p + k, toks.length - 1)];
  const isOp = (t: Token, v: string) => t.type === 'op' && t.value === v;
  const fail = (t: Token): never => {
    throw new ParseError(t, `unexpected token ${JSON.stringify(t.value)}`, toks);
  };

  function logical(): Node {
    const left = equality();
    const t = peek();
    if (t.type === 'ident' && (t.value === 'and' || t.value === 'or')) {
      p++;
      const right = logical();
      return { t: 'bin', level: 'logical', op: t.value, left, right, opTok: t, pos: left.pos, end: right.end };
    }
    return left;
  }

  function equality(): Node {
    const left = comparison();
    const a = peek();
    const b = peek(1);
    if ((isOp(a, '!') || isOp(a, '=')) && isOp(b, '=')) {
      p += 2;
      const right = equality();
      return { t: 'bin', level: 'eq', op: a.value === '!' ? '!=' : '==', left, right, opTok: a, pos: left.pos, end: right.end };
    }
    return left;
  }

  function comparison(): Node {
    const left = unary();
    const a = peek();
    if (isOp(a, '>') || isOp(a, '<')) {
      const eq = isOp(peek(1), '=');
      p += eq ? 2 : 1;
      const right = comparison();
      return { t: 'bin', level: 'cmp', op: a.value + (eq ? '=' : ''), left, right, opTok: a, pos: left.pos, end: right.end };
    }
    return left;
  }

  function unary(): Node {
    const t = peek();
    if (isOp(t, '!') || isOp(t, '-')) {
      p++;
      const operand = unary();
      return { t: 'unary', op: t.value as '!' | '-', operand, pos: t.pos, end: operand.end };
    }
    return primary();
  }

  function primary(): Node {
    const t = peek();
    if (t.type === 'int' || t.type === 'float') {
      p++;
      return { t: 'num', value: toNumber(t.value), raw: t.value, pos: t.pos, end: t.end };
    }
    if (isStr(t)) {
      p++;
      return { t: 'str', raw: t.value, quote: quoteOf(t), pos: t.pos, end: t.end };
    }
    if (t.type === 'ident') {
      const n = peek(1);
      if (t.value === 'r' && isStr(n)) {
        p += 2;
        return { t: 'regex', raw: n.value, quote: quoteOf(n), pos: t.pos, end: n.end };
      }
      if (t.value === 'true' || t.value === 'false') {
        p++;
        return { t: 'bool', value: t.value === 'true', pos: t.pos, end: t.end };
      }
      if (t.value === 'nil') {
        p++;
        return { t: 'nil', pos: t.pos, end: t.end };
      }
      const call = callExpr();
      return { t: 'call', call, pos: t.pos, end: toks[p - 1].end };
    }
    if (isOp(t, '(')) {
      p++;
      const expr = logical();
      const close = peek();
      if (!isOp(close, ')')) fail(close);
      p++;
      return { t: 'sub', expr, pos: t.pos, end: close.end };
    }
    return fail(t);
  }

  function callExpr(): Call {
    const first = peek();
    p++;
    let ident = first.value;
    while (isOp(peek(), '.')) {
      if (isOp(peek(1), '*')) {
        ident += '.*';
        p += 2;
      } else {
        ident += '.';
        p++;
      }
      if (peek().type === 'ident') {
        ident += peek().value;
        p++;
      }
    }
    const call: Call = { ident, identPos: first.pos, identEnd: toks[p - 1].end, params: null };
    if (isOp(peek(), '(')) {
      call.parenPos = peek().pos;
      p++;
      const params: { tag?: string; expr: Node }[] = [];
      if (!isOp(peek(), ')')) {
        while (true) {
          let tag: string | undefined;
          if (peek().type === 'ident' && isOp(peek(1), ':')) {
            tag = peek().value;
            p += 2;
          }
          params.push({ tag, expr: logical() });
          if (isOp(peek(), ',')) {
            p++;
            continue;
          }
          break;
        }
      }
      if (!isOp(peek(), ')')) fail(peek());
      p++;
      call.params = params.length ? params : null;
    }
    const sel = select();
    if (sel) call.select = sel;
    return call;
  }

  function select(): Select | undefined {
    const start = peek().pos;
    const sel: Select = { pos: start };
    let any = false;
    if (isOp(peek(), '[') && peek(1).type === 'int' && isOp(peek(2), ']')) {
      sel.index = toNumber(peek(1).value);
      p += 3;
      any = true;
    }
    if (isOp(peek(), '[') && (isStr(peek(1)) || isOp(peek(1), '*')) && isOp(peek(2), ']')) {
      const k = peek(1);
      sel.key = { raw: k.value, quote: k.type === 'op' ? 'star' : quoteOf(k) };
      p += 3;
      any = true;
    }
    if (isOp(peek(), '.') && isOp(peek(1), '.') && peek(2).type === 'ident') {
      sel.rd = peek(2).value;
      p += 3;
      any = true;
    }
    if (isOp(peek(), '.')) {
      sel.dotPos = peek().pos;
      p++;
      sel.expr = logical();
      any = true;
    }
    return any ? sel : undefined;
  }

  const ast = logical();
  if (peek().type !== 'eof') fail(peek());
  return { ast, tokens: toks };
}

/** Int/Float token → float64, as participle's conversion (hex/octal/binary ints included). */
function toNumber(raw: string): number {
  const s = raw.replace(/_/g, '');
  if (/^0[xX]/.test(s)) return parseInt(s.slice(2), 16);
  if (/^0[bB]/.test(s)) return parseInt(s.slice(2), 2);
  if (/^0[oO]/.test(s)) return parseInt(s.slice(2), 8);
  return Number(s);
}
