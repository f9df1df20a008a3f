import { MMLU_LETTERS, type MmluRow } from './csv.js';

/**
 * MMLU prompt strings, exactly as docs/protocol.md §3 fixes them (Flan style). Pure functions of the data so that
 * golden tests can pin every character.
 */

/** `S`: the subject with `_` turned into spaces. */
export function subjectName(subject: string): string {
  return subject.replaceAll('_', ' ');
}

/** `H`: the header line and a blank line. */
export function header(subject: string): string {
  return `The following are multiple choice questions (with answers) about ${subjectName(subject)}.\n\n`;
}

/** `Qx`: question, the four options on one line, and `A:`. */
export function question(row: Pick<MmluRow, 'question' | 'options'>): string {
  const [a, b, c, d] = row.options;
  return `Q: ${row.question}\n(A) ${a} (B) ${b} (C) ${c} (D) ${d}\nA:`;
}

export const COT_TRIGGER = " Let's think step by step.";

/** Direct: `H` + N answered dev rows + `Qx` (N = 0 gives the zero-shot `H + Qx`). */
export function directPrompt(subject: string, exemplars: readonly MmluRow[], row: MmluRow): string {
  return header(subject) + exemplars.map((e) => `${question(e)} (${e.answer})\n\n`).join('') + question(row);
}

/** CoT few-shot: the subject's string from mmlu-cot.json, used as it is. */
export function cotFewShotPrompt(cotString: string, row: MmluRow): string {
  return `${cotString}\n\n${question(row)}${COT_TRIGGER}`;
}

/** CoT zero-shot: `H + Qx` + the trigger. */
export function cotZeroShotPrompt(subject: string, row: MmluRow): string {
  return header(subject) + question(row) + COT_TRIGGER;
}

/** Target `(A)`…`(D)`. */
export function target(row: MmluRow): string {
  return `(${row.answer})`;
}

/** Log-likelihood continuations for the direct format, in `LABELS` order. */
export const CHOICES = MMLU_LETTERS.map((l) => ` (${l})`);
export const LABELS = MMLU_LETTERS.map((l) => `(${l})`);
