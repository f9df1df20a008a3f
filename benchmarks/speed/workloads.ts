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
}

export const WORKLOADS: readonly WorkloadDef[] = [
  { name: 'mmlu-direct-generate', kind: 'generation', benchmark: 'mmlu', format: { cot: false, shots: 5 }, maxNewTokens: 5, splits: ['test', 'val'], examples: { full: 48, quick: 8 } },
  { name: 'mmlu-direct-loglik', kind: 'scoring', benchmark: 'mmlu', format: { cot: false, shots: 5 }, maxNewTokens: 0, splits: ['test', 'val'], examples: { full: 48, quick: 8 } },
  { name: 'bbh-cot', kind: 'generation', benchmark: 'bbh', format: { cot: true, shots: 3 }, maxNewTokens: 128, examples: { full: 24, quick: 4 } },
  { name: 'mgsm-cot', kind: 'generation', benchmark: 'mgsm', format: { cot: true, shots: 8 }, maxNewTokens: 128, examples: { full: 24, quick: 4 } },
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
      items.push(...interleaveTasks((await adapter.prepare(dataDir, def.format, selection)).items));
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
  return { name: def.name, kind: def.kind, maxNewTokens: def.maxNewTokens, items: work, distinct };
}

function interleaveTasks(items: PreparedItem[]): PreparedItem[] {
  const byTask = new Map<string, PreparedItem[]>();
  for (const it of items) byTask.set(it.task, [...(byTask.get(it.task) ?? []), it]);
  const queues = [...byTask.values()];
  const out: PreparedItem[] = [];
  for (let k = 0; out.length < items.length; k++) for (const q of queues) if (k < q.length) out.push(q[k]!);
  return out;
}
