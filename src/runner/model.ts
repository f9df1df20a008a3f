import { join } from 'node:path';
import type { OnnxSeq2SeqBackend } from '../backends/onnx/seq2seq.js';
import { countOnnxParams, modelParamCount } from '../models/onnxParams.js';
import type { RunRecord } from '../types.js';
import { hashFiles } from './hashing.js';

/**
 * The model part of a run record: file hashes and the parameter count read from the ONNX initializers
 * (modelParamCount: the same count `models list` shows).
 */
export async function modelMeta(backend: OnnxSeq2SeqBackend, displayName: string): Promise<RunRecord['model']> {
  const { dir, files: rel, dtype } = backend.info;
  const { files, hash } = await hashFiles(dir, rel.map((f) => join(dir, f)));
  const onnx = rel.filter((f) => f.endsWith('.onnx') && !f.includes('with_past'));
  // No catch: the backend has just loaded these files, so a failure to read them is a broken file (a
  // UsageError naming it) or a bug, never a reason to write "params unknown" into the record.
  const counts = await Promise.all(onnx.map((f) => countOnnxParams(join(dir, f))));
  const params = modelParamCount(counts, backend.modelConfig);
  return { name: displayName, path: dir, params, dtype, files, hash };
}
