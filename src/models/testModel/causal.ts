import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { GRAPH, onnxFile } from '../../backends/onnx/layout.js';
import { encodeModel } from '../../onnx/proto.js';
import { writeFileAtomic } from '../../util/fs.js';
import { bpeTokenizerJson, type BpeStyle } from './bpe.js';
import { causalGraph, causalWeights, type CausalConfig } from './causalGraph.js';
import { OPSET, type Precision } from './t5Graph.js';

type Sizes = Omit<CausalConfig, 'arch' | 'eosId' | 'maxPositions'> & { maxPositions?: number };

/** Shapes per decoder-only architecture: `tiny` for tests, and one real model's dimensions each. */
export const CAUSAL_SHAPES = {
  llama: {
    tiny: { vocab: 1024, hidden: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, ffn: 64, eps: 1e-5, ropeTheta: 10000 },
    'smollm2-135m': { vocab: 49152, hidden: 576, layers: 30, heads: 9, kvHeads: 3, headDim: 64, ffn: 1536, eps: 1e-5, ropeTheta: 100000 },
  },
  qwen2: {
    tiny: { vocab: 1024, hidden: 32, layers: 2, heads: 4, kvHeads: 2, headDim: 8, ffn: 64, eps: 1e-6, ropeTheta: 1000000 },
    'qwen2.5-0.5b': { vocab: 151936, hidden: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, ffn: 4864, eps: 1e-6, ropeTheta: 1000000 },
  },
  gpt2: {
    tiny: { vocab: 1024, hidden: 32, layers: 2, heads: 4, kvHeads: 4, headDim: 8, ffn: 128, eps: 1e-5, ropeTheta: 0, maxPositions: 1024 },
    gpt2: { vocab: 50257, hidden: 768, layers: 12, heads: 12, kvHeads: 12, headDim: 64, ffn: 3072, eps: 1e-5, ropeTheta: 0, maxPositions: 1024 },
  },
} satisfies Record<CausalConfig['arch'], Record<string, Sizes>>;
export type CausalArch = keyof typeof CAUSAL_SHAPES;

/** Special tokens as each family has them: Llama 3 puts BOS/EOS first and prepends BOS; GPT-2 and Qwen2 end with them and add none. */
function tokenizerStyle(arch: CausalArch, size: number): BpeStyle & { eos: string; eosId: number; extraConfig: object } {
  if (arch === 'llama') {
    return { leadingSpecials: ['<|begin_of_text|>', '<|end_of_text|>'], trailingSpecials: [], bos: '<|begin_of_text|>', size, eos: '<|end_of_text|>', eosId: 1, extraConfig: { tokenizer_class: 'PreTrainedTokenizerFast', bos_token: '<|begin_of_text|>', eos_token: '<|end_of_text|>', add_bos_token: true } };
  }
  if (arch === 'qwen2') {
    return { leadingSpecials: [], trailingSpecials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], bos: null, size, eos: '<|endoftext|>', eosId: size - 3, extraConfig: { tokenizer_class: 'Qwen2Tokenizer', bos_token: null, eos_token: '<|endoftext|>', pad_token: '<|endoftext|>' } };
  }
  return { leadingSpecials: [], trailingSpecials: ['<|endoftext|>'], bos: null, size, eos: '<|endoftext|>', eosId: size - 1, extraConfig: { tokenizer_class: 'GPT2Tokenizer', bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' } };
}

export function causalConfigJson(arch: CausalArch, c: CausalConfig, eosId: number, bosId: number, testModel: object): object {
  if (arch === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      vocab_size: c.vocab,
      n_embd: c.hidden,
      n_layer: c.layers,
      n_head: c.heads,
      n_inner: null,
      n_positions: c.maxPositions,
      n_ctx: c.maxPositions,
      activation_function: 'gelu_new',
      layer_norm_epsilon: c.eps,
      bos_token_id: bosId,
      eos_token_id: eosId,
      tie_word_embeddings: true,
      use_cache: true,
      flan_eval_test_model: testModel,
    };
  }
  return {
    architectures: [arch === 'llama' ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
    model_type: arch,
    vocab_size: c.vocab,
    hidden_size: c.hidden,
    intermediate_size: c.ffn,
    num_hidden_layers: c.layers,
    num_attention_heads: c.heads,
    num_key_value_heads: c.kvHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: 8192,
    rms_norm_eps: c.eps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    attention_bias: arch === 'qwen2',
    bos_token_id: bosId,
    eos_token_id: eosId,
    tie_word_embeddings: true,
    use_cache: true,
    torch_dtype: 'float32',
    flan_eval_test_model: testModel,
  };
}

/**
 * `make-test-model --arch llama|qwen2|gpt2`: random weights in the decoder-only export layout
 * (onnx/model.onnx, config.json, generation_config.json, tokenizer.json, tokenizer_config.json).
 */
export async function makeCausalTestModel(out: string, arch: CausalArch, shape: string, seed: number, opts: { fp16?: boolean } = {}): Promise<string[]> {
  const sizes = (CAUSAL_SHAPES[arch] as Record<string, Sizes>)[shape]!;
  const style = tokenizerStyle(arch, sizes.vocab);
  const cfg: CausalConfig = { arch, maxPositions: 0, ...sizes, eosId: style.eosId };
  const bosId = style.bos ? 0 : style.eosId;
  await mkdir(join(out, 'onnx'), { recursive: true });
  const json = (o: object) => `${JSON.stringify(o, null, 2)}\n`;
  const testModel = { arch, shape, seed, note: 'random weights: scores are meaningless' };
  const files: [string, string | Uint8Array][] = [
    ['config.json', json(causalConfigJson(arch, cfg, style.eosId, bosId, testModel))],
    ['generation_config.json', json({ bos_token_id: bosId, eos_token_id: style.eosId, do_sample: false })],
    ['tokenizer.json', json(bpeTokenizerJson(style))],
    ['tokenizer_config.json', json({ model_max_length: 8192, clean_up_tokenization_spaces: false, ...style.extraConfig })],
  ];
  for (const [name, data] of files) await writeFileAtomic(join(out, name), data);
  const weights = causalWeights(cfg, seed);
  // --fp16 adds model_fp16.onnx: the same weights rounded to float16, with float16 KV cache and logits, as
  // Optimum/Transformers.js fp16 exports have.
  const variants: [string, Precision][] = [[onnxFile(GRAPH.causal, 'fp32'), 'float32'], ...(opts.fp16 ? [[onnxFile(GRAPH.causal, 'fp16'), 'float16'] as [string, Precision]] : [])];
  for (const [name, precision] of variants) await writeFileAtomic(join(out, name), encodeModel(causalGraph(cfg, weights, { precision }), OPSET, 'flan-eval make-test-model'));
  return [...files.map(([n]) => n), ...variants.map(([n]) => n)];
}
