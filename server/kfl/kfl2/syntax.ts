/**
 * Clearer syntax errors than the CEL parser's ("found & but expecting end of input" at the
 * point where it gave up): unterminated strings, unbalanced brackets, legacy-KFL habits
 * (`and`, `or`, `=`, `===`) and operators missing their right-hand side.
 */

/**
 * Calls `code(i)` for every character outside string literals and `//` comments. Returns the
 * offset of a string literal that never closes, or null. Knows CEL's r/b prefixes and triple quotes.
 */
function scan(s: string, code: (i: number) => void): number | null {
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '/' && s[i + 1] === '/') {
      const nl = s.indexOf('\n', i);
      if (nl < 0) return null;
      i = nl;
      continue;
    }
    if (c !== '"' && c !== "'") {
      code(i);
      continue;
    }
    let j = i - 1;
    while (j >= 0 && /[rRbB]/.test(s[j])) j--;
    const raw = /[rR]/.test(s.slice(j + 1, i));
    const start = j + 1;
    const q = s.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
    let k = i + q.length;
    for (; k < s.length; k++) {
      if (!raw && s[k] === '\\') {
        k++;
        continue;
      }
      if (q.length === 1 && s[k] === '\n') return start;
      if (s.startsWith(q, k)) break;
    }
    if (k >= s.length) return start;
    i = k + q.length - 1;
  }
  return null;
}

export function unterminatedString(s: string): number | null {
  return scan(s, () => {});
}

const CLOSE: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

export function explainSyntaxError(s: string, offset: number, raw: string): { offset: number; message: string } {
  if (/call stack/i.test(raw)) return { offset: 0, message: 'the query is nested too deeply' };
  // Brackets first: the parser reports them far from where the mistake is.
  const open: number[] = [];
  let stray: number | null = null;
  scan(s, (i) => {
    const c = s[i];
    if (c in CLOSE) open.push(i);
    else if (c === ')' || c === ']' || c === '}') {
      const o = open.pop();
      if ((o === undefined || CLOSE[s[o]] !== c) && stray === null) stray = i;
    }
  });
  if (stray !== null) return { offset: stray, message: `unmatched '${s[stray]}'` };
  if (open.length > 0) {
    const o = open[open.length - 1];
    return { offset: o, message: `'${s[o]}' is never closed` };
  }

  const rest = s.slice(offset);
  const token = /^(?:[A-Za-z_]\w*|[=!<>&|]+|\S)/u.exec(rest)?.[0] ?? '';
  if (/[\p{Cc}\p{Cf}]/u.test(token)) return { offset, message: `unexpected character U+${token.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` };
  const after = rest.slice(token.length).trim();
  if (token === '') return { offset, message: 'unexpected end of query' };
  if (token === 'and' || token === 'or') {
    return { offset, message: `unexpected '${token}': KFL2 writes '${token === 'and' ? '&&' : '||'}' (is this a legacy KFL query?)` };
  }
  if (token === '=' || token === '===') return { offset, message: `'${token}' is not an operator: use '=='` };
  if (token === '!==') return { offset, message: "'!==' is not an operator: use '!='" };
  if (/^(&&|\|\||==|!=|<=?|>=?)$/.test(token) && after === '') {
    return { offset, message: `'${token}' needs an expression after it` };
  }
  if (/^(&|\|)$/.test(token)) return { offset, message: `'${token}' is not an operator: use '${token}${token}'` };
  if (token === '.' && !/^\s*[A-Za-z_]/.test(rest.slice(1))) return { offset, message: "'.' needs a field or function name after it" };
  return { offset, message: `unexpected '${token}'${raw.length < 80 && !/expecting end of input/.test(raw) ? ` (${raw})` : ''}` };
}
