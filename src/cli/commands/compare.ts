import type { Argv, CommandModule } from 'yargs';
import { EXIT, unknownName, UsageError } from '../../errors.js';
import { loadRunRecords } from '../../results/read.js';
import { resolveDataDir } from '../../config/paths.js';
import { compareRuns } from '../../report/compare.js';
import { targetsFromData } from '../../report/targets.js';
import { renderCompareJson, renderCompareMarkdown } from '../../report/format/compare.js';
import { setExitCode } from '../main.js';

interface CompareArgs {
  baseline: string;
  current: string;
  'max-drop': number;
  alpha: number;
  format: string;
  json?: boolean;
  'data-dir'?: string;
  cluster?: string;
}

export const compareCommand: CommandModule<object, CompareArgs> = {
  command: 'compare <baseline> <current>',
  describe: 'regression check for CI: exit 1 when a score drops significantly',
  builder: (y: Argv<object>) =>
    y
      .positional('baseline', { type: 'string', demandOption: true, description: 'run record JSON, or a folder of them (e.g. results/baselines/…)' })
      .positional('current', { type: 'string', demandOption: true, description: 'run record JSON, or a folder of them (e.g. results/nightly)' })
      .option('max-drop', { type: 'number', default: 1, description: 'points: a drop this large or larger (and significant) fails the check' })
      .option('alpha', { type: 'number', default: 0.05, description: 'significance level of the paired test (exact McNemar); the CI is at 1 − alpha' })
      .option('format', { type: 'string', default: 'md', description: 'md (suits a GitHub job summary) or json' })
      .option('json', { type: 'boolean', description: 'same as --format json' })
      .option('cluster', {
        type: 'string',
        description: 'task: cluster the confidence interval by task (MMLU/BBH); MGSM (by problem) and TyDiQA (by passage) are clustered anyway',
      })
      .option('data-dir', { type: 'string', description: 'where to look up the targets of flipped examples when the predictions carry none (default $FLAN_EVAL_DATA, else ~/.cache/flan-eval/data)' })
      .example('$0 compare results/baselines/nightly-flan-t5-small results/nightly >> "$GITHUB_STEP_SUMMARY"', 'the nightly check') as Argv<CompareArgs>,
  handler: async (argv) => {
    if (argv.format !== 'md' && argv.format !== 'json') throw unknownName('--format', argv.format, ['md', 'json']);
    const maxDrop = argv['max-drop'];
    const alpha = argv.alpha;
    if (!Number.isFinite(maxDrop) || maxDrop < 0) throw new UsageError(`--max-drop ${Number.isNaN(maxDrop) ? '(not a number)' : maxDrop}: give a number of points, 0 or more (e.g. --max-drop 1)`);
    if (!Number.isFinite(alpha) || alpha <= 0 || alpha >= 1) throw new UsageError(`--alpha ${Number.isNaN(alpha) ? '(not a number)' : alpha}: give a significance level between 0 and 1 (e.g. --alpha 0.05)`);
    if (argv.cluster !== undefined && argv.cluster !== 'task') throw unknownName('--cluster', String(argv.cluster), ['task']);
    const baseline = await loadRunRecords([argv.baseline], 'baseline');
    const current = await loadRunRecords([argv.current], 'current');
    const result = await compareRuns(baseline, current, {
      maxDrop,
      alpha,
      targetsFor: targetsFromData(resolveDataDir(argv['data-dir'])),
      ...(argv.cluster === 'task' ? { cluster: 'task' as const } : {}),
    });
    if (result.pairs.length === 0) {
      // A CI check that compares nothing must not pass silently.
      const cols = (side: { column: string }[]) => [...new Set(side.map((r) => r.column))].join(', ');
      throw new UsageError(
        `${argv.baseline} (${cols(result.onlyBaseline)}) and ${argv.current} (${cols(result.onlyCurrent)}) have no benchmark × format in common; compare runs of the same suite`,
      );
    }
    const sources = { baseline: argv.baseline, current: argv.current };
    const json = argv.json || argv.format === 'json';
    process.stdout.write(json ? renderCompareJson(result, sources) : renderCompareMarkdown(result, sources));
    setExitCode(argv, result.regression ? EXIT.failed : EXIT.ok);
  },
};
