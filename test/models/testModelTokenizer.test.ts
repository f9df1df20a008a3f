import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadBackend } from '../../src/backends/load.js';
import { tokenizerJson } from '../../src/models/testModel/tokenizer.js';
import { runCli, tempDir } from '../helpers/cli.js';

test('make-test-model --tokenizer: the model carries that tokenizer, sized to its ids, and runs', async () => {
  // A stand-in for a real tokenizer folder: a Unigram tokenizer.json with one added token past the vocab.
  const tokDir = await tempDir();
  const tok = tokenizerJson({ pieces: 300, extraIds: 2 }) as { added_tokens: { id: number; content: string }[] };
  tok.added_tokens.push({ ...tok.added_tokens[0]!, id: 400, content: '<late>' });
  const text = `${JSON.stringify(tok)}\n`;
  await writeFile(join(tokDir, 'tokenizer.json'), text);
  await writeFile(join(tokDir, 'special_tokens_map.json'), '{"eos_token":"</s>"}\n');

  const out = join(await tempDir(), 'model');
  const r = await runCli(['make-test-model', '--out', out, '--tokenizer', tokDir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await readFile(join(out, 'tokenizer.json'), 'utf8'), text, 'copied byte for byte');
  assert.equal(await readFile(join(out, 'special_tokens_map.json'), 'utf8'), '{"eos_token":"</s>"}\n');
  const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.equal(config.vocab_size, 448, 'ids 0…400 need 401 rows, padded to a multiple of 64');
  const backend = await loadBackend(out, {});
  const [res] = await backend.generate([{ prompt: 'the answer is', maxNewTokens: 3, stop: [] }]);
  assert.ok(res!.promptTokens > 1);
  assert.equal(backend.info.shape.vocab, 448);
  await backend.dispose();

  const empty = await tempDir();
  await mkdir(join(empty, 'x'), { recursive: true });
  const bad = await runCli(['make-test-model', '--out', join(empty, 'm'), '--tokenizer', join(empty, 'x')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--tokenizer .*: no tokenizer\.json there; give a folder holding a Hugging Face tokenizer\.json/);
});
