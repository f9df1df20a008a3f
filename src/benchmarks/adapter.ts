import type { BenchmarkName, BenchmarkScore, ItemScore, PromptFormat, PromptItem, Selection } from '../types.js';

/**
 * What every benchmark provides. Prompt building and scoring are pure functions of the upstream files;
 * a benchmark never sees a model. The runner, `prompts` and `score` commands only use this interface.
 */
export interface BenchmarkAdapter {
  readonly name: BenchmarkName;
  /** Paper defaults (docs/protocol.md §3): mmlu 5, bbh 3, tydiqa 1, mgsm 8. */
  readonly defaultShots: number;
  /** Whether `--split` means anything (MMLU only). */
  readonly splits?: readonly string[];
  readonly defaultSplit?: string;

  /**
   * Canonical task names present in the data directory (MMLU subjects, BBH tasks, MGSM language codes,
   * TyDiQA language names). Throws a UsageError naming the folder and the `flan-eval data fetch <name>`
   * to run when the benchmark's data is missing.
   */
  listTasks(dataDir: string, split?: string): Promise<string[]>;

  /**
   * Load the examples of the selection and build their prompts in `format`, in a stable order (tasks
   * sorted by name, examples in file order). `files` lists every data file read (absolute paths), so
   * run records can hash them. Unknown tasks/languages throw a UsageError with "did you mean".
   */
  prepare(dataDir: string, format: PromptFormat, selection: Selection, purpose?: PreparePurpose): Promise<PreparedBenchmark>;

  /** Default greedy-decoding budget for the format (e.g. small for direct answers, larger for CoT). */
  maxNewTokens(format: PromptFormat): number;

  /**
   * Score one raw model output: cut it at the item's first stop sequence, extract the answer (docs/protocol.md §4)
   * and compare it with the target. Also used for `--scoring loglik`, where `prediction` is the chosen
   * choice's continuation (e.g. " (B)").
   */
  scoreItem(item: PreparedItem, prediction: string, format: PromptFormat): ItemScore;

  /**
   * Aggregate per-item scores into per-task scores (with n and standard error) and the benchmark score
   * (unweighted mean over the paper's task set). Items absent from `scores` count as wrong and are
   * reported as `missing` on their task.
   */
  aggregate(items: readonly PreparedItem[], scores: ReadonlyMap<string, ItemScore>): BenchmarkScore;
}

/** A prompt item plus what the runner needs to decode it. */
export interface PreparedItem extends PromptItem {
  /** Stop sequences for generation (docs/protocol.md §4), e.g. ["\n\nQ:"]; the end-of-sequence token always stops. */
  stop: string[];
}

export interface PreparedBenchmark {
  items: PreparedItem[];
  files: string[];
  /** The tasks selected (canonical names), even those with zero items. */
  tasks: string[];
  /**
   * False when a file that only shapes the prompts was absent and `purpose` was `score` (TyDiQA's train
   * file, which only supplies exemplars): the items score exactly, but their prompts are not those a run used.
   */
  promptsExact?: boolean;
}

/**
 * `evaluate` (default) needs the exact prompts; `score` needs only ids, targets and scoring rules, so files
 * that only feed the prompts may be absent.
 */
export type PreparePurpose = 'evaluate' | 'score';
