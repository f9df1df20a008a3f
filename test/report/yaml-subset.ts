/**
 * A YAML reader for the subset our GitHub workflows use, so a test can check their structure without a
 * YAML dependency: block mappings and sequences (including `- key: value` items), literal block scalars
 * (`|`, `|-`), plain / single- / double-quoted scalars, comments. Anything outside the subset (flow
 * collections, anchors, tags, folded scalars, tabs) is an error naming the line, so the test fails
 * rather than silently misreading a workflow. Keys stay strings (`on` is not YAML 1.1's boolean, as in
 * GitHub's own reader).
 */

interface Line {
  text: string;
  n: number;
}

export class YamlSubsetError extends Error {}

function indentOf(text: string): number {
  return /^ */.exec(text)![0].length;
}

function isBlank(text: string): boolean {
  return /^\s*(#.*)?$/.test(text);
}

/** Remove a trailing ` # comment` outside quotes. */
function stripComment(s: string): string {
  let quote: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      if (i === 0 || /\s/.test(s[i - 1]!)) quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(s[i - 1]!))) {
      return s.slice(0, i).trimEnd();
    }
  }
  return s.trimEnd();
}

function scalar(raw: string, n: number): unknown {
  const s = raw.trim();
  if (s === '' || s === '~' || s === 'null') return null;
  if (s.startsWith("'")) {
    if (!s.endsWith("'") || s.length < 2) throw new YamlSubsetError(`line ${n}: unterminated single-quoted string`);
    return s.slice(1, -1).replace(/''/g, "'");
  }
  if (s.startsWith('"')) {
    if (!s.endsWith('"') || s.length < 2) throw new YamlSubsetError(`line ${n}: unterminated double-quoted string`);
    return JSON.parse(s) as unknown;
  }
  if (/^[[{&*!>%@`]/.test(s)) throw new YamlSubsetError(`line ${n}: "${s}" is outside the supported YAML subset`);
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  return s;
}

export function parseYamlSubset(text: string): unknown {
  const lines: Line[] = text.split('\n').map((t, i) => ({ text: t.replace(/\r$/, ''), n: i + 1 }));
  const tab = lines.find((l) => /^\s*\t/.test(l.text));
  if (tab) throw new YamlSubsetError(`line ${tab.n}: tab in indentation`);
  let pos = 0;

  const skipBlank = () => {
    while (pos < lines.length && isBlank(lines[pos]!.text)) pos++;
  };

  const blockScalar = (parentIndent: number, chomp: boolean): string => {
    const body: string[] = [];
    let blockIndent = -1;
    while (pos < lines.length) {
      const t = lines[pos]!.text;
      if (t.trim() === '') {
        body.push('');
        pos++;
        continue;
      }
      const ind = indentOf(t);
      if (ind <= parentIndent) break;
      if (blockIndent < 0) blockIndent = ind;
      if (ind < blockIndent) throw new YamlSubsetError(`line ${lines[pos]!.n}: block scalar line less indented than its first line`);
      body.push(t.slice(blockIndent));
      pos++;
    }
    while (body.length && body[body.length - 1] === '') body.pop();
    return body.join('\n') + (chomp || body.length === 0 ? '' : '\n');
  };

  const value = (rest: string, indent: number, n: number): unknown => {
    const r = stripComment(rest).trim();
    if (r === '|' || r === '|-') return blockScalar(indent, r === '|-');
    if (r.startsWith('>') || r.startsWith('|')) throw new YamlSubsetError(`line ${n}: only literal block scalars (| and |-) are supported`);
    if (r !== '') return scalar(r, n);
    skipBlank();
    if (pos >= lines.length) return null;
    const next = lines[pos]!.text;
    const ind = indentOf(next);
    if (ind > indent) return node(ind);
    // GitHub style allows a sequence at the same indent as its key.
    if (ind === indent && /^-( |$)/.test(next.slice(ind))) return sequence(ind);
    return null;
  };

  const mapping = (indent: number): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    for (;;) {
      skipBlank();
      if (pos >= lines.length) break;
      const { text: t, n } = lines[pos]!;
      const ind = indentOf(t);
      if (ind < indent) break;
      if (ind > indent) throw new YamlSubsetError(`line ${n}: unexpected indentation`);
      const body = t.slice(indent);
      if (/^-( |$)/.test(body)) break;
      const m = /^('[^']*'|"[^"]*"|[^\s'"#][^:#]*?)\s*:(?:\s+(.*))?$/.exec(stripComment(body));
      if (!m) throw new YamlSubsetError(`line ${n}: expected "key: value"`);
      const key = String(scalar(m[1]!, n));
      if (Object.hasOwn(obj, key)) throw new YamlSubsetError(`line ${n}: duplicate key "${key}"`);
      pos++;
      obj[key] = value(m[2] ?? '', indent, n);
    }
    return obj;
  };

  const sequence = (indent: number): unknown[] => {
    const arr: unknown[] = [];
    for (;;) {
      skipBlank();
      if (pos >= lines.length) break;
      const { text: t, n } = lines[pos]!;
      const ind = indentOf(t);
      if (ind !== indent || !/^-( |$)/.test(t.slice(ind))) {
        if (ind > indent) throw new YamlSubsetError(`line ${n}: unexpected indentation`);
        break;
      }
      const item = t.slice(ind + 1);
      const itemIndent = ind + 1 + indentOf(item);
      const content = item.trim();
      if (content === '' || content.startsWith('#')) {
        pos++;
        arr.push(value('', indent, n));
      } else if (/^('[^']*'|"[^"]*"|[^\s'"#][^:#]*?)\s*:(\s|$)/.test(content)) {
        // `- key: value` starts a mapping whose keys sit at the item's column.
        lines[pos] = { text: ' '.repeat(itemIndent) + content, n };
        arr.push(mapping(itemIndent));
      } else {
        pos++;
        arr.push(scalar(stripComment(content), n));
      }
    }
    return arr;
  };

  const node = (indent: number): unknown => {
    skipBlank();
    if (pos >= lines.length) return null;
    return /^-( |$)/.test(lines[pos]!.text.slice(indent)) ? sequence(indent) : mapping(indent);
  };

  skipBlank();
  const doc = node(pos < lines.length ? indentOf(lines[pos]!.text) : 0);
  skipBlank();
  if (pos < lines.length) throw new YamlSubsetError(`line ${lines[pos]!.n}: unexpected content (bad indentation?)`);
  return doc;
}
