/**
 * Throughput and peak memory of the flan-eval ONNX backend at several batch sizes (issue 3), on the
 * flan-t5-small-shaped test model and prompts from our own adapters. Each batch size runs in its own
 * child process, so its peak RSS is its own. No reference side: `bench.ts` does the comparison.
 *
 *   npm run build && node dist/benchmarks/speed/batchSizes.js [--batch-sizes 1,8,32] [--workload NAME]
 *                    [--examples N] [--data-dir D] [--model DIR] [--threads N]
 */
import { mkdtemp } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SAMPLE_DATA_DIR } from '../../src/config/paths.js';
import { loadAverage } from './machine.js';
import { log, ROOT, runWorker, speedModel } from './workerProcess.js';
import { buildWorkload, workloadByName } from './workloads.js';

const { values } = parseArgs({
  options: {
    'batch-sizes': { type: 'string', default: '1,8,32' },
    workload: { type: 'string', default: 'mmlu-direct-generate' },
    examples: { type: 'string', default: '32' },
    'data-dir': { type: 'string' },
    model: { type: 'string' },
    threads: { type: 'string' },
  },
});
const sizes = values['batch-sizes']!.split(',').map(Number);
const examples = Number(values.examples);
if (sizes.some((b) => !Number.isInteger(b) || b < 1) || !Number.isInteger(examples) || examples < 1) {
  process.stderr.write('batchSizes: --batch-sizes takes whole numbers ≥ 1 (e.g. 1,8,32) and --examples a whole number ≥ 1\n');
  process.exit(2);
}
const def = workloadByName(values.workload!);
const dataDir = resolve(values['data-dir'] ?? join(ROOT, SAMPLE_DATA_DIR));
const built = await buildWorkload(def, dataDir, examples);
if ('skipped' in built) {
  process.stderr.write(`batchSizes: ${def.name}: ${built.skipped}\n`);
  process.exit(2);
}
const modelDir = values.model ? resolve(values.model) : await speedModel();
const threads = values.threads ? Number(values.threads) : availableParallelism();
const tmp = await mkdtemp(join(tmpdir(), 'flan-eval-batch-'));
log(`${def.name}: ${built.items.length} examples, model ${modelDir}, ${threads} threads, load ${loadAverage().join(' ')}`);

const rows: string[] = [];
for (const batchSize of sizes) {
  const r = await runWorker({ side: 'ours', modelDir, threads, batchSize, workload: built }, tmp, `bs${batchSize}`, false);
  rows.push(
    `| ${batchSize} | ${(r.examples / r.seconds).toFixed(2)} | ${def.kind === 'generation' ? (r.steps / r.seconds).toFixed(1) : '—'} | ${r.maxRssMB.toFixed(0)} | ${((100 * r.encoderSeconds) / r.seconds).toFixed(0)}% | ${loadAverage()[0]} |`,
  );
}
process.stdout.write(
  `${def.name} (${def.kind}), ${built.items.length} examples, ${threads} threads\n\n| batch | examples/s | ${def.kind === 'generation' ? 'decoder steps/s' : '—'} | peak RSS MB | time in encoder | load1 after |\n|---:|---:|---:|---:|---:|---:|\n${rows.join('\n')}\n`,
);
