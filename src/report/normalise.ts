import type { BenchmarkName } from '../types.js';

/**
 * The paper's normalised score (docs/protocol.md §4): 100·(raw − low)/(100 − low), where `low` is the score of random
 * guessing. It is negative below chance, which is why T5 rows in Table 5 have negative averages.
 */
export function normalise(raw: number, low: number): number {
  return (100 * (raw - low)) / (100 - low);
}

/**
 * How random guessing does on each BBH task, as the number of answer options `k` seen across the task's
 * examples: option-count → number of examples. Counted from the real inputs of
 * github.com/suzgunmirac/BIG-Bench-Hard (bbh/<task>.json at the commit pinned in upstream-sha256.txt) by
 * counting the lines of each `input` that start with `(A)`, `(B)`, … (regex /^\([A-Z]\)/m). Tasks
 * without option lines are either two-word tasks (targets True/False, Yes/No, valid/invalid, yes/no:
 * k = 2) or free-form (dyck_languages, multistep_arithmetic_two, object_counting, word_sorting: low 0).
 *
 * A task whose examples have different k (date_understanding has 5 or 6 options; ruin_names has one
 * example with 11) gets the expected accuracy of a uniform guess over its examples: mean of 100/k. The
 * 27 lows average 26.633, the "about 26.6" of docs/protocol.md §4. (Taking the most common k per task instead gives
 * 26.39, and Flan-T5-Small's normalised average then misses Table 5 by 0.26 instead of 0.14.) Upstream oddities kept as counted: one snarks input
 * has a single option line and one disambiguation_qa input has four.
 */
const BBH_OPTION_COUNTS: Record<string, Record<number, number> | 'two-word' | 'free-form'> = {
  boolean_expressions: 'two-word', // True / False
  causal_judgement: 'two-word', // Yes / No
  date_understanding: { 6: 212, 5: 38 },
  disambiguation_qa: { 3: 247, 4: 3 },
  dyck_languages: 'free-form',
  formal_fallacies: 'two-word', // valid / invalid
  geometric_shapes: { 10: 200, 11: 50 },
  hyperbaton: { 2: 250 },
  logical_deduction_five_objects: { 5: 250 },
  logical_deduction_seven_objects: { 7: 250 },
  logical_deduction_three_objects: { 3: 250 },
  movie_recommendation: { 4: 231, 5: 19 },
  multistep_arithmetic_two: 'free-form',
  navigate: 'two-word', // Yes / No
  object_counting: 'free-form',
  penguins_in_a_table: { 5: 145, 4: 1 },
  reasoning_about_colored_objects: { 18: 118, 17: 57, 7: 48, 2: 27 },
  ruin_names: { 4: 247, 3: 1, 11: 1, 7: 1 },
  salient_translation_error_detection: { 6: 250 },
  snarks: { 2: 177, 1: 1 },
  sports_understanding: 'two-word', // yes / no
  temporal_sequences: { 4: 250 },
  tracking_shuffled_objects_five_objects: { 5: 250 },
  tracking_shuffled_objects_seven_objects: { 7: 250 },
  tracking_shuffled_objects_three_objects: { 3: 250 },
  web_of_lies: 'two-word', // Yes / No
  word_sorting: 'free-form',
};

/** Random-guess accuracy (%) of each of the 27 BBH tasks, derived from BBH_OPTION_COUNTS. */
export const BBH_TASK_LOWS: Readonly<Record<string, number>> = Object.fromEntries(
  Object.entries(BBH_OPTION_COUNTS).map(([task, counts]) => {
    if (counts === 'two-word') return [task, 50];
    if (counts === 'free-form') return [task, 0];
    let n = 0;
    let sum = 0;
    for (const [k, count] of Object.entries(counts)) {
      n += count;
      sum += (count * 100) / Number(k);
    }
    return [task, sum / n];
  }),
);

/** The mean of the 27 task lows: what a full-BBH score is normalised with (≈ 26.63). */
export const BBH_MEAN_LOW = mean(Object.values(BBH_TASK_LOWS));

/** Random-guess score of the four-option MMLU. */
export const MMLU_LOW = 25;

/**
 * The `low` to normalise a benchmark score with. For BBH it is the mean of the lows of the tasks the
 * score averages over, so a record that covers a subset of tasks is normalised consistently; tasks not in
 * the list (a renamed or new upstream task) fall back to the 27-task mean, and `unknownTasks` names them
 * so the report can say so.
 */
export function randomBaseline(benchmark: BenchmarkName, tasks: readonly string[]): { low: number; unknownTasks: string[] } {
  switch (benchmark) {
    case 'mmlu':
      return { low: MMLU_LOW, unknownTasks: [] };
    case 'bbh': {
      if (tasks.length === 0) return { low: BBH_MEAN_LOW, unknownTasks: [] };
      const unknownTasks = tasks.filter((t) => !(t in BBH_TASK_LOWS));
      return { low: mean(tasks.map((t) => BBH_TASK_LOWS[t] ?? BBH_MEAN_LOW)), unknownTasks };
    }
    case 'tydiqa':
    case 'mgsm':
      return { low: 0, unknownTasks: [] };
  }
}

/**
 * The normalised average of the paper's six columns, or null when any is missing (a partial average
 * would not be comparable with Table 5). Each entry is a raw score with its low and, optionally, its
 * standard error; the average's standard error treats the six as independent.
 */
export function normalisedAverage(
  scores: readonly ({ raw: number; low: number; stderr?: number | null } | null | undefined)[],
  expected = 6,
): { value: number; stderr: number | null } | null {
  if (scores.length !== expected || scores.some((s) => s == null)) return null;
  const present = scores as { raw: number; low: number; stderr?: number | null }[];
  const value = mean(present.map((s) => normalise(s.raw, s.low)));
  const haveStderr = present.every((s) => typeof s.stderr === 'number');
  const stderr = haveStderr
    ? Math.sqrt(present.reduce((a, s) => a + ((100 / (100 - s.low)) * s.stderr!) ** 2, 0)) / present.length
    : null;
  return { value, stderr };
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
