import { InputError } from '../../errors.js';

export interface MgsmExample {
  question: string;
  /** The answer as upstream writes it, e.g. `18` or `2,125`. */
  answer: string;
}

/**
 * `mgsm_<lang>.tsv`: no header, `question<TAB>answer` per line, no quoting (questions hold no tabs or
 * newlines upstream). A final newline is optional; a `\r` before it (a file saved on Windows) is
 * dropped. A line with another field count, or an answer that is not a number, is an error naming the
 * file and line, since it would otherwise shift every later example id.
 */
export function parseMgsmTsv(text: string, file: string): MgsmExample[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const fields = line.split('\t');
    if (fields.length !== 2) {
      throw new InputError(file, `expected 2 tab-separated fields (question, answer), found ${fields.length}; fetch the file again or fix that line`, i + 1);
    }
    const [question, answer] = fields as [string, string];
    const trimmed = answer.trim();
    if (!/^-?\d{1,3}(?:,\d{3})*(?:\.\d+)?$|^-?\d+(?:\.\d+)?$/.test(trimmed)) {
      throw new InputError(file, `answer "${answer}" is not a number; fetch the file again or fix that line`, i + 1);
    }
    return { question, answer: trimmed };
  });
}
