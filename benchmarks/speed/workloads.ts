import { UsageError } from '../../src/errors.js';
import type { PreparedItem } from '../../src/benchmarks/adapter.js';
import { getBenchmark } from '../../src/benchmarks/registry.js';
import type { BenchmarkName, PromptFormat } from '../../src/types.js';

/**
 * The speed workloads of issue 7. Prompts come from our own adapters (the same text `flan-eval run`
 * would send), so the benchmark measures the real prompt lengths of each format.
 */
export interface WorkloadDef {
  name: string;
  kind: 'generation' | 'scoring';
  benchmark: BenchmarkName;
  format: PromptFormat;
  /** Generation budget (ignored for scoring). */
  maxNewTokens: number;
  /** MMLU only: splits to draw examples from, in order, until there are enough. */
  splits?: string[];
  /** Examples in full and in --quick mode. */
  examples: { full: number; quick: number };
  /**
   * Prompt token counts of the real upstream data under the real T5 tokenizer (issue 10): the synthetic
   * set follows them where the data is absent.
   */
  realLengths: LengthDistribution;
  /**
   * Decoder-only workloads run on the llama test model (smollm2-135m shape) and draw their examples a
   * task at a time (`perTask` each), as a full run meets them: a task's few-shot prefix is shared by all
   * its examples (hundreds per task in a full MMLU or BBH run; `perTask` is fewer, so the prefix reuse
   * measured here is a lower bound).
   */
  arch?: 'llama';
  perTask?: number;
}

/** Median, 95th percentile and maximum of prompt token counts. */
export interface LengthDistribution {
  median: number;
  p95: number;
  max: number;
}

const MMLU_DIRECT: LengthDistribution = { median: 948, p95: 3205, max: 5044 };

/**
 * Questions per subject in a real MMLU run on the validation split (the paper's, and `run`'s default):
 * 1,531 questions over 57 subjects. Every question of a subject shares its 5-shot exemplar block.
 */
export const MMLU_VAL_PER_SUBJECT = Math.round(1531 / 57);

/** Share of an MMLU 5-shot prompt that is its subject's exemplar block (the rest is the question). */
const MMLU_SHARED_SHARE = 0.85;

const WORKLOADS_T5: readonly WorkloadDef[] = [
  { name: 'mmlu-direct-generate', kind: 'generation', benchmark: 'mmlu', format: { cot: false, shots: 5 }, maxNewTokens: 5, splits: ['test', 'val'], examples: { full: 48, quick: 6 }, realLengths: MMLU_DIRECT },
  { name: 'mmlu-direct-loglik', kind: 'scoring', benchmark: 'mmlu', format: { cot: false, shots: 5 }, maxNewTokens: 0, splits: ['test', 'val'], examples: { full: 48, quick: 6 }, realLengths: MMLU_DIRECT },
  { name: 'bbh-cot', kind: 'generation', benchmark: 'bbh', format: { cot: true, shots: 3 }, maxNewTokens: 128, examples: { full: 24, quick: 3 }, realLengths: { median: 905, p95: 1821, max: 1970 } },
  { name: 'mgsm-cot', kind: 'generation', benchmark: 'mgsm', format: { cot: true, shots: 8 }, maxNewTokens: 128, examples: { full: 24, quick: 3 }, realLengths: { median: 1001, p95: 1959, max: 2273 } },
];

export const WORKLOADS: readonly WorkloadDef[] = [
  ...WORKLOADS_T5,
  ...(['mmlu-direct-generate', 'mmlu-direct-loglik', 'bbh-cot'] as const).map((base): WorkloadDef => {
    const t5 = WORKLOADS_T5.find((w) => w.name === base)!;
    const perTask = t5.benchmark === 'mmlu' ? MMLU_VAL_PER_SUBJECT : 8;
    // --quick keeps the whole run under 5 minutes on 2 cores: the reference's one-at-a-time scoring (four
    // forward passes a question) and 128-token CoT are the slow sides, so those workloads take fewer.
    const quick = base === 'mmlu-direct-generate' ? 8 : base === 'mmlu-direct-loglik' ? 4 : 3;
    return { ...t5, name: `llama/${base}`, arch: 'llama', perTask, examples: { full: 24, quick } };
  }),
];

/** One example as the worker processes see it: nothing but text and decoding settings. */
export interface WorkItem {
  id: string;
  prompt: string;
  stop: string[];
  choices?: string[];
}

export interface Workload {
  name: string;
  kind: 'generation' | 'scoring';
  maxNewTokens: number;
  items: WorkItem[];
  /** How many of the items are different prompts (the fixtures are small, so items repeat). */
  distinct: number;
  /** `data`: prompts of the data folder as they are; `synthetic`: sample prompts stretched to real lengths. */
  source: 'data' | 'synthetic';
}

export function workloadByName(name: string): WorkloadDef {
  const def = WORKLOADS.find((w) => w.name === name);
  if (!def) throw new UsageError(`--workloads: unknown workload "${name}"; choose from ${WORKLOADS.map((w) => w.name).join(', ')}`);
  return def;
}

/**
 * Build `count` items for a workload from `dataDir`. Tasks are interleaved (one example of each task in
 * turn) so a few examples still cover several prompt lengths; when the data holds fewer examples than
 * asked (the test fixtures hold a handful), the list is repeated. `null` with a reason when the
 * benchmark's data is missing, so the caller can skip the workload with a note.
 */
export async function buildWorkload(def: WorkloadDef, dataDir: string, count: number): Promise<Workload | { skipped: string }> {
  const adapter = getBenchmark(def.benchmark);
  let items: PreparedItem[] = [];
  try {
    for (const split of def.splits ?? [undefined]) {
      if (items.length >= count) break;
      const selection = split === undefined ? { limit: count } : { split, limit: count };
      const prepared = (await adapter.prepare(dataDir, def.format, selection)).items;
      items.push(...(def.perTask ? byTaskGroups(prepared, def.perTask) : interleaveTasks(prepared)));
    }
  } catch (e) {
    if (e instanceof UsageError) return { skipped: e.message };
    throw e;
  }
  if (def.kind === 'scoring') items = items.filter((i) => i.choices?.length);
  if (!items.length) return { skipped: `${def.benchmark}: no examples under ${dataDir}` };
  const distinct = Math.min(items.length, count);
  const work: WorkItem[] = Array.from({ length: count }, (_, k) => {
    const it = items[k % items.length]!;
    const base = { id: k < items.length ? it.id : `${it.id}#${Math.floor(k / items.length)}`, prompt: it.prompt, stop: it.stop };
    return it.choices ? { ...base, choices: it.choices } : base;
  });
  return { name: def.name, kind: def.kind, maxNewTokens: def.maxNewTokens, items: work, distinct, source: 'data' };
}

/**
 * Token counts for `count` prompts following a length distribution: log-normal through the median and the
 * 95th percentile, cut at the maximum, and the maximum itself always included (the longest prompt decides
 * memory). Interleaved, so the first item (the untimed warm-up) is a typical one and long prompts are
 * spread over the list.
 */
export function syntheticLengths(d: LengthDistribution, count: number, includeMax = true): number[] {
  const sigma = Math.log(d.p95 / d.median) / 1.6449;
  const sorted = Array.from({ length: count }, (_, k) => Math.min(d.max, Math.round(d.median * Math.exp(sigma * normalQuantile((k + 0.5) / count)))));
  if (includeMax) sorted[count - 1] = d.max;
  // A fixed stride coprime with count visits every quantile once.
  let stride = Math.max(1, Math.round(count * 0.618));
  while (gcd(stride, count) !== 1) stride++;
  return sorted.map((_, k) => sorted[(k * stride + Math.floor(count / 2)) % count]!);
}

function gcd(a: number, b: number): number {
  return b ? gcd(b, a % b) : a;
}

/** Inverse of the standard normal CDF (Abramowitz & Stegun 26.2.23, |error| < 4.5e-4). */
export function normalQuantile(p: number): number {
  if (p === 0.5) return 0;
  const q = p < 0.5 ? p : 1 - p;
  const t = Math.sqrt(-2 * Math.log(q));
  const z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  return p < 0.5 ? -z : z;
}

/**
 * Where the data folder lacks a benchmark (MMLU's CSVs are not always at hand), a synthetic workload:
 * the sample data's prompts (the same template, question and answer options) lengthened with exemplar
 * text from the same prompts, or shortened from the front, to token counts that follow the real
 * distribution. A random-weight model reads them like any other text; what matters is their length.
 */
export async function syntheticWorkload(def: WorkloadDef, sampleDir: string, count: number, countTokens: (text: string) => number): Promise<Workload | { skipped: string }> {
  const sample = await buildWorkload(def, sampleDir, count);
  if ('skipped' in sample) return sample;
  const filler = sample.items.flatMap((it) => it.prompt.split(/\s+/)).filter(Boolean);
  if (def.perTask) return syntheticByTask(def, def.perTask, sample.items, count, filler, countTokens);
  const lengths = syntheticLengths(def.realLengths, count);
  const items = sample.items.map((it, k) => ({ ...it, id: `synthetic/${k}/${it.id}`, prompt: stretch(it.prompt, lengths[k]!, filler, countTokens) }));
  return { ...sample, items, distinct: count, source: 'synthetic' };
}

/**
 * Synthetic examples a task at a time, `perTask` per task as in a real run (MMLU: a subject's questions
 * all follow its one exemplar block), from as few tasks as that allows. Each task gets one length from
 * the real distribution (quantiles over the tasks used). Its shared part (filler, then the sample's own
 * header and exemplars) takes MMLU_SHARED_SHARE of that length; each question is a sample question of
 * the task lengthened, right after its last "Q: ", by filler words taken at an offset of its own, to the
 * task's length: so the questions differ from their first token on, as real ones do, and what follows
 * the shared block is as long as a real question's share.
 */
function syntheticByTask(def: WorkloadDef, perTask: number, sampleItems: readonly WorkItem[], count: number, filler: readonly string[], countTokens: (text: string) => number): Workload {
  const byTask = new Map<string, WorkItem[]>();
  for (const it of sampleItems) {
    if (it.id.includes('#')) continue; // buildWorkload's repeats
    const t = it.id.split('/')[1]!;
    byTask.set(t, [...(byTask.get(t) ?? []), it]);
  }
  const sampleTasks = [...byTask.keys()];
  const nTasks = Math.ceil(count / perTask);
  // Quantiles only: with a few tasks, forcing the maximum in would make one task's every prompt the longest.
  const lengths = syntheticLengths(def.realLengths, nTasks, false);
  const items: WorkItem[] = [];
  for (let k = 0; k < nTasks; k++) {
    // More tasks than the sample has: its tasks again, with other filler (so their prefixes differ).
    const task = sampleTasks[k % sampleTasks.length]!;
    const questions = byTask.get(task)!;
    const words = [...filler.slice((k * 7) % filler.length), ...filler.slice(0, (k * 7) % filler.length)];
    // The shared part ends at the sample's last "Q: ": what follows (the sample question) is not shared.
    const first = questions[0]!.prompt;
    const question = first.slice(Math.max(0, first.lastIndexOf('Q: ')));
    const shared = fillerWords(first, Math.round(lengths[k]! * MMLU_SHARED_SHARE) + countTokens(question), words, countTokens);
    const n = Math.min(Math.ceil(count / nTasks), count - items.length);
    for (let j = 0; j < n; j++) {
      const base = `${shared}${questions[j % questions.length]!.prompt}`;
      const own = [...filler.slice((j * 13) % filler.length), ...filler.slice(0, (j * 13) % filler.length)];
      items.push({ ...questions[j % questions.length]!, id: `synthetic/${k}/${def.benchmark}/${task}/${j}`, prompt: lengthenQuestion(base, lengths[k]!, own, countTokens) });
    }
  }
  return { name: def.name, kind: def.kind, maxNewTokens: def.maxNewTokens, items, distinct: new Set(items.map((it) => it.prompt)).size, source: 'synthetic' };
}

/** `prompt` with filler words put after its last "Q: " (its question's start), as many as keep it within `target` tokens. */
function lengthenQuestion(prompt: string, target: number, filler: readonly string[], countTokens: (text: string) => number): string {
  const q = prompt.lastIndexOf('Q: ');
  const at = q < 0 ? 0 : q + 3; // no "Q: ": the words go in front
  const make = (n: number) => (n === 0 ? prompt : `${prompt.slice(0, at)}${Array.from({ length: n }, (_, i) => filler[i % filler.length]!).join(' ')} ${prompt.slice(at)}`);
  let lo = 0;
  let hi = Math.max(0, target);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countTokens(make(mid)) <= target) lo = mid;
    else hi = mid - 1;
  }
  // Always at least one word of its own, so no two questions of a task are the same prompt.
  return make(Math.max(1, lo));
}

/** The filler text that, put in front of `prompt`, brings it to about `target` tokens (empty if it is that long already). */
function fillerWords(prompt: string, target: number, filler: readonly string[], countTokens: (text: string) => number): string {
  const stretched = stretch(prompt, target, filler, countTokens);
  return stretched.endsWith(prompt) ? stretched.slice(0, stretched.length - prompt.length) : '';
}

/** `prompt` brought to about `target` tokens: exemplar words put in front, or words cut from the front. */
function stretch(prompt: string, target: number, filler: readonly string[], countTokens: (text: string) => number): string {
  const words = prompt.split(/(?<=\s)/);
  const make = (n: number) => (n >= 0 ? Array.from({ length: n }, (_, i) => filler[i % filler.length]!).join(' ') + (n ? ' ' : '') + prompt : words.slice(-n).join(''));
  // The largest n (or the least cut) whose text stays within the target.
  let lo = -(words.length - 1);
  let hi = Math.max(0, target);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (countTokens(make(mid)) <= target) lo = mid;
    else hi = mid - 1;
  }
  return make(lo);
}

/** `perTask` examples of each task in turn, task after task (a task's examples stay together). */
function byTaskGroups(items: PreparedItem[], perTask: number): PreparedItem[] {
  const byTask = new Map<string, PreparedItem[]>();
  for (const it of items) byTask.set(it.task, [...(byTask.get(it.task) ?? []), it]);
  return [...byTask.values()].flatMap((q) => q.slice(0, perTask));
}

function interleaveTasks(items: PreparedItem[]): PreparedItem[] {
  const byTask = new Map<string, PreparedItem[]>();
  for (const it of items) byTask.set(it.task, [...(byTask.get(it.task) ?? []), it]);
  const queues = [...byTask.values()];
  const out: PreparedItem[] = [];
  for (let k = 0; out.length < items.length; k++) for (const q of queues) if (k < q.length) out.push(q[k]!);
  return out;
}
