import type { PreparedItem } from '../adapter.js';

/**
 * The tasks present in `items` (sorted) and the headline average set: the paper's, i.e. all but
 * `excluded` (MGSM leaves out `en`, TyDiQA `english`; both still report them). When only excluded tasks
 * were selected (`--languages en`), the average is over them, so the headline is not an empty 0.
 * Shared by the MGSM and TyDiQA adapters.
 */
export function paperAverageSets(items: readonly PreparedItem[], excluded: readonly string[]): [string[], string[]] {
  const tasks = [...new Set(items.map((i) => i.task))].sort();
  const paper = tasks.filter((t) => !excluded.includes(t));
  return [tasks, paper.length ? paper : tasks];
}
