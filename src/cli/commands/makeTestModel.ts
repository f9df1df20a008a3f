import type { CommandModule } from 'yargs';
import { makeTestModel, TEST_MODEL_ARCHS, testModelShapes, type TestModelArch } from '../../models/testModel/index.js';

interface Args {
  out: string;
  arch: TestModelArch;
  shape: string;
  seed: number;
  fp16: boolean;
  tokenizer?: string;
}

const SHAPES = [...new Set(TEST_MODEL_ARCHS.flatMap((a) => testModelShapes(a)))];

export const makeTestModelCommand: CommandModule<object, Args> = {
  command: 'make-test-model',
  describe: 'write a random-weight model (T5, Llama, Qwen2 or GPT-2) in the real ONNX export layout (for tests and speed benchmarks only)',
  builder: (y) =>
    y
      .option('out', { type: 'string', demandOption: true, describe: 'folder to write the model into' })
      .option('arch', { choices: TEST_MODEL_ARCHS, default: 't5' as TestModelArch, describe: 't5 (encoder-decoder) or a decoder-only family: llama, qwen2, gpt2' })
      .option('shape', {
        choices: SHAPES,
        default: 'tiny',
        describe: `tiny (seconds, for tests) or real dimensions: ${TEST_MODEL_ARCHS.map((a) => `${testModelShapes(a).filter((s) => s !== 'tiny').join(', ')} (${a})`).join('; ')}`,
      })
      .option('seed', { type: 'number', default: 0, describe: 'weights are a deterministic function of the seed' })
      .option('fp16', { type: 'boolean', default: false, describe: 'also write the *_fp16.onnx variants (float16 weights, KV cache and logits)' })
      .option('tokenizer', { type: 'string', describe: "t5: use this folder's tokenizer.json (e.g. a real T5 tokenizer) instead of a generated one; the vocabulary size follows it" }) as never,
  handler: async (args) => {
    process.stderr.write(`writing a random-weight ${args.shape} ${args.arch} (seed ${args.seed}) to ${args.out}\n`);
    const files = await makeTestModel({ out: args.out, arch: args.arch, shape: args.shape, seed: args.seed, fp16: args.fp16, ...(args.tokenizer ? { tokenizer: args.tokenizer } : {}) });
    process.stdout.write(`${files.map((f) => `${args.out}/${f}`).join('\n')}\n`);
  },
};
