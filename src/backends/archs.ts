import { UsageError } from '../errors.js';

/**
 * Architectures flan-eval drives, by config.json `model_type` (as Transformers.js and lm-eval dispatch).
 * Its own module so that code which only needs to know the family of an export (`models pull`, which
 * picks the graphs to fetch) does not load the backends and ONNX Runtime.
 */
export const SEQ2SEQ_TYPES = ['t5', 'mt5'] as const;
export const CAUSAL_TYPES = ['llama', 'qwen2', 'gpt2'] as const;

export type ModelFamily = 'seq2seq' | 'causal';

/**
 * The family of an export from its config.json: encoder-decoder (t5, or an untyped config that says
 * is_encoder_decoder) or decoder-only; an error naming `where` and the supported types otherwise.
 */
export function modelFamily(config: Record<string, unknown>, where: string): ModelFamily {
  const type = String(config.model_type ?? 'unknown');
  if ((SEQ2SEQ_TYPES as readonly string[]).includes(type) || (config.is_encoder_decoder === true && type === 'unknown')) return 'seq2seq';
  if ((CAUSAL_TYPES as readonly string[]).includes(type)) return 'causal';
  throw new UsageError(`${where}: model_type "${type}" is not supported; flan-eval drives ${[...SEQ2SEQ_TYPES, ...CAUSAL_TYPES].join(', ')} exports`);
}
