import type { ModelBackend, ModelShape } from '../backends/types.js';
import { lengthGroups, PADDING_TOLERANCE } from '../backends/padding.js';
import { estimateBatch, type BatchWork, type EncoderGroup } from './memory.js';

/**
 * The batch planner: which prompts run together. Batches are filled longest first under two bounds, a
 * row count (`--batch-size`) and a memory budget checked with the memory model before anything runs.
 *
 * Padding: an encoder-decoder backend runs the encoder on length-homogeneous groups of a batch
 * (`lengthGroups`) and pads only the cross-attention cache, so a batch may mix lengths freely and the
 * decoder still runs all its rows at once. A decoder-only model pads the whole batch, so there a prompt
 * joins a batch only while padded tokens stay within the tolerance of real ones.
 */
export interface PlanOptions {
  shape: ModelShape;
  /** Upper bound on prompts per batch (`--batch-size`). */
  maxRows: number;
  /** Bytes a batch's activations may take (the budget less weights and runtime). */
  budget: number;
  /** The unit's decoding sizes (all but the prompt lengths). */
  work: Omit<BatchWork, 'lengths'>;
  paddingTolerance?: number;
}

export interface PlannedBatch {
  /** Indices into the planned lengths, longest first. */
  items: number[];
  /** The encoder runs (or, decoder-only, the one padded run) the batch makes. */
  groups: EncoderGroup[];
  /** Estimated peak bytes of the batch's activations. */
  bytes: number;
}

export interface BatchPlan {
  batches: PlannedBatch[];
  /** Estimated bytes held at the end: the largest encoder peak plus the largest decoder peak planned. */
  heldBytes: number;
  /** Prompts that alone exceed the budget; each runs in a batch of its own. */
  overBudget: { index: number; length: number; bytes: number }[];
  realTokens: number;
  /** Tokens the encoder (decoder-only: the prefill) computes, padding included. */
  paddedTokens: number;
}

/** The runs a batch makes, as `estimateBatch` needs them. */
export function batchGroups(shape: ModelShape, lengths: readonly number[], tolerance = PADDING_TOLERANCE): EncoderGroup[] {
  if (!lengths.length) return [];
  if (shape.kind === 'decoder-only') return [{ rows: lengths.length, width: Math.max(...lengths) }];
  return lengthGroups(lengths, tolerance).map((g) => ({ rows: g.length, width: lengths[g[0]!]! }));
}

/** Plan batches for prompts of `lengths` tokens. Deterministic: a function of the lengths and options alone. */
export function planBatches(lengths: readonly number[], opts: PlanOptions): BatchPlan {
  const tolerance = opts.paddingTolerance ?? PADDING_TOLERANCE;
  const order = lengths.map((len, i) => ({ len, i })).sort((a, b) => b.len - a.len || a.i - b.i);
  const estimate = (idx: readonly number[]) => {
    const ls = idx.map((k) => lengths[k]!);
    const groups = batchGroups(opts.shape, ls, tolerance);
    return { groups, ...estimateBatch(opts.shape, { ...opts.work, lengths: ls }, groups) };
  };
  // ONNX Runtime's arenas keep the largest encoder and the largest decoder allocation they have served,
  // so what the process holds is the largest encoder peak so far plus the largest decoder peak so far,
  // possibly from different batches: a batch is admitted only if that sum stays under the budget.
  let encoderHeld = 0;
  let decoderHeld = 0;
  const held = (e: { encoder: number; decoder: number }) => Math.max(encoderHeld, e.encoder) + Math.max(decoderHeld, e.decoder);
  const batches: PlannedBatch[] = [];
  const overBudget: BatchPlan['overBudget'] = [];
  let k = 0;
  while (k < order.length) {
    const first = order[k]!;
    let current = [first.i];
    let best = estimate(current);
    k++;
    if (best.total > opts.budget) {
      overBudget.push({ index: first.i, length: first.len, bytes: best.total });
    } else {
      let real = first.len;
      while (k < order.length && current.length < opts.maxRows) {
        const next = order[k]!;
        // Decoder-only batches are padded as a whole: keep them within the padding tolerance.
        if (opts.shape.kind === 'decoder-only' && first.len * (current.length + 1) > (1 + tolerance) * (real + next.len)) break;
        const candidate = [...current, next.i];
        const e = estimate(candidate);
        if (held(e) > opts.budget) break;
        current = candidate;
        best = e;
        real += next.len;
        k++;
      }
    }
    // A prompt over the budget alone is the warned-about exception; the others are planned as if it were not there.
    if (best.total <= opts.budget) {
      encoderHeld = Math.max(encoderHeld, best.encoder);
      decoderHeld = Math.max(decoderHeld, best.decoder);
    }
    batches.push({ items: current, groups: best.groups, bytes: best.total });
  }
  const realTokens = lengths.reduce((a, b) => a + b, 0);
  const paddedTokens = batches.reduce((a, b) => a + b.groups.reduce((s, g) => s + g.rows * g.width, 0), 0);
  return { batches, heldBytes: encoderHeld + decoderHeld, overBudget, realTokens, paddedTokens };
}

/**
 * The decoding sizes of a unit: for generation one row per prompt caching `maxNewTokens` positions; for
 * log-likelihood scoring (`choices` given, per item) one row per choice, teacher-forced on the longest.
 */
export function decodingWork(backend: Pick<ModelBackend, 'countTokens'>, choices: readonly (readonly string[])[] | null, maxNewTokens: number): Omit<BatchWork, 'lengths'> {
  if (choices === null) return { decoderRowsPerPrompt: 1, newTokens: maxNewTokens, logitPositions: 1 };
  const longest = Math.max(1, ...backend.countTokens([...new Set(choices.flat())]));
  return { decoderRowsPerPrompt: Math.max(1, ...choices.map((c) => c.length)), newTokens: longest, logitPositions: longest };
}
