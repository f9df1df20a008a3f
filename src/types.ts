/**
 * The small typed values that cross module boundaries (benchmarks → prompts → backend → scores → run record → report). Benchmarks never see a
 * model, backends never see a benchmark, and the reporter only reads run records: these types are the
 * whole contract between them. Keep them here, in one place.
 */
import type { DoctorReport } from './backends/onnx/doctor.js';

export const BENCHMARKS = ['mmlu', 'bbh', 'tydiqa', 'mgsm'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** The prompt format: docs/protocol.md §3's four formats are shots ∈ {0, N} × cot. */
export interface PromptFormat {
  cot: boolean;
  shots: number;
}

/** What to evaluate inside one benchmark (docs/protocol.md §5 filters). */
export interface Selection {
  /** MMLU subjects or BBH tasks; MGSM/TyDiQA languages (codes or names). Empty/undefined = all. */
  tasks?: string[];
  /** MMLU split: dev | val | test. Ignored elsewhere. */
  split?: string;
  /** Keep the first N examples of each task. */
  limit?: number;
}

/** How an answer is obtained from a model. */
export type ScoringMode = 'generate' | 'loglik';

/** Greedy decoding settings for one request. */
export interface DecodingSettings {
  maxNewTokens: number;
  /** Stop strings (in a run record: those every task used); the end-of-sequence token always stops too. */
  stop: string[];
  /** Run records only, when tasks stopped differently (MGSM languages): each task's stop strings. */
  stopByTask?: Record<string, string[]>;
}

/**
 * One evaluation item: a prompt ready for a model, with what is needed to score the answer.
 * `choices` is set when the item can be scored by log-likelihood (MMLU direct): the continuations
 * to compare, e.g. [" (A)", " (B)", " (C)", " (D)"], in the order of `choiceLabels`.
 */
export interface PromptItem {
  id: string;
  benchmark: BenchmarkName;
  task: string;
  prompt: string;
  target: string;
  choices?: string[];
  choiceLabels?: string[];
  /**
   * Examples sharing this key are not independent (clustered standard errors): MGSM's `problem <i>`, the
   * same problem in every language; TyDiQA's `passage <hash>`, questions about one passage.
   */
  cluster?: string;
}

/** Per-item outcome of scoring one prediction. */
export interface ItemScore {
  /** The extracted answer, as compared with the target. */
  answer: string;
  /** The headline metric for the item: 1 correct / 0 wrong (accuracy, exact match). */
  correct: boolean;
  /** Secondary metrics in 0..1 (TyDiQA F1). */
  metrics?: Record<string, number>;
}

export interface TaskScore {
  /** Percentage 0–100. */
  score: number;
  n: number;
  /** Standard error of `score`, in percentage points. */
  stderr: number;
  /** Secondary metrics as percentages (e.g. { f1: 41.2 }). */
  metrics?: Record<string, number>;
  /** Items without a prediction (counted as wrong). */
  missing?: number;
}

export interface BenchmarkScore {
  benchmark: BenchmarkName;
  /** Percentage: the unweighted mean over `averageTasks`. */
  score: number;
  /** Standard error of `score` (tasks treated as independent). */
  stderr: number;
  tasks: Record<string, TaskScore>;
  /** The tasks in the headline average (the paper's language sets for MGSM and TyDiQA). */
  averageTasks: string[];
  /** Secondary aggregate metrics (e.g. { f1: … } for TyDiQA). */
  metrics?: Record<string, number>;
  /**
   * The clustered standard error of `score` (Miller 2024), beside the naive `stderr`: MGSM by problem
   * across languages, TyDiQA by passage (only where passages repeat). Absent for MMLU and BBH, whose
   * by-task error `report --cluster task` computes from `tasks`.
   */
  clustered?: ClusteredStderr;
}

export type ClusterBy = 'problem' | 'passage' | 'task';

export interface ClusteredStderr {
  by: ClusterBy;
  /** Points. */
  stderr: number;
  /** Number of clusters. */
  clusters: number;
}

/** One line of a predictions JSONL file, as written by `run` and read by `score`, `merge` and `compare`. */
export interface PredictionLine {
  id: string;
  task: string;
  /** The gold answer, as `prompts` writes it (TyDiQA: the first gold answer; scoring uses all); absent in lines written by older versions. */
  target?: string;
  /** The exact prompt (`run --save-prompts` only). */
  prompt?: string;
  /** sha256 of the exact prompt string; resume and `compare` use it to detect prompt changes. */
  promptHash: string;
  prediction: string;
  answer: string;
  correct: boolean;
  /** The item's cluster key (`PromptItem.cluster`), for `compare`'s clustered confidence interval. */
  cluster?: string;
  metrics?: Record<string, number>;
  /** Log-likelihood per choice (loglik scoring only), in `choiceLabels` order. */
  loglik?: number[];
  /** Number of generated tokens (generation only). */
  tokens?: number;
  /** Set when inference failed for this item; such items count as wrong and make the run exit 1. */
  error?: string;
}

/**
 * The run record: one per model × benchmark × format, written atomically as JSON next to its
 * predictions. Everything a reported number depends on is in here.
 */
export interface RunRecord {
  schema: 'flan-eval/run-record@1';
  createdAt: string;
  model: {
    /** Display name: the hub id, or the model folder's name. */
    name: string;
    path: string;
    /** Parameter count read from the ONNX initializers (null if unknown). */
    params: number | null;
    /** config.json's model_type (t5, llama, qwen2, gpt2); absent in records written before it was kept. */
    arch?: string;
    /** What the backend rewrote in the graph at load (BackendInfo.graphRewrites); absent: nothing, or an older record. */
    graphRewrites?: string[];
    dtype: string;
    /** Model file (relative path) → sha256. */
    files: Record<string, string>;
    /** sha256 over the sorted `files` entries. */
    hash: string;
  };
  benchmark: BenchmarkName;
  format: PromptFormat & { split: string | null; scoring: ScoringMode };
  decoding: DecodingSettings;
  data: { files: Record<string, string>; hash: string };
  /** sha256 over the sorted "id\tpromptHash" lines of all items in this run. */
  promptsHash: string;
  /** Hash of everything that makes predictions comparable (model, data, prompts, decoding, scoring). */
  configHash: string;
  selection: { tasks: string[] | null; limit: number | null; shard: { index: number; count: number } | null };
  /** Expected tasks that had no data files: the score covers the others only (a partial record). */
  missingTasks?: string[];
  result: BenchmarkScore;
  n: number;
  failed: number;
  /** Path of the predictions JSONL, relative to the record's folder. */
  predictions: string;
  versions: { flanEval: string; onnxruntime: string; node: string };
  runtime: {
    device: string;
    threads: number;
    batchSize: number;
    wallSeconds: number;
    examplesPerSecond: number;
    generatedTokensPerSecond: number | null;
    /** `flan-eval doctor --json` at run time (providers, adapters, CUDA libraries, threads, memory); null when it could not run. */
    environment?: DoctorReport | null;
  };
}
