import { basename, dirname } from 'node:path';

/** Prompts of the shapes the benchmarks build (few-shot headers, CoT triggers, option lists, short ones). */
export const SAMPLE_PROMPTS = [
  'The following are multiple choice questions (with answers) about algebra.\n\nQ: What is 2+2?\n(A) 3 (B) 4 (C) 5 (D) 6\nA:',
  'Q: Is the following sentence plausible? "The man sold his book."\nA: Let\'s think step by step.',
  'answer',
  'Question: Janet has 3 apples and buys 5 more. How many apples does she have?\nStep-by-Step Answer:',
  'What is the color of the ball? Options: red, blue, green, yellow, black, white, orange, purple, brown and gray.',
  'yes or no',
  'The following are multiple choice questions (with answers) about computer science. Which of the following best describes a function?',
  'Q: x\nA:',
];

export interface ReferenceContinuation {
  /** Generated ids, decoder start and EOS removed (as our backend reports them). */
  tokens: number[];
  endedWithEos: boolean;
  promptTokens: number;
}

/**
 * The reference: @huggingface/transformers' own seq2seq generate(), one prompt at a time, greedy, on the
 * model folder's local files only.
 */
export async function referenceGreedy(dir: string, dtype: 'fp32' | 'fp16', prompts: readonly string[], maxNewTokens: number): Promise<ReferenceContinuation[]> {
  const { AutoModelForSeq2SeqLM, AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir);
  const tok = await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
  const model = await AutoModelForSeq2SeqLM.from_pretrained(basename(dir), { local_files_only: true, dtype, device: 'cpu' });
  const out: ReferenceContinuation[] = [];
  for (const prompt of prompts) {
    const enc = tok(prompt);
    const generated = (await model.generate({ ...enc, max_new_tokens: maxNewTokens, do_sample: false })) as { tolist(): bigint[][] };
    // Transformers.js returns [decoder_start, ...generated, (eos)].
    const ids = generated.tolist()[0]!.slice(1).map(Number);
    const endedWithEos = ids.at(-1) === 1;
    out.push({ tokens: endedWithEos ? ids.slice(0, -1) : ids, endedWithEos, promptTokens: (enc.input_ids as { dims: number[] }).dims[1]! });
  }
  await model.dispose();
  return out;
}
