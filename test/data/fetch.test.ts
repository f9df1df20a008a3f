import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MMLU_SUBJECTS, MMLU_TAR_URL } from '../../src/data/sources.js';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { startServer, type FakeServer } from '../net/fakeServer.js';
import { csvFor, makeMmluTar, makeUpstream, mirrorPath, sha, type Upstream } from './upstreamFixture.js';

/** Every file (and temporary) under dir, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(dir, join((e as { parentPath?: string }).parentPath ?? (e as { path: string }).path, e.name)))
    .sort();
}

describe('data fetch / data verify against a local mirror', () => {
  let up: Upstream;
  let server: FakeServer;
  const env = () => ({ FLAN_EVAL_PINS: up.pinsFile, FLAN_EVAL_NET_BACKOFF_MS: '1', FLAN_EVAL_NET_RETRIES: '2', FLAN_EVAL_NET_TIMEOUT_MS: '3000', HTTP_PROXY: '', http_proxy: '' });
  const fetch = (dataDir: string, ...args: string[]) => runCli(['data', 'fetch', ...args, '--data-dir', dataDir, '--mirror', `${server.url}/`], { env: env() });
  const verify = (dataDir: string, ...args: string[]) => runCli(['data', 'verify', ...args, '--data-dir', dataDir, '--json'], { env: env() });

  before(async () => {
    up = await makeUpstream();
    server = await startServer(up.routes);
  });
  after(() => server.close());

  it('fetches everything into the docs/protocol.md §1 layout, records the unpinned hashes, and verifies ok', async () => {
    const dataDir = await tempDir();
    const r = await fetch(dataDir, 'all');
    assert.equal(r.code, 0, r.stderr);
    const files = await tree(dataDir);
    // 67 pinned + 171 MMLU CSVs + 2 TyDiQA + the lock; nothing else (no data.tar, no temporaries).
    assert.equal(files.length, 67 + 171 + 2 + 1);
    for (const rel of ['bbh/bbh/word_sorting.json', 'bbh/cot-prompts/snarks.txt', 'mgsm/mgsm_zh.tsv', 'mgsm/exemplars.py', 'mmlu/mmlu-cot.json', 'tydiqa/tydiqa-goldp-v1.1-train.json', 'flan-eval.lock.json']) {
      assert.ok(files.includes(rel), rel);
    }
    assert.equal(await readFile(join(dataDir, 'bbh/bbh/navigate.json'), 'utf8'), up.files.get('bbh/bbh/navigate.json'));
    assert.equal(await readFile(join(dataDir, 'mmlu/test/world_religions_test.csv'), 'utf8'), csvFor('world_religions', 'test'));
    assert.ok(!files.some((f) => f.includes('auxiliary') || f.includes('._') || f.endsWith('.part') || f.endsWith('data.tar')));
    assert.match(r.stdout, /placed 240 files, 0 already up to date; recorded the hashes of 3 unpinned downloads/);

    const lock = JSON.parse(await readFile(join(dataDir, 'flan-eval.lock.json'), 'utf8'));
    assert.equal(lock.sources[MMLU_TAR_URL].sha256, sha(up.tar));
    assert.equal(lock.files['mmlu/dev/anatomy_dev.csv'].sha256, sha(csvFor('anatomy', 'dev')));
    assert.equal(lock.files['mmlu/dev/anatomy_dev.csv'].source, MMLU_TAR_URL);

    const v = await verify(dataDir);
    assert.equal(v.code, 0, v.stdout);
    const report = JSON.parse(v.stdout);
    assert.deepEqual(report.counts, { ok: 240, missing: 0, modified: 0, unrecorded: 0 });

    // A second fetch downloads nothing.
    const before = server.hits.length;
    const again = await fetch(dataDir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /placed 0 files, 240 already up to date/);
    assert.equal(server.hits.length, before);

    // Edit one file and delete another: verify says which (exit 1); fetch restores both.
    await writeFile(join(dataDir, 'mgsm/mgsm_de.tsv'), 'edited\t1\n');
    await writeFile(join(dataDir, 'mmlu/val/anatomy_val.csv'), 'edited,a,b,c,d,A\n');
    const { rm } = await import('node:fs/promises');
    await rm(join(dataDir, 'tydiqa/tydiqa-goldp-v1.1-dev.json'));
    const bad = await verify(dataDir);
    assert.equal(bad.code, 1);
    const badReport = JSON.parse(bad.stdout);
    const status = (p: string) => badReport.files.find((f: { path: string }) => f.path === p);
    assert.equal(status('mgsm/mgsm_de.tsv').status, 'modified');
    assert.equal(status('mgsm/mgsm_de.tsv').expected, sha(up.files.get('mgsm/mgsm_de.tsv')!));
    assert.equal(status('mgsm/mgsm_de.tsv').actual, sha('edited\t1\n'));
    assert.equal(status('mmlu/val/anatomy_val.csv').status, 'modified');
    assert.equal(status('tydiqa/tydiqa-goldp-v1.1-dev.json').status, 'missing');
    assert.deepEqual(badReport.counts, { ok: 237, missing: 1, modified: 2, unrecorded: 0 });
    const text = await runCli(['data', 'verify', '--data-dir', dataDir], { env: env() });
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^modified {3}mgsm\/mgsm_de\.tsv {2}\(expected [0-9a-f]{64} from the pin table, found [0-9a-f]{64}\)$/m);
    assert.match(text.stdout, /^missing {4}tydiqa\/tydiqa-goldp-v1\.1-dev\.json$/m);
    assert.match(text.stdout, /240 files: 237 ok, 1 missing, 2 modified, 0 unrecorded; run `flan-eval data fetch` to restore them\n$/);

    const fix = await fetch(dataDir);
    assert.equal(fix.code, 0, fix.stderr);
    assert.equal((await verify(dataDir)).code, 0);
  });

  it('fetches only the named benchmarks, and verify checks only those present', async () => {
    const dataDir = await tempDir();
    const r = await fetch(dataDir, 'bbh', 'mgsm');
    assert.equal(r.code, 0, r.stderr);
    const files = await tree(dataDir);
    assert.equal(files.filter((f) => f.startsWith('bbh/bbh/')).length, 27);
    assert.equal(files.filter((f) => f.startsWith('bbh/cot-prompts/')).length, 27);
    assert.deepEqual(files.filter((f) => f.startsWith('mgsm/')).map((f) => f.slice(5)), ['exemplars.py', ...['bn', 'de', 'en', 'es', 'fr', 'ja', 'ru', 'sw', 'te', 'th', 'zh'].map((l) => `mgsm_${l}.tsv`)]);
    assert.ok(!files.some((f) => f.startsWith('mmlu/') || f.startsWith('tydiqa/')));
    const v = JSON.parse((await verify(dataDir)).stdout);
    assert.deepEqual(v.benchmarks, ['bbh', 'mgsm']);
    assert.equal(v.ok, true);
    const all = await verify(dataDir, 'all');
    assert.equal(all.code, 1);
  });

  it('refuses a file whose hash differs from its pin: exit 2, both hashes named, nothing placed', async () => {
    const dataDir = await tempDir();
    const route = mirrorPath('https://raw.githubusercontent.com/suzgunmirac/BIG-Bench-Hard/main/bbh/snarks.json');
    const saved = up.routes.get(route)!;
    up.routes.set(route, { kind: 'body', body: '{"tampered": true}' });
    try {
      const r = await fetch(dataDir, 'bbh');
      assert.equal(r.code, 2);
      const want = sha(up.files.get('bbh/bbh/snarks.json')!);
      assert.equal(
        r.stderr.split('\n').filter((l) => l.startsWith('flan-eval: bbh')).join('\n'),
        `flan-eval: bbh/bbh/snarks.json: SHA-256 mismatch: expected ${want} (pinned in ${up.pinsFile}), got ${sha('{"tampered": true}')} from ${server.url}${route}; nothing was placed. The download is not the pinned upstream file: check --mirror or your proxy.`,
      );
      assert.deepEqual(await tree(dataDir), []);
    } finally {
      up.routes.set(route, saved);
    }
  });

  it('holds data.tar to the hash recorded at its first download', async () => {
    const dataDir = await tempDir();
    assert.equal((await fetch(dataDir, 'mmlu')).code, 0);
    const before = await readFile(join(dataDir, 'mmlu/dev/anatomy_dev.csv'), 'utf8');
    const route = mirrorPath(MMLU_TAR_URL);
    const saved = up.routes.get(route)!;
    const other = await makeMmluTar({ subjects: ['anatomy'] });
    up.routes.set(route, { kind: 'body', body: other });
    try {
      await writeFile(join(dataDir, 'mmlu/dev/anatomy_dev.csv'), 'local edit,a,b,c,d,A\n');
      const r = await fetch(dataDir, 'mmlu');
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`mmlu/data.tar: SHA-256 mismatch: expected ${sha(up.tar)} \\(recorded in .*flan-eval.lock.json on \\d{4}-\\d\\d-\\d\\d\\), got ${sha(other)}`));
      assert.match(r.stderr, /delete its entry from the lock file/);
      // Nothing placed: the edited CSV is still the edited one, no temporaries.
      assert.equal(await readFile(join(dataDir, 'mmlu/dev/anatomy_dev.csv'), 'utf8'), 'local edit,a,b,c,d,A\n');
      assert.ok(!(await tree(dataDir)).some((f) => f.includes('.part')));
      assert.notEqual(before, 'local edit,a,b,c,d,A\n');
    } finally {
      up.routes.set(route, saved);
    }
  });

  it('retries a dropped connection; a connection that keeps dropping fails cleanly with nothing placed', async () => {
    const route = mirrorPath('https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-train.json');
    const saved = up.routes.get(route)!;
    const body = Buffer.from(JSON.stringify({ data: 'x'.repeat(50_000) }));
    try {
      up.routes.set(route, { kind: 'drop', body, times: 1 });
      const once = await tempDir();
      const r = await fetch(once, 'tydiqa');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /tydiqa-goldp-v1\.1-train\.json: the connection broke .*; retry 1\/2/);
      assert.deepEqual(await readFile(join(once, 'tydiqa/tydiqa-goldp-v1.1-train.json')), body);

      up.routes.set(route, { kind: 'drop', body, times: 1_000 });
      const never = await tempDir();
      const r2 = await fetch(never, 'tydiqa');
      assert.equal(r2.code, 2);
      const last = r2.stderr.trim().split('\n').pop()!;
      assert.match(last, /^flan-eval: http:\/\/127\.0\.0\.1:\d+\/storage\.googleapis\.com\/tydiqa\/v1\.1\/tydiqa-goldp-v1\.1-train\.json: the connection broke .*\(gave up after 3 attempts\); .*nothing was placed$/);
      assert.deepEqual(await tree(never), []);
    } finally {
      up.routes.set(route, saved);
    }
  });

  it('refuses a data.tar with a ../ entry or a symbolic link, placing nothing', async () => {
    const route = mirrorPath(MMLU_TAR_URL);
    const saved = up.routes.get(route)!;
    try {
      for (const [opts, pattern] of [
        [{ subjects: ['anatomy'], escape: true }, /entry "\.\.\/escape\.csv" points outside the target folder/],
        [{ subjects: MMLU_SUBJECTS, symlink: true }, /entry "data\/dev\/evil_dev\.csv" is a symbolic link/],
      ] as const) {
        up.routes.set(route, { kind: 'body', body: await makeMmluTar(opts) });
        const dataDir = await tempDir();
        const r = await fetch(dataDir, 'mmlu');
        assert.equal(r.code, 2);
        assert.match(r.stderr, pattern);
        assert.match(r.stderr, /refusing the archive, nothing was placed/);
        assert.deepEqual(await tree(dataDir), []);
      }
    } finally {
      up.routes.set(route, saved);
    }
  });

  it('removes its temporary files when interrupted (exit 130)', async () => {
    const route = mirrorPath('https://storage.googleapis.com/tydiqa/v1.1/tydiqa-goldp-v1.1-train.json');
    const saved = up.routes.get(route)!;
    up.routes.set(route, { kind: 'stall', body: 'x'.repeat(10_000) });
    try {
      const dataDir = await tempDir();
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'flan-eval.js'), 'data', 'fetch', 'tydiqa', '--data-dir', dataDir, '--mirror', server.url], {
        env: { ...process.env, ...env(), FLAN_EVAL_NET_TIMEOUT_MS: '60000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // Wait until the stalled download has its temporary file, then interrupt.
      const t0 = Date.now();
      while (!(await tree(dataDir)).some((f) => f.endsWith('.part')) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      assert.ok((await tree(dataDir)).some((f) => f.endsWith('.part')), 'a .part file appears while downloading');
      child.kill('SIGINT');
      assert.equal(await exited, 130);
      assert.match(stderr, /interrupted; temporary files removed/);
      assert.deepEqual(await tree(dataDir), []);
    } finally {
      up.routes.set(route, saved);
    }
  });

  it('says what a mirror without the file means', async () => {
    const dataDir = await tempDir();
    const r = await runCli(['data', 'fetch', 'tydiqa', '--data-dir', dataDir, '--mirror', `${server.url}/elsewhere`], { env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /elsewhere\/storage\.googleapis\.com\/tydiqa\/v1\.1\/tydiqa-goldp-v1\.1-(dev|train)\.json: HTTP 404 Not Found; the mirror has no such file \(layout: <mirror>\/<upstream host>\/<upstream path>\); nothing was placed/);
  });
});
