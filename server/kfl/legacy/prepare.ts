/**
 * expand → lex/parse → compile, with every failure turned into a QueryError positioned in the
 * user's source (Kubeshark reports positions in the macro-expanded text; we map them back so an
 * editor can underline the right place) and, for common slips, a hint appended.
 */
import { QueryError } from '../api';
import { expandWithOrigins, type Expansion } from './macros';
import { LexError, type Token } from './lexer';
import { parse, ParseError, type Node } from './parser';
import { CompileError, compileRoot, type CompileState, type Ev } from './compile';

export interface Prepared {
  source: string;
  exp: Expansion;
  ast: Node | null;
  tokens: Token[];
}

/** Source offset → 1-based line and column. */
export function lineCol(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < source.length; i++) {
    if (source[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

export function srcOffset(exp: Expansion, pos: number): number {
  return exp.origin[Math.max(0, Math.min(pos, exp.origin.length - 1))];
}

function queryError(source: string, exp: Expansion, pos: number, text: string): QueryError {
  const { line, col } = lineCol(source, srcOffset(exp, pos));
  return new QueryError(line, col, text, 'kfl');
}

const ESCAPE_HINT =
  ' — KFL strings accept only Go escapes (\\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\ooo \\xhh \\uhhhh) and keep them as typed; ' +
  'in a regex write [0-9] for \\d, [.] for \\., [A-Za-z0-9_] for \\w';

function parseHint(source: string, toks: Token[], tok: Token, exp: Expansion): string {
  const i = toks.indexOf(tok);
  const prev = toks[i - 1];
  const prev2 = toks[i - 2];
  const next = toks[i + 1];
  const adj = (a: Token | undefined, b: Token | undefined) => !!a && !!b && a.end === b.pos;
  if (tok.value === '&' && next?.value === '&') return ' — legacy KFL writes "and" ("&&" is KFL2)';
  if (tok.value === '|' && next?.value === '|') return ' — legacy KFL writes "or" ("||" is KFL2)';
  if (tok.value === '&' && prev?.value === '&') return ' — legacy KFL writes "and" ("&&" is KFL2)';
  if (tok.value === '|' && prev?.value === '|') return ' — legacy KFL writes "or" ("||" is KFL2)';
  if (tok.value === '=' && prev?.value === '=' && adj(prev, tok) && (prev2?.value === '=' || prev2?.value === '!') && adj(prev2, prev)) {
    return ` — "${prev2.value}==" is not KFL; write "${prev2.value}="`;
  }
  if (tok.value === '=' && tok.type === 'op' && next?.value !== '=') return ' — compare with "=="';
  if (tok.type === 'ident' && tok.value === 'in') return ' — legacy KFL has no "in": write x == "a" or x == "b", or x == r"^(a|b)$"';
  if (prev?.type === 'ident' && prev.value === 'not') return ' — legacy KFL negates with "!" (e.g. !http)';
  if (tok.type === 'ident' && tok.value === 'not') return ' — legacy KFL negates with "!" (e.g. !http)';
  if (tok.type === 'ident' && (tok.value === 'null' || tok.value === 'undefined')) return ' — legacy KFL writes nil';
  // A macro replaced inside a longer name (kubeshark-compat §8.7).
  const at = srcOffset(exp, tok.pos);
  const use = exp.uses.find((u) => u.insideIdent && Math.abs(u.start - at) <= 1 + (u.end - u.start) + 1);
  if (use) {
    const word = (/[\p{L}\p{Nd}_]*$/u.exec(source.slice(0, use.start))![0]) + source.slice(use.start, use.end) + (/^[\p{L}\p{Nd}_]*/u.exec(source.slice(use.end))![0]);
    return ` — the macro "${use.macro}" was expanded inside "${word}" (macros are replaced as text, kubeshark-compat §8.7); write that field as a quoted key: ["${word}"]`;
  }
  return '';
}

export function prepare(source: string): Prepared {
  const exp = expandWithOrigins(source);
  try {
    const { ast, tokens } = parse(exp.text);
    return { source, exp, ast, tokens };
  } catch (e) {
    if (e instanceof LexError) {
      const hint = e.text === 'invalid char escape' ? ESCAPE_HINT : '';
      throw queryError(source, exp, e.pos, e.text + hint);
    }
    if (e instanceof ParseError) {
      throw queryError(source, exp, e.tok.pos, e.text + parseHint(source, e.tokens, e.tok, exp));
    }
    if (e instanceof RangeError) throw queryError(source, exp, 0, 'query too deeply nested');
    throw e;
  }
}

export function compilePrepared(p: Prepared, st: CompileState): Ev {
  try {
    return compileRoot(p.ast, st);
  } catch (e) {
    if (e instanceof CompileError) throw queryError(p.source, p.exp, e.pos, e.text);
    if (e instanceof RangeError) throw queryError(p.source, p.exp, 0, 'query too deeply nested');
    throw e;
  }
}
