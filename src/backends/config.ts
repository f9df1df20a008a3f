import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { parseJson } from '../util/fs.js';
import type { Dtype, ModelShape } from './types.js';

/**
 * A model folder's JSON files (config.json, generation_config.json), read once and shared by the
 * factory (which dispatches on `model_type`), the backends and the memory planner's `ModelShape`.
 */
export interface ModelFolder {
  dir: string;
  configPath: string;
  config: Record<string, unknown>;
  /** generation_config.json, or {} when the folder has none. */
  generation: Record<string, unknown>;
  modelType: string;
  /** JSON files present, relative to `dir` (for run-record hashes). */
  files: string[];
  isTestModel: boolean;
}

export async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`${path}: missing; a model folder needs config.json, tokenizer.json and onnx/*.onnx (SPEC §6 layout, e.g. \`flan-eval models pull Xenova/flan-t5-small\`)`);
  }
  const value = parseJson(text, path);
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new UsageError(`${path}: expected a JSON object`);
  return value as Record<string, unknown>;
}

/** An integer field of `obj` (or `fallback`), with an error naming the file and the key. */
export function intField(obj: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new UsageError(`${file}: "${key}" must be an integer`);
  return v;
}

export async function readModelFolder(dir: string): Promise<ModelFolder> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new UsageError(`--model ${dir}: not a folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--model ${dir}: no such folder; pass a model folder (SPEC §6 layout) or a hub id pulled with \`flan-eval models pull\``);
  }
  const configPath = join(dir, 'config.json');
  const config = await readJson(configPath);
  const hasGen = await isFile(join(dir, 'generation_config.json'));
  const generation = hasGen ? await readJson(join(dir, 'generation_config.json')) : {};
  const files = ['config.json', 'tokenizer.json'];
  if (Object.keys(generation).length) files.push('generation_config.json');
  if (!(await isFile(join(dir, 'tokenizer.json')))) throw new UsageError(`${join(dir, 'tokenizer.json')}: missing; the model folder needs its tokenizer.json`);
  if (await isFile(join(dir, 'tokenizer_config.json'))) files.push('tokenizer_config.json');
  return { dir, configPath, config, generation, modelType: String(config.model_type ?? 'unknown'), files, isTestModel: config.flan_eval_test_model !== undefined };
}

/** EOS ids: generation_config.json wins over config.json (as in transformers); a list or one id. */
export function eosTokenIds(folder: ModelFolder, fallback: number): number[] {
  const eos = folder.generation.eos_token_id ?? folder.config.eos_token_id ?? fallback;
  return (Array.isArray(eos) ? eos : [eos]).map(Number);
}

/** Bytes per activation / cache element: float16 runs in 2 bytes; fp32, q8 and q4 compute in float32. */
export function bytesPerElement(dtype: Dtype): number {
  return dtype === 'fp16' ? 2 : 4;
}

/**
 * The sizes of a model from its config.json, under each family's own key names:
 * t5 (d_model, num_heads, d_kv, d_ff, num_layers, num_decoder_layers), llama/qwen2 (hidden_size,
 * num_attention_heads, num_key_value_heads, head_dim, intermediate_size, num_hidden_layers) and gpt2
 * (n_embd, n_head, n_inner, n_layer).
 */
export function modelShape(folder: ModelFolder, dtype: Dtype): ModelShape {
  const c = folder.config;
  const f = folder.configPath;
  const bytes = bytesPerElement(dtype);
  if (folder.modelType === 'gpt2') {
    const hidden = intField(c, 'n_embd', f);
    const heads = intField(c, 'n_head', f);
    const ffn = typeof c.n_inner === 'number' ? c.n_inner : 4 * hidden;
    return { kind: 'decoder-only', layers: intField(c, 'n_layer', f), encoderLayers: 0, hidden, heads, kvHeads: heads, headDim: hidden / heads, ffn, vocab: intField(c, 'vocab_size', f), bytesPerElement: bytes };
  }
  if (c.is_encoder_decoder === true || folder.modelType === 't5') {
    const hidden = intField(c, 'd_model', f);
    const heads = intField(c, 'num_heads', f);
    const encoderLayers = intField(c, 'num_layers', f);
    return {
      kind: 'encoder-decoder',
      layers: intField(c, 'num_decoder_layers', f, encoderLayers),
      encoderLayers,
      hidden,
      heads,
      kvHeads: heads,
      headDim: intField(c, 'd_kv', f, hidden / heads),
      ffn: intField(c, 'd_ff', f),
      vocab: intField(c, 'vocab_size', f),
      bytesPerElement: bytes,
    };
  }
  const hidden = intField(c, 'hidden_size', f);
  const heads = intField(c, 'num_attention_heads', f);
  return {
    kind: 'decoder-only',
    layers: intField(c, 'num_hidden_layers', f),
    encoderLayers: 0,
    hidden,
    heads,
    kvHeads: intField(c, 'num_key_value_heads', f, heads),
    headDim: intField(c, 'head_dim', f, hidden / heads),
    ffn: intField(c, 'intermediate_size', f),
    vocab: intField(c, 'vocab_size', f),
    bytesPerElement: bytes,
  };
}
