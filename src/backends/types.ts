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

/** Sizes read from config.json that the memory planner needs (no weights). */
export interface ModelShape {
  kind: 'encoder-decoder' | 'decoder-only';
  /** Decoder layers (all layers of a decoder-only model). */
  layers: number;
  /** Encoder layers; 0 for decoder-only models. */
  encoderLayers: number;
  /** d_model / hidden_size / n_embd. */
  hidden: number;
  heads: number;
  /** Key/value heads (grouped-query attention); equals `heads` when the config has none. */
  kvHeads: number;
  /** d_kv / head_dim (hidden / heads when absent). */
  headDim: number;
  /** d_ff / intermediate_size / n_inner (4 × hidden for gpt2 when null). */
  ffn: number;
  vocab: number;
  /** Bytes per activation / cache element for the dtype that runs (4 for fp32 and q8, 2 for fp16). */
  bytesPerElement: number;
  /**
   * `last`: a decoder-only run over a prompt returns the logits of its last position only (the backend
   * rewrote the graph so, src/onnx/rewrite/lastLogits.ts); absent: of every position it reads.
   */
  promptLogits?: 'last';
}

export interface BackendInfo {
  /** Display name (model folder or hub id). */
  name: string;
  dir: string;
  /** config.json's `model_type` (t5, llama, qwen2, gpt2): the architecture column of reports. */
  arch: string;
  dtype: Dtype;
  /** How run records name the device: "cpu", "cuda:0", "webgpu". */
  device: string;
  /** ONNX Runtime execution provider that runs the sessions ("cpu", "cuda", "webgpu"). */
  provider: string;
  threads: number;
  /** Model files the backend loaded, relative to `dir` (for hashing in run records). */
  files: string[];
  /** Runtime library, e.g. "onnxruntime-node". */
  runtime: string;
  runtimeVersion: string;
  /** Parameters, counted by `countModelParams` (src/backends/params.ts); null when unreadable. */
  params: number | null;
  /** True for random-weight models written by make-test-model (their scores mean nothing). */
  isTestModel: boolean;
  shape: ModelShape;
  /**
   * Bytes the backend may keep between batches beyond its weights (the decoder-only backend's cache of
   * shared few-shot prefixes); the memory budget sets them aside before planning batches.
   */
  heldBytes: number;
  /**
   * What the backend changed in the export's graph when loading it (each computes the same values with
   * less work; src/onnx/rewrite/), one phrase each, for the run's log; absent or empty: nothing.
   */
  graphRewrites?: string[];
}

/** ONNX file variants of an export (docs/protocol.md §6): fp32, `_fp16`, `_quantized` (8-bit), `_q4` (4-bit MatMulNBits). */
export const DTYPES = ['fp32', 'fp16', 'q8', 'q4'] as const;
export type Dtype = (typeof DTYPES)[number];

/** One ONNX Runtime run, reported to a profiling hook (the speed benchmark). */
export interface RunEvent {
  session: 'encoder' | 'decoder';
  /** Batch rows. */
  rows: number;
  /** Padded encoder length for the encoder; decoder positions fed for the decoder. */
  width: number;
  ms: number;
  /** Inputs fed from host memory and outputs returned to it (the rest stayed on the device); decoder runs only. */
  hostInputs?: string[];
  hostOutputs?: string[];
}

/** What `loadBackend` takes besides the folder; every backend accepts the same options. */
export interface BackendOptions {
  /** Display name; defaults to the folder's name. */
  name?: string;
  dtype?: Dtype;
  /** cpu | webgpu | cuda[:N] | auto (see src/backends/onnx/device.ts). */
  device?: string;
  threads?: number;
  /** Profiling hook, called after every ONNX Runtime run; leave unset otherwise. */
  onRun?: (event: RunEvent) => void;
  /**
   * On a GPU: `gather` (default) copies the surviving rows of the device caches when a row finishes;
   * `mask` keeps finished rows in the batch, fed padding. benchmarks/speed/gpu.ts measures both.
   */
  rowRemoval?: 'gather' | 'mask';
  /**
   * Decoder-only exports: rewrite the graph at load so it does the same with less work (src/onnx/rewrite/;
   * default on). Off loads the file exactly as it is.
   */
  graphRewrite?: boolean;
}

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
