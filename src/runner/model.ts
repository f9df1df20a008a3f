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
  const onnx = rel.filter((f) => f.endsWith('.onnx') && !f.includes('with_past'));
  // No catch: the backend has just loaded these files, so a failure to read them is a broken file (a
  // UsageError naming it) or a bug, never a reason to write "params unknown" into the record.
  const counts = await Promise.all(onnx.map((f) => countOnnxParams(join(dir, f))));
  const cfg = backend.modelConfig;
  const sharedEmbedding = cfg.dModel ? cfg.vocabSize * cfg.dModel : 0;
  const params = counts.reduce((a, b) => a + b, 0) - (onnx.length > 1 ? sharedEmbedding : 0);
  return { name: displayName, path: dir, params, dtype, files, hash };
}
