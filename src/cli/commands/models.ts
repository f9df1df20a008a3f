import type { Argv, CommandModule } from 'yargs';
import { listCachedModels, MODEL_DTYPES, modelsRoot, type CachedModel, type ModelDtype } from '../../models/cache.js';
import { hubEndpoint, pullModel } from '../../models/hub.js';
import { withInterruptCleanup } from '../../net/download.js';
import { formatBytes, Progress } from '../../net/progress.js';
import { netSettings } from '../../net/settings.js';

/**
 * `flan-eval models pull <hub-id>` and `flan-eval models list` (SPEC §5, §6). `pull` prints the model folder
 * on stdout (so `--model "$(flan-eval models pull X)"` works); progress goes to stderr.
 */

type Args = Record<string, unknown>;

const pullCommand: CommandModule<object, Args> = {
  command: 'pull <id>',
  describe: 'download an ONNX export (Transformers.js / Optimum layout) from the Hugging Face Hub into the cache',
  builder: (y: Argv<object>) =>
    y
      .positional('id', { type: 'string', description: 'Hub model id, e.g. Xenova/flan-t5-small' })
      .option('revision', { type: 'string', default: 'main', description: 'branch, tag or commit' })
      .option('dtype', { choices: MODEL_DTYPES, default: 'fp32' as ModelDtype, description: 'which ONNX files: fp32, fp16 (_fp16), q8 (_quantized) or q4 (_q4)' })
      .option('force', { type: 'boolean', default: false, description: 'download again even files already in the cache' })
      .option('json', { type: 'boolean', default: false, description: 'print a JSON summary' })
      .example('$0 models pull Xenova/flan-t5-small', 'the 80M Flan-T5, fp32')
      .example('HF_ENDPOINT=https://hf-mirror.example $0 models pull Xenova/flan-t5-base --dtype q8', 'through a Hub mirror') as Argv<Args>,
  async handler(argv) {
    const id = String(argv.id);
    const progress = new Progress(0);
    process.stderr.write(`flan-eval: pulling ${id}@${argv.revision} (${argv.dtype}) from ${hubEndpoint()}\n`);
    let r;
    try {
      r = await withInterruptCleanup(() =>
        pullModel({ id, revision: argv.revision as string, dtype: argv.dtype as ModelDtype, net: netSettings(), progress, force: Boolean(argv.force) }),
      );
    } finally {
      progress.finish();
    }
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    process.stderr.write(
      `flan-eval: ${r.id}@${r.revision}${r.commit ? ` (${r.commit.slice(0, 12)})` : ''}: ${r.downloaded.length} files downloaded, ${r.files.length - r.downloaded.length} already cached; ${formatParams(r.params)} parameters\n`,
    );
    process.stdout.write(`${r.dir}\n`);
  },
};

const listCommand: CommandModule<object, Args> = {
  command: 'list',
  describe: 'show the models in the cache with their size and parameter count',
  builder: (y: Argv<object>) => y.option('json', { type: 'boolean', default: false, description: 'print one JSON document' }) as Argv<Args>,
  async handler(argv) {
    const models = await listCachedModels();
    if (argv.json) {
      process.stdout.write(`${JSON.stringify({ root: modelsRoot(), models })}\n`);
      return;
    }
    process.stdout.write(listText(models, modelsRoot()));
  },
};

export function listText(models: readonly CachedModel[], root: string): string {
  if (models.length === 0) return `no models in ${root}; run \`flan-eval models pull Xenova/flan-t5-small\`\n`;
  const rows = [['model', 'revision', 'dtypes', 'params', 'size', 'folder'], ...models.map((m) => [m.id, m.revision, m.dtypes.join(','), formatParams(m.params), formatBytes(m.bytes), m.dir])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

/** 76961152 → "77.0M"; the paper's sizes (80M, 250M, 780M, 3B, 11B) are of this kind. */
export function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}K`;
  return String(n);
}

export const modelsCommand: CommandModule<object, Args> = {
  command: 'models',
  describe: 'download (pull) and list ONNX model exports in the cache',
  builder: (y: Argv<object>) => y.command(pullCommand).command(listCommand).demandCommand(1, 'name an action: pull or list') as Argv<Args>,
  handler: () => {},
};
