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

/**
 * The decoder-only reference: @huggingface/transformers' causal-LM generate(), one prompt at a time, greedy,
 * on the folder's local files; and its forward pass for log-likelihoods. `eos` ends a continuation.
 */
export async function referenceCausal(dir: string, dtype: 'fp32' | 'fp16' = 'fp32') {
  const { AutoModelForCausalLM, AutoTokenizer, Tensor, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = dirname(dir);
  const tok = await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(basename(dir), { local_files_only: true, dtype, device: 'cpu' });
  const eos = new Set<number>([model.generation_config?.eos_token_id ?? []].flat().map(Number));
  return {
    async greedy(prompts: readonly string[], maxNewTokens: number): Promise<ReferenceContinuation[]> {
      const out: ReferenceContinuation[] = [];
      for (const prompt of prompts) {
        const enc = tok(prompt);
        const n = (enc.input_ids as { dims: number[] }).dims[1]!;
        const generated = (await model.generate({ ...enc, max_new_tokens: maxNewTokens, do_sample: false })) as { tolist(): bigint[][] };
        const ids = generated.tolist()[0]!.slice(n).map(Number);
        const endedWithEos = ids.length > 0 && eos.has(ids.at(-1)!);
        out.push({ tokens: endedWithEos ? ids.slice(0, -1) : ids, endedWithEos, promptTokens: n });
      }
      return out;
    },
    /** Sum of log-softmax of `ids[k]` at position k-1, for k ≥ `from` (one unpadded forward pass). */
    async loglik(ids: readonly number[], from: number): Promise<number> {
      const input_ids = new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const { logits } = (await model({ input_ids, attention_mask })) as { logits: { data: Float32Array; dims: number[] } };
      const V = logits.dims[2]!;
      let sum = 0;
      for (let k = from; k < ids.length; k++) {
        const row = logits.data.subarray((k - 1) * V, k * V);
        const max = row.reduce((a, b) => Math.max(a, b), -Infinity);
        const lse = max + Math.log(row.reduce((a, b) => a + Math.exp(b - max), 0));
        sum += row[ids[k]!]! - lse;
      }
      return sum;
    },
    dispose: () => model.dispose(),
  };
}
