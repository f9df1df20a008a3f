import type { BbhCotPrompt } from './load.js';

/** BBH prompt strings, exactly as docs/protocol.md §3 fixes them. Pure functions of the upstream files. */

export const COT_TRIGGER = " Let's think step by step.";

/** CoT with the first N exemplars (N = 0 is zero-shot CoT). With N = 3 this is `P + "\n\nQ: " + input + …`. */
export function cotPrompt(p: BbhCotPrompt, shots: number, input: string): string {
  const shown = p.exemplars.slice(0, shots).map((e) => `\n\n${e.text}`);
  return `${p.description}${shown.join('')}\n\nQ: ${input}\nA:${COT_TRIGGER}`;
}

/** Direct with the first N exemplars reduced to `Q: q\nA: X` (N = 0 is zero-shot direct). */
export function directPrompt(p: BbhCotPrompt, shots: number, input: string): string {
  const shown = p.exemplars.slice(0, shots).map((e) => `\n\nQ: ${e.question}\nA: ${e.answer}`);
  return `${p.description}${shown.join('')}\n\nQ: ${input}\nA:`;
}
