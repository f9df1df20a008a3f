import { statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import type { BackendInfo, ModelShape } from '../backends/types.js';
import { prefillChunk } from '../backends/prefill.js';

/**
 * The memory model: a batch's peak bytes estimated from the model's shape (config.json) and the batch's
 * sizes, so the planner can keep every batch under a budget before running it. Pure arithmetic; the
 * constants below were calibrated against measured peak RSS on the flan-t5-small shape (README,
 * "Memory"; benchmarks/speed/memory.ts re-measures them).
 *
 * ONNX Runtime keeps one memory arena per session and never returns it, so the encoder's peak and the
 * decoder's peak add up rather than overlap: the estimate is their sum, plus the copies that cross into
 * JavaScript (the encoder output, the caches the decoder hands back on every step).
 */

/** What one batch asks of the model. */
export interface BatchWork {
  /** Prompt token counts (EOS included), one per prompt of the batch. */
  lengths: readonly number[];
  /** Decoder rows per prompt: 1 for generation, the number of choices for log-likelihood scoring. */
  decoderRowsPerPrompt: number;
  /** Decoder positions cached per row: new tokens for generation, the longest continuation for scoring. */
  newTokens: number;
  /** Positions whose logits one decoder run returns per row: 1 for generation, the continuation for scoring. */
  logitPositions: number;
}

/** One encoder run: its rows and the width they are padded to. */
export interface EncoderGroup {
  rows: number;
  width: number;
}

export interface MemoryEstimate {
  /** Peak bytes of the encoder runs (the largest group) and the encoder states kept for decoding. */
  encoder: number;
  /** Peak bytes of decoding: caches, their copies, attention scores and logits. */
  decoder: number;
  /** encoder + decoder (the model's weights are not included: see `weightBytes`). */
  total: number;
}

/**
 * Copies of an attention-score tensor [rows, heads, len, len] alive at once: the raw scores, the scores
 * with the position bias and mask added, and the softmax (calibrated; see the file comment).
 */
export const SCORE_COPIES = 3;
/** Copies of a KV cache alive at once: the session's output, its copy in JavaScript, the next step's input. */
export const CACHE_COPIES = 3;

/** Peak bytes of one encoder run over `rows` prompts padded to `width` tokens. */
export function encoderRunBytes(s: ModelShape, g: EncoderGroup): number {
  // + T5's relative position bias, [heads, width, width], shared by the rows.
  return layerRunBytes(s, g.rows, g.width, g.width) + s.bytesPerElement * s.heads * g.width * g.width;
}

/** Peak bytes of the activations of one run of `positions` new positions per row attending over `span`. */
function layerRunBytes(s: ModelShape, rows: number, positions: number, span: number): number {
  const inner = s.heads * s.headDim;
  // Per token: residual stream in and out plus the normed copy, queries/keys/values, and the gated
  // feed-forward's two branches and their product.
  const perToken = 3 * s.hidden + 3 * inner + 3 * s.ffn;
  return s.bytesPerElement * (rows * positions * perToken + SCORE_COPIES * rows * s.heads * positions * span);
}

/**
 * Peak bytes of one batch. `groups` are the encoder runs the backend makes of it (by default one run over
 * the whole batch, padded to its longest prompt); decoding always spans the whole batch, its
 * cross-attention cache padded to the longest prompt.
 */
export function estimateBatch(s: ModelShape, work: BatchWork, groups: readonly EncoderGroup[] = [wholeBatch(work.lengths)]): MemoryEstimate {
  const rows = work.lengths.length;
  if (rows === 0) return { encoder: 0, decoder: 0, total: 0 };
  const width = Math.max(...work.lengths);
  const e = s.bytesPerElement;
  const R = rows * work.decoderRowsPerPrompt;
  const kv = s.kvHeads * s.headDim;
  const logits = 2 * 4 * R * work.logitPositions * s.vocab; // session output + the float32 view we read
  let encoder = 0;
  let decoder: number;
  if (s.kind === 'encoder-decoder') {
    // The encoder states of the whole batch stay alive (session output and JavaScript copy).
    encoder = Math.max(...groups.map((g) => encoderRunBytes(s, g))) + 2 * e * rows * width * s.hidden;
    // The caches scale with prompts, not decoder rows: in scoring the choices of a prompt run one after
    // another, each reading that prompt's caches in place (OnnxSeq2SeqBackend.scoreTokens). Their logits
    // are counted for every row (JavaScript may hold them all until collected).
    const cross = 2 * s.layers * rows * width * kv * e;
    const self = 2 * s.layers * rows * (work.newTokens + 1) * kv * e;
    const crossScores = SCORE_COPIES * rows * s.heads * work.logitPositions * width * e;
    decoder = CACHE_COPIES * (cross + self) + crossScores + logits;
  } else {
    // Decoder-only: the prompt is read in chunks of positions (prefill.ts), each attending over the
    // cache so far, and the cache holds prompt and new tokens.
    const chunk = Math.min(width, prefillChunk(R, s.vocab));
    const prefill = layerRunBytes(s, R, chunk, width);
    // Every step returns the whole grown cache as new JavaScript buffers, so one more copy than T5's (whose
    // large cross-attention cache is an input only) waits for the garbage collector: measured at 16 rows
    // of 948 tokens on the smollm2-135m shape, 4.4 GB against 3.8 GB estimated with three.
    const cache = 2 * s.layers * R * (width + work.newTokens) * kv * e;
    const promptLogits = 2 * 4 * R * (s.promptLogits === 'last' ? 1 : chunk) * s.vocab;
    decoder = prefill + (CACHE_COPIES + 1) * cache + Math.max(logits, promptLogits);
  }
  return { encoder, decoder, total: encoder + decoder };
}

function wholeBatch(lengths: readonly number[]): EncoderGroup {
  return { rows: lengths.length, width: Math.max(...lengths) };
}

/** Bytes of the ONNX files a backend loaded (its weights, as the sessions hold them). */
export function weightBytes(info: Pick<BackendInfo, 'dir' | 'files'>): number {
  let total = 0;
  for (const f of info.files) {
    if (!/\.onnx(_data)?$/.test(f) && !f.endsWith('.onnx.data')) continue;
    try {
      total += statSync(join(info.dir, f)).size;
    } catch {
      // a file the backend names but we cannot stat adds nothing we can know
    }
  }
  return total;
}

/**
 * Resident bytes of a loaded model beyond its weight files: Node, ONNX Runtime and the tokenizer, and the
 * weights ONNX Runtime repacks for its MatMul kernels (calibrated on the flan-t5-small shape).
 */
export const RUNTIME_BYTES = 400e6;

/**
 * What a batch's activations may take under `maxMemory` once the model is loaded (weights, runtime, and
 * what the backend holds between batches); 0 or less: nothing.
 */
export function activationBudget(maxMemory: number, info: Pick<BackendInfo, 'dir' | 'files' | 'heldBytes'>): number {
  return maxMemory - weightBytes(info) - RUNTIME_BYTES - info.heldBytes;
}

/**
 * Default budget: a sixth of the machine's total memory (4.2 GB on a 24 GiB machine), leaving the rest to
 * the system and to other jobs; measured peaks stay below the estimate (README, "Memory").
 */
export const DEFAULT_MEMORY_FRACTION = 1 / 6;
export const DEFAULT_MEMORY_DESCRIPTION = 'a sixth of total memory';

/** The default `--max-memory`. */
export function defaultMemoryBudget(total = totalmem()): number {
  return Math.floor(total * DEFAULT_MEMORY_FRACTION);
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** Parse `--max-memory`: `6GB`, `6G`, `1500MB`, `4GiB` or plain bytes. */
export function parseMemory(value: string, flag = '--max-memory'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) {
    throw new UsageError(`${flag} ${value}: expected a size such as 6GB, 1500MB or 4GiB`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** `6.0 GB`, `850 MB`: how budgets and estimates are printed. */
export function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}
