import type { Argv, CommandModule } from 'yargs';
import { upstreamUrls } from '../../data/expected.js';
import { fetchData } from '../../data/fetch.js';
import { loadPins } from '../../data/pins.js';
import { checkMirror, parseBenchmarks, type DataBenchmark } from '../../data/sources.js';
import { presentBenchmarks, verifyData, type VerifyReport } from '../../data/verify.js';
import { resolveDataDir } from '../../config/paths.js';
import { EXIT } from '../../errors.js';
import { withInterruptCleanup } from '../../net/download.js';
import { Progress } from '../../net/progress.js';
import { netSettings } from '../../net/settings.js';
import { setExitCode } from '../main.js';

/**
 * `flan-eval data fetch [benchmark…]` and `flan-eval data verify [benchmark…]` (docs/protocol.md §1, §5).
 * Progress goes to stderr; the summary (or `--json` document) to stdout.
 */

type Args = Record<string, unknown>;

const dataDirOption = {
  type: 'string',
  description: 'data directory (default: $FLAN_EVAL_DATA, else ~/.cache/flan-eval/data)',
} as const;

// Hidden: an alternative pin table (sha256sum format) for tests and re-packaged data; see README.
const pinsOption = { type: 'string', hidden: true, description: 'pin table to check GitHub-hosted files against' } as const;

const benchmarksPositional = {
  type: 'string',
  array: true,
  description: 'mmlu, bbh, mgsm, tydiqa or all',
} as const;

const fetchCommand: CommandModule<object, Args> = {
  command: 'fetch [benchmarks..]',
  describe: 'download the upstream files into the data directory, verified by SHA-256',
  builder: (y: Argv<object>) =>
    y
      .positional('benchmarks', benchmarksPositional)
      .option('data-dir', dataDirOption)
      .option('mirror', {
        type: 'string',
        description: 'fetch from <mirror>/<upstream host>/<upstream path> instead of the upstream hosts (default: $FLAN_EVAL_MIRROR)',
      })
      .option('force', { type: 'boolean', default: false, description: 'download again even files already in place and verified' })
      .option('json', { type: 'boolean', default: false, description: 'print a JSON summary' })
      .option('list-urls', { type: 'boolean', default: false, description: 'print the upstream URLs, one a line, and download nothing (to build a mirror)' })
      .option('pins', pinsOption)
      .example('$0 data fetch all', 'everything (about 250 MB of downloads)')
      .example('$0 data fetch bbh mgsm --data-dir ./data', 'two benchmarks into ./data') as Argv<Args>,
  async handler(argv) {
    const benchmarks = parseBenchmarks(argv.benchmarks as string[] | undefined);
    const dataDir = resolveDataDir(argv.dataDir as string | undefined);
    const mirror = checkMirror((argv.mirror as string | undefined) ?? process.env.FLAN_EVAL_MIRROR);
    const pins = await loadPins(argv.pins as string | undefined);
    if (argv.listUrls) {
      process.stdout.write(upstreamUrls(benchmarks, pins).map((u) => `${u}\n`).join(''));
      return;
    }
    const progress = new Progress(0);
    process.stderr.write(`flan-eval: fetching ${benchmarks.join(', ')} into ${dataDir}${mirror ? ` from mirror ${mirror}` : ''}\n`);
    let summary;
    try {
      summary = await withInterruptCleanup(() =>
        fetchData({ dataDir, benchmarks, pins, net: netSettings(), mirror, force: Boolean(argv.force), progress }),
      );
    } finally {
      progress.finish();
    }
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ dataDir, benchmarks, ...summary })}\n`);
      return;
    }
    const recorded = summary.recorded.length > 0 ? `; recorded the hashes of ${summary.recorded.length} unpinned downloads in the lock file` : '';
    process.stdout.write(
      `${dataDir}: placed ${summary.placed.length} files, ${summary.upToDate.length} already up to date${recorded}\n`,
    );
  },
};

const verifyCommand: CommandModule<object, Args> = {
  command: 'verify [benchmarks..]',
  describe: 'check every data file against its pin or lock record: ok, missing, modified (exit 1) or unrecorded',
  builder: (y: Argv<object>) =>
    y
      .positional('benchmarks', { ...benchmarksPositional, description: 'benchmarks to check (default: those with a folder in the data directory)' })
      .option('data-dir', dataDirOption)
      .option('json', { type: 'boolean', default: false, description: 'print one JSON document' })
      .option('pins', pinsOption) as Argv<Args>,
  async handler(argv) {
    const dataDir = resolveDataDir(argv.dataDir as string | undefined);
    const named = argv.benchmarks as string[] | undefined;
    const benchmarks: DataBenchmark[] = named && named.length > 0 ? parseBenchmarks(named) : await presentBenchmarks(dataDir);
    const pins = await loadPins(argv.pins as string | undefined);
    const report = await verifyData(dataDir, benchmarks, pins);
    process.stdout.write(argv.json ? `${JSON.stringify(report)}\n` : verifyText(report));
    if (!report.ok) setExitCode(argv, EXIT.failed);
  },
};

export function verifyText(r: VerifyReport): string {
  const lines = r.files.map((f) => {
    const detail =
      f.status === 'modified'
        ? `  (expected ${f.expected} from the ${f.basis === 'pin' ? 'pin table' : 'lock file'}, found ${f.actual})`
        : f.status === 'unrecorded'
          ? '  (no pin and no lock record; `flan-eval data fetch` downloads and records it)'
          : '';
    return `${f.status.padEnd(10)} ${f.path}${detail}`;
  });
  const c = r.counts;
  const tail = r.ok ? '' : '; run `flan-eval data fetch` to restore them';
  lines.push(`${r.dataDir}: ${r.files.length} files: ${c.ok} ok, ${c.missing} missing, ${c.modified} modified, ${c.unrecorded} unrecorded${tail}`);
  return `${lines.join('\n')}\n`;
}

export const dataCommand: CommandModule<object, Args> = {
  command: 'data',
  describe: 'download (fetch) and check (verify) the upstream benchmark files',
  builder: (y: Argv<object>) =>
    y.command(fetchCommand).command(verifyCommand).demandCommand(1, 'name an action: fetch or verify') as Argv<Args>,
  handler: () => {},
};
