import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { causalTestModelDir } from '../helpers/testModel.js';

// Decoder-only models through the real CLI: `run mmlu --cot`, the flan-heldout suite on all three
// architectures, and a report that mixes them.
const DATA = join(fixturesDir, 'data');
const ARCHS = ['llama', 'qwen2', 'gpt2'] as const;
let models: string[];

before(async () => {
  models = await Promise.all(ARCHS.map((a) => causalTestModelDir(a)));
});

describe('run with decoder-only models', () => {
  test('run mmlu --cot --model <llama test model> writes a record with the architecture and parameter count', async () => {
    const out = await tempDir();
    const r = await runCli(['run', 'mmlu', '--cot', '--model', models[0]!, '--data-dir', DATA, '--out', out, '--max-new-tokens', '24']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /random-weight test model/);
    const rec = JSON.parse(await readFile(join(out, basename(models[0]!), 'mmlu_cot_5shot_val.json'), 'utf8'));
    assert.equal(rec.model.arch, 'llama');
    // What the backend did to the graph at load is said on stderr and kept in the record.
    assert.match(r.stderr, /grouped-query attention reads the 2 kv heads in place/);
    assert.ok(rec.model.graphRewrites.some((n: string) => n.startsWith('grouped-query attention')), JSON.stringify(rec.model.graphRewrites));
    assert.ok(rec.model.params > 0);
    assert.ok(rec.n > 0);
    assert.equal(rec.failed, 0);
    assert.deepEqual(Object.keys(rec.model.files).sort(), ['config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
  });

  test('the flan-heldout suite runs end to end on llama, qwen2 and gpt2 (gpt2 prompts beyond its 1024 positions keep their last tokens), and the report has an Arch column', async () => {
    const out = await tempDir();
    const args = ['run', '--suite', 'flan-heldout', ...models.flatMap((m) => ['--model', m]), '--data-dir', DATA, '--out', out, '--limit', '2', '--quiet'];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /onnxruntime/);
    for (const m of models) {
      const records = (await readdir(join(out, basename(m)))).filter((f) => /^[a-z0-9_]+\.json$/.test(f));
      assert.equal(records.length, 6, `${m}: ${records.join(', ')}`);
      for (const f of records) assert.equal(JSON.parse(await readFile(join(out, basename(m), f), 'utf8')).failed, 0, `${m}/${f}`);
    }
    const report = await runCli(['report', out]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /\| Model +\| Params \| Arch +\|/);
    for (const a of ARCHS) assert.match(report.stdout, new RegExp(`\\| ${a}-tiny-seed1 +\\| +[0-9.]+K \\| ${a} +\\|`));
  });
});
