import { readFile, stat } from 'node:fs/promises';
import ort from 'onnxruntime-node';
import { UsageError } from '../../errors.js';
import { eosTokenIds, readModelFolder, type ModelFolder } from '../config.js';
import { causalModelParams } from '../params.js';
import { prefillChunk } from '../prefill.js';
import type { BackendInfo, GenerationRequest, GenerationResult, LoglikRequest, ModelBackend, RunEvent } from '../types.js';
import { cacheNames, PAST_PREFIX, PRESENT_PREFIX } from './cacheNames.js';
import { resolveDevice, sessionOptions } from './device.js';
import { DeviceResidency, hostNames, isResident, webgpuBindingLimit } from './resident.js';
import { greedyGenerate, type Generated, type GreedyArch, type StepOutput } from './greedy.js';
import { onnxInfo } from './info.js';
import { GRAPH } from './layout.js';
import { graphFinder } from './modelFiles.js';
import { PREFIX_CACHE_BYTES, PrefixCache, type PrefixPlan } from './prefixCache.js';
import type { OnnxBackendOptions } from './seq2seq.js';
import { checkSession, kvType, openSession } from './sessions.js';
import { logitsRow, logSumExp, takeRows } from './tensors.js';
import { scoreChecked } from './loglik.js';
import { loadTokenizer, type Tokenizer } from './tokenizer.js';
import { rewriteCausal } from '../../onnx/rewrite/causal.js';
import { LOGITS_TO_KEEP } from '../../onnx/rewrite/lastLogits.js';
import { PREFIX_INPUT } from '../../onnx/rewrite/sharedPrefix.js';

type Feeds = Record<string, ort.Tensor>;

/**
 * The cache of a batch: `past` ([rows, kv_heads, S, head_dim] per cache input), which of the S columns
 * hold real tokens for each row (`mask`), and each row's next position id (its count of real tokens).
 * Rows are left-aligned in nothing: a row's columns may be [padding | prefix | padding | tokens …], and
 * only the mask and the position ids say which are real, so rows of any lengths and any cached prefixes
 * share one tensor.
 */
export interface CausalState {
  past: Feeds;
  mask: Uint8Array[];
  next: number[];
  /**
   * A prefix every row starts with, kept once at batch 1 (past_key_values.* names, `length` columns) and
   * fed as the rewritten graph's prefix inputs (sharedPrefix.ts); the rows' `past` holds what follows it.
   * Absent: the rows' past is all there is.
   */
  prefix?: { past: Feeds; length: number };
  /**
   * Row masking on a device (`rowRemoval: 'mask'`): the rows of the tensors still generating, in the
   * driver's order; finished rows stay in the tensors, fed padding, their outputs ignored. Absent: all.
   */
  live?: number[];
}

export interface CausalOptions extends OnnxBackendOptions {
  /** Reuse the KV cache of few-shot prefixes shared by prompts (default on). */
  prefixReuse?: boolean;
}

/**
 * Greedy generation and log-likelihood scoring for decoder-only ONNX exports (llama, qwen2, gpt2 families;
 * onnx/model.onnx, or a merged decoder with `use_cache_branch`).
 *
 * Prompts are left-padded with an attention mask and explicit position ids, so every row's last prompt
 * token sits in the last column and each row's positions count only its own tokens: a row computes the
 * same thing whatever else is in the batch. Prompts that share a long token prefix (a task's few-shot
 * exemplars) start from that prefix's cache, computed once (PrefixCache).
 */
export class OnnxCausalBackend implements ModelBackend {
  private readonly names: ReturnType<typeof cacheNames>;

  private constructor(
    readonly info: BackendInfo,
    private readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
    private readonly eos: number[],
    private readonly bos: number | null,
    /** Longest sequence the model's positions cover (gpt2's n_positions; max_position_embeddings), or null. */
    private readonly maxPositions: number | null,
    /** Shared-prefix caches (CPU only; null when off): see `load`. */
    private readonly prefixes: PrefixCache | null,
    /** Largest tensor the device computes correctly (WebGPU; Infinity elsewhere). */
    private readonly bindingLimit: number,
    /** On a GPU provider: keeps caches and logits on the device (resident.ts); null on the CPU. */
    private readonly resident: DeviceResidency | null,
    private readonly onRun?: (event: RunEvent) => void,
  ) {
    this.names = cacheNames(session);
    this.kv = kvType(session, this.names.past[0]!);
    this.sharedPrefix = session.inputNames.includes(`${PREFIX_INPUT}0.key`);
  }

  /** Whether the graph takes a batch-wide prefix cache (rewritten so at load: sharedPrefix.ts). */
  private readonly sharedPrefix: boolean;

  private readonly kv: 'float32' | 'float16';

  static async load(opts: CausalOptions, folder?: ModelFolder): Promise<OnnxCausalBackend> {
    const dtype = opts.dtype ?? 'fp32';
    const device = await resolveDevice(opts.device);
    const model = folder ?? (await readModelFolder(opts.dir));
    const files = [...model.files];
    const { has, need } = graphFinder(opts.dir, dtype, files);
    // Current exports have one graph (model.onnx); older ones a merged decoder with use_cache_branch.
    const path = (await has(GRAPH.causal)) || !(await has(GRAPH.decoderMerged)) ? await need(GRAPH.causal) : await need(GRAPH.decoderMerged);
    const resident = isResident(device) ? new DeviceResidency(device, opts.rowRemoval) : null;
    const so = sessionOptions(device, opts.threads);
    const threads = so.threads;
    const options = resident ? resident.outputsOnDevice(so.options) : so.options;
    const bindingLimit = device.kind === 'webgpu' ? await webgpuBindingLimit() : Number.POSITIVE_INFINITY;
    const tokenizer = await loadTokenizer(opts.dir);
    const base = onnxInfo(opts, model, dtype, device, threads, files);
    // Prefix caches are kept at batch 1 and spliced into batch tensors on the host (stateFromPrefixes) or fed
    // once for a whole batch that shares one (sharedPrefix.ts); device caches never come to the host, so on
    // a GPU provider every prompt is read whole. The outputs are the same either way (prefix reuse never
    // changes them, see test/backends/onnxCausal). The cache is held across batches, so the memory budget
    // counts it (heldBytes).
    const prefixReuse = opts.prefixReuse !== false && !resident;
    // A sliding-window model (qwen2's use_sliding_window) may hide old columns from a query, so a prefix
    // read as always visible (sharedPrefix.ts) would be wrong there: such models keep per-row prefix copies.
    const windowed = model.config.use_sliding_window === true;
    const rewrite = opts.graphRewrite === false ? null : await rewritten(path, base.shape, prefixReuse && !windowed);
    const session = await openSession(path, options, device, rewrite?.bytes ?? undefined);
    checkSession(session, path, ['input_ids', 'attention_mask', `${PAST_PREFIX}0.key`], ['logits', `${PRESENT_PREFIX}0.key`], 'a Transformers.js/Optimum decoder-only export with a KV cache (docs/protocol.md §6), e.g. HuggingFaceTB/SmolLM2-135M-Instruct');
    const params = await causalModelParams(model, files);
    const cfg = { ...model.config, ...model.generation };
    const bos = typeof cfg.bos_token_id === 'number' ? cfg.bos_token_id : null;
    const maxPos = model.config.n_positions ?? model.config.max_position_embeddings;
    const prefixes = prefixReuse ? new PrefixCache(PREFIX_CACHE_BYTES) : null;
    const shape = rewrite?.lastLogits ? { ...base.shape, promptLogits: 'last' as const } : base.shape;
    const info = { ...base, shape, params, heldBytes: prefixes?.budgetBytes ?? 0, graphRewrites: rewrite?.notes ?? [] };
    return new OnnxCausalBackend(info, tokenizer, session, eosTokenIds(model, 0), bos, typeof maxPos === 'number' ? maxPos : null, prefixes, bindingLimit, resident, opts.onRun);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text, true);
  }

  countTokens(texts: readonly string[]): number[] {
    return texts.map((t) => this.encode(t).length);
  }

  /** Device tensors held between batches (0 unless a batch leaked some); tests check it. */
  get deviceTensorsHeld(): number {
    return this.resident?.held ?? 0;
  }

  /** Prefix-cache counters (tests and the speed benchmark read them). */
  get prefixStats(): { hits: number; computed: number; tokensReused: number } {
    return this.prefixes?.stats ?? { hits: 0, computed: 0, tokensReused: 0 };
  }

  async generate(batch: readonly GenerationRequest[]): Promise<GenerationResult[]> {
    if (batch.length === 0) return [];
    // A prompt too long for the model's positions keeps its last tokens, leaving room for the
    // continuation, as lm-eval does (max_length - max_gen_toks).
    const prompts = batch.map((r) => {
      const ids = this.encode(r.prompt);
      const room = this.maxPositions === null ? Infinity : Math.max(1, this.maxPositions - r.maxNewTokens);
      return ids.length > room ? ids.slice(ids.length - room) : ids;
    });
    const raw = await this.generateTokens(prompts, batch.map((r) => r.maxNewTokens), batch.map((r) => r.stop));
    return raw.map((r, i) => ({ ...r, promptTokens: prompts[i]!.length }));
  }

  async generateTokens(prompts: number[][], maxNewTokens: readonly number[], stops: readonly (readonly string[])[]): Promise<Generated[]> {
    return this.byPrefix(prompts, (rows, plan) => this.generateGroup(rows.map((i) => prompts[i]!), rows.map((i) => maxNewTokens[i]!), rows.map((i) => stops[i]!), plan));
  }

  /**
   * Run `work` on groups of rows that start from the same cached prefix (each group's prefix plan given),
   * and put the results back in row order. A batch of several tasks' prompts (the runner batches by length)
   * then still reads each task's few-shot block once per group (sharedPrefix.ts) instead of a copy per row.
   * Without a batch-wide prefix input (no reuse, a GPU, a graph left as exported) the batch is one group.
   */
  private async byPrefix<T>(prompts: number[][], work: (rows: number[], plan: PrefixPlan[] | null) => Promise<T[]>): Promise<T[]> {
    const all = prompts.map((_, i) => i);
    if (!this.prefixes || !this.sharedPrefix) return work(all, null);
    const plan = await this.prefixes.plan(prompts.map((p) => this.nonEmpty(p)), (ids) => this.prefill1(ids));
    const groups = new Map<Feeds | null, number[]>();
    plan.forEach((p, i) => (groups.get(p.past) ?? groups.set(p.past, []).get(p.past)!).push(i));
    if (groups.size === 1) return work(all, plan);
    const out: T[] = new Array(prompts.length);
    for (const rows of groups.values()) {
      const done = await work(rows, rows.map((i) => plan[i]!));
      rows.forEach((i, k) => (out[i] = done[k]!));
    }
    return out;
  }

  /** An empty prompt (no BOS in this tokenizer) is read as a single EOS, as lm-eval does. */
  private nonEmpty(p: number[]): number[] {
    return p.length ? p : [this.bos ?? this.eos[0]!];
  }

  private async generateGroup(prompts: number[][], maxNewTokens: readonly number[], stops: readonly (readonly string[])[], planned: PrefixPlan[] | null): Promise<Generated[]> {
    const r = this.resident;
    // By prompt, since the driver prefills only the rows with tokens to generate.
    const plan = planned && new Map(prompts.map((p, k) => [p, planned[k]!]));
    // On a device the next tokens are picked there (resident.ts) and only they come back.
    const arch: GreedyArch<CausalState> = !r
      ? {
          prefill: (rows) => this.start(rows, plan),
          step: (state, tokens) => this.extend(state, tokens.map((t) => [t]), false),
          keepRows: (state, rows) => this.keepRows(state, rows),
        }
      : {
          prefill: async (rows) => {
            const out = await this.start(rows, plan);
            const state = r.rowRemoval === 'mask' ? { ...out.state, live: rows.map((_, i) => i) } : out.state;
            return { picked: await r.pick(out.logits!), state };
          },
          step: (state, tokens) => this.deviceStep(r, state, tokens),
          keepRows: (state, rows) => (state.live ? { ...state, live: rows.map((k) => state.live![k]!) } : this.keepRows(state, rows)),
        };
    try {
      return await greedyGenerate(arch, prompts, maxNewTokens, stops, { eos: new Set(this.eos), decode: (ids) => this.tokenizer.decode(ids) });
    } finally {
      r?.releaseAll();
    }
  }

  /**
   * One generation step on a device: the caches stay there and only each live row's next token and its
   * log-probability come back. Under row masking, finished rows read padding and their picks are dropped.
   */
  private async deviceStep(r: DeviceResidency, state: CausalState, tokens: number[]): Promise<StepOutput<CausalState>> {
    const live = state.live;
    let cols = tokens.map((t) => [t]);
    if (live) {
      cols = state.next.map(() => [-1]);
      live.forEach((row, k) => (cols[row] = [tokens[k]!]));
    }
    const out = await this.extend(state, cols, false);
    const picked = await r.pick(out.logits!);
    const next = { ...out.state, ...(live ? { live } : {}) };
    if (!live) return { picked, state: next };
    return { picked: { ids: live.map((row) => picked.ids[row]!), logprobs: live.map((row) => picked.logprobs[row]!) }, state: next };
  }

  /**
   * lm-eval's `_encode_pair`: trailing whitespace of the context moves to the continuation; context and
   * continuation are tokenised together and the continuation is what the whole has beyond the context's
   * own tokens. Where the context's last token merges with the continuation's first, the scored tokens
   * are still "whole minus as many tokens as the context alone has", as lm-eval scores them.
   */
  encodePair(context: string, continuation: string): { context: number[]; continuation: number[] } {
    const nSpaces = context.length - context.trimEnd().length;
    let ctx = context;
    let cont = continuation;
    if (nSpaces > 0) {
      cont = ctx.slice(ctx.length - nSpaces) + cont;
      ctx = ctx.slice(0, ctx.length - nSpaces);
    }
    const whole = this.encode(ctx + cont);
    const ctxIds = this.encode(ctx);
    // An empty context (no BOS either) is read as a single EOS, as lm-eval does.
    if (ctxIds.length === 0) return { context: [this.bos ?? this.eos[0]!], continuation: whole };
    return { context: ctxIds, continuation: whole.slice(ctxIds.length) };
  }

  async loglik(batch: readonly LoglikRequest[]): Promise<number[][]> {
    // Continuations of a request share its context's tokens (unless trailing whitespace moved, which
    // gives each its own), so each distinct context runs once.
    const contexts: number[][] = [];
    const conts: number[][][] = [];
    const where = batch.map((r) => {
      const mine = new Map<string, number>();
      return r.continuations.map((c): [number, number] => {
        const p = this.encodePair(r.context, c);
        // Too long for the model's positions: drop the context's first tokens, as lm-eval does (it reads
        // the last max_length + 1 tokens of context + continuation, the last of which is only scored).
        const over = this.maxPositions === null ? 0 : p.context.length + p.continuation.length - (this.maxPositions + 1);
        if (over > 0) p.context = p.context.slice(Math.min(over, p.context.length - 1));
        const id = p.context.join(',');
        let k = mine.get(id);
        if (k === undefined) {
          k = contexts.push(p.context) - 1;
          conts.push([]);
          mine.set(id, k);
        }
        return [k, conts[k]!.push(p.continuation) - 1];
      });
    });
    const scores = await this.loglikTokens(contexts, conts);
    return where.map((w) => w.map(([k, j]) => scores[k]![j]!));
  }

  /**
   * Sum of log p(continuation token | context, earlier continuation tokens) for each continuation. The
   * context runs once per request; its continuations then read on from copies of its cache.
   */
  async loglikTokens(contexts: number[][], continuations: number[][][]): Promise<number[][]> {
    return scoreChecked(contexts, continuations, this.resident, (c, k) => this.scoreTokens(c, k));
  }

  /**
   * The scoring behind loglikTokens. Every log-probability is read at (row, position, token) of some
   * logits: on the host directly, on a device by resident.ts's score graph, so only those come back.
   */
  private async scoreTokens(contexts: number[][], continuations: number[][][]): Promise<number[][]> {
    return this.byPrefix(contexts, (rows, plan) => this.scoreGroup(rows.map((i) => contexts[i]!), rows.map((i) => continuations[i]!), plan));
  }

  private async scoreGroup(contexts: number[][], continuations: number[][][], planned: PrefixPlan[] | null): Promise<number[][]> {
    const r = this.resident;
    const plan = planned && new Map(contexts.map((p, k) => [p, planned[k]!]));
    const logprobs = async (logits: ort.Tensor, at: (readonly [number, number, number])[][]): Promise<number[]> => {
      if (r) return (await r.score(logits, at)).map((s) => s.reduce((a, b) => a + b, 0));
      return at.map((a) => a.reduce((sum, [row, pos, tok]) => {
        const l = logitsRow(logits, row, pos);
        return sum + l[tok]! - logSumExp(l);
      }, 0));
    };
    const first = await this.start(contexts, plan);
    const rowsOf: number[] = [];
    const targets: number[][] = [];
    continuations.forEach((conts, c) => conts.forEach((t) => (rowsOf.push(c), targets.push(t))));
    const T0 = first.logits!.dims[1]!;
    const sums = await logprobs(first.logits!, targets.map((t, row) => [[rowsOf[row]!, T0 - 1, t[0]!] as const]));
    const longer = targets.map((t, row) => (t.length > 1 ? row : -1)).filter((row) => row >= 0);
    if (longer.length) {
      const state = await this.keepRows(first.state, longer.map((row) => rowsOf[row]!));
      const fed = longer.map((row) => targets[row]!.slice(0, -1));
      const out = await this.extend(state, fed, true);
      const W = out.logits!.dims[1]!;
      const at = longer.map((row, k) => {
        const t = targets[row]!;
        const n = t.length - 1;
        return t.slice(1).map((tok, j) => [k, W - n + j, tok] as const);
      });
      (await logprobs(out.logits!, at)).forEach((s, k) => (sums[longer[k]!]! += s));
    }
    const scores: number[][] = continuations.map(() => []);
    sums.forEach((sum, row) => scores[rowsOf[row]!]!.push(sum));
    return scores;
  }

  /**
   * Read prompts from scratch, or from the cached prefix each shares with others (`given`: as planned
   * already, by byPrefix); logits for the next token.
   */
  private async start(rows: number[][], given: ReadonlyMap<number[], PrefixPlan> | null): Promise<StepOutput<CausalState>> {
    const prompts = rows.map((p) => this.nonEmpty(p));
    if (!this.prefixes) return this.extend(this.emptyState(prompts.length), prompts, false);
    const known = given && rows.every((p) => given.has(p)) ? rows.map((p) => given.get(p)!) : null;
    const plan = known ?? (await this.prefixes.plan(prompts, (ids) => this.prefill1(ids)));
    // Every row starts from the same cached prefix: the graph reads it once for all (sharedPrefix.ts).
    const one = plan[0]!;
    if (this.sharedPrefix && one.past && plan.every((p) => p.past === one.past)) {
      const state = { ...this.emptyState(prompts.length), next: plan.map(() => one.length), prefix: { past: one.past, length: one.length } };
      return this.extend(state, prompts.map((p) => p.slice(one.length)), false);
    }
    const state = this.stateFromPrefixes(plan.map((p) => p.past), plan.map((p) => p.length));
    return this.extend(state, prompts.map((p, i) => p.slice(plan[i]!.length)), false);
  }

  /** The cache of one token sequence at batch 1 (a prefix to share). */
  private async prefill1(ids: number[]): Promise<Feeds> {
    return (await this.extend(this.emptyState(1), [ids], false)).state.past;
  }

  private emptyState(rows: number): CausalState {
    const past: Feeds = {};
    const [kvH, hd] = [this.info.shape.kvHeads, this.info.shape.headDim];
    for (const n of this.names.past) past[n] = new ort.Tensor(this.kv, this.kv === 'float16' ? new Uint16Array(0) : new Float32Array(0), [rows, kvH, 0, hd]);
    return { past, mask: Array.from({ length: rows }, () => new Uint8Array(0)), next: new Array<number>(rows).fill(0) };
  }

  /** A batch state whose row r holds prefix cache `pasts[r]` (batch 1, `lengths[r]` columns; null: none), right-aligned. */
  private stateFromPrefixes(pasts: (Feeds | null)[], lengths: number[]): CausalState {
    const S = Math.max(0, ...lengths);
    const [kvH, hd] = [this.info.shape.kvHeads, this.info.shape.headDim];
    const past: Feeds = {};
    for (const name of this.names.past) {
      const Ctor = this.kv === 'float16' ? Uint16Array : Float32Array;
      const data = new Ctor(pasts.length * kvH * S * hd);
      pasts.forEach((p, r) => {
        if (!p) return;
        const src = p[name]!.data as Float32Array | Uint16Array;
        const P = lengths[r]!;
        for (let h = 0; h < kvH; h++) data.set(src.subarray(h * P * hd, (h + 1) * P * hd), ((r * kvH + h) * S + (S - P)) * hd);
      });
      past[name] = new ort.Tensor(this.kv, data, [pasts.length, kvH, S, hd]);
    }
    const mask = lengths.map((P) => {
      const m = new Uint8Array(S);
      m.fill(1, S - P);
      return m;
    });
    return { past, mask, next: [...lengths] };
  }

  /**
   * Feed each row its `tokens` (left-padded to one width) after its cache. Long inputs run in chunks of
   * positions so the logits of one run stay under PREFILL_LOGITS_BYTES (prefill.ts); `all` keeps every position's logits (one
   * chunk), otherwise the logits returned are the last chunk's, whose last column is every row's last token.
   */
  private async extend(state: CausalState, tokens: number[][], all: boolean): Promise<StepOutput<CausalState>> {
    const B = tokens.length;
    const W = Math.max(...tokens.map((t) => t.length));
    const V = this.info.shape.vocab;
    // On WebGPU no tensor may exceed the buffer-binding limit (resident.ts): the logits [B, chunk, V] and
    // the attention scores [B, heads, chunk, past + W] of a run are kept under it.
    const S0 = state.mask[0]!.length;
    const fits = (c: number) => B * c * V * 4 <= this.bindingLimit && B * this.info.shape.heads * c * (S0 + W) * 4 <= this.bindingLimit;
    let chunk = all ? W : prefillChunk(B, V);
    while (!all && chunk > 1 && !fits(chunk)) chunk = Math.ceil(chunk / 2);
    if (!fits(chunk)) {
      throw new UsageError(`--device ${this.info.device}: ${B} row(s) of ${S0 + W} tokens need tensors over this GPU's ${(this.bindingLimit / 2 ** 20).toFixed(0)} MiB WebGPU buffer limit (they would be computed wrongly); use a smaller --batch-size, or --device cpu or cuda`);
    }
    let cur = state;
    let logits: ort.Tensor | null = null;
    for (let from = 0; from < W; from += chunk) {
      const to = Math.min(W, from + chunk);
      // Column c of the padded input holds token c - (W - len) of the row, or padding before it.
      const cols = tokens.map((t) => Array.from({ length: to - from }, (_, k) => t[from + k - (W - t.length)] ?? -1));
      const out = await this.run(cur, cols, all ? to - from : 1);
      cur = out.state;
      this.resident?.release(logits); // an earlier chunk's: only the last chunk's are returned
      logits = out.logits!;
    }
    return { logits: logits!, state: cur };
  }

  /**
   * One session run: `cols[r]` are row r's new columns (-1: padding). The logits returned are those of the
   * last `keep` columns where the graph was rewritten to compute only those (lastLogits.ts), else all.
   */
  private async run(state: CausalState, cols: number[][], keep: number): Promise<StepOutput<CausalState>> {
    const B = cols.length;
    const T = cols[0]!.length;
    const S = state.mask[0]!.length;
    const ids = new BigInt64Array(B * T);
    const pos = new BigInt64Array(B * T).fill(1n);
    const maskData = new BigInt64Array(B * (S + T));
    const mask: Uint8Array[] = [];
    const next = [...state.next];
    cols.forEach((row, r) => {
      const m = new Uint8Array(S + T);
      m.set(state.mask[r]!);
      row.forEach((id, k) => {
        if (id < 0) return;
        ids[r * T + k] = BigInt(id);
        pos[r * T + k] = BigInt(next[r]!++);
        m[S + k] = 1;
      });
      m.forEach((v, c) => (maskData[r * (S + T) + c] = BigInt(v)));
      mask.push(m);
    });
    const feeds: Feeds = {
      input_ids: new ort.Tensor('int64', ids, [B, T]),
      attention_mask: new ort.Tensor('int64', maskData, [B, S + T]),
      ...state.past,
    };
    const inputs = this.session.inputNames;
    if (inputs.includes('position_ids')) feeds.position_ids = new ort.Tensor('int64', pos, [B, T]);
    if (this.sharedPrefix) Object.assign(feeds, this.prefixFeeds(state.prefix));
    if (inputs.includes(LOGITS_TO_KEEP)) feeds[LOGITS_TO_KEEP] = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), [1]);
    if (inputs.includes('use_cache_branch')) feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(S > 0 ? 1 : 0), [1]);
    const t0 = this.onRun ? performance.now() : 0;
    // On a device every output is fetched (onnxruntime-node 1.30 fails a later run when only some
    // gpu-buffer outputs are), kept there, and tracked; the cache fed in is superseded and released.
    const r = this.resident;
    const out = r ? r.track(await this.session.run(feeds)) : await this.session.run(feeds);
    r?.release(state.past);
    this.onRun?.({ session: 'decoder', rows: B, width: T, ms: performance.now() - t0, hostInputs: hostNames(feeds), hostOutputs: hostNames(out) });
    const past: Feeds = {};
    for (const name of this.names.present) past[this.names.pastOf(name)] = out[name]!;
    return { logits: out.logits!, state: { past, mask, next, ...(state.prefix ? { prefix: state.prefix } : {}) } };
  }

  /** The graph's prefix inputs: the batch's shared prefix, or none (zero columns). */
  private prefixFeeds(prefix: CausalState['prefix']): Feeds {
    const feeds: Feeds = {};
    const [kvH, hd] = [this.info.shape.kvHeads, this.info.shape.headDim];
    for (const name of this.names.past) {
      const input = PREFIX_INPUT + name.slice(PAST_PREFIX.length);
      feeds[input] = prefix?.past[name] ?? new ort.Tensor(this.kv, this.kv === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, kvH, 0, hd]);
    }
    return feeds;
  }

  /**
   * The state restricted to `rows` (in that order; scoring repeats rows): host copies on the CPU, a
   * gather on the device otherwise (resident.ts), so finished rows leave without the caches moving.
   */
  private async keepRows(state: CausalState, rows: number[]): Promise<CausalState> {
    let past: Feeds = {};
    if (this.resident) past = await this.resident.keepRows(state.past, rows);
    else for (const [k, t] of Object.entries(state.past)) past[k] = takeRows(t, rows);
    return { past, mask: rows.map((r) => state.mask[r]!), next: rows.map((r) => state.next[r]!), ...(state.prefix ? { prefix: state.prefix } : {}) };
  }

  async dispose(): Promise<void> {
    await this.resident?.dispose();
    await this.session.release();
  }
}

/** ONNX protobufs cannot exceed 2 GiB; a larger file is not a single-file export and loads as it is. */
const MAX_PROTO_BYTES = 2 ** 31 - 1;

/**
 * The export rewritten to do the same with less work (src/onnx/rewrite/causal.ts), with a phrase per
 * change for the run's log; `bytes` null: load the file as it is. A file the rewrite cannot read is loaded
 * as it is, so ONNX Runtime reports what is wrong with it (openSession) or runs it unchanged.
 */
async function rewritten(path: string, shape: { kvHeads: number }, sharedPrefix: boolean): Promise<{ bytes: Uint8Array | null; lastLogits: boolean; notes: string[] }> {
  const size = (await stat(path)).size;
  if (size > MAX_PROTO_BYTES) return { bytes: null, lastLogits: false, notes: [] };
  let r;
  try {
    r = rewriteCausal(await readFile(path), { sharedPrefix });
  } catch (e) {
    return { bytes: null, lastLogits: false, notes: [`graph left as exported (${(e as Error).message})`] };
  }
  const notes: string[] = [];
  if (r.gqaProducts) notes.push(`grouped-query attention reads the ${shape.kvHeads} kv heads in place (${r.gqaProducts} products; the repeat is not materialised)`);
  if (r.prefixLayers) notes.push(`a batch whose prompts share a cached few-shot prefix reads it once for all rows (${r.prefixLayers} layers)`);
  if (r.lastLogits) notes.push('prompts compute logits at the positions read only');
  if (r.skipped) notes.push(`graph left as exported (${r.skipped})`);
  else if (!r.bytes) notes.push('graph left as exported (none of the rewrites found its pattern: src/onnx/rewrite/)');
  return { bytes: r.bytes, lastLogits: r.lastLogits, notes };
}
