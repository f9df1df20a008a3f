import { UsageError } from '../errors.js';
import { CAUSAL_TYPES, isCausalType, SEQ2SEQ_TYPES } from './archs.js';
import { readModelFolder } from './config.js';
import { OnnxCausalBackend } from './onnx/causal.js';
import { OnnxSeq2SeqBackend } from './onnx/seq2seq.js';
import type { BackendOptions, ModelBackend } from './types.js';


/**
 * The one place a backend is constructed: read `dir`/config.json and pick the backend by `model_type`
 * (t5 → encoder-decoder; llama, qwen2, gpt2 → causal LM). Everything else knows only `ModelBackend`.
 */
export async function loadBackend(dir: string, options: BackendOptions = {}): Promise<ModelBackend> {
  const folder = await readModelFolder(dir);
  const type = folder.modelType;
  if ((SEQ2SEQ_TYPES as readonly string[]).includes(type) || (folder.config.is_encoder_decoder === true && type === 'unknown')) {
    return OnnxSeq2SeqBackend.load({ dir, ...options }, folder);
  }
  if (isCausalType(type)) return OnnxCausalBackend.load({ dir, ...options }, folder);
  throw new UsageError(`${folder.configPath}: model_type "${type}" is not supported; flan-eval drives ${[...SEQ2SEQ_TYPES, ...CAUSAL_TYPES].join(', ')} exports`);
}
