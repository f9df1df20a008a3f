import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTestModel, type TestModelShape } from '../../src/models/testModel/index.js';
import { repoRoot } from './cli.js';

/**
 * A test model made once per (shape, seed) under .cache/test-models and reused by later tests and runs:
 * make-test-model is deterministic, so a cached copy is the same bytes as a fresh one.
 */
export async function testModelDir(shape: TestModelShape = 'tiny', seed = 1): Promise<string> {
  const dir = join(repoRoot, '.cache', 'test-models', `${shape}-seed${seed}`);
  if (!existsSync(join(dir, 'onnx', 'decoder_with_past_model.onnx'))) {
    await mkdir(dir, { recursive: true });
    await makeTestModel({ out: dir, shape, seed });
  }
  return dir;
}
