import { InputError } from '../errors.js';

/**
 * The one reader of predictions JSONL — `run`'s resume (runner/store.ts), `score`, and everything that reads
 * a finished run (report, compare, merge: results/read.ts) — so a file means the same thing to all of them.
 *
 * The policy (docs/protocol.md §5):
 * - Blank lines are ignored.
 * - A line that is not a JSON object of the expected shape is an error naming the file and line.
 * - The last line, when it has no newline and is not valid JSON, is a torn write (the writer was killed
 *   mid-line). It is returned as `torn`, never parsed: `run` cuts it off and predicts that example again;
 *   readers of results refuse the file (see `requireWhole`).
 * - An id on a second line replaces its first line only when that first line no longer counts: it records
 *   an error (the example was retried) or answers another prompt (`promptHash` differs: the prompt changed
 *   and the example was predicted again). Any other repeated id is an error: which line counts would be a
 *   guess.
 */

/** What the policy needs from a line; validators return richer types. */
export interface KeyedLine {
  id: string;
  error?: string;
  promptHash?: string;
}

export interface ParsedPredictions<T> {
  /** One line per id, in the order ids first appear. */
  lines: T[];
  /** 1-based line number of each id's winning line. */
  lineOf: Map<string, number>;
  /** An unterminated, unparsable last line: its number and the byte length of the text before it. */
  torn: { line: number; keepBytes: number } | null;
}

/**
 * Parse `text` (the content of `file`). `validate` turns a parsed JSON value into a line or throws an
 * InputError naming the file and line (it gets the line number for that).
 */
export function parsePredictions<T extends KeyedLine>(text: string, file: string, validate: (value: unknown, line: number) => T): ParsedPredictions<T> {
  const rows = text.split('\n');
  const byId = new Map<string, T>();
  const lineOf = new Map<string, number>();
  let torn: ParsedPredictions<T>['torn'] = null;
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      if (i === rows.length - 1) {
        torn = { line, keepBytes: Buffer.byteLength(rows.slice(0, i).join('\n')) + (i > 0 ? 1 : 0) };
        break;
      }
      throw new InputError(file, `not valid JSON (${(e as Error).message}); each line must be one JSON object — delete this line (its example is then missing) or the file`, line);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError(file, 'not a JSON object; each line must be one {"id": …, "prediction": …} object', line);
    }
    const p = validate(value, line);
    const earlier = byId.get(p.id);
    if (earlier !== undefined && earlier.error === undefined && earlier.promptHash === p.promptHash) {
      throw new InputError(file, `duplicate id "${p.id}" (first on line ${lineOf.get(p.id)}); keep one line per id`, line);
    }
    byId.set(p.id, p);
    lineOf.set(p.id, line);
  }
  return { lines: [...byId.values()], lineOf, torn };
}

/** For readers of results: a torn last line means the file is unfinished, which is an error. */
export function requireWhole<T>(parsed: ParsedPredictions<T>, file: string, fix: string): ParsedPredictions<T> {
  if (parsed.torn) throw new InputError(file, `ends in an incomplete line (the writer was stopped mid-line); ${fix}`, parsed.torn.line);
  return parsed;
}
