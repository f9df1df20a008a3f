import type { Argv, CommandModule } from 'yargs';
import { mergeShards } from '../../runner/merge.js';

export const mergeCommand: CommandModule<object, Record<string, unknown>> = {
  command: 'merge <results..>',
  describe: 'combine the shard outputs of `run --shard i/n` into one run record (refuses mismatched shards)',
  builder: (y: Argv<object>) =>
    y
      .positional('results', { type: 'string', array: true, description: 'shard run records, or folders holding them' })
      .option('out', { type: 'string', default: 'results', description: 'folder for the merged record and predictions' })
      .option('json', { type: 'boolean', default: false, description: 'print the merged records as JSON' })
      .example('$0 merge shards/ --out results/merged', 'merge every shard found under shards/') as Argv<Record<string, unknown>>,
  async handler(argv) {
    const outcomes = await mergeShards(argv.results as string[], String(argv.out));
    if (argv.json) {
      process.stdout.write(`${JSON.stringify(outcomes.map((o) => ({ record: o.recordPath, shards: o.shards, score: o.record.result.score, n: o.record.n })))}\n`);
      return;
    }
    for (const o of outcomes) {
      process.stdout.write(`${o.recordPath}: ${o.record.model.name} ${o.record.benchmark} from ${o.shards} shards, n = ${o.record.n}, score ${o.record.result.score.toFixed(2)}\n`);
    }
  },
};
