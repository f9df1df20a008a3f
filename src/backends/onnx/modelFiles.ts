import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { parseJson } from '../../util/fs.js';
import type { Dtype } from '../types.js';

/** File-name suffix of each dtype variant in Transformers.js / Optimum exports (SPEC §6). */
export const DTYPE_SUFFIX: Record<Dtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized' };

export interface ModelFiles {
  dir: string;
  config: Seq2SeqConfig;
  encoder: string;
  /** Either a merged decoder, or a first-step decoder plus a decoder-with-past. */
  decoder: { merged: string } | { first: string; withPast: string };
  /** All files read, relative to `dir`. */
  files: string[];
}

export interface Seq2SeqConfig {
  modelType: string;
  numDecoderLayers: number;
  numEncoderLayers: number;
  numHeads: number;
  dKv: number;
  dModel: number | null;
  /** Feed-forward width (d_ff); null when the config lacks it. */
  dFf: number | null;
  vocabSize: number;
  decoderStartTokenId: number;
  eosTokenIds: number[];
  padTokenId: number;
  /** Set for models written by make-test-model. */
  testModel: boolean;
}

async function isFile(path: string): Promise<boolean> {
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

function int(obj: Record<string, unknown>, key: string, file: string, fallback?: number): number {
  const v = obj[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new UsageError(`${file}: "${key}" must be an integer`);
  return v;
}

/** Find the files of a model folder for a dtype, with errors that name what is missing and how to get it. */
export async function resolveModelFiles(dir: string, dtype: Dtype): Promise<ModelFiles> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new UsageError(`--model ${dir}: not a folder`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--model ${dir}: no such folder; pass a model folder (SPEC §6 layout) or a hub id pulled with \`flan-eval models pull\``);
  }
  const configPath = join(dir, 'config.json');
  const cfg = await readJson(configPath);
  const gen = (await isFile(join(dir, 'generation_config.json'))) ? await readJson(join(dir, 'generation_config.json')) : {};
  const files = ['config.json', 'tokenizer.json'];
  if (Object.keys(gen).length) files.push('generation_config.json');
  if (!(await isFile(join(dir, 'tokenizer.json')))) throw new UsageError(`${join(dir, 'tokenizer.json')}: missing; the model folder needs its tokenizer.json`);
  if (await isFile(join(dir, 'tokenizer_config.json'))) files.push('tokenizer_config.json');

  if (cfg.is_encoder_decoder === false) throw new UsageError(`${configPath}: not an encoder-decoder model; flan-eval drives seq2seq models such as Flan-T5`);
  const numLayers = int(cfg, 'num_decoder_layers', configPath, typeof cfg.num_layers === 'number' ? cfg.num_layers : undefined);
  const eos = gen.eos_token_id ?? cfg.eos_token_id ?? 1;
  const config: Seq2SeqConfig = {
    modelType: String(cfg.model_type ?? 'unknown'),
    numDecoderLayers: numLayers,
    numEncoderLayers: int(cfg, 'num_layers', configPath, numLayers),
    numHeads: int(cfg, 'num_heads', configPath),
    dKv: int(cfg, 'd_kv', configPath),
    dModel: typeof cfg.d_model === 'number' ? cfg.d_model : null,
    dFf: typeof cfg.d_ff === 'number' ? cfg.d_ff : null,
    vocabSize: int(cfg, 'vocab_size', configPath),
    decoderStartTokenId: int({ ...cfg, ...gen }, 'decoder_start_token_id', configPath, 0),
    eosTokenIds: (Array.isArray(eos) ? eos : [eos]).map(Number),
    padTokenId: int({ ...cfg, ...gen }, 'pad_token_id', configPath, 0),
    testModel: cfg.flan_eval_test_model !== undefined,
  };

  const suffix = DTYPE_SUFFIX[dtype];
  const onnx = (base: string) => `onnx/${base}${suffix}.onnx`;
  const need = async (rel: string) => {
    if (!(await isFile(join(dir, rel)))) {
      throw new UsageError(`${join(dir, rel)}: missing (--dtype ${dtype}); pull that variant (\`flan-eval models pull <id> --dtype ${dtype}\`) or choose another --dtype`);
    }
    files.push(rel);
    return join(dir, rel);
  };
  const encoder = await need(onnx('encoder_model'));
  let decoder: ModelFiles['decoder'];
  if (await isFile(join(dir, onnx('decoder_model_merged')))) {
    decoder = { merged: await need(onnx('decoder_model_merged')) };
  } else if (await isFile(join(dir, onnx('decoder_model')))) {
    decoder = { first: await need(onnx('decoder_model')), withPast: await need(onnx('decoder_with_past_model')) };
  } else {
    throw new UsageError(`${join(dir, onnx('decoder_model_merged'))}: missing, and no ${onnx('decoder_model')} + ${onnx('decoder_with_past_model')} either (--dtype ${dtype})`);
  }
  return { dir, config, encoder, decoder, files };
}
