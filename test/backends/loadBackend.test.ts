import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadBackend } from '../../src/backends/load.js';
import { cacheNames } from '../../src/backends/onnx/cacheNames.js';
import { UsageError } from '../../src/errors.js';
import { countOnnxParams } from '../../src/models/onnxParams.js';
import { tempDir } from '../helpers/cli.js';
import { testModelDir } from '../helpers/testModel.js';

describe('loadBackend', () => {
  test('a t5 folder gets the encoder-decoder backend, with the facts records need in info', async () => {
    const dir = await testModelDir('tiny', 1);
    const backend = await loadBackend(dir, { name: 'tiny', threads: 1 });
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    const { info } = backend;
    assert.equal(info.arch, 't5');
    assert.equal(info.isTestModel, true);
    assert.equal(info.runtime, 'onnxruntime-node');
    assert.match(info.runtimeVersion, /^\d+\.\d+\.\d+/);
    assert.equal(info.provider, 'cpu');
    assert.deepEqual(info.shape, {
      kind: 'encoder-decoder',
      layers: cfg.num_decoder_layers,
      encoderLayers: cfg.num_layers,
      hidden: cfg.d_model,
      heads: cfg.num_heads,
      kvHeads: cfg.num_heads,
      headDim: cfg.d_kv,
      ffn: cfg.d_ff,
      vocab: cfg.vocab_size,
      bytesPerElement: 4,
    });
    // Tied-embedding rule: the encoder and the merged decoder each hold the shared embedding; it counts once.
    const files = ['encoder_model', 'decoder_model_merged'].map((f) => join(dir, 'onnx', `${f}.onnx`));
    const sum = (await Promise.all(files.map((f) => countOnnxParams(f)))).reduce((a, b) => a + b, 0);
    assert.equal(info.params, sum - cfg.vocab_size * cfg.d_model);
    await backend.dispose();
  });

  test('an unsupported model_type is one line naming config.json and the supported types', async () => {
    const d = await tempDir();
    await cp(await testModelDir('tiny', 1), d, { recursive: true });
    const cfg = JSON.parse(await readFile(join(d, 'config.json'), 'utf8'));
    await writeFile(join(d, 'config.json'), JSON.stringify({ ...cfg, model_type: 'bert' }));
    await assert.rejects(loadBackend(d), (e: Error) => e instanceof UsageError && /config\.json: model_type "bert" is not supported; flan-eval drives t5, .*llama, qwen2, gpt2/.test(e.message));
  });
});

test('cacheNames pairs present.* outputs with past_key_values.* inputs from the session names', () => {
  const names = cacheNames({
    inputNames: ['input_ids', 'attention_mask', 'past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value'],
    outputNames: ['logits', 'present.0.key', 'present.0.value', 'present.1.key', 'present.1.value'],
  });
  assert.deepEqual(names.past, ['past_key_values.0.key', 'past_key_values.0.value', 'past_key_values.1.key', 'past_key_values.1.value']);
  assert.deepEqual(names.present.map(names.pastOf), names.past);
  assert.equal(names.pastOf('present.3.decoder.value'), 'past_key_values.3.decoder.value');
});
