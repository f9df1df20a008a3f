import { modelFamily } from './archs.js';
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
  if (modelFamily(folder.config, folder.configPath) === 'seq2seq') return OnnxSeq2SeqBackend.load({ dir, ...options }, folder);
  return OnnxCausalBackend.load({ dir, ...options }, folder);
}
