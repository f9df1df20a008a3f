import { getBenchmark } from '../benchmarks/registry.js';
import { UsageError } from '../errors.js';
import type { BenchmarkName, PromptFormat, Selection } from '../types.js';
import { discordantCells, exactPairedPower, exactSampleSize, minimumDetectable, pairedSampleSize } from './power.js';

/**
 * `flan-eval plan`: how many examples a paired comparison of one benchmark × format needs, and what a
 * `--limit N` run (N examples per task, as in the nightly suite) can detect. The statistics are in
 * ./power.ts; this module knows the benchmarks' sizes.
 */

/** Published sizes, used when the data is not in the data directory. Tasks counted are the headline's. */
const PUBLISHED: Record<BenchmarkName, { tasks: number; examples: Record<string, number> | null }> = {
  // 57 subjects; val 1,531, test 14,042, dev 5 per subject (Hendrycks et al. 2021).
  mmlu: { tasks: 57, examples: { val: 1531, test: 14042, dev: 285 } },
  // 27 tasks, 6,511 examples (Suzgun et al. 2022).
  bbh: { tasks: 27, examples: { '': 6511 } },
  // The paper's average: 8 languages (English excluded); sizes vary by language.
  tydiqa: { tasks: 8, examples: null },
  // 250 problems × 10 languages in the average (English excluded).
  mgsm: { tasks: 10, examples: { '': 2500 } },
};

export interface BenchmarkSize {
  /** Tasks in the headline average. */
  tasks: number;
  /** Examples per headline task, when read from the data. */
  perTask: number[] | null;
  /** All examples in the headline average, when known. */
  total: number | null;
  source: 'data' | 'published';
}

/** The benchmark's headline size: from the data when it is there, else the published counts. */
export async function benchmarkSize(benchmark: BenchmarkName, format: PromptFormat, selection: Selection, dataDir: string): Promise<BenchmarkSize> {
  const adapter = getBenchmark(benchmark);
  try {
    const { items } = await adapter.prepare(dataDir, format, { ...selection, limit: undefined });
    const average = new Set(adapter.aggregate(items, new Map()).averageTasks);
    const counts = new Map<string, number>();
    for (const i of items) if (average.has(i.task)) counts.set(i.task, (counts.get(i.task) ?? 0) + 1);
    const perTask = [...counts.values()];
    return { tasks: perTask.length, perTask, total: perTask.reduce((a, b) => a + b, 0), source: 'data' };
  } catch (e) {
    if (!(e instanceof UsageError) || selection.tasks) throw e;
    const p = PUBLISHED[benchmark];
    const total = p.examples ? (p.examples[selection.split ?? ''] ?? p.examples[''] ?? null) : null;
    return { tasks: p.tasks, perTask: null, total, source: 'published' };
  }
}

export interface PlanInput {
  benchmark: BenchmarkName;
  /** e.g. "BBH CoT". */
  label: string;
  size: BenchmarkSize;
  /** Proportions. */
  baseline: number;
  delta: number;
  correlation: number;
  alpha: number;
  power: number;
  /** Intra-cluster correlation of the paired differences (MGSM: the same problem across languages). */
  icc: number;
  limit: number | null;
}

export interface Plan {
  input: PlanInput;
  direction: 'drop' | 'rise';
  /** Share of examples expected to flip either way. */
  discordant: number;
  /** The correlation was more than the two accuracies allow and was capped (only the change flips). */
  correlationCapped: boolean;
  /** Design effect of clustering, 1 + (m − 1)·icc (1 when the benchmark does not cluster). */
  designEffect: number;
  /** Examples needed in all for the exact test, and per task (tasks equally sized); null: more than 10 million. */
  needed: number | null;
  neededPerTask: number | null;
  /** Connor's normal approximation of `needed` (before clustering), for reference. */
  neededApprox: number;
  /** Whether the whole benchmark has that many (null when its size is unknown). */
  enough: boolean | null;
  atLimit: { limit: number; examples: number; assumed: boolean; power: number; detectable: number | null } | null;
}

/** MGSM examples cluster by problem: one per language of the average. */
function clusterSize(input: PlanInput): number {
  return input.benchmark === 'mgsm' ? input.size.tasks : 1;
}

export function makePlan(input: PlanInput): Plan {
  const design = { baseline: input.baseline, delta: input.delta, correlation: input.correlation, alpha: input.alpha };
  const cells = discordantCells(design);
  const designEffect = 1 + (clusterSize(input) - 1) * input.icc;
  const independent = exactSampleSize(design, input.power);
  const needed = independent === null ? null : Math.ceil(independent * designEffect - 1e-9);
  const plan: Plan = {
    input,
    direction: cells.direction,
    discordant: cells.psi,
    correlationCapped: cells.capped,
    designEffect,
    needed,
    neededPerTask: needed === null ? null : Math.ceil(needed / input.size.tasks),
    neededApprox: pairedSampleSize(design, input.power),
    enough: input.size.total === null ? null : needed !== null && input.size.total >= needed,
    atLimit: null,
  };
  if (input.limit !== null) {
    const limit = input.limit;
    const examples = input.size.perTask ? input.size.perTask.reduce((a, n) => a + Math.min(n, limit), 0) : input.size.tasks * limit;
    // Clustering shrinks the information to that of examples / design effect independent ones.
    const effective = Math.floor(examples / designEffect);
    const detectable = minimumDetectable({ baseline: input.baseline, correlation: input.correlation, alpha: input.alpha }, effective, input.power);
    plan.atLimit = { limit, examples, assumed: input.size.perTask === null, power: exactPairedPower(design, effective), detectable };
  }
  return plan;
}

const pct = (x: number, digits = 1) => `${(100 * x).toFixed(digits)}`;
const count = (n: number) => n.toLocaleString('en-US');

/** The plan as a few lines of text. */
export function planText(plan: Plan): string {
  const { input } = plan;
  const lines = [
    `${input.label}: baseline ${pct(input.baseline)}%, a ${plan.direction} of ${pct(input.delta)} points, runs correlated ρ = ${input.correlation}${plan.correlationCapped ? ' (capped: the most these accuracies allow)' : ''} ` +
      `(so ${pct(plan.discordant)}% of examples flip); paired exact McNemar test, α = ${input.alpha}, power ${input.power}`,
    (plan.needed === null ? '  needed: more than 10 million examples' : `  needed: ${count(plan.needed)} examples (${count(plan.neededPerTask!)} per task over ${input.size.tasks} tasks)`) +
      (input.size.total !== null ? `; the benchmark has ${count(input.size.total)}${plan.enough ? '' : ' — not enough: only a larger difference can be detected'}` : '') +
      (input.size.source === 'published' ? ' (sizes as published; the data is not in --data-dir)' : ''),
  ];
  if (plan.designEffect !== 1) {
    lines.push(`  clustered by problem (${clusterSize(input)} languages each, intra-problem correlation ${input.icc}): ×${plan.designEffect.toFixed(2)} examples (Miller 2024)`);
  } else if (input.benchmark === 'mgsm') {
    lines.push(`  MGSM examples cluster by problem across ${clusterSize(input)} languages; --icc ρ multiplies the need by 1 + ${clusterSize(input) - 1}ρ`);
  }
  if (plan.atLimit) {
    const a = plan.atLimit;
    lines.push(
      `  --limit ${a.limit}: ${count(a.examples)} examples${a.assumed ? ' (assuming every task has that many)' : ''}, power ${a.power.toFixed(2)} for this difference; ` +
        (a.detectable === null ? `no difference is detected with power ${input.power}` : `detects ${pct(a.detectable)} points with power ${input.power}`),
    );
  }
  return lines.join('\n');
}
