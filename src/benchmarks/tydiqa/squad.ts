/**
 * The SQuAD v1.1 evaluation rules (the official `evaluate-v1.1.py`, which TyDiQA GoldP uses), ported
 * so that results match the Python script character for character, including on non-Latin text.
 */

/** Python's `string.punctuation`: the 32 ASCII punctuation characters, and only those. */
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

/**
 * Python's `re` `\b` on str is Unicode-aware: a word character is a letter, a number or `_` (Python's
 * `str.isalnum()`; combining marks are not word characters). JavaScript's `\b` is ASCII-only, so a
 * plain /\ba\b/ would delete the `a` of `ña`. These look-arounds are Python's boundaries.
 */
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu;

/**
 * Python's `str.split()` splits on what `str.isspace()` accepts: JavaScript's `\s` differs (it has
 * U+FEFF, lacks U+001C–U+001F and U+0085), so the set is spelled out.
 */
// eslint-disable-next-line no-control-regex -- U+001C–U+001F are white space to Python, on purpose
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u;

/** lower → remove punctuation → remove articles → fix white space, in the script's order. */
export function normalizeAnswer(s: string): string {
  const text = s.toLowerCase().replace(ASCII_PUNCTUATION, '').replace(ARTICLES, ' ');
  return tokens(text).join(' ');
}

function tokens(normalized: string): string[] {
  return normalized.split(PY_WHITESPACE).filter((t) => t !== '');
}

export function exactMatch(prediction: string, gold: string): boolean {
  return normalizeAnswer(prediction) === normalizeAnswer(gold);
}

/** Token-overlap F1 in 0..1. As in v1.1, no common token gives 0, even when both sides are empty. */
export function f1Score(prediction: string, gold: string): number {
  const p = tokens(normalizeAnswer(prediction));
  const g = tokens(normalizeAnswer(gold));
  const counts = new Map<string, number>();
  for (const t of g) counts.set(t, (counts.get(t) ?? 0) + 1);
  let same = 0;
  for (const t of p) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      same++;
      counts.set(t, c - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / p.length;
  const recall = same / g.length;
  return (2 * precision * recall) / (precision + recall);
}

/** SQuAD's metric_max_over_ground_truths for both metrics. */
export function scoreAgainstGolds(prediction: string, golds: readonly string[]): { em: boolean; f1: number } {
  let em = false;
  let f1 = 0;
  for (const g of golds) {
    em ||= exactMatch(prediction, g);
    f1 = Math.max(f1, f1Score(prediction, g));
  }
  return { em, f1 };
}
