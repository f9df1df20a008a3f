/**
 * The backend contract: a model is something that continues text greedily until a stop, and
 * that scores continuations by log-likelihood. Benchmarks and the runner depend on this and nothing
 * else, so another runtime (an HTTP API, another ONNX layout) only has to implement these few methods.
 */

export interface GenerationRequest {
  prompt: string;
  maxNewTokens: number;
  /** Stop strings, matched in the decoded text (they may span token boundaries). EOS always stops. */
  stop: readonly string[];
}

export type FinishReason = 'eos' | 'stop' | 'length';

export interface GenerationResult {
  /** Decoded continuation, cut before the first stop string. */
  text: string;
  /** Generated token ids, EOS excluded; when a stop string ended generation, up to and including the token that completed it. */
  tokens: number[];
  /** Log-probability of each generated token under the model (natural log). */
  logprobs: number[];
  finishReason: FinishReason;
  promptTokens: number;
}

export interface LoglikRequest {
  context: string;
  /** Continuations scored independently given `context`, e.g. [" (A)", " (B)", " (C)", " (D)"]. */
  continuations: readonly string[];
}

export interface BackendInfo {
  /** Display name (model folder or hub id). */
  name: string;
  dir: string;
  dtype: Dtype;
  device: string;
  threads: number;
  /** Model files the backend loaded, relative to `dir` (for hashing in run records). */
  files: string[];
  runtime: string;
}

/** ONNX file variants of an export (docs/protocol.md §6): fp32, `_fp16`, `_quantized`. */
export const DTYPES = ['fp32', 'fp16', 'q8'] as const;
export type Dtype = (typeof DTYPES)[number];

export interface ModelBackend {
  readonly info: BackendInfo;
  /** Token count of each prompt as the model sees it (EOS included): the runner sorts by it to cut padding. */
  countTokens(texts: readonly string[]): number[];
  /** Greedy generation for one batch; results in request order, independent of what else is in the batch. */
  generate(batch: readonly GenerationRequest[]): Promise<GenerationResult[]>;
  /** Sum of log-probabilities of each continuation's tokens given its context; [request][continuation]. */
  loglik(batch: readonly LoglikRequest[]): Promise<number[][]>;
  dispose(): Promise<void>;
}

/**
 * Split request indices into batches of at most `batchSize`, longest first and neighbours of similar
 * length together, so padding is small. Deterministic: ties keep input order.
 */
export function planBatches(lengths: readonly number[], batchSize: number): number[][] {
  const order = lengths.map((len, i) => ({ len, i })).sort((a, b) => b.len - a.len || a.i - b.i);
  const batches: number[][] = [];
  for (let k = 0; k < order.length; k += batchSize) batches.push(order.slice(k, k + batchSize).map((o) => o.i));
  return batches;
}
