import type { CommandModule } from 'yargs';
import { makeTestModel, TEST_MODEL_SHAPES, type TestModelShape } from '../../models/testModel/index.js';

interface Args {
  out: string;
  shape: TestModelShape;
  seed: number;
  fp16: boolean;
  tokenizer?: string;
}

export const makeTestModelCommand: CommandModule<object, Args> = {
  command: 'make-test-model',
  describe: 'write a random-weight T5 in the real ONNX export layout (for tests and speed benchmarks only)',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'folder to write the model into' })
      .option('shape', { choices: Object.keys(TEST_MODEL_SHAPES) as TestModelShape[], default: 'tiny' as TestModelShape, describe: 'tiny (seconds, for tests) or flan-t5-small (real dimensions, ~800 MB)' })
      .option('seed', { type: 'number', default: 0, describe: 'weights are a deterministic function of the seed' })
      .option('fp16', { type: 'boolean', default: false, describe: 'also write the *_fp16.onnx variants (float16 weights and tensors)' })
      .option('tokenizer', { type: 'string', describe: "use this folder's tokenizer.json (e.g. a real T5 tokenizer) instead of a generated one; the vocabulary size follows it" }) as never,
  handler: async (args) => {
    process.stderr.write(`writing a random-weight ${args.shape} T5 (seed ${args.seed}) to ${args.out}\n`);
    const files = await makeTestModel({ out: args.out, shape: args.shape, seed: args.seed, fp16: args.fp16, ...(args.tokenizer ? { tokenizer: args.tokenizer } : {}) });
    process.stdout.write(`${files.map((f) => `${args.out}/${f}`).join('\n')}\n`);
  },
};
