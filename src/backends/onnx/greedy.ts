import type ort from 'onnxruntime-node';
import type { FinishReason, GenerationResult } from '../types.js';
import { StopMatcher } from './stop.js';
import type { Picked } from './resident.js';
import { argmaxLogprob, logitsRow } from './tensors.js';

/**
 * The state a step produced and, for each active row's next token, either the logits ([rows, T, V]; the
 * last position is read on the host) or the token and its log-probability already picked on the device
 * (device-resident decoding, see resident.ts).
 */
export interface StepOutput<S> {
  logits?: ort.Tensor;
  picked?: Picked;
  state: S;
}

/**
 * What an architecture supplies to the greedy driver. The driver owns everything else: rows, stop
 * strings, EOS, token limits, log-probabilities and dropping finished rows.
 */
export interface GreedyArch<S> {
  /** Read the prompts (token ids, one row each) and return the logits for the first new token. */
  prefill(prompts: number[][]): Promise<StepOutput<S>>;
  /** Feed one token per active row; logits for the next. */
  step(state: S, tokens: number[]): Promise<StepOutput<S>>;
  /** The state restricted to `rows` (indices into the current rows, in that order). */
  keepRows(state: S, rows: number[]): S | Promise<S>;
}

export interface GreedyOptions {
  eos: ReadonlySet<number>;
  decode(ids: readonly number[]): string;
}

export type Generated = Omit<GenerationResult, 'promptTokens'>;

/**
 * Greedy decoding of a batch. Each row's tokens depend only on its own prompt (the architecture keeps rows
 * independent), so results do not depend on the batch; a row that ends (EOS, stop string, token limit) is
 * dropped from the state at once, so later steps spend nothing on it.
 */
export async function greedyGenerate<S>(
  arch: GreedyArch<S>,
  prompts: number[][],
  maxNewTokens: readonly number[],
  stops: readonly (readonly string[])[],
  opts: GreedyOptions,
): Promise<Generated[]> {
  const results: Generated[] = new Array(prompts.length);
  const tokens: number[][] = prompts.map(() => []);
  const logprobs: number[][] = prompts.map(() => []);
  const matchers = stops.map((s) => (s.length ? new StopMatcher(s, opts.decode) : null));
  const finish = (i: number, reason: FinishReason) => {
    const text = opts.decode(tokens[i]!);
    results[i] = { text: matchers[i] ? matchers[i].cut(text) : text, tokens: tokens[i]!, logprobs: logprobs[i]!, finishReason: reason };
  };

  // `active[k]` is the original index of batch row k; rows leave as they finish.
  let active = prompts.map((_, i) => i);
  for (const i of active) if (maxNewTokens[i]! <= 0) finish(i, 'length');
  active = active.filter((i) => maxNewTokens[i]! > 0);
  if (!active.length) return results;

  let out = await arch.prefill(active.map((i) => prompts[i]!));
  for (;;) {
    const keep: number[] = [];
    const next: number[] = [];
    const pick = nextToken(out);
    active.forEach((orig, row) => {
      const { id, logprob } = pick(row);
      if (opts.eos.has(id)) return finish(orig, 'eos');
      tokens[orig]!.push(id);
      logprobs[orig]!.push(logprob);
      if (matchers[orig]?.matches(tokens[orig]!)) finish(orig, 'stop');
      else if (tokens[orig]!.length >= maxNewTokens[orig]!) finish(orig, 'length');
      else {
        keep.push(row);
        next.push(id);
      }
    });
    if (!keep.length) return results;
    const state = keep.length < active.length ? await arch.keepRows(out.state, keep) : out.state;
    active = keep.map((row) => active[row]!);
    out = await arch.step(state, next);
  }
}

/** Row → next token and its log-probability: picked on the device, or the first maximum of the host logits. */
function nextToken(out: StepOutput<unknown>): (row: number) => { id: number; logprob: number } {
  const { picked, logits } = out;
  if (picked) return (row) => ({ id: picked.ids[row]!, logprob: picked.logprobs[row]! });
  const [, T, V] = logits!.dims as [number, number, number];
  return (row) => argmaxLogprob(logitsRow(logits!, row, T - 1), V);
}
