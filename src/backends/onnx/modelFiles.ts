import { join } from 'node:path';
import { UsageError } from '../../errors.js';
import { eosTokenIds, intField, isFile, type ModelFolder } from '../config.js';
import type { Dtype } from '../types.js';
import { GRAPH, onnxFile, type GraphName } from './layout.js';

export interface ModelFiles {
  dir: string;
  config: Seq2SeqConfig;
  encoder: string;
  /** Either a merged decoder (optionally with a decoder-with-past beside it), or a first-step decoder plus a decoder-with-past. */
  decoder: { merged: string; withPast?: string } | { first: string; withPast: string };
  /** All files read, relative to `dir`. */
  files: string[];
}

export interface Seq2SeqConfig {
  modelType: string;
  numDecoderLayers: number;
  numHeads: number;
  dKv: number;
  dModel: number | null;
  vocabSize: number;
  decoderStartTokenId: number;
  eosTokenIds: number[];
  padTokenId: number;
  /** Set for models written by make-test-model. */
  testModel: boolean;
}

/**
 * A graph file of the export for a dtype: its absolute path, recorded in `files`; a missing required one
 * is an error that names the file and how to get it.
 */
export function graphFinder(dir: string, dtype: Dtype, files: string[]) {
  const has = (graph: GraphName) => isFile(join(dir, onnxFile(graph, dtype)));
  const need = async (graph: GraphName) => {
    const rel = onnxFile(graph, dtype);
    if (!(await isFile(join(dir, rel)))) {
      throw new UsageError(`${join(dir, rel)}: missing (--dtype ${dtype}); pull that variant (\`flan-eval models pull <id> --dtype ${dtype}\`) or choose another --dtype`);
    }
    files.push(rel);
    return join(dir, rel);
  };
  return { has, need };
}

/** Find the files of an encoder-decoder model folder for a dtype, with errors that name what is missing and how to get it. */
export async function resolveModelFiles(folder: ModelFolder, dtype: Dtype): Promise<ModelFiles> {
  const { dir, config: cfg, generation: gen, configPath } = folder;
  const files = [...folder.files];
  if (cfg.is_encoder_decoder === false) throw new UsageError(`${configPath}: not an encoder-decoder model; flan-eval drives seq2seq models such as Flan-T5`);
  const numLayers = intField(cfg, 'num_decoder_layers', configPath, typeof cfg.num_layers === 'number' ? cfg.num_layers : undefined);
  const config: Seq2SeqConfig = {
    modelType: folder.modelType,
    numDecoderLayers: numLayers,
    numHeads: intField(cfg, 'num_heads', configPath),
    dKv: intField(cfg, 'd_kv', configPath),
    dModel: typeof cfg.d_model === 'number' ? cfg.d_model : null,
    vocabSize: intField(cfg, 'vocab_size', configPath),
    decoderStartTokenId: intField({ ...cfg, ...gen }, 'decoder_start_token_id', configPath, 0),
    eosTokenIds: eosTokenIds(folder, 1),
    padTokenId: intField({ ...cfg, ...gen }, 'pad_token_id', configPath, 0),
    testModel: folder.isTestModel,
  };

  const { has, need } = graphFinder(dir, dtype, files);
  const encoder = await need(GRAPH.encoder);
  let decoder: ModelFiles['decoder'];
  if (await has(GRAPH.decoderMerged)) {
    decoder = { merged: await need(GRAPH.decoderMerged) };
    // A merged decoder passes the cross-attention cache through its If node, which copies it on every
    // step; where the export also has the decoder-with-past, later steps use that instead (about half
    // the step time at batch 16 on the flan-t5-small shape; see benchmarks/speed).
    if (await has(GRAPH.decoderWithPast)) decoder.withPast = await need(GRAPH.decoderWithPast);
  } else if (await has(GRAPH.decoderFirst)) {
    decoder = { first: await need(GRAPH.decoderFirst), withPast: await need(GRAPH.decoderWithPast) };
  } else {
    throw new UsageError(`${join(dir, onnxFile(GRAPH.decoderMerged, dtype))}: missing, and no ${onnxFile(GRAPH.decoderFirst, dtype)} + ${onnxFile(GRAPH.decoderWithPast, dtype)} either (--dtype ${dtype})`);
  }
  return { dir, config, encoder, decoder, files };
}
