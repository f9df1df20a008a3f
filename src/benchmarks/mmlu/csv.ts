import { parse, CsvError } from 'csv-parse/sync';
import { InputError } from '../../errors.js';

/** One MMLU question: a row of `<subject>_<split>.csv` (no header; question, A, B, C, D, answer letter). */
export interface MmluRow {
  question: string;
  options: [string, string, string, string];
  /** 'A' | 'B' | 'C' | 'D' */
  answer: string;
  /** 1-based line in the file where the row starts (for error messages). */
  line: number;
}

export const MMLU_LETTERS = ['A', 'B', 'C', 'D'] as const;

/**
 * Parse an MMLU CSV file as RFC 4180 (quoted fields may hold commas, doubled quotes and newlines).
 * Blank lines are skipped, as pandas' `read_csv` (Hendrycks' own loader) does. Any row that is not exactly
 * six fields, an answer that is not A–D, or a quote left open is an InputError naming the file and line.
 * Fields are kept exactly as written: the prompt format depends on every character.
 */
export function parseMmluCsv(text: string | Buffer, file: string): MmluRow[] {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let records: { record: string[]; raw: string; info: { bytes: number } }[];
  try {
    records = parse(buf, { bom: true, relax_column_count: true, skip_empty_lines: true, info: true, raw: true }) as never;
  } catch (e) {
    if (e instanceof CsvError) throw csvProblem(e, buf, file);
    throw e;
  }
  return records.map(({ record, raw, info }) => {
    // The record's first line: the bytes before its raw text, counted in newlines.
    const line = lineAt(buf, info.bytes - Buffer.byteLength(raw, 'utf8'));
    if (record.length !== 6) {
      throw new InputError(file, `expected 6 fields (question, A, B, C, D, answer), found ${record.length}; the row may have an unquoted comma or a stray quote`, line);
    }
    const [question, a, b, c, d, answerField] = record as [string, string, string, string, string, string];
    const answer = answerField.trim();
    if (!(MMLU_LETTERS as readonly string[]).includes(answer)) {
      throw new InputError(file, `answer must be one of A, B, C, D, found ${JSON.stringify(answerField)}`, line);
    }
    return { question, options: [a, b, c, d], answer, line };
  });
}

/** 1-based line number of byte offset `offset`. */
function lineAt(buf: Buffer, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < buf.length; i++) if (buf[i] === 0x0a) line++;
  return line;
}

function csvProblem(e: CsvError, buf: Buffer, file: string): InputError {
  const info = e as CsvError & { bytes_records?: number; lines?: number };
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED': {
      // The open quote belongs to the record after the last complete one.
      const start = info.bytes_records !== undefined ? lineAt(buf, info.bytes_records) : undefined;
      const startLine = start !== undefined ? skipBlankLines(buf, info.bytes_records!, start) : undefined;
      return new InputError(file, 'a quoted field is never closed (unmatched `"`); the file may be truncated or corrupt — fetch it again', startLine);
    }
    case 'CSV_INVALID_CLOSING_QUOTE':
      return new InputError(file, 'a quote closes a field but is followed by more text; inside a quoted field write a quote as `""`', info.lines);
    default:
      return new InputError(file, `not valid CSV (${e.message})`, info.lines);
  }
}

/** The line of the first non-blank character at or after `offset` (where the broken record starts). */
function skipBlankLines(buf: Buffer, offset: number, line: number): number {
  let l = line;
  for (let i = offset; i < buf.length; i++) {
    if (buf[i] === 0x0a) l++;
    else if (buf[i] !== 0x0d) break;
  }
  return l;
}
