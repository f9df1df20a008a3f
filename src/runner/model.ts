import { join } from 'node:path';
import type { OnnxSeq2SeqBackend } from '../backends/onnx/seq2seq.js';
import { countOnnxParams } from '../models/onnxParams.js';
import type { RunRecord } from '../types.js';
import { hashFiles } from './hashing.js';

/**
 * The model part of a run record: file hashes and the parameter count read from the ONNX initializers.
 * Encoder and decoder files each carry the shared token embedding, so it is counted once.
 */
export async function modelMeta(backend: OnnxSeq2SeqBackend, displayName: string): Promise<RunRecord['model']> {
  const { dir, files: rel, dtype } = backend.info;
  const { files, hash } = await hashFiles(dir, rel.map((f) => join(dir, f)));
  let params: number | null;
  const onnx = rel.filter((f) => f.endsWith('.onnx') && !f.includes('with_past'));
  try {
    const counts = await Promise.all(onnx.map((f) => countOnnxParams(join(dir, f))));
    const cfg = backend.modelConfig;
    const sharedEmbedding = cfg.dModel ? cfg.vocabSize * cfg.dModel : 0;
    params = counts.reduce((a, b) => a + b, 0) - (onnx.length > 1 ? sharedEmbedding : 0);
  } catch {
    params = null; // e.g. weights in external-data files we do not read; the record says "unknown"
  }
  return { name: displayName, path: dir, params, dtype, files, hash };
}
