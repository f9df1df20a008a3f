import { endOfLast } from '../scoring.js';

/**
 * docs/protocol.md §4 MMLU answer extraction: the first `(A)`–`(D)`, or a lone capital letter A–D, after the last
 * `answer is`; if there is none there, the first one anywhere in the prediction. Returns `(X)` or ''.
 *
 * "Lone" means not part of a word or number ("A" in "Apple" or "4A" does not count; "B" in "B." or
 * "(B)" does). `answer is` is matched case-insensitively so that "Answer is (B)" at a sentence start
 * counts too.
 */
const LETTER = /\(([A-D])\)|(?<![\p{L}\p{N}_])([A-D])(?![\p{L}\p{N}_])/u;

export function extractMmluAnswer(prediction: string): string {
  const end = endOfLast(/answer is/giu, prediction);
  if (end >= 0) {
    const hit = firstLetter(prediction.slice(end));
    if (hit) return hit;
  }
  return firstLetter(prediction) ?? '';
}

function firstLetter(text: string): string | undefined {
  const m = LETTER.exec(text);
  return m ? `(${m[1] ?? m[2]})` : undefined;
}
