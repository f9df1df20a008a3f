import { endOfLast } from '../scoring.js';

/**
 * docs/protocol.md §4 BBH answer extraction (the prediction is already cut at its stop sequence).
 * CoT: the text after the last `the answer is ` in any case, trimmed, its final `.` removed; without
 * that phrase, the whole trimmed prediction. Direct: the first line, trimmed.
 * This is the rule that reproduces the BBH authors' published accuracies for their own outputs.
 */
export function extractBbhAnswer(prediction: string, cot: boolean): string {
  if (!cot) return (prediction.split('\n')[0] ?? '').trim();
  const end = endOfLast(/the answer is /giu, prediction);
  if (end < 0) return prediction.trim();
  const answer = prediction.slice(end).trim();
  return answer.endsWith('.') ? answer.slice(0, -1) : answer;
}
