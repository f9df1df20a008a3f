import ort from 'onnxruntime-node';
import { UsageError } from '../../errors.js';
import { readModelFolder, type ModelFolder } from '../config.js';
import { countModelParams, seq2seqSharedEmbedding } from '../params.js';
import type { BackendInfo, BackendOptions, GenerationRequest, GenerationResult, LoglikRequest, ModelBackend, RunEvent } from '../types.js';
import { cacheNames, PAST_PREFIX, PRESENT_PREFIX } from './cacheNames.js';
import { resolveDevice, sessionOptions } from './device.js';
import { greedyGenerate, type Generated, type GreedyArch, type StepOutput } from './greedy.js';
import { onnxInfo } from './info.js';
import { resolveModelFiles, type ModelFiles, type Seq2SeqConfig } from './modelFiles.js';
import { checkSession, type DecoderSessions, kvType, openSession } from './sessions.js';
import { lengthGroups } from '../padding.js';
import { stackRows } from './encoderGroups.js';
import { DeviceResidency, hostNames, isResident } from './resident.js';
import { emptyPast, int64Tensor, logitsRow, logSumExp, maskTensor, takeRows } from './tensors.js';
import { scoreChecked } from './loglik.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';

export interface OnnxBackendOptions extends BackendOptions {
  /** Model folder (docs/protocol.md §6 layout). */
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
  /**
   * Rows of the tensors that are still generating, in the driver's order; absent when all are. Finished
   * rows stay in the tensors (fed a pad token, their outputs ignored): on the host until compacting pays
   * (see `retire`); on a device under row masking (`rowRemoval: 'mask'`).
   */
  live?: number[];
  /** Host only: row-steps spent on finished rows since the tensors were last compacted. */
  deadRowSteps?: number;
}

/**
 * Greedy generation and log-likelihood scoring for encoder-decoder ONNX exports (Flan-T5 family).
 *
 * Per batch: the encoder runs on length-homogeneous groups of right-padded prompts (with an attention
 * mask), assembled into one batch padded to its longest prompt; the decoder's first
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
    /** On a GPU provider: keeps caches and logits on the device (resident.ts); null on the CPU. */
    private readonly resident: DeviceResidency | null,
    private readonly onRun?: (event: RunEvent) => void,
  ) {
    const merged = decoder.kind === 'merged' ? decoder.merged : decoder.withPast;
    this.stepOutputs = ['logits', ...cacheNames(merged).present.filter((n) => !isCross(n))];
    this.needsEncoderStates = decoder.kind === 'merged' && !decoder.withPast;
  }

  /** Whether steps after the first read the encoder states (a merged decoder with no decoder-with-past). */
  private readonly needsEncoderStates: boolean;

  /** Outputs a later decoder step needs: logits and the self-attention cache. */
  private readonly stepOutputs: string[];

  static async load(opts: OnnxBackendOptions, folder?: ModelFolder): Promise<OnnxSeq2SeqBackend> {
    const dtype = opts.dtype ?? 'fp32';
    const device = await resolveDevice(opts.device);
    const model = folder ?? (await readModelFolder(opts.dir));
    const files: ModelFiles = await resolveModelFiles(model, dtype);
    const resident = isResident(device) ? new DeviceResidency(device, opts.rowRemoval) : null;
    const base = sessionOptions(device, opts.threads);
    const threads = base.threads;
    const options = resident ? resident.outputsOnDevice(base.options) : base.options;
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
      params: await countModelParams(model, files.files, { sharedEmbedding: seq2seqSharedEmbedding(files.config) }),
      heldBytes: 0,
    };
    return new OnnxSeq2SeqBackend(info, files.config, tokenizer, encoder, decoder, resident, opts.onRun);
  }

  /** Device tensors held between batches (0 unless a batch leaked some); tests check it. */
  get deviceTensorsHeld(): number {
    return this.resident?.held ?? 0;
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
    const r = this.resident;
    // On the host: the encoder in length groups, finished rows retired lazily (issue 10). On a device: the
    // caches stay there, and finished rows are gathered or masked on it (resident.ts).
    const arch: GreedyArch<DecoderState> = !r
      ? { prefill: (rows) => this.prefill(rows), step: (state, tokens) => this.liveStep(state, tokens), keepRows: (state, rows) => this.retire(state, rows) }
      : {
          prefill: async (rows) => {
            const enc = await this.runEncoder(rows);
            const out = await this.decoderStep({ ...enc, past: null, cross: null, ...(r.rowRemoval === 'mask' ? { live: rows.map((_, i) => i) } : {}) }, rows.map(() => start));
            if (!this.needsEncoderStates) r.release(enc.encHidden);
            return out;
          },
          step: async (state, tokens) => {
            const out = await this.decoderStep(state, tokens);
            r.release(state.past); // superseded by the grown cache
            return out;
          },
          keepRows: (state, rows) => this.keepRows(state, rows),
        };
    try {
      return await greedyGenerate(arch, prompts, maxNewTokens, stops, { eos: new Set(this.config.eosTokenIds), decode: (ids) => this.tokenizer.decode(ids) });
    } finally {
      r?.releaseAll();
    }
  }

  private async runEncoder(prompts: number[][]): Promise<{ encHidden: ort.Tensor; encMask: ort.Tensor }> {
    const width = Math.max(...prompts.map((p) => p.length));
    const encMask = maskTensor(prompts.map((p) => p.length), width);
    const r = this.resident;
    // On a GPU the self-attention scores ([rows, heads, width, width], float32) must fit one device
    // buffer binding (see DeviceResidency.bindingLimit): the encoder runs in row chunks that fit, and
    // the chunks' states are joined on the device.
    const perRow = this.config.numHeads * width * width * 4;
    const limit = r ? await r.bindingLimit() : Number.POSITIVE_INFINITY;
    if (perRow > limit) {
      throw new UsageError(
        `--device ${this.info.device}: a ${width}-token prompt needs a ${(perRow / 2 ** 20).toFixed(0)} MiB attention tensor, over this GPU's ${(limit / 2 ** 20).toFixed(0)} MiB WebGPU buffer limit (a larger tensor would be computed wrongly); use --device cpu or cuda for this model and benchmark`,
      );
    }
    const chunk = Math.max(1, Math.min(prompts.length, Math.floor(limit / perRow)));
    const parts: ort.Tensor[] = [];
    for (let from = 0; from < prompts.length; from += chunk) {
      const rows = prompts.slice(from, from + chunk);
      const t0 = this.onRun ? performance.now() : 0;
      const out = await this.encoder.run({ input_ids: int64Tensor(rows, width, this.config.padTokenId), attention_mask: chunk < prompts.length ? maskTensor(rows.map((p) => p.length), width) : encMask });
      this.onRun?.({ session: 'encoder', rows: rows.length, width, ms: performance.now() - t0 });
      parts.push(r ? r.track(out.last_hidden_state!) : out.last_hidden_state!);
    }
    return { encHidden: r ? await r.concatRows(parts) : parts[0]!, encMask };
  }

  /**
   * The encoder and the decoder's first position (start token), in length-homogeneous groups of the batch
   * (`lengthGroups`: padding within 5%), assembled into one batch state: the cross-attention cache padded
   * with zeros to the longest prompt, which the mask hides. On 2 CPU cores the encoder gains little from
   * batching prompts of a few hundred tokens or more, while padding a batch to its longest prompt costs
   * the encoder and the cross-attention projections in proportion (issue 10); later decoder steps still
   * run the whole batch at once. Each row depends only on its own prompt, so results are those of one
   * padded run.
   */
  private async prefill(prompts: number[][]): Promise<{ logits: ort.Tensor; state: DecoderState }> {
    const starts = (n: number) => Array.from({ length: n }, () => this.config.decoderStartTokenId);
    const groups = lengthGroups(prompts.map((p) => p.length));
    if (groups.length === 1) {
      const out = await this.decoderStep({ ...(await this.runEncoder(prompts)), past: null, cross: null }, starts(prompts.length));
      return { logits: out.logits!, state: { ...out.state, encHidden: this.decoder.withPast ? emptyRows(out.state.encHidden) : out.state.encHidden } };
    }
    const parts: { rows: number[]; out: { logits: ort.Tensor; state: DecoderState } }[] = [];
    for (const rows of groups) {
      const enc = await this.runEncoder(rows.map((i) => prompts[i]!));
      const out = await this.decoderStep({ ...enc, past: null, cross: null }, starts(rows.length));
      parts.push({ rows, out: { logits: out.logits!, state: out.state } });
    }
    const B = prompts.length;
    const width = Math.max(...prompts.map((p) => p.length));
    const stack = (pick: (s: { logits: ort.Tensor; state: DecoderState }) => ort.Tensor, pad?: { axis: number; width: number }) => stackRows(parts.map((p) => ({ rows: p.rows, tensor: pick(p.out) })), B, pad);
    const feeds = (pick: (s: DecoderState) => Feeds, pad?: { axis: number; width: number }) =>
      Object.fromEntries(Object.keys(pick(parts[0]!.out.state)).map((name) => [name, stack((o) => pick(o.state)[name]!, pad)]));
    // Steps after the first need the encoder states only where there is no decoder-with-past (a merged
    // decoder takes them as an input on every step).
    const encHidden = this.decoder.withPast ? emptyRows(parts[0]!.out.state.encHidden, B) : stack((o) => o.state.encHidden, { axis: 1, width });
    const state: DecoderState = {
      encHidden,
      encMask: maskTensor(prompts.map((p) => p.length), width),
      past: feeds((s) => s.past!),
      cross: feeds((s) => s.cross!, { axis: 2, width }),
    };
    return { logits: stack((o) => o.logits), state };
  }

  /**
   * The first position's logits alone, for scoring where every continuation is one token (MMLU's direct
   * answer letters): no cache is fetched, so the cross-attention cache (rows × layers × source × 2 × d:
   * 165 MB per row of 5,000 tokens on flan-t5-small) is never copied into JavaScript. Same length groups
   * as `prefill`, so the logits are the same.
   */
  private async firstLogits(prompts: number[][]): Promise<ort.Tensor> {
    const starts = (n: number) => int64Tensor(Array.from({ length: n }, () => [this.config.decoderStartTokenId]), 1, this.config.padTokenId);
    const parts: { rows: number[]; tensor: ort.Tensor }[] = [];
    for (const rows of lengthGroups(prompts.map((p) => p.length))) {
      const enc = await this.runEncoder(rows.map((i) => prompts[i]!));
      parts.push({ rows, tensor: (await this.decoderRun({ ...enc, past: null, cross: null }, starts(rows.length), true)).logits });
    }
    return parts.length === 1 ? parts[0]!.tensor : stackRows(parts, prompts.length);
  }

  /**
   * One decoder step for the active rows: first step without a past, later steps with the caches. On a
   * device, the next tokens are picked there and only they come back.
   */
  private async decoderStep(state: DecoderState, next: number[]): Promise<StepOutput<DecoderState>> {
    const live = state.live;
    let rows = next.map((t) => [t]);
    if (live) {
      // Row masking: finished rows are still in the tensors; feed them padding and ignore what they give.
      rows = Array.from({ length: state.encMask.dims[0]! }, () => [this.config.padTokenId]);
      live.forEach((row, k) => (rows[row] = [next[k]!]));
    }
    const out = await this.decoderRun(state, int64Tensor(rows, 1, this.config.padTokenId));
    const after = { ...state, past: out.past, cross: out.cross };
    if (!this.resident) return { logits: out.logits, state: after };
    const picked = await this.resident.pick(out.logits);
    if (live) return { picked: { ids: live.map((row) => picked.ids[row]!), logprobs: live.map((row) => picked.logprobs[row]!) }, state: after };
    return { picked, state: after };
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
    const event = { session: 'decoder' as const, rows, width: input_ids.dims[1]! };
    if (state.past !== null && d.withPast) {
      const feeds = { input_ids, encoder_attention_mask: state.encMask, ...state.past, ...state.cross };
      out = await this.runFetching(d.withPast, feeds, logitsOnly ? ['logits'] : null, event);
    } else if (d.kind === 'merged') {
      const feeds: Feeds = { input_ids, encoder_hidden_states: state.encHidden, encoder_attention_mask: state.encMask };
      const first = state.past === null;
      feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(first ? 0 : 1), [1]);
      if (first) {
        const empty = emptyPast(d.kvType, rows, this.config.numHeads, this.config.dKv);
        for (const n of cacheNames(d.merged).past) feeds[n] = empty;
        out = await this.runFetching(d.merged, feeds, logitsOnly ? ['logits'] : null, event);
      } else {
        Object.assign(feeds, state.past, state.cross);
        // Later steps only need the logits and the grown self-attention cache: not fetching the
        // cross-attention outputs saves copying them into JS on every step.
        out = await this.runFetching(d.merged, feeds, logitsOnly ? ['logits'] : this.stepOutputs, event);
      }
    } else {
      out = await this.runFetching(d.first, { input_ids, encoder_hidden_states: state.encHidden, encoder_attention_mask: state.encMask }, logitsOnly ? ['logits'] : null, event);
    }
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

  /**
   * Keep `rows` (indices into the live rows) generating. Dropping finished rows copies every cache
   * tensor, the cross-attention cache above all (rows × layers × heads × source × d: 390 MB at 16 rows of
   * 1,000 tokens), which costs about as much as running all rows one more step. So finished rows are
   * first only marked; the tensors are compacted once the steps they have cost since the last
   * compaction reach twice the live rows (a rent-or-buy rule: at most about twice the better of the two).
   */
  private async retire(state: DecoderState, rows: number[]): Promise<DecoderState> {
    const live = rows.map((r) => (state.live ? state.live[r]! : r));
    const next = { ...state, live, deadRowSteps: state.deadRowSteps ?? 0 };
    return this.compactIfDue(next);
  }

  private async compactIfDue(state: DecoderState): Promise<DecoderState> {
    const live = state.live;
    if (!live) return state;
    const physical = state.encMask.dims[0]!;
    if (live.length === physical && live.every((r, i) => r === i)) return { ...state, live: undefined, deadRowSteps: 0 };
    if ((state.deadRowSteps ?? 0) < 2 * live.length && live.length > physical / 2) return state;
    return { ...(await this.keepRows(state, live)), live: undefined, deadRowSteps: 0 };
  }

  /** A decoder step for the live rows: finished rows still in the tensors read a pad token. */
  private async liveStep(state: DecoderState, next: number[]): Promise<StepOutput<DecoderState>> {
    const s = await this.compactIfDue(state);
    if (!s.live) return this.decoderStep(s, next);
    const tokens = new Array<number>(s.encMask.dims[0]!).fill(this.config.padTokenId);
    s.live.forEach((r, k) => (tokens[r] = next[k]!));
    // Every physical row gets its token here, so the step itself sees no `live` map.
    const out = await this.decoderStep({ ...s, live: undefined }, tokens);
    return { logits: takeRows(out.logits!, s.live), state: { ...out.state, live: s.live, deadRowSteps: (s.deadRowSteps ?? 0) + tokens.length - s.live.length } };
  }

  /**
   * Run `session`, fetching only `names` (all outputs when null). On a device every output is fetched,
   * tracked, and the unwanted ones released at once: onnxruntime-node 1.30 fails a later run when only
   * some `gpu-buffer` outputs are fetched ("The output OrtValue provided … has shape …").
   */
  private async runFetching(session: ort.InferenceSession, feeds: Feeds, names: string[] | null, event: Omit<RunEvent, 'ms'>): Promise<ort.InferenceSession.ReturnType> {
    const t0 = this.onRun ? performance.now() : 0;
    let out: ort.InferenceSession.ReturnType;
    if (!this.resident) out = await (names ? session.run(feeds, names) : session.run(feeds));
    else {
      out = this.resident.track(await session.run(feeds));
      if (names) {
        this.resident.release(Object.fromEntries(Object.entries(out).filter(([n]) => !names.includes(n))));
        out = Object.fromEntries(names.map((n) => [n, out[n]!]));
      }
    }
    this.onRun?.({ ...event, ms: performance.now() - t0, hostInputs: hostNames(feeds), hostOutputs: hostNames(out) });
    return out;
  }

  /**
   * The state restricted to `rows`. On the host: copies of those rows. On a device: with row masking
   * only the bookkeeping changes; otherwise the caches are gathered on the device (`force` gathers even
   * under masking, for scoring, which repeats rows).
   */
  private async keepRows(state: DecoderState, rows: number[], force = false): Promise<DecoderState> {
    const r = this.resident;
    if (!r) {
      const take = (f: Feeds | null) => (f ? Object.fromEntries(Object.entries(f).map(([k, t]) => [k, takeRows(t, rows)])) : null);
      return { ...state, encHidden: takeRows(state.encHidden, rows), encMask: takeRows(state.encMask, rows), past: take(state.past), cross: take(state.cross) };
    }
    if (state.live && !force) return { ...state, live: rows.map((k) => state.live![k]!) };
    const physical = state.live ? rows.map((k) => state.live![k]!) : rows;
    const ENC = 'encoder_hidden_states';
    const kept = await r.keepRows({ ...state.past, ...state.cross, ...(this.needsEncoderStates ? { [ENC]: state.encHidden } : {}) }, physical);
    const pick = (f: Feeds | null) => (f ? Object.fromEntries(Object.keys(f).map((k) => [k, kept[k]!])) : null);
    // The gathered tensors hold exactly the kept rows, in order: no `live` map any more.
    return { encHidden: kept[ENC] ?? state.encHidden, encMask: takeRows(state.encMask, physical), past: pick(state.past), cross: pick(state.cross) };
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
    return scoreChecked(contexts, continuations, this.resident, (c, k) => this.scoreTokens(c, k));
  }

  private async scoreTokens(contexts: number[][], continuations: number[][][]): Promise<number[][]> {
    const rowsOf: number[] = [];
    const targets: number[][] = [];
    const optionOf: number[] = [];
    continuations.forEach((conts, r) => conts.forEach((c, j) => (rowsOf.push(r), targets.push(c), optionOf.push(j))));
    // Position 0 reads the start token whatever the continuation, so it runs once per context and its
    // cross-attention cache is computed once per context, not once per continuation (4x for MMLU). Its
    // logits score every continuation's first token. On the host the encoder runs in length groups.
    const r = this.resident;
    let first: { logits: ort.Tensor; state: DecoderState | null };
    if (r) {
      const enc = await this.runEncoder(contexts);
      const out = await this.decoderRun({ ...enc, past: null, cross: null }, int64Tensor(contexts.map(() => [this.config.decoderStartTokenId]), 1, this.config.padTokenId));
      first = { logits: out.logits, state: { ...enc, past: out.past, cross: out.cross } };
    } else if (targets.every((t) => t.length === 1)) {
      // Nothing reads on from position 0: its logits are all the scoring needs.
      first = { logits: await this.firstLogits(contexts), state: null };
    } else first = await this.prefill(contexts);
    const sums = r
      ? (await r.score(first.logits, targets.map((t, row) => [[rowsOf[row]!, 0, t[0]!] as const]))).map((s) => s[0]!)
      : targets.map((t, row) => {
          const l = logitsRow(first.logits, rowsOf[row]!, 0);
          return l[t[0]!]! - logSumExp(l);
        });
    // The rest of every longer continuation, teacher-forced in one run on the copied caches: positions
    // 1 … m-1 read c1 … c(m-1) and score c2 … cm. Shorter rows are right-padded; causal attention keeps
    // the padding from touching the positions that count.
    const longer = targets.map((t, row) => (t.length > 1 ? row : -1)).filter((row) => row >= 0);
    // A continuation longer than one token means the caches were kept (state is null only when none is).
    const state = longer.length ? first.state! : null;
    if (state && r) {
      const T = Math.max(...longer.map((row) => targets[row]!.length)) - 1;
      const kept = await this.keepRows(state, longer.map((row) => rowsOf[row]!), true);
      const out = await this.decoderRun(kept, int64Tensor(longer.map((row) => targets[row]!.slice(0, -1)), T, this.config.padTokenId), true);
      const at = longer.map((row, k) => targets[row]!.slice(1).map((tok, j) => [k, j, tok] as const));
      (await r.score(out.logits, at)).forEach((s, k) => (sums[longer[k]!]! += s.reduce((a, b) => a + b, 0)));
    } else if (state) {
      // On the host, one run per option index: option j of every context reads that context's caches in
      // place. One run over every (context, option) row would first copy the cross-attention cache per
      // option (4 × 165 MB for one 5,000-token MMLU question on flan-t5-small); these runs copy nothing
      // unless a context lacks option j, and each row computes what it would in any batch.
      const byOption = new Map<number, number[]>();
      for (const row of longer) byOption.set(optionOf[row]!, [...(byOption.get(optionOf[row]!) ?? []), row]);
      for (const rows of byOption.values()) {
        const ctx = rows.map((row) => rowsOf[row]!);
        const inPlace = ctx.length === contexts.length && ctx.every((c, i) => c === i);
        const T = Math.max(...rows.map((row) => targets[row]!.length)) - 1;
        const out = await this.decoderRun(inPlace ? state : await this.keepRows(state, ctx, true), int64Tensor(rows.map((row) => targets[row]!.slice(0, -1)), T, this.config.padTokenId), true);
        rows.forEach((row, k) => {
          const t = targets[row]!;
          for (let pos = 1; pos < t.length; pos++) {
            const l = logitsRow(out.logits, k, pos - 1);
            sums[row]! += l[t[pos]!]! - logSumExp(l);
          }
        });
      }
    }
    const scores: number[][] = continuations.map(() => []);
    sums.forEach((sum, row) => scores[rowsOf[row]!]!.push(sum));
    return scores;
  }

  async dispose(): Promise<void> {
    await this.resident?.dispose();
    const d = this.decoder;
    const sessions = [this.encoder, ...(d.kind === 'merged' ? [d.merged, ...(d.withPast ? [d.withPast] : [])] : [d.first, d.withPast])];
    await Promise.all(sessions.map((s) => s.release()));
  }
}

/** Encoder states of `rows` rows and no positions: what steps after the first hold when the decoder-with-past needs none. */
function emptyRows(h: ort.Tensor, rows = h.dims[0]!): ort.Tensor {
  return new ort.Tensor(h.type as 'float32', new (h.data.constructor as Float32ArrayConstructor)(0), [rows, 0, h.dims[2]!]);
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
