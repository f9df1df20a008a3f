import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestModel, type TestModelShape } from '../../src/models/testModel/index.js';
import { repoRoot } from './cli.js';

/**
 * A test model made once per (shape, seed) under .cache/test-models and reused by later tests and runs:
 * make-test-model is deterministic, so a cached copy is the same bytes as a fresh one.
 */
export async function testModelDir(shape: TestModelShape = 'tiny', seed = 1, opts: { fp16?: boolean } = {}): Promise<string> {
  const dir = join(repoRoot, '.cache', 'test-models', `${shape}-seed${seed}${opts.fp16 ? '-fp16' : ''}`);
  const last = opts.fp16 ? 'decoder_with_past_model_fp16.onnx' : 'decoder_with_past_model.onnx';
  if (!existsSync(join(dir, 'onnx', last))) {
    await mkdir(dir, { recursive: true });
    await makeTestModel({ out: dir, shape, seed, fp16: opts.fp16 === true });
  }
  return dir;
}

/** A decoder-only test model (make-test-model --arch), made once per (arch, shape, seed) like testModelDir. */
export async function causalTestModelDir(arch: 'llama' | 'qwen2' | 'gpt2', shape = 'tiny', seed = 1, opts: { fp16?: boolean } = {}): Promise<string> {
  const dir = join(repoRoot, '.cache', 'test-models', `${arch}-${shape}-seed${seed}${opts.fp16 ? '-fp16' : ''}`);
  if (!existsSync(join(dir, 'onnx', opts.fp16 ? 'model_fp16.onnx' : 'model.onnx'))) {
    await mkdir(dir, { recursive: true });
    await makeTestModel({ out: dir, arch, shape, seed, fp16: opts.fp16 === true });
  }
  return dir;
}
