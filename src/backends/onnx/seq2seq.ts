import ort from 'onnxruntime-node';
import { UsageError } from '../../errors.js';
import { readModelFolder, type ModelFolder } from '../config.js';
import { countModelParams } from '../params.js';
import type { BackendInfo, BackendOptions, GenerationRequest, GenerationResult, LoglikRequest, ModelBackend, RunEvent } from '../types.js';
import { cacheNames, PAST_PREFIX, PRESENT_PREFIX } from './cacheNames.js';
import { resolveDevice, sessionOptions } from './device.js';
import { greedyGenerate, type Generated, type GreedyArch, type StepOutput } from './greedy.js';
import { onnxInfo } from './info.js';
import { resolveModelFiles, type ModelFiles, type Seq2SeqConfig } from './modelFiles.js';
import { checkSession, type DecoderSessions, openSession } from './sessions.js';
import { emptyPast, int64Tensor, logitsRow, logSumExp, maskTensor, takeRows } from './tensors.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';

export interface OnnxBackendOptions extends BackendOptions {
  /** Model folder (SPEC §6 layout). */
  dir: string;
}

export type { RunEvent } from '../types.js';

type Feeds = Record<string, ort.Tensor>;

/** Per-batch decoding state: encoder output, and the self- (`past`) and cross-attention (`cross`) caches. */
interface DecoderState {
  encHidden: ort.Tensor;
  encMask: ort.Tensor;
  past: Feeds | null;
  cross: Feeds | null;
}

/**
 * Greedy generation and log-likelihood scoring for encoder-decoder ONNX exports (Flan-T5 family).
 *
 * Per batch: the encoder runs once on right-padded prompts (with an attention mask); the decoder's first
 * step computes the cross-attention keys/values, which are then fed back unchanged on every later step,
 * while the self-attention cache grows by one position per step. A sequence that ends (EOS, stop string
 * or token limit) is dropped from all batch tensors, so the remaining steps spend nothing on it.
 *
 * Each row's computation depends only on that row's prompt (padding is masked, decoding is in lockstep
 * from the same start token), so outputs do not depend on the batch they run in.
 */
export class OnnxSeq2SeqBackend implements ModelBackend {
  private constructor(
    readonly info: BackendInfo,
    private readonly config: Seq2SeqConfig,
    private readonly tokenizer: Tokenizer,
    private readonly encoder: ort.InferenceSession,
    private readonly decoder: DecoderSessions,
    private readonly onRun?: (event: RunEvent) => void,
  ) {
    const merged = decoder.kind === 'merged' ? decoder.merged : decoder.withPast;
    this.stepOutputs = ['logits', ...cacheNames(merged).present.filter((n) => !isCross(n))];
  }

  /** Outputs a later decoder step needs: logits and the self-attention cache. */
  private readonly stepOutputs: string[];

  static async load(opts: OnnxBackendOptions, folder?: ModelFolder): Promise<OnnxSeq2SeqBackend> {
    const dtype = opts.dtype ?? 'fp32';
    const device = await resolveDevice(opts.device);
    const model = folder ?? (await readModelFolder(opts.dir));
    const files: ModelFiles = await resolveModelFiles(model, dtype);
    const { options, threads } = sessionOptions(device, opts.threads);
    const tokenizer = await loadTokenizer(opts.dir);
    const encoder = await openSession(files.encoder, options, device);
    checkSession(encoder, files.encoder, ['input_ids', 'attention_mask'], ['last_hidden_state']);
    // The contract is checked on the first layer's names; the rest are read from the session (cacheNames).
    const past0 = `${PAST_PREFIX}0.decoder.key`;
    const present0 = [`${PRESENT_PREFIX}0.decoder.key`, `${PRESENT_PREFIX}0.encoder.key`];
    const open = async (path: string, inputs: string[], outputs: string[]) => {
      const session = await openSession(path, options, device);
      checkSession(session, path, inputs, outputs);
      checkLayers(session, path, files.config.numDecoderLayers);
      return session;
    };
    let decoder: DecoderSessions;
    const d = files.decoder;
    const withPastInputs = ['input_ids', 'encoder_attention_mask', past0];
    if ('merged' in d) {
      const merged = await open(d.merged, ['input_ids', 'encoder_hidden_states', 'encoder_attention_mask', 'use_cache_branch', past0], ['logits', ...present0]);
      decoder = { kind: 'merged', merged, kvType: kvType(merged, past0) };
      if (d.withPast) decoder.withPast = await open(d.withPast, withPastInputs, ['logits', present0[0]!]);
    } else {
      const first = await open(d.first, ['input_ids', 'encoder_hidden_states', 'encoder_attention_mask'], ['logits', ...present0]);
      const withPast = await open(d.withPast, withPastInputs, ['logits', present0[0]!]);
      decoder = { kind: 'split', first, withPast, kvType: kvType(withPast, past0) };
    }
    const info: BackendInfo = {
      ...onnxInfo(opts, model, dtype, device, threads, files.files),
      params: await countModelParams(model, files.files, { sharedEmbedding: files.config.dModel ? files.config.vocabSize * files.config.dModel : 0 }),
    };
    return new OnnxSeq2SeqBackend(info, files.config, tokenizer, encoder, decoder, opts.onRun);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, true);
  }

  countTokens(texts: readonly string[]): number[] {
    return texts.map((t) => this.tokenizer.encode(t, true).length);
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  async generate(batch: readonly GenerationRequest[]): Promise<GenerationResult[]> {
    if (batch.length === 0) return [];
    const prompts = batch.map((r) => this.tokenizer.encode(r.prompt, true));
    const raw = await this.generateTokens(prompts, batch.map((r) => r.maxNewTokens), batch.map((r) => r.stop));
    return raw.map((r, i) => ({ ...r, promptTokens: prompts[i]!.length }));
  }

  /**
   * The generation loop on token ids. Exposed for tests that compare against another implementation
   * token for token.
   */
  async generateTokens(prompts: number[][], maxNewTokens: readonly number[], stops: readonly (readonly string[])[]): Promise<Generated[]> {
    const start = this.config.decoderStartTokenId;
    const arch: GreedyArch<DecoderState> = {
      prefill: async (rows) => {
        const enc = await this.runEncoder(rows);
        return this.decoderStep({ ...enc, past: null, cross: null }, rows.map(() => start));
      },
      step: (state, tokens) => this.decoderStep(state, tokens),
      keepRows: (state, rows) => this.keepRows(state, rows),
    };
    return greedyGenerate(arch, prompts, maxNewTokens, stops, { eos: new Set(this.config.eosTokenIds), decode: (ids) => this.tokenizer.decode(ids) });
  }

  private async runEncoder(prompts: number[][]): Promise<{ encHidden: ort.Tensor; encMask: ort.Tensor }> {
    const width = Math.max(...prompts.map((p) => p.length));
    const encMask = maskTensor(prompts.map((p) => p.length), width);
    const t0 = this.onRun ? performance.now() : 0;
    const out = await this.encoder.run({ input_ids: int64Tensor(prompts, width, this.config.padTokenId), attention_mask: encMask });
    this.onRun?.({ session: 'encoder', rows: prompts.length, width, ms: performance.now() - t0 });
    return { encHidden: out.last_hidden_state!, encMask };
  }

  /** One decoder step for the active rows: first step without a past, later steps with the caches. */
  private async decoderStep(state: DecoderState, next: number[]): Promise<StepOutput<DecoderState>> {
    const out = await this.decoderRun(state, int64Tensor(next.map((t) => [t]), 1, this.config.padTokenId));
    return { logits: out.logits, state: { ...state, past: out.past, cross: out.cross } };
  }

  /**
   * The decoder on `input_ids` ([rows, positions]): without a past it computes the cross-attention cache
   * from the encoder states; with one it appends to the self-attention cache and reuses the cross one.
   */
  private async decoderRun(
    state: DecoderState,
    input_ids: ort.Tensor,
    logitsOnly = false,
  ): Promise<{ logits: ort.Tensor; past: Feeds; cross: Feeds }> {
    const rows = input_ids.dims[0]!;
    const d = this.decoder;
    let out: ort.InferenceSession.ReturnType;
    const t0 = this.onRun ? performance.now() : 0;
    if (state.past !== null && d.withPast) {
      const feeds = { input_ids, encoder_attention_mask: state.encMask, ...state.past, ...state.cross };
      out = await (logitsOnly ? d.withPast.run(feeds, ['logits']) : d.withPast.run(feeds));
    } else if (d.kind === 'merged') {
      const feeds: Feeds = { input_ids, encoder_hidden_states: state.encHidden, encoder_attention_mask: state.encMask };
      const first = state.past === null;
      feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(first ? 0 : 1), [1]);
      if (first) {
        const empty = emptyPast(d.kvType, rows, this.config.numHeads, this.config.dKv);
        for (const n of cacheNames(d.merged).past) feeds[n] = empty;
        out = await d.merged.run(feeds);
      } else {
        Object.assign(feeds, state.past, state.cross);
        // Later steps only need the logits and the grown self-attention cache: not fetching the
        // cross-attention outputs saves copying them into JS on every step.
        out = await d.merged.run(feeds, logitsOnly ? ['logits'] : this.stepOutputs);
      }
    } else {
      out = await d.first.run({ input_ids, encoder_hidden_states: state.encHidden, encoder_attention_mask: state.encMask });
    }
    this.onRun?.({ session: 'decoder', rows, width: input_ids.dims[1]!, ms: performance.now() - t0 });
    if (logitsOnly) return { logits: out.logits!, past: {}, cross: {} };
    const past: Feeds = {};
    // Cross-attention keys/values come from the first step only; later outputs (if any) are ignored.
    let cross: Feeds | null = state.cross;
    const fresh: Feeds = {};
    for (const [name, t] of Object.entries(out)) {
      if (!name.startsWith(PRESENT_PREFIX)) continue;
      const pastName = PAST_PREFIX + name.slice(PRESENT_PREFIX.length);
      if (!isCross(name)) past[pastName] = t;
      else if (!cross) fresh[pastName] = t;
    }
    cross ??= fresh;
    return { logits: out.logits!, past, cross };
  }

  private keepRows(state: DecoderState, rows: number[]): DecoderState {
    const take = (f: Feeds | null) => (f ? Object.fromEntries(Object.entries(f).map(([k, t]) => [k, takeRows(t, rows)])) : null);
    return { ...state, encHidden: takeRows(state.encHidden, rows), encMask: takeRows(state.encMask, rows), past: take(state.past), cross: take(state.cross) };
  }

  async loglik(batch: readonly LoglikRequest[]): Promise<number[][]> {
    const contexts = batch.map((r) => this.tokenizer.encode(r.context, true));
    const continuations = batch.map((r) => r.continuations.map((c) => this.tokenizer.encode(c, false)));
    return this.loglikTokens(contexts, continuations);
  }

  /**
   * Teacher-forced scoring: the decoder reads [start, c1 … c(m-1)] and we sum log p(c_t | context, c<t).
   * Every continuation of a request shares that request's encoder run.
   */
  async loglikTokens(contexts: number[][], continuations: number[][][]): Promise<number[][]> {
    if (contexts.length === 0) return [];
    for (const [i, conts] of continuations.entries()) {
      for (const c of conts) if (c.length === 0) throw new UsageError(`loglik request ${i}: an empty continuation has no tokens to score`);
    }
    const { encHidden, encMask } = await this.runEncoder(contexts);
    const rowsOf: number[] = [];
    const targets: number[][] = [];
    continuations.forEach((conts, r) => conts.forEach((c) => (rowsOf.push(r), targets.push(c))));
    // Position 0 reads the start token whatever the continuation, so it runs once per context and its
    // cross-attention cache is computed once per context, not once per continuation (4x for MMLU). Its
    // logits score every continuation's first token.
    const first = await this.decoderRun({ encHidden, encMask, past: null, cross: null }, int64Tensor(contexts.map(() => [this.config.decoderStartTokenId]), 1, this.config.padTokenId));
    const sums = targets.map((t, row) => {
      const l = logitsRow(first.logits, rowsOf[row]!, 0);
      return l[t[0]!]! - logSumExp(l);
    });
    // The rest of every longer continuation, teacher-forced in one run on the copied caches: positions
    // 1 … m-1 read c1 … c(m-1) and score c2 … cm. Shorter rows are right-padded; causal attention keeps
    // the padding from touching the positions that count.
    const longer = targets.map((t, row) => (t.length > 1 ? row : -1)).filter((row) => row >= 0);
    if (longer.length) {
      const T = Math.max(...longer.map((row) => targets[row]!.length)) - 1;
      const state = this.keepRows({ encHidden, encMask, past: first.past, cross: first.cross }, longer.map((row) => rowsOf[row]!));
      const out = await this.decoderRun(state, int64Tensor(longer.map((row) => targets[row]!.slice(0, -1)), T, this.config.padTokenId), true);
      longer.forEach((row, k) => {
        const t = targets[row]!;
        for (let pos = 1; pos < t.length; pos++) {
          const l = logitsRow(out.logits, k, pos - 1);
          sums[row]! += l[t[pos]!]! - logSumExp(l);
        }
      });
    }
    const scores: number[][] = continuations.map(() => []);
    sums.forEach((sum, row) => scores[rowsOf[row]!]!.push(sum));
    return scores;
  }

  async dispose(): Promise<void> {
    const d = this.decoder;
    const sessions = [this.encoder, ...(d.kind === 'merged' ? [d.merged, ...(d.withPast ? [d.withPast] : [])] : [d.first, d.withPast])];
    await Promise.all(sessions.map((s) => s.release()));
  }
}

/** T5 cache names hold `decoder` (self-attention) or `encoder` (cross-attention). */
function isCross(name: string): boolean {
  return name.includes('.encoder.');
}

/** Every cache name the session has must belong to one of its `layers` decoder layers. */
function checkLayers(session: ort.InferenceSession, path: string, layers: number): void {
  const { past, present } = cacheNames(session);
  const bad = [...past, ...present].find((n) => Number(n.split('.')[1]) >= layers);
  if (bad) throw new UsageError(`${path}: has ${bad}, but config.json says num_decoder_layers is ${layers}; the model folder mixes files of different models`);
}

function kvType(session: ort.InferenceSession, name: string): 'float32' | 'float16' {
  const meta = (session.inputMetadata as readonly { name: string; isTensor: boolean; type?: string }[] | undefined)?.find((m) => m.name === name);
  return meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
}
