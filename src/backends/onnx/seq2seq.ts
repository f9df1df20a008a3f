import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import ort from 'onnxruntime-node';
import { UsageError } from '../../errors.js';
import type { BackendInfo, Dtype, GenerationRequest, GenerationResult, LoglikRequest, ModelBackend } from '../types.js';
import { resolveDevice, sessionOptions } from './device.js';
import { DTYPE_SUFFIX, resolveModelFiles, type ModelFiles, type Seq2SeqConfig } from './modelFiles.js';
import { checkSession, type DecoderSessions, openSession } from './sessions.js';
import { StopMatcher } from './stop.js';
import { argmaxLogprob, emptyPast, int64Tensor, logitsRow, logSumExp, maskTensor, takeRows } from './tensors.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';

export interface OnnxBackendOptions {
  /** Model folder (SPEC §6 layout). */
  dir: string;
  name?: string;
  dtype?: Dtype;
  device?: string;
  threads?: number;
  /**
   * Called after every ONNX Runtime run with its batch rows, sequence width and wall time. For
   * profiling (the speed benchmark computes the encoder's FLOP rate from it); leave unset otherwise.
   */
  onRun?: (event: RunEvent) => void;
}

export interface RunEvent {
  session: 'encoder' | 'decoder';
  /** Batch rows. */
  rows: number;
  /** Padded encoder length for the encoder; decoder positions fed for the decoder. */
  width: number;
  ms: number;
}

type Feeds = Record<string, ort.Tensor>;

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
    const L = config.numDecoderLayers;
    this.stepOutputs = ['logits', ...Array.from({ length: L }, (_, i) => [`present.${i}.decoder.key`, `present.${i}.decoder.value`]).flat()];
  }

  /** Outputs a later decoder step needs: logits and the self-attention cache. */
  private readonly stepOutputs: string[];

  static async load(opts: OnnxBackendOptions): Promise<OnnxSeq2SeqBackend> {
    const dtype = opts.dtype ?? 'fp32';
    const device = await resolveDevice(opts.device);
    const files: ModelFiles = await resolveModelFiles(opts.dir, dtype);
    const { options, threads } = sessionOptions(device, opts.threads);
    const tokenizer = await loadTokenizer(opts.dir);
    const L = files.config.numDecoderLayers;
    const encoder = await openSession(files.encoder, options, device);
    checkSession(encoder, files.encoder, ['input_ids', 'attention_mask'], ['last_hidden_state']);
    const past = pastNames(L);
    const presentsDec = Array.from({ length: L }, (_, i) => [`present.${i}.decoder.key`, `present.${i}.decoder.value`]).flat();
    const presentsEnc = Array.from({ length: L }, (_, i) => [`present.${i}.encoder.key`, `present.${i}.encoder.value`]).flat();
    let decoder: DecoderSessions;
    if ('merged' in files.decoder) {
      const s = await openSession(files.decoder.merged, options, device);
      checkSession(s, files.decoder.merged, ['input_ids', 'encoder_hidden_states', 'encoder_attention_mask', 'use_cache_branch', ...past], ['logits', ...presentsDec, ...presentsEnc]);
      decoder = { kind: 'merged', merged: s, kvType: kvType(s, past[0]!) };
      // A merged decoder passes the cross-attention cache through its If node, which copies it on every
      // step; where the export also has the decoder-with-past, later steps use that instead (about half
      // the step time at batch 16 on the flan-t5-small shape; see benchmarks/speed).
      const withPastPath = join(dirname(files.decoder.merged), `decoder_with_past_model${DTYPE_SUFFIX[dtype]}.onnx`);
      if (existsSync(withPastPath)) {
        const withPast = await openSession(withPastPath, options, device);
        checkSession(withPast, withPastPath, ['input_ids', 'encoder_attention_mask', ...past], ['logits', ...presentsDec]);
        decoder.withPast = withPast;
        files.files.push(relative(opts.dir, withPastPath).split(sep).join('/'));
      }
    } else {
      const first = await openSession(files.decoder.first, options, device);
      checkSession(first, files.decoder.first, ['input_ids', 'encoder_hidden_states', 'encoder_attention_mask'], ['logits', ...presentsDec, ...presentsEnc]);
      const withPast = await openSession(files.decoder.withPast, options, device);
      checkSession(withPast, files.decoder.withPast, ['input_ids', 'encoder_attention_mask', ...past], ['logits', ...presentsDec]);
      decoder = { kind: 'split', first, withPast, kvType: kvType(withPast, past[0]!) };
    }
    const info: BackendInfo = {
      name: opts.name ?? basename(opts.dir),
      dir: opts.dir,
      dtype,
      device: device.label,
      threads,
      files: files.files,
      runtime: `onnxruntime-node ${ort.env.versions?.node ?? 'unknown'}`,
    };
    return new OnnxSeq2SeqBackend(info, files.config, tokenizer, encoder, decoder, opts.onRun);
  }

  get modelConfig(): Seq2SeqConfig {
    return this.config;
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
  async generateTokens(prompts: number[][], maxNewTokens: readonly number[], stops: readonly (readonly string[])[]): Promise<Omit<GenerationResult, 'promptTokens'>[]> {
    const B = prompts.length;
    const { encHidden, encMask } = await this.runEncoder(prompts);
    const results: Omit<GenerationResult, 'promptTokens'>[] = new Array(B);
    const tokens: number[][] = prompts.map(() => []);
    const logprobs: number[][] = prompts.map(() => []);
    const matchers = stops.map((s) => (s.length ? new StopMatcher(s, (ids) => this.tokenizer.decode(ids)) : null));
    const eos = new Set(this.config.eosTokenIds);

    // `active[k]` is the original index of batch row k; rows leave as they finish.
    let active = prompts.map((_, i) => i);
    let state: { encHidden: ort.Tensor; encMask: ort.Tensor; past: Feeds | null; cross: Feeds | null } = { encHidden, encMask, past: null, cross: null };
    let next = active.map(() => this.config.decoderStartTokenId);
    for (const i of active) if (maxNewTokens[i]! <= 0) results[i] = this.finish(tokens[i]!, logprobs[i]!, 'length', null);
    active = active.filter((i) => maxNewTokens[i]! > 0);
    if (active.length < B) state = this.keepRows(state, active.map((i) => i));

    while (active.length) {
      const out = await this.decoderStep(state, next);
      const keep: number[] = [];
      const nextTokens: number[] = [];
      active.forEach((orig, row) => {
        const { id, logprob } = argmaxLogprob(logitsRow(out.logits, row, 0), out.logits.dims[2]!);
        if (eos.has(id)) {
          results[orig] = this.finish(tokens[orig]!, logprobs[orig]!, 'eos', matchers[orig]!);
          return;
        }
        tokens[orig]!.push(id);
        logprobs[orig]!.push(logprob);
        if (matchers[orig]?.matches(tokens[orig]!)) {
          results[orig] = this.finish(tokens[orig]!, logprobs[orig]!, 'stop', matchers[orig]!);
        } else if (tokens[orig]!.length >= maxNewTokens[orig]!) {
          results[orig] = this.finish(tokens[orig]!, logprobs[orig]!, 'length', matchers[orig]!);
        } else {
          keep.push(row);
          nextTokens.push(id);
        }
      });
      state = { ...state, past: out.past, cross: out.cross };
      if (keep.length < active.length) state = this.keepRows(state, keep);
      active = keep.map((row) => active[row]!);
      next = nextTokens;
    }
    return results;
  }

  private finish(tokens: number[], logprobs: number[], reason: GenerationResult['finishReason'], matcher: StopMatcher | null): Omit<GenerationResult, 'promptTokens'> {
    const text = this.tokenizer.decode(tokens);
    return { text: matcher ? matcher.cut(text) : text, tokens, logprobs, finishReason: reason };
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
  private async decoderStep(state: { encHidden: ort.Tensor; encMask: ort.Tensor; past: Feeds | null; cross: Feeds | null }, next: number[]): Promise<{ logits: ort.Tensor; past: Feeds; cross: Feeds }> {
    return this.decoderRun(state, int64Tensor(next.map((t) => [t]), 1, this.config.padTokenId));
  }

  /**
   * The decoder on `input_ids` ([rows, positions]): without a past it computes the cross-attention cache
   * from the encoder states; with one it appends to the self-attention cache and reuses the cross one.
   */
  private async decoderRun(
    state: { encHidden: ort.Tensor; encMask: ort.Tensor; past: Feeds | null; cross: Feeds | null },
    input_ids: ort.Tensor,
    logitsOnly = false,
  ): Promise<{ logits: ort.Tensor; past: Feeds; cross: Feeds }> {
    const rows = input_ids.dims[0]!;
    const L = this.config.numDecoderLayers;
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
        for (const n of pastNames(L)) feeds[n] = empty;
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
    const cross: Feeds = {};
    for (let i = 0; i < L; i++) {
      for (const kv of ['key', 'value']) {
        past[`past_key_values.${i}.decoder.${kv}`] = out[`present.${i}.decoder.${kv}`]!;
        // Cross-attention keys/values come from the first step only; later outputs (if any) are ignored.
        cross[`past_key_values.${i}.encoder.${kv}`] = state.cross?.[`past_key_values.${i}.encoder.${kv}`] ?? out[`present.${i}.encoder.${kv}`]!;
      }
    }
    return { logits: out.logits!, past, cross };
  }

  private keepRows<T extends { encHidden: ort.Tensor; encMask: ort.Tensor; past: Feeds | null; cross: Feeds | null }>(state: T, rows: number[]): T {
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
    const first = await this.decoderStep({ encHidden, encMask, past: null, cross: null }, contexts.map(() => this.config.decoderStartTokenId));
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

export function pastNames(layers: number): string[] {
  const names: string[] = [];
  for (let i = 0; i < layers; i++) for (const side of ['decoder', 'encoder']) for (const kv of ['key', 'value']) names.push(`past_key_values.${i}.${side}.${kv}`);
  return names;
}

function kvType(session: ort.InferenceSession, name: string): 'float32' | 'float16' {
  const meta = (session.inputMetadata as readonly { name: string; isTensor: boolean; type?: string }[] | undefined)?.find((m) => m.name === name);
  return meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
}
