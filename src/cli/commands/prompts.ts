import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { getBenchmark } from '../../benchmarks/registry.js';
import { notice } from '../../benchmarks/common.js';
import { UsageError } from '../../errors.js';
import { writeFileAtomic } from '../../util/fs.js';
import { describeFormat, formatOptions, parseFormatFlags } from '../format-flags.js';

/**
 * `flan-eval prompts <benchmark>`: write the exact prompts of a format without a model, one JSON line per
 * item with exactly `id`, `benchmark`, `task`, `prompt`, `target` (docs/protocol.md §5), so that any other system can
 * produce predictions for `flan-eval score`.
 */
export const promptsCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'prompts <benchmark>',
  describe: 'write the prompts of a benchmark and format as JSONL, without a model',
  builder: (y: Argv<object>) =>
    y
      .positional('benchmark', { type: 'string', description: 'mmlu, bbh, tydiqa or mgsm' })
      .options(formatOptions)
      .option('out', { type: 'string', demandOption: true, description: 'the JSONL file to write (`--out=-` for stdout)' })
      .example('$0 prompts mmlu --cot --tasks anatomy --out mmlu-cot.jsonl', 'MMLU CoT 5-shot prompts for one subject')
      .example('$0 prompts bbh --zero-shot --limit 10 --out bbh.jsonl', 'the first 10 direct zero-shot prompts of each BBH task') as Argv<Record<string, unknown>>,
  async handler(argv) {
    const adapter = getBenchmark(String(argv.benchmark));
    const { format, selection, dataDir } = parseFormatFlags(argv, adapter);
    const out = argv.out;
    if (typeof out !== 'string' || out === '') throw new UsageError('--out needs a file name');
    if ((await stat(out).catch(() => null))?.isDirectory()) throw new UsageError(`--out ${out} is a folder; give a file name such as ${join(out, `${adapter.name}.jsonl`)}`);
    const { items, tasks } = await adapter.prepare(dataDir, format, selection);
    // Exactly the five docs/protocol.md fields, in this order: the file is a contract with other tools.
    const text = items.map((i) => `${JSON.stringify({ id: i.id, benchmark: i.benchmark, task: i.task, prompt: i.prompt, target: i.target })}\n`).join('');
    if (out === '-') process.stdout.write(text);
    else await writeFileAtomic(out, text);
    notice(`${items.length} ${adapter.name} prompts (${describeFormat(format, selection)}, ${tasks.length} tasks) written to ${out === '-' ? 'stdout' : out}`);
  },
};
