/**
 * Architectures flan-eval drives, by config.json `model_type` (as Transformers.js and lm-eval dispatch).
 * Its own module so that code which only needs to know the family of an export (`models pull`) does not
 * load the backends and ONNX Runtime.
 */
export const SEQ2SEQ_TYPES = ['t5', 'mt5'] as const;
export const CAUSAL_TYPES = ['llama', 'qwen2', 'gpt2'] as const;

/** True for a decoder-only export flan-eval drives (one graph: onnx/model.onnx, docs/protocol.md §6). */
export function isCausalType(modelType: string): boolean {
  return (CAUSAL_TYPES as readonly string[]).includes(modelType);
}
