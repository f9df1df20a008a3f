import type { Dtype } from '../types.js';

/**
 * The Transformers.js / Optimum ONNX export layout, described once (SPEC §6). Every module that names a
 * model file — the backends, `models pull`, `make-test-model` — asks here.
 *
 *   config.json, generation_config.json (optional), tokenizer.json, tokenizer_config.json (optional)
 *   onnx/<graph><suffix>.onnx, where <suffix> names the weight variant (DTYPE_SUFFIX) and <graph> is
 *     encoder-decoder (t5):   encoder_model, and decoder_model_merged — or decoder_model (first step)
 *                             + decoder_with_past_model (later steps); an export may have all three
 *     decoder-only (llama, qwen2, gpt2): model (one graph: input_ids, attention_mask, position_ids,
 *                             past_key_values.N.key/value → logits, present.N.key/value), or
 *                             decoder_model_merged (same, with use_cache_branch) in older exports
 */

/** File-name suffix of each dtype variant. */
export const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4' };

export const GRAPH = {
  encoder: 'encoder_model',
  decoderMerged: 'decoder_model_merged',
  decoderFirst: 'decoder_model',
  decoderWithPast: 'decoder_with_past_model',
  causal: 'model',
} as const;
export type GraphName = (typeof GRAPH)[keyof typeof GRAPH];

/** Path of a graph's file for a dtype, relative to the model folder. */
export function onnxFile(graph: GraphName, dtype: Dtype): string {
  return `onnx/${graph}${DTYPE_SUFFIX[dtype]}.onnx`;
}
