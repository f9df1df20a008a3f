/**
 * TyDiQA GoldP prompts. docs/protocol.md §3 leaves the wording to us; this is a Flan-style reading-comprehension
 * template (instruction, then `Passage/Question/Answer` blocks), in English for every language as the
 * Flan instructions are. Each block ends in `Answer:`, and an exemplar's answer follows on that line,
 * so the model's answer is the rest of the line: generation stops at "\n" (docs/protocol.md §4).
 *
 *   INSTRUCTION  = "Answer the question with a short span copied from the passage.\n\n"
 *   block(p, q)  = "Passage: " + p + "\nQuestion: " + q + "\nAnswer:"
 *   exemplar     = block(p, q) + " " + first gold answer + "\n\n"
 *   prompt       = INSTRUCTION + exemplars (first N of the language in the train file) + block(test)
 *
 * Zero-shot is INSTRUCTION + block(test).
 */

export const INSTRUCTION = 'Answer the question with a short span copied from the passage.\n\n';

export interface QaText {
  context: string;
  question: string;
}

function block(x: QaText): string {
  return 'Passage: ' + x.context + '\nQuestion: ' + x.question + '\nAnswer:';
}

export function tydiqaPrompt(exemplars: readonly (QaText & { answer: string })[], test: QaText): string {
  return INSTRUCTION + exemplars.map((e) => block(e) + ' ' + e.answer + '\n\n').join('') + block(test);
}

export const TYDIQA_STOP = ['\n'];
