import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { modelCacheDir } from '../../src/models/cache.js';
import { countOnnxParams } from '../../src/models/onnxParams.js';
import { resolveModel } from '../../src/models/resolve.js';
import { UsageError } from '../../src/errors.js';
import { fixturesDir, repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { causalTestModelDir, testModelDir } from '../helpers/testModel.js';
import { closedPort, startServer, type Behaviour, type FakeServer } from '../net/fakeServer.js';
import { sha } from '../data/upstreamFixture.js';

/**
 * `models pull` against a fake Hub serving make-test-model's output (a random-weight T5 in the real
 * export layout) under `/<id>/resolve/<revision>/<path>`. Like the real Hub, ONNX files answer with a 302
 * to a CDN host (here `localhost` instead of `127.0.0.1`) carrying X-Linked-Etag (their SHA-256) and
 * X-Repo-Commit.
 */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join((e as { parentPath?: string }).parentPath ?? (e as { path: string }).path, e.name)))
    .sort();
}

const COMMIT = 'c0ffee0000000000000000000000000000000000';

describe('models pull / models list / resolveModel against a fake Hub', () => {
  let server: FakeServer;
  let model: string;
  let cache: string;
  const env = (extra: Record<string, string> = {}) => ({
    HF_ENDPOINT: server.url,
    FLAN_EVAL_CACHE: cache,
    HF_TOKEN: 'hf_test_token',
    FLAN_EVAL_NET_BACKOFF_MS: '1',
    FLAN_EVAL_NET_RETRIES: '1',
    HTTP_PROXY: '',
    http_proxy: '',
    ...extra,
  });

  /** Serve `source` files as repo `id` at `revision`; rename maps served path → source path. */
  async function serveRepo(id: string, revision: string, paths: Record<string, string>, opts: { badEtag?: string; from?: string } = {}) {
    for (const [served, src] of Object.entries(paths)) {
      const body = await readFile(join(opts.from ?? model, src));
      const route = `/${id}/resolve/${revision}/${served}`;
      if (served.endsWith('.onnx')) {
        const cdn = `/cdn/${sha(body)}`;
        server.routes.set(cdn, { kind: 'body', body });
        const etag = opts.badEtag === served ? sha('something else') : sha(body);
        server.routes.set(route, {
          kind: 'redirect',
          location: `http://localhost:${server.port}${cdn}`,
          headers: { 'x-linked-etag': `"${etag}"`, 'x-repo-commit': COMMIT },
        });
      } else {
        server.routes.set(route, { kind: 'body', body, headers: { 'x-repo-commit': COMMIT } } satisfies Behaviour);
      }
    }
  }

  const BASE = { 'config.json': 'config.json', 'tokenizer.json': 'tokenizer.json', 'tokenizer_config.json': 'tokenizer_config.json' };

  before(async () => {
    model = await testModelDir('tiny', 1);
    server = await startServer();
    cache = await tempDir('flan-eval-cache-');
    await serveRepo('test-org/tiny-t5', 'main', {
      ...BASE,
      'generation_config.json': 'generation_config.json',
      'onnx/encoder_model.onnx': 'onnx/encoder_model.onnx',
      'onnx/decoder_model_merged.onnx': 'onnx/decoder_model_merged.onnx',
      // q8 files: the same bytes under the _quantized names, no merged decoder (so the pair is used).
      'onnx/encoder_model_quantized.onnx': 'onnx/encoder_model.onnx',
      'onnx/decoder_model_quantized.onnx': 'onnx/decoder_model.onnx',
      'onnx/decoder_with_past_model_quantized.onnx': 'onnx/decoder_with_past_model.onnx',
    });
  });
  after(() => server.close());

  it('pulls an export (merged decoder), prints its folder, and lists it with size and parameters', async () => {
    const r = await runCli(['models', 'pull', 'test-org/tiny-t5'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const dir = modelCacheDir('test-org/tiny-t5', 'main', { FLAN_EVAL_CACHE: cache });
    assert.equal(r.stdout, `${dir}\n`);
    assert.equal(dir, join(cache, 'models', 'test-org--tiny-t5', 'main'));
    assert.deepEqual(await files(dir), [
      '.flan-eval-model.json',
      'config.json',
      'generation_config.json',
      'onnx/decoder_model_merged.onnx',
      'onnx/encoder_model.onnx',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    assert.deepEqual(await readFile(join(dir, 'onnx/encoder_model.onnx')), await readFile(join(model, 'onnx/encoder_model.onnx')));
    // The token went to the Hub, never to the CDN.
    const hub = server.hits.filter((h) => h.url.startsWith('/test-org/'));
    const cdn = server.hits.filter((h) => h.url.startsWith('/cdn/'));
    assert.ok(hub.length >= 6 && cdn.length >= 2);
    assert.ok(hub.every((h) => h.headers.authorization === 'Bearer hf_test_token'));
    assert.ok(cdn.every((h) => h.headers.authorization === undefined));

    const manifest = JSON.parse(await readFile(join(dir, '.flan-eval-model.json'), 'utf8'));
    assert.equal(manifest.commit, COMMIT);
    // Encoder + decoder initializers, with the token embedding both files carry counted once.
    const config = JSON.parse(await readFile(join(model, 'config.json'), 'utf8'));
    const params = (await countOnnxParams(join(model, 'onnx/encoder_model.onnx'))) + (await countOnnxParams(join(model, 'onnx/decoder_model_merged.onnx'))) - config.vocab_size * config.d_model;
    assert.deepEqual(manifest.dtypes.fp32, { encoder: 'onnx/encoder_model.onnx', decoders: ['onnx/decoder_model_merged.onnx'], params });

    const list = await runCli(['models', 'list', '--json'], { env: env() });
    assert.equal(list.code, 0, list.stderr);
    const listed = JSON.parse(list.stdout);
    let bytes = 0;
    for (const f of await files(dir)) bytes += (await stat(join(dir, f))).size;
    assert.deepEqual(listed, { root: join(cache, 'models'), models: [{ id: 'test-org/tiny-t5', revision: 'main', commit: COMMIT, dir, dtypes: ['fp32'], params, bytes }] });
    // One count: the run record of this model says the same as `models list`.
    const out = await tempDir();
    const run = await runCli(['run', 'mmlu', '--model', 'test-org/tiny-t5', '--tasks', 'world_religions', '--limit', '1', '--max-new-tokens', '2', '--data-dir', join(fixturesDir, 'data'), '--out', out, '--quiet'], { env: env() });
    assert.equal(run.code, 0, run.stderr);
    const record = JSON.parse(await readFile(join(out, 'test-org--tiny-t5', (await readdir(join(out, 'test-org--tiny-t5'))).find((f) => /limit1\.json$/.test(f))!), 'utf8'));
    assert.equal(record.model.params, params);
    const text = await runCli(['models', 'list'], { env: env() });
    assert.match(text.stdout, new RegExp(`^model +revision +dtypes +params +size +folder\\ntest-org/tiny-t5 +main +fp32 +${(params / 1e3).toFixed(1)}K +\\d+ KiB +${dir}\\n$`));

    // Pulling again downloads nothing.
    const before = server.hits.length;
    const again = await runCli(['models', 'pull', 'test-org/tiny-t5', '--json'], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).downloaded, []);
    // Every file is in the manifest with its hash: not one request.
    assert.equal(server.hits.length, before);

    // resolveModel: the id finds the cached folder; a folder is itself.
    assert.equal(await resolveModel('test-org/tiny-t5', { env: env() }), dir);
    assert.equal(await resolveModel(model, { env: env() }), model);
    await assert.rejects(resolveModel('test-org/tiny-t5', { env: env(), dtype: 'fp16' }), (e: unknown) => e instanceof UsageError && /the cached copy has no fp16 files \(it has fp32\); run `flan-eval models pull test-org\/tiny-t5 --dtype fp16`/.test(e.message));
  });

  it('falls back to decoder_model + decoder_with_past_model when there is no merged decoder (q8)', async () => {
    const r = await runCli(['models', 'pull', 'test-org/tiny-t5', '--dtype', 'q8', '--json'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out.downloaded, ['onnx/decoder_model_quantized.onnx', 'onnx/decoder_with_past_model_quantized.onnx', 'onnx/encoder_model_quantized.onnx']);
    const dir = out.dir;
    assert.deepEqual(await resolveModel('test-org/tiny-t5', { env: env(), dtype: 'q8' }), dir);
    const list = JSON.parse((await runCli(['models', 'list', '--json'], { env: env() })).stdout);
    assert.deepEqual(list.models[0].dtypes, ['fp32', 'q8']);
  });

  it('also fetches decoder_with_past_model next to a merged decoder, and run uses it by hub id', async () => {
    await serveRepo('test-org/tiny-t5-full', 'main', {
      ...BASE,
      'onnx/encoder_model.onnx': 'onnx/encoder_model.onnx',
      'onnx/decoder_model_merged.onnx': 'onnx/decoder_model_merged.onnx',
      'onnx/decoder_with_past_model.onnx': 'onnx/decoder_with_past_model.onnx',
    });
    const r = await runCli(['models', 'pull', 'test-org/tiny-t5-full'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const dir = r.stdout.trim();
    const manifest = JSON.parse(await readFile(join(dir, '.flan-eval-model.json'), 'utf8'));
    assert.deepEqual(manifest.dtypes.fp32.decoders, ['onnx/decoder_model_merged.onnx', 'onnx/decoder_with_past_model.onnx']);
    const out = await tempDir();
    const data = join(repoRoot, 'test', 'fixtures', 'data');
    const run = await runCli(['run', 'mmlu', '--model', 'test-org/tiny-t5-full', '--data-dir', data, '--out', out, '--limit', '1', '--quiet'], { env: env() });
    assert.equal(run.code, 0, run.stderr);
    const record = JSON.parse(await readFile(join(out, 'test-org--tiny-t5-full', 'mmlu_direct_5shot_val_limit1.json'), 'utf8'));
    assert.equal(record.model.name, 'test-org/tiny-t5-full');
    assert.ok('onnx/decoder_with_past_model.onnx' in record.model.files);
  });

  it('pulls a decoder-only export (llama) by its config.json: onnx/model.onnx, or a merged decoder where it has none; run works on the pulled id', async () => {
    const llama = await causalTestModelDir('llama');
    await serveRepo(
      'test-org/tiny-llama',
      'main',
      {
        ...BASE,
        'generation_config.json': 'generation_config.json',
        'onnx/model.onnx': 'onnx/model.onnx',
        // q8 as an older export has it: only a merged decoder (here the same graph under that name).
        'onnx/decoder_model_merged_quantized.onnx': 'onnx/model.onnx',
      },
      { from: llama },
    );
    const first = server.hits.length;
    const r = await runCli(['models', 'pull', 'test-org/tiny-llama'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    const dir = r.stdout.trim();
    assert.deepEqual(await files(dir), ['.flan-eval-model.json', 'config.json', 'generation_config.json', 'onnx/model.onnx', 'tokenizer.json', 'tokenizer_config.json']);
    assert.deepEqual(await readFile(join(dir, 'onnx/model.onnx')), await readFile(join(llama, 'onnx/model.onnx')));
    const asked = server.hits.slice(first).map((h) => h.url);
    // config.json alone first (it decides which graphs to ask for); no encoder-decoder graph is asked for.
    assert.equal(asked[0], '/test-org/tiny-llama/resolve/main/config.json');
    assert.ok(!asked.some((u) => /encoder_model|decoder_model/.test(u)), asked.join(' '));

    // The test model stores its tied embedding once, so its count is all of model.onnx's initializers.
    const params = await countOnnxParams(join(llama, 'onnx/model.onnx'));
    const manifest = JSON.parse(await readFile(join(dir, '.flan-eval-model.json'), 'utf8'));
    assert.deepEqual(manifest.dtypes.fp32, { decoders: ['onnx/model.onnx'], params });

    const out = await tempDir();
    const run = await runCli(['run', 'mmlu', '--model', 'test-org/tiny-llama', '--tasks', 'world_religions', '--limit', '1', '--max-new-tokens', '2', '--data-dir', join(fixturesDir, 'data'), '--out', out, '--quiet'], { env: env() });
    assert.equal(run.code, 0, run.stderr);
    const record = JSON.parse(await readFile(join(out, 'test-org--tiny-llama', (await readdir(join(out, 'test-org--tiny-llama'))).find((f) => /limit1\.json$/.test(f))!), 'utf8'));
    assert.equal(record.model.arch, 'llama');
    assert.equal(record.model.params, params);

    // Pulling again asks for nothing: the manifest knows every file and which graph the export has.
    const before = server.hits.length;
    const again = await runCli(['models', 'pull', 'test-org/tiny-llama', '--json'], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).downloaded, []);
    assert.equal(server.hits.length, before);

    // No model_quantized.onnx: the merged decoder is fetched instead, and the backend runs it.
    const q8 = await runCli(['models', 'pull', 'test-org/tiny-llama', '--dtype', 'q8', '--json'], { env: env() });
    assert.equal(q8.code, 0, q8.stderr);
    assert.deepEqual(JSON.parse(q8.stdout).downloaded, ['onnx/decoder_model_merged_quantized.onnx']);
    const m8 = JSON.parse(await readFile(join(dir, '.flan-eval-model.json'), 'utf8'));
    assert.deepEqual(m8.dtypes.q8, { decoders: ['onnx/decoder_model_merged_quantized.onnx'], params });
    const run8 = await runCli(['run', 'mmlu', '--model', 'test-org/tiny-llama', '--dtype', 'q8', '--tasks', 'world_religions', '--limit', '1', '--max-new-tokens', '2', '--data-dir', join(fixturesDir, 'data'), '--out', await tempDir(), '--quiet'], { env: env() });
    assert.equal(run8.code, 0, run8.stderr);

    const noFp16 = await runCli(['models', 'pull', 'test-org/tiny-llama', '--dtype', 'fp16'], { env: env() });
    assert.equal(noFp16.code, 2);
    assert.equal(
      noFp16.stderr.trim().split('\n').pop(),
      'flan-eval: test-org/tiny-llama@main has no onnx/model_fp16.onnx nor onnx/decoder_model_merged_fp16.onnx (HTTP 404): it is not a decoder-only ONNX export for --dtype fp16; try another --dtype',
    );
    assert.deepEqual(JSON.parse(await readFile(join(dir, '.flan-eval-model.json'), 'utf8')).dtypes.fp16, undefined);
  });

  it('says what to run when a model is not cached', async () => {
    await assert.rejects(resolveModel('nobody/nothing', { env: env() }), (e: unknown) => e instanceof UsageError && /--model nobody\/nothing: no such folder, and not in the model cache \(.*\); run `flan-eval models pull nobody\/nothing` or pass the model folder/.test(e.message));
    await assert.rejects(resolveModel('./no/such/dir', { env: env() }), /no such folder, and not a Hugging Face id/);
    await assert.rejects(resolveModel('nobody/nothing', { env: env(), revision: 'v2' }), /run `flan-eval models pull nobody\/nothing --revision v2`/);
  });

  it('fails with one line and places nothing when a required file is missing, a hash is wrong, or access is refused', async () => {
    await serveRepo('test-org/no-tokenizer', 'main', { 'config.json': 'config.json', 'tokenizer_config.json': 'tokenizer_config.json', 'onnx/encoder_model.onnx': 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx': 'onnx/decoder_model_merged.onnx' });
    const r = await runCli(['models', 'pull', 'test-org/no-tokenizer'], { env: env() });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').pop(), 'flan-eval: test-org/no-tokenizer@main has no tokenizer.json (HTTP 404); flan-eval needs it (docs/protocol.md §6 model layout)');
    assert.deepEqual(await files(join(cache, 'models', 'test-org--no-tokenizer')), []);

    await serveRepo('test-org/bad-etag', 'main', { ...BASE, 'onnx/encoder_model.onnx': 'onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx': 'onnx/decoder_model_merged.onnx' }, { badEtag: 'onnx/encoder_model.onnx' });
    const bad = await runCli(['models', 'pull', 'test-org/bad-etag'], { env: env() });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /test-org\/bad-etag\/onnx\/encoder_model\.onnx: SHA-256 mismatch: the Hub announced [0-9a-f]{64}, the download has [0-9a-f]{64}; nothing was placed/);
    assert.deepEqual(await files(join(cache, 'models', 'test-org--bad-etag')), []);

    const noFp16 = await runCli(['models', 'pull', 'test-org/tiny-t5', '--dtype', 'fp16', '--revision', 'main'], { env: env() });
    assert.equal(noFp16.code, 2);
    assert.match(noFp16.stderr, /test-org\/tiny-t5@main has no onnx\/encoder_model_fp16\.onnx \(HTTP 404\): it is not an ONNX export for --dtype fp16/);

    // config.json decides the graphs: a model_type flan-eval does not drive fails before anything else is fetched.
    server.routes.set('/test-org/bert/resolve/main/config.json', { kind: 'body', body: Buffer.from(JSON.stringify({ model_type: 'bert' })) });
    const hitsBefore = server.hits.length;
    const bert = await runCli(['models', 'pull', 'test-org/bert'], { env: env() });
    assert.equal(bert.code, 2);
    assert.match(bert.stderr.trim().split('\n').pop()!, /^flan-eval: test-org\/bert\/config\.json: model_type "bert" is not supported; flan-eval drives t5, mt5, llama, qwen2, gpt2 exports$/);
    assert.deepEqual(server.hits.slice(hitsBefore).map((h) => h.url), ['/test-org/bert/resolve/main/config.json']);
    assert.deepEqual(await files(join(cache, 'models', 'test-org--bert')), []);

    server.routes.set('/test-org/gated/resolve/main/config.json', { kind: 'status', status: 401 });
    const gated = await runCli(['models', 'pull', 'test-org/gated'], { env: env() });
    assert.equal(gated.code, 2);
    assert.match(gated.stderr, /test-org\/gated: 127\.0\.0\.1:\d+ refused access \(HTTP 401\); check the model id, or set HF_TOKEN/);

    const missing = await runCli(['models', 'pull', 'test-org/absent', '--revision', 'v9'], { env: env() });
    assert.match(missing.stderr, /test-org\/absent: no such model or revision "v9" on 127\.0\.0\.1:\d+ \(HTTP 404 for config\.json\)/);
    const badId = await runCli(['models', 'pull', '../etc'], { env: env() });
    assert.equal(badId.code, 2);
    assert.match(badId.stderr, /"\.\.\/etc" is not a Hugging Face model id/);
  });

  it('never hangs offline: an unreachable Hub is one line saying what to do', async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const r = await runCli(['models', 'pull', 'test-org/tiny-t5', '--revision', 'offline'], { env: env({ HF_ENDPOINT: `http://127.0.0.1:${port}` }) });
    assert.equal(r.code, 2);
    assert.ok(Date.now() - t0 < 15_000);
    const lines = r.stderr.trim().split('\n');
    assert.match(lines.pop()!, /^flan-eval: cannot download test-org\/tiny-t5\/config\.json from 127\.0\.0\.1:\d+: cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\) \(gave up after 2 attempts\); check the network or proxy \(HTTPS_PROXY\), set HF_ENDPOINT to a mirror, or download the files elsewhere and pass their folder to --model/);
  });
});
