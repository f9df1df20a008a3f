import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { makeUpstream, type Upstream } from '../data/upstreamFixture.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { testModelDir } from '../helpers/testModel.js';
import { startServer, type FakeServer } from '../net/fakeServer.js';

let up: Upstream;
let server: FakeServer;
let model: string;

before(async () => {
  up = await makeUpstream({ subjects: ['abstract_algebra', 'anatomy'] });
  server = await startServer(up.routes);
  model = await testModelDir('tiny', 1);
});
after(() => server.close());

test('run without data says which `data fetch` to run; with --download it fetches first and evaluates', async () => {
  const dataDir = join(await tempDir(), 'data');
  const out = await tempDir();
  const args = ['run', 'mmlu', '--zero-shot', '--tasks', 'anatomy', '--model', model, '--data-dir', dataDir, '--out', out, '--quiet'];
  const env = { FLAN_EVAL_MIRROR: server.url, FLAN_EVAL_PINS: up.pinsFile, FLAN_EVAL_NET_BACKOFF_MS: '1', HTTP_PROXY: '', http_proxy: '' };
  const missing = await runCli(args, { env });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /run `flan-eval data fetch mmlu`/);
  assert.equal(server.hits.length, 0, 'nothing is downloaded without --download');

  const r = await runCli([...args, '--download'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dataDir, 'mmlu', 'val', 'anatomy_val.csv')));
  assert.match(r.stdout, /\| tiny-seed1 \| mmlu +\| direct zero-shot, split val \| .* \| 1 +\| 0 +\| (\S+\.json) +\|/);
  const record = /(\S+\.json) +\|\n$/.exec(r.stdout)![1]!;
  assert.ok(existsSync(record), record);
});
