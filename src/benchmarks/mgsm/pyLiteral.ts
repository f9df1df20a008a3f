import { InputError } from '../../errors.js';

/**
 * A reader for the Python subset that MGSM's `exemplars.py` is written in: top-level assignments
 * `NAME = <literal>`, a module docstring, comments, and literals (strings with adjacent-literal
 * concatenation, ints, floats, lists, tuples, dicts, True/False/None). The file is upstream data that
 * happens to be Python source; we read it as data and never execute it, so anything outside this subset
 * (a call, an operator, an f-string) is a syntax error naming the file and line rather than code to run.
 */

export type PyValue = string | number | boolean | null | PyValue[] | PyDict;
/** A dict keeps its keys' insertion order, as Python's does. Keys are strings or numbers. */
export type PyDict = Map<string | number, PyValue>;

type Token =
  | { kind: 'string'; value: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'name'; value: string; line: number }
  | { kind: 'op'; value: string; line: number }
  | { kind: 'newline'; line: number }
  | { kind: 'end'; line: number };

const OPS = new Set(['=', '[', ']', '{', '}', '(', ')', ',', ':', '-', '+']);
const OPEN: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Python's simple escapes (`\a` … `\v`); `\N{…}` is not supported (it needs the Unicode name table). */
const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Split Python source into tokens; newlines inside brackets are not statement ends (as in Python). */
function tokenize(src: string, file: string): Token[] {
  const tokens: Token[] = [];
  const brackets: { close: string; line: number }[] = [];
  let i = 0;
  let line = 1;
  const fail = (detail: string, at = line): never => {
    throw new InputError(file, `Python syntax error: ${detail} (the file is read as data, never executed; fetch it again if it is damaged)`, at);
  };
  if (src.charCodeAt(0) === 0xfeff) i = 1; // a UTF-8 BOM is allowed at the start of Python source
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\n') {
      if (brackets.length === 0 && tokens.length && tokens[tokens.length - 1]!.kind !== 'newline') tokens.push({ kind: 'newline', line });
      line++;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      // explicit line joining
      i += 2;
      line++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\r' && src[i + 2] === '\n') {
      i += 3;
      line++;
      continue;
    }
    // String literal, with an optional prefix (r, u, R, U; bytes and f-strings are not data we accept).
    const prefix = /^([rRuU]?)(['"])/.exec(src.slice(i, i + 2));
    if (prefix) {
      const startLine = line;
      const raw = prefix[1]!.toLowerCase() === 'r';
      i += prefix[1]!.length;
      const q = src[i]!;
      const triple = src.startsWith(q.repeat(3), i);
      const delim = triple ? q.repeat(3) : q;
      i += delim.length;
      let value = '';
      for (;;) {
        if (i >= src.length) fail(`unterminated ${triple ? 'triple-quoted ' : ''}string`, startLine);
        if (src.startsWith(delim, i)) {
          i += delim.length;
          break;
        }
        const ch = src[i]!;
        if (ch === '\n') {
          if (!triple) fail('unterminated string (a newline inside a quoted string)', startLine);
          value += '\n';
          line++;
          i++;
          continue;
        }
        if (ch === '\\') {
          const next = src[i + 1];
          if (next === undefined) fail('unterminated string', startLine);
          if (raw) {
            // Raw strings keep the backslash; it still stops a quote from ending the string.
            value += ch + next;
            if (next === '\n') line++;
            i += 2;
            continue;
          }
          if (next === '\n') {
            // backslash-newline inside a string: both disappear
            line++;
            i += 2;
            continue;
          }
          if (next! in SIMPLE_ESCAPES) {
            value += SIMPLE_ESCAPES[next!];
            i += 2;
            continue;
          }
          const hexLen = next === 'x' ? 2 : next === 'u' ? 4 : next === 'U' ? 8 : 0;
          if (hexLen) {
            const hex = src.slice(i + 2, i + 2 + hexLen);
            if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) fail(`truncated \\${next} escape`);
            const code = parseInt(hex, 16);
            if (code > 0x10ffff) fail(`\\U escape out of range: \\U${hex}`);
            // \uD800-style escapes yield lone surrogates in Python too; fromCharCode keeps them as written.
            value += hexLen === 8 ? String.fromCodePoint(code) : String.fromCharCode(code);
            i += 2 + hexLen;
            continue;
          }
          const oct = /^[0-7]{1,3}/.exec(src.slice(i + 1, i + 4));
          if (oct) {
            value += String.fromCharCode(parseInt(oct[0], 8));
            i += 1 + oct[0].length;
            continue;
          }
          if (next === 'N') fail('\\N{…} escapes are not supported; write the character or a \\u escape');
          // Python keeps unknown escapes as they are (backslash included).
          value += ch;
          i++;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', value, line: startLine });
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(src.slice(i));
    if (num && num[0] && /\d/.test(c + (src[i + 1] ?? ''))) {
      const text = num[0].replace(/_/g, '');
      const value = /^0[xob]/i.test(text) ? Number(text.toLowerCase()) : Number(text);
      if (!Number.isFinite(value)) fail(`bad number "${num[0]}"`);
      tokens.push({ kind: 'number', value, line });
      i += num[0].length;
      continue;
    }
    const name = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(i));
    if (name) {
      if (/^[bBfF][rR]?['"]|^[rR][bBfF]['"]/.test(src.slice(i, i + 3))) fail('bytes and f-strings are not data; expected a plain string literal');
      tokens.push({ kind: 'name', value: name[0], line });
      i += name[0].length;
      continue;
    }
    if (OPS.has(c)) {
      if (c in OPEN) brackets.push({ close: OPEN[c]!, line });
      else if (c === ')' || c === ']' || c === '}') {
        const want = brackets.pop()?.close;
        if (want !== c) fail(want ? `"${c}" where "${want}" was expected` : `unmatched "${c}"`);
      }
      tokens.push({ kind: 'op', value: c, line });
      i++;
      continue;
    }
    fail(`unexpected character "${c}"`);
  }
  // An unclosed bracket is reported where it opened: that is where the fix goes, not at the end of the file.
  const open = brackets[brackets.length - 1];
  if (open) fail(`"${open.close}" is missing: the bracket opened here is never closed`, open.line);
  if (tokens.length && tokens[tokens.length - 1]!.kind !== 'newline') tokens.push({ kind: 'newline', line });
  tokens.push({ kind: 'end', line });
  return tokens;
}

/**
 * Parse the assignments of a data-only Python module. Returns name → value in file order; a later
 * assignment to the same name replaces the earlier one, as in Python. Bare expression statements (the
 * module docstring) are allowed and ignored.
 */
export function parsePythonAssignments(src: string, file: string): Map<string, PyValue> {
  const tokens = tokenize(src, file);
  let pos = 0;
  const peek = () => tokens[pos]!;
  const fail = (detail: string, tok: Token = peek()): never => {
    throw new InputError(file, `Python syntax error: ${detail} (the file is read as data, never executed; fetch it again if it is damaged)`, tok.line);
  };
  const describe = (t: Token): string =>
    t.kind === 'end' ? 'end of file' : t.kind === 'newline' ? 'end of line' : t.kind === 'string' ? 'a string' : `"${String(t.value)}"`;
  const isOp = (t: Token, v: string) => t.kind === 'op' && t.value === v;
  const expectOp = (v: string) => {
    const t = peek();
    if (!isOp(t, v)) fail(`expected "${v}", found ${describe(t)}`);
    pos++;
  };

  const parseValue = (): PyValue => {
    const t = peek();
    if (t.kind === 'string') {
      // Adjacent string literals are one string (Python's implicit concatenation).
      let s = '';
      while (peek().kind === 'string') s += (tokens[pos++] as { value: string }).value;
      return s;
    }
    if (t.kind === 'number') {
      pos++;
      return t.value;
    }
    if (t.kind === 'op' && (t.value === '-' || t.value === '+')) {
      pos++;
      const n = peek();
      if (n.kind !== 'number') fail(`expected a number after "${t.value}", found ${describe(n)}`);
      pos++;
      return t.value === '-' ? -(n as { value: number }).value : (n as { value: number }).value;
    }
    if (t.kind === 'name') {
      pos++;
      if (t.value === 'True') return true;
      if (t.value === 'False') return false;
      if (t.value === 'None') return null;
      return fail(`"${t.value}" is not a literal (only strings, numbers, lists, tuples, dicts, True/False/None are read)`, t);
    }
    if (isOp(t, '[') || isOp(t, '(')) {
      pos++;
      const close = isOp(t, '[') ? ']' : ')';
      const list: PyValue[] = [];
      let sawComma = false;
      while (!isOp(peek(), close)) {
        list.push(parseValue());
        if (isOp(peek(), ',')) {
          sawComma = true;
          pos++;
        } else if (!isOp(peek(), close)) fail(`expected "," or "${close}", found ${describe(peek())}`);
      }
      pos++;
      // `(x)` is just x in Python; `(x,)` and `[x]` are sequences.
      if (close === ')' && list.length === 1 && !sawComma) return list[0]!;
      return list;
    }
    if (isOp(t, '{')) {
      pos++;
      const dict: PyDict = new Map();
      while (!isOp(peek(), '}')) {
        const keyTok = peek();
        const key = parseValue();
        if (typeof key !== 'string' && typeof key !== 'number') fail('dict keys must be strings or numbers', keyTok);
        expectOp(':');
        dict.set(key as string | number, parseValue());
        if (isOp(peek(), ',')) pos++;
        else if (!isOp(peek(), '}')) fail(`expected "," or "}", found ${describe(peek())}`);
      }
      pos++;
      return dict;
    }
    return fail(`expected a value, found ${describe(t)}`);
  };

  const out = new Map<string, PyValue>();
  while (peek().kind !== 'end') {
    if (peek().kind === 'newline') {
      pos++;
      continue;
    }
    const t = peek();
    if (t.kind === 'name' && isOp(tokens[pos + 1]!, '=')) {
      pos += 2;
      out.set(t.value, parseValue());
    } else if (t.kind === 'string') {
      parseValue(); // docstring or other bare string: no effect
    } else {
      fail(`expected an assignment NAME = value, found ${describe(t)}`);
    }
    if (peek().kind !== 'newline') fail(`expected end of line, found ${describe(peek())}`);
  }
  return out;
}
