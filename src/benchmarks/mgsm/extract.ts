/**
 * MGSM answer extraction (docs/protocol.md §4): the first number after the language's answer phrase, else the last
 * number in the prediction; thousands separators removed; compared numerically.
 */

/**
 * A number as written in MGSM text: optional sign, digits with optional `,` thousands groups (`2,125`,
 * `114,200`), optional decimals. A `-` right after a digit is a minus sign of an expression (`20-12`),
 * not a sign. `12,34` is not a thousands group, so it reads as `12` then `34`.
 */
const NUMBER = /(?:(?<!\d)-)?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?/gu;

/**
 * Full-width digits (`０`–`９`, U+FF10–FF19) are the same digits in CJK width; models trained on zh/ja
 * text emit them now and then, so they are read as ASCII digits. Other scripts' digits (Bengali, Thai,
 * Telugu) are not converted: the exemplars and targets write every number in ASCII digits.
 */
function asciiDigits(text: string): string {
  return text.replace(/[\uff10-\uff19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xff10 + 0x30));
}

/** The canonical text of a number: separators gone, `-0` → `0`, trailing decimal zeros gone. */
export function canonicalNumber(text: string): string | null {
  const plain = text.replace(/,/g, '');
  if (!/^-?\d+(?:\.\d+)?$/.test(plain)) return null;
  const n = Number(plain);
  return Number.isFinite(n) ? String(n === 0 ? 0 : n) : null;
}

/** Every number in `text`, in order, as canonical strings. */
export function numbersIn(text: string): string[] {
  return [...asciiDigits(text).matchAll(NUMBER)].map((m) => canonicalNumber(m[0])!).filter((n) => n !== null);
}

/**
 * The answer of a (stop-truncated) prediction. The language's phrases are matched case-insensitively
 * (`the answer is 5`). When phrases occur several times, the last occurrence that has a number after it
 * wins: a model that restates its answer, or is cut off after a final, number-less "The answer is",
 * still gets its stated answer. No phrase with a number after it: the last number anywhere. No number: "".
 */
export function extractMgsmAnswer(prediction: string, answerPhrases: readonly string[]): string {
  const text = asciiDigits(prediction);
  // Search and slice `lower`: lower-casing can change lengths (İ → i̇), and numbers are unaffected by it.
  const lower = text.toLowerCase();
  const ends: number[] = [];
  for (const p of answerPhrases) {
    const phrase = p.toLowerCase();
    if (!phrase) continue;
    for (let at = lower.indexOf(phrase); at >= 0; at = lower.indexOf(phrase, at + 1)) ends.push(at + phrase.length);
  }
  ends.sort((a, b) => b - a);
  for (const end of ends) {
    const after = numbersIn(lower.slice(end));
    if (after.length) return after[0]!;
  }
  const all = numbersIn(text);
  return all.length ? all[all.length - 1]! : '';
}

/** Numeric equality of an extracted answer and a target (both may carry thousands separators). */
export function sameNumber(answer: string, target: string): boolean {
  const a = canonicalNumber(answer);
  const t = canonicalNumber(target);
  return a !== null && t !== null && Number(a) === Number(t);
}
