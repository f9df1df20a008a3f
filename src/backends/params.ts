import { join } from 'node:path';
import { readOnnxSummary } from '../models/onnxParams.js';
import { modelShape, type ModelFolder } from './config.js';
import { GRAPH } from './onnx/layout.js';

/**
 * The parameter count of a model, from the initializers of the ONNX files it runs (one function for
 * every architecture, so reports can sort T5 and decoder-only models on one axis).
 *
 * Each parameter is counted once, as `model.num_parameters()` in transformers counts it:
 * - a decoder-with-past graph repeats the weights of the decoder beside it, so it is not counted;
 * - the tied-embedding rule: the token embedding is one parameter wherever it is stored. An encoder and
 *   a decoder file each hold a copy of a seq2seq model's shared embedding (`sharedEmbedding` elements,
 *   subtracted once per extra file); and when config.json ties the output projection to the embedding
 *   (`tie_word_embeddings`, true by default in transformers) but the export stores it a second time as its
 *   own vocab × hidden initializer, that copy is not counted.
 * `models list` (the pull manifest) and run records both use this function, so they show one count. A file
 * that cannot be read is an error naming it, never a silent "unknown": the backend has just loaded it.
 */
export async function countModelParams(folder: ModelFolder, files: readonly string[], opts: { sharedEmbedding?: number; vocab?: number; hidden?: number } = {}): Promise<number> {
  const onnx = files.filter((f) => f.endsWith('.onnx') && !f.includes(GRAPH.decoderWithPast));
  const tied = folder.config.tie_word_embeddings !== false && opts.vocab !== undefined && opts.hidden !== undefined;
  const summaries = await Promise.all(onnx.map((f) => readOnnxSummary(join(folder.dir, f), { dims: tied })));
  let params = summaries.reduce((a, s) => a + s.params, 0);
  if (onnx.length > 1) params -= (onnx.length - 1) * (opts.sharedEmbedding ?? 0);
  if (tied) {
    const isEmbedding = (d: number[]) => d.length === 2 && ((d[0] === opts.vocab && d[1] === opts.hidden) || (d[0] === opts.hidden && d[1] === opts.vocab));
    for (const s of summaries) {
      const copies = (s.dims ?? []).filter(isEmbedding).length;
      if (copies > 1) params -= (copies - 1) * opts.vocab! * opts.hidden!;
    }
  }
  return params;
}

/** The token embedding (vocab_size × d_model) that both files of an encoder-decoder export store. */
export function seq2seqSharedEmbedding(config: { vocabSize: number; dModel: number | null }): number {
  return config.dModel ? config.vocabSize * config.dModel : 0;
}

/**
 * The count of a decoder-only export's graph files, with the tied-embedding rule sized from its config.json
 * (vocab × hidden). The causal backend (run records) and `models pull` (the manifest) both call this.
 */
export function causalModelParams(folder: ModelFolder, files: readonly string[]): Promise<number> {
  const { vocab, hidden } = modelShape(folder, 'fp32');
  return countModelParams(folder, files, { vocab, hidden });
}
