import type { Argv, CommandModule } from 'yargs';
import { getBenchmark } from '../../benchmarks/registry.js';
import { resolveDataDir } from '../../config/paths.js';
import { UsageError } from '../../errors.js';
import { columnOf } from '../../report/columns.js';
import { loadSuite } from '../../runner/suite.js';
import { benchmarkSize, makePlan, planText, type Plan } from '../../stats/plan.js';
import type { BenchmarkName, PromptFormat, Selection } from '../../types.js';
import { formatOptions, parseFormatFlags } from '../format-flags.js';

/**
 * `flan-eval plan`: examples needed for `compare`'s paired test to detect a difference, and the power of
 * a `--limit N` run (or of each run of a suite). Statistics in src/stats/power.ts, sizes in src/stats/plan.ts.
 */

function number(value: unknown, flag: string, min: number, max: number, example: string, inclusive = false): number {
  const x = typeof value === 'number' ? value : Number.NaN;
  const ok = Number.isFinite(x) && (inclusive ? x >= min && x <= max : x > min && x < max);
  if (!ok) throw new UsageError(`${flag} ${value === undefined ? '(missing)' : String(value)}: give a number ${inclusive ? 'from' : 'between'} ${min} ${inclusive ? 'to' : 'and'} ${max} (e.g. ${flag} ${example})`);
  return x;
}

export const planCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'plan [benchmark]',
  describe: 'examples needed to detect a difference with the paired test, and the power of --limit N',
  builder: (y: Argv<object>) =>
    y
      .positional('benchmark', { type: 'string', description: 'mmlu, bbh, tydiqa or mgsm (or --suite)' })
      .options(formatOptions)
      .option('suite', { type: 'string', description: 'plan every run of a suite (a shipped name such as nightly, or a file), each at its own --limit' })
      .option('baseline', { type: 'number', description: 'baseline accuracy, percent (e.g. 30)' })
      .option('delta', { type: 'number', description: 'the difference to detect, points (e.g. 2)' })
      .option('power', { type: 'number', default: 0.8, description: 'the chance of detecting it' })
      .option('alpha', { type: 'number', default: 0.05, description: 'significance level (as compare --alpha)' })
      .option('correlation', { type: 'number', default: 0.5, description: 'correlation of the two runs\' per-example outcomes (0: unrelated models; near 1: a small change to one model)' })
      .option('icc', { type: 'number', default: 0, description: 'MGSM: correlation of the paired differences of one problem across languages' })
      .option('json', { type: 'boolean', default: false, description: 'print JSON' })
      .example('$0 plan bbh --cot --baseline 30 --delta 2 --limit 3', 'examples needed for BBH CoT, and the power of the nightly suite\'s --limit 3')
      .example('$0 plan --suite nightly --baseline 30 --delta 5', 'the power of each nightly run') as Argv<Record<string, unknown>>,
  async handler(argv) {
    const baseline = number(argv.baseline, '--baseline', 0, 100, '30', true) / 100;
    const delta = number(argv.delta, '--delta', 0, 100, '2') / 100;
    const power = number(argv.power, '--power', 0, 1, '0.8');
    const alpha = number(argv.alpha, '--alpha', 0, 1, '0.05');
    const correlation = number(argv.correlation, '--correlation', 0, 1, '0.5', true);
    const icc = number(argv.icc, '--icc', 0, 1, '0.3', true);
    let units: { benchmark: BenchmarkName; format: PromptFormat; selection: Selection; dataDir: string }[];
    if (typeof argv.suite === 'string') {
      if (argv.benchmark !== undefined) throw new UsageError(`give a benchmark or --suite ${argv.suite}, not both`);
      const dataDir = resolveDataDir(typeof argv.dataDir === 'string' ? argv.dataDir : undefined);
      units = (await loadSuite(argv.suite)).units.map((u) => ({ benchmark: u.benchmark, format: u.format, selection: u.selection, dataDir }));
    } else {
      if (typeof argv.benchmark !== 'string') throw new UsageError('name a benchmark (mmlu, bbh, tydiqa, mgsm) or a --suite');
      const adapter = getBenchmark(argv.benchmark);
      units = [{ benchmark: adapter.name, ...parseFormatFlags(argv, adapter) }];
    }
    const plans: Plan[] = [];
    for (const u of units) {
      const size = await benchmarkSize(u.benchmark, u.format, u.selection, u.dataDir);
      const label = columnOf({ benchmark: u.benchmark, format: { ...u.format, split: u.selection.split ?? null, scoring: 'generate' } }).label;
      try {
        plans.push(makePlan({ benchmark: u.benchmark, label, size, baseline, delta, correlation, alpha, power, icc, limit: u.selection.limit ?? null }));
      } catch (e) {
        if (e instanceof RangeError) throw new UsageError(`--baseline ${100 * baseline} --delta ${100 * delta} --correlation ${correlation}: ${e.message}`);
        throw e;
      }
    }
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(plans.map(({ input, ...rest }) => ({ ...input, ...rest })), null, 2)}\n`);
    } else {
      process.stdout.write(`${plans.map(planText).join('\n\n')}\n`);
    }
  },
};
