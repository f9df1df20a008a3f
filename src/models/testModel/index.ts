import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseJson } from '../../util/fs.js';
import { GRAPH, onnxFile } from '../../backends/onnx/layout.js';
import type { Dtype } from '../../backends/types.js';
import { encodeModel } from '../../onnx/proto.js';
import { writeFileAtomic } from '../../util/fs.js';
import { UsageError } from '../../errors.js';
import { CAUSAL_SHAPES, makeCausalTestModel } from './causal.js';
import { decoderGraph, encoderGraph, OPSET, type Precision, type T5Config } from './t5Graph.js';
import { tokenizerConfigJson, tokenizerJson, tokenizerPieces } from './tokenizer.js';
import { randomWeights } from './weights.js';

/**
 * `make-test-model`: a random-weight T5 v1.1 / Flan-T5 in the Transformers.js / Optimum export layout
 * (docs/protocol.md §6). For tests and speed benchmarks only — its scores mean nothing.
 */
export const TEST_MODEL_SHAPES = {
  tiny: {
    tokenizer: { pieces: 600, extraIds: 4 },
    config: { d_model: 32, d_kv: 8, d_ff: 64, num_layers: 2, num_decoder_layers: 2, num_heads: 4 },
  },
  'flan-t5-small': {
    tokenizer: { pieces: 31997, extraIds: 100 },
    config: { d_model: 512, d_kv: 64, d_ff: 1024, num_layers: 8, num_decoder_layers: 8, num_heads: 6 },
  },
  // GPU speed measurements (scripts/device/gpu-speed.sh): the 250M model's dimensions.
  'flan-t5-base': {
    tokenizer: { pieces: 31997, extraIds: 100 },
    config: { d_model: 768, d_kv: 64, d_ff: 2048, num_layers: 12, num_decoder_layers: 12, num_heads: 12 },
  },
} as const;
export type TestModelShape = keyof typeof TEST_MODEL_SHAPES;

export const TEST_MODEL_ARCHS = ['t5', 'llama', 'qwen2', 'gpt2'] as const;
export type TestModelArch = (typeof TEST_MODEL_ARCHS)[number];

/** The shapes each architecture offers: `tiny` for tests, and one real model's dimensions. */
export function testModelShapes(arch: TestModelArch): string[] {
  return arch === 't5' ? Object.keys(TEST_MODEL_SHAPES) : Object.keys(CAUSAL_SHAPES[arch]);
}

export interface MakeTestModelOptions {
  out: string;
  /** Architecture (default t5). */
  arch?: TestModelArch;
  shape: string;
  seed: number;
  /** Also write the `_fp16` variants (float16 weights and float16 inputs/outputs, as fp16 exports have). */
  fp16?: boolean;
  /**
   * A folder holding a real tokenizer.json (and tokenizer_config.json, special_tokens_map.json): the model
   * uses it instead of the generated one, and its vocabulary size follows it, so prompts have real lengths.
   */
  tokenizer?: string;
}

/** Ids a tokenizer.json can produce: its model vocabulary and its added tokens. */
export function tokenizerVocabSize(tokenizerJson: unknown, path: string): number {
  const t = tokenizerJson as { model?: { vocab?: unknown }; added_tokens?: { id?: unknown }[] };
  const vocab = t.model?.vocab;
  const size = Array.isArray(vocab) ? vocab.length : vocab && typeof vocab === 'object' ? Object.keys(vocab).length : 0;
  if (!size) throw new UsageError(`--tokenizer: ${path} has no model.vocab; expected a Hugging Face tokenizer.json`);
  const added = (t.added_tokens ?? []).map((a) => (typeof a.id === 'number' ? a.id + 1 : 0));
  return Math.max(size, ...added);
}

/** The tokenizer files a model folder carries, read from `dir` (a real tokenizer) or generated. */
async function tokenizerFiles(dir: string | undefined, shape: TestModelShape): Promise<{ files: [string, string][]; tokens: number }> {
  const json = (o: object) => `${JSON.stringify(o, null, 2)}\n`;
  if (dir === undefined) {
    const s = TEST_MODEL_SHAPES[shape].tokenizer;
    const files: [string, string][] = [
      ['tokenizer.json', json(tokenizerJson(s))],
      ['tokenizer_config.json', json(tokenizerConfigJson(s.extraIds))],
      ['special_tokens_map.json', json({ eos_token: '</s>', pad_token: '<pad>', unk_token: '<unk>' })],
    ];
    return { files, tokens: 3 + tokenizerPieces(s).length + s.extraIds };
  }
  const read = async (name: string, required: boolean): Promise<string | null> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch {
      if (required) throw new UsageError(`--tokenizer ${dir}: no ${name} there; give a folder holding a Hugging Face tokenizer.json`);
      return null;
    }
  };
  const main = (await read('tokenizer.json', true))!;
  const tokens = tokenizerVocabSize(parseJson(main, join(dir, 'tokenizer.json')), join(dir, 'tokenizer.json'));
  const files: [string, string][] = [['tokenizer.json', main]];
  for (const name of ['tokenizer_config.json', 'special_tokens_map.json']) {
    const text = await read(name, false);
    if (text !== null) files.push([name, text]);
  }
  return { files, tokens };
}

/** `tokens`: ids the tokenizer produces (default: the generated tokenizer of the shape). */
export function testModelConfig(shape: TestModelShape, tokens?: number): T5Config {
  const s = TEST_MODEL_SHAPES[shape];
  tokens ??= 3 + tokenizerPieces(s.tokenizer).length + s.tokenizer.extraIds;
  return {
    ...s.config,
    // Like the real checkpoints (32100 tokens, 32128 rows), the embedding is padded to a multiple of 64,
    // so the model can emit ids the tokenizer does not know; the backend must cope with that.
    vocab_size: Math.ceil(tokens / 64) * 64,
    relative_attention_num_buckets: 32,
    relative_attention_max_distance: 128,
    layer_norm_epsilon: 1e-6,
  };
}

export async function makeTestModel(opts: MakeTestModelOptions): Promise<string[]> {
  const arch = opts.arch ?? 't5';
  if (!TEST_MODEL_ARCHS.includes(arch)) throw new UsageError(`--arch: unknown architecture "${arch}"; use ${TEST_MODEL_ARCHS.join(', ')}`);
  const shapes = testModelShapes(arch);
  if (!shapes.includes(opts.shape)) throw new UsageError(`--shape: unknown shape "${opts.shape}" for --arch ${arch}; use ${shapes.join(' or ')}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 0) throw new UsageError(`--seed: expected a non-negative integer, got ${opts.seed}`);
  if (arch !== 't5') {
    if (opts.tokenizer) throw new UsageError(`--tokenizer: only --arch t5 takes a tokenizer folder so far`);
    return makeCausalTestModel(opts.out, arch, opts.shape, opts.seed, { fp16: opts.fp16 === true });
  }
  const tok = await tokenizerFiles(opts.tokenizer, opts.shape as TestModelShape);
  const cfg = testModelConfig(opts.shape as TestModelShape, tok.tokens);
  await mkdir(join(opts.out, 'onnx'), { recursive: true });
  const json = (o: object) => `${JSON.stringify(o, null, 2)}\n`;
  const files: [string, string | Uint8Array][] = [
    [
      'config.json',
      json({
        architectures: ['T5ForConditionalGeneration'],
        model_type: 't5',
        ...cfg,
        feed_forward_proj: 'gated-gelu',
        dense_act_fn: 'gelu_new',
        is_gated_act: true,
        is_encoder_decoder: true,
        tie_word_embeddings: false,
        decoder_start_token_id: 0,
        pad_token_id: 0,
        eos_token_id: 1,
        use_cache: true,
        flan_eval_test_model: { shape: opts.shape, seed: opts.seed, ...(opts.tokenizer ? { tokenizer: 'given' } : {}), note: 'random weights: scores are meaningless' },
      }),
    ],
    ['generation_config.json', json({ decoder_start_token_id: 0, eos_token_id: 1, pad_token_id: 0 })],
    ...tok.files,
  ];
  for (const [name, data] of files) await writeFileAtomic(join(opts.out, name), data);
  const weights = randomWeights(cfg, opts.seed);
  const precisions: [Precision, Dtype][] = [['float32', 'fp32'], ...(opts.fp16 ? [['float16', 'fp16'] as [Precision, Dtype]] : [])];
  const graphs = precisions.flatMap(([p, dtype]) => [
    [onnxFile(GRAPH.encoder, dtype), () => encoderGraph(cfg, weights, p)],
    [onnxFile(GRAPH.decoderMerged, dtype), () => decoderGraph(cfg, weights, 'merged', p)],
    [onnxFile(GRAPH.decoderFirst, dtype), () => decoderGraph(cfg, weights, 'plain', p)],
    [onnxFile(GRAPH.decoderWithPast, dtype), () => decoderGraph(cfg, weights, 'withPast', p)],
  ] as const);
  // One graph at a time: the flan-t5-small files are 100–250 MB each.
  for (const [name, build] of graphs) await writeFileAtomic(join(opts.out, name), encodeModel(build(), OPSET, 'flan-eval make-test-model'));
  return [...files.map(([n]) => n), ...graphs.map(([n]) => n)];
}
