import type { MgsmLanguageExemplars } from './exemplars.js';

/**
 * MGSM prompts, exactly as docs/protocol.md §3 writes them. `lang` carries QW (question word with its colon and
 * following spaces) and AW (answer phrase up to its colon), both taken from exemplar 1.
 */

/** The part every format ends with: `QW + question + "\n" + AW`. */
function tail(lang: MgsmLanguageExemplars, question: string): string {
  return lang.questionWord + question + '\n' + lang.answerWord;
}

/** CoT, N shots: the first N exemplars as `q + "\n" + a`, joined by blank lines, then the tail. */
export function cotPrompt(lang: MgsmLanguageExemplars, shots: number, question: string): string {
  if (shots === 0) return tail(lang, question);
  const shown = lang.exemplars.slice(0, shots).map((e) => e.q + '\n' + e.a);
  return shown.join('\n\n') + '\n\n' + tail(lang, question);
}

/**
 * Direct, N shots: the first N exemplars as `q + "\n" + AW + " " + EXEMPLAR_NUMBER_ANSWERS[i]`, joined
 * the same way, then the tail. The answers are numbers in the file; Python's str() of an int is its
 * decimal digits, which is what String() gives for the integers there.
 */
export function directPrompt(lang: MgsmLanguageExemplars, numberAnswers: readonly number[], shots: number, question: string): string {
  if (shots === 0) return tail(lang, question);
  const shown = lang.exemplars.slice(0, shots).map((e, i) => e.q + '\n' + lang.answerWord + ' ' + String(numberAnswers[i]));
  return shown.join('\n\n') + '\n\n' + tail(lang, question);
}

/** docs/protocol.md §4: generation stops at the next question, `"\n\n" + QW`, in the language's own words. */
export function stopSequences(lang: MgsmLanguageExemplars): string[] {
  return ['\n\n' + lang.questionWord];
}
