import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fixturesDir, repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { causalTestModelDir, testModelDir } from '../helpers/testModel.js';

const DATA = join(fixturesDir, 'data');
let model: string;

before(async () => {
  model = await testModelDir('tiny', 1);
});

function runArgs(out: string, ...extra: string[]): string[] {
  return ['run', 'mmlu', 'bbh', '--model', model, '--data-dir', DATA, '--out', out, '--max-new-tokens', '48', '--quiet', ...extra];
}

/** Every finished predictions file under a results folder: name → content. */
async function predictions(out: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const modelDir = join(out, 'tiny-seed1');
  for (const f of (await readdir(modelDir)).sort()) {
    if (f.endsWith('.predictions.jsonl')) files.set(f.replace(/_shard\d+of\d+/, ''), await readFile(join(modelDir, f), 'utf8'));
  }
  return files;
}

async function record(out: string, stem: string): Promise<{ result: { score: number; tasks: Record<string, { n: number }> }; n: number; failed: number; runtime: { batchSize: number } }> {
  return JSON.parse(await readFile(join(out, 'tiny-seed1', `${stem}.json`), 'utf8'));
}

let reference: Map<string, string>;
let referenceOut: string;

describe('run', () => {
  before(async () => {
    referenceOut = await tempDir();
    const r = await runCli(runArgs(referenceOut, '--batch-size', '8'));
    assert.equal(r.code, 0, r.stderr);
    reference = await predictions(referenceOut);
  });

  test('writes a run record and a predictions line per example, and prints a summary', async () => {
    assert.deepEqual([...reference.keys()], ['bbh_direct_3shot.predictions.jsonl', 'mmlu_direct_5shot_val.predictions.jsonl']);
    const rec = await record(referenceOut, 'mmlu_direct_5shot_val');
    const lines = reference.get('mmlu_direct_5shot_val.predictions.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rec.n, lines.length);
    assert.equal(rec.failed, 0);
    assert.equal(Object.values(rec.result.tasks).reduce((a, t) => a + t.n, 0), lines.length);
    for (const l of lines) {
      assert.match(l.id, /^mmlu\/[a-z_]+\/\d+$/);
      assert.match(l.promptHash, /^[0-9a-f]{64}$/);
      assert.equal(typeof l.prediction, 'string');
      assert.equal(typeof l.correct, 'boolean');
    }
    const full = JSON.parse(await readFile(join(referenceOut, 'tiny-seed1', 'mmlu_direct_5shot_val.json'), 'utf8'));
    assert.equal(full.schema, 'flan-eval/run-record@1');
    assert.ok(full.model.params > 10_000, 'parameter count read from the ONNX initializers');
    assert.match(full.model.files['onnx/encoder_model.onnx'], /^[0-9a-f]{64}$/);
    assert.ok(Object.keys(full.data.files).some((f: string) => f.startsWith('mmlu/val/')));
    assert.equal(full.versions.onnxruntime, '1.30.0');
    assert.deepEqual(full.decoding, { maxNewTokens: 48, stop: ['\n\nQ:'] });
  });

  test('batch size 1 gives the same predictions as batch size 8', async () => {
    const out = await tempDir();
    const r = await runCli(runArgs(out, '--batch-size', '1'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await predictions(out), reference);
    assert.equal((await record(out, 'mmlu_direct_5shot_val')).runtime.batchSize, 1);
  });

  test('--max-memory: a budget too small for any batch runs each prompt alone, warns with its id and length, and predicts the same', async () => {
    const out = await tempDir();
    // 400 MB is the runtime's own allowance, so about 1 MB is left for batches: every prompt is over it.
    const r = await runCli(runArgs(out, '--max-memory', '401MB'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: mmlu\/[a-z_]+\/\d+ \(\d+ prompt tokens\) needs about \d+ MB alone, over the --max-memory budget; running it by itself/);
    assert.match(r.stderr, /warning: bbh\/[a-z_]+\/\d+ \(\d+ prompt tokens\)/);
    assert.deepEqual(await predictions(out), reference);
  });

  test('--max-memory: a decoder-only model sets its shared-prefix cache aside before planning batches; T5 keeps none', async () => {
    const llama = await causalTestModelDir('llama');
    const args = (m: string) => ['run', 'mmlu', '--model', m, '--data-dir', DATA, '--out', '', '--limit', '1', '--max-memory', '1500MB'];
    const withCache = args(llama);
    withCache[7] = await tempDir();
    const r = await runCli(withCache);
    assert.equal(r.code, 0, r.stderr);
    const m = /model loaded (\d+) MB \((\d+) MB of it kept for shared prompt prefixes\), (\d+) MB for batches/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[2]), 537, '512 MiB of prefix cache');
    assert.ok(Number(m[1]) >= 400 + 537, 'runtime allowance and prefix cache both counted');
    assert.ok(Math.abs(Number(m[1]) + Number(m[3]) - 1500) <= 1, 'loaded + batches = the budget');
    const t5 = args(model);
    t5[7] = await tempDir();
    const s = await runCli(t5);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stderr, /model loaded \d+ MB, [\d.]+ (GB|MB) for batches/);
  });

  test('--max-memory: the budget is stated at the start; one the model alone exceeds, or a malformed one, exits 2', async () => {
    const out = await tempDir();
    const ok = await runCli(['run', 'mmlu', '--model', model, '--data-dir', DATA, '--out', out, '--limit', '1', '--max-memory', '2GB']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /memory budget 2\.0 GB \(--max-memory\); model loaded \d+ MB, \d+(\.\d)? (GB|MB) for batches/);
    const dflt = await runCli(['run', 'mmlu', '--model', model, '--data-dir', DATA, '--out', out, '--limit', '1']);
    assert.match(dflt.stderr, /memory budget [\d.]+ GB \(default: a sixth of total memory/);
    for (const [value, pattern] of [['1MB', /--max-memory 1 MB: tiny-seed1 needs about \d+ MB loaded, before any batch; give a larger --max-memory/], ['lots', /--max-memory lots: expected a size such as 6GB/]] as const) {
      const r = await runCli(['run', 'mmlu', '--model', model, '--data-dir', DATA, '--out', out, '--limit', '1', '--max-memory', value]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  test('--shard 0/2 + 1/2 + merge gives the same predictions and scores as one run', async () => {
    const shards = await tempDir();
    for (const s of ['0/2', '1/2']) {
      const r = await runCli(runArgs(shards, '--shard', s, '--batch-size', '3'));
      assert.equal(r.code, 0, r.stderr);
    }
    const parts = await readdir(join(shards, 'tiny-seed1'));
    assert.ok(parts.includes('mmlu_direct_5shot_val_shard0of2.json') && parts.includes('mmlu_direct_5shot_val_shard1of2.json'));
    const sizes = await Promise.all(['0', '1'].map(async (i) => (await record(shards, `mmlu_direct_5shot_val_shard${i}of2`)).n));
    assert.ok(sizes.every((n) => n > 0), `both shards hold examples: ${sizes}`);
    const merged = await tempDir();
    const m = await runCli(['merge', shards, '--out', merged]);
    assert.equal(m.code, 0, m.stderr);
    assert.deepEqual(await predictions(merged), reference);
    for (const stem of ['mmlu_direct_5shot_val', 'bbh_direct_3shot']) {
      assert.deepEqual((await record(merged, stem)).result, (await record(referenceOut, stem)).result);
    }
    // Two shards with one missing are refused.
    const partial = await tempDir();
    await runCli(runArgs(partial, '--shard', '0/2'));
    const bad = await runCli(['merge', partial, '--out', await tempDir()]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /shards 1\/2 of tiny-seed1 .* are missing/);
  });

  test('merge refuses shards of different configurations', async () => {
    const shards = await tempDir();
    assert.equal((await runCli(runArgs(shards, '--shard', '0/2'))).code, 0);
    const other = await tempDir();
    const args = runArgs(other, '--shard', '1/2');
    args[args.indexOf('48')] = '20';
    assert.equal((await runCli(args)).code, 0);
    await mkdir(join(shards, 'tiny-seed1'), { recursive: true });
    for (const f of await readdir(join(other, 'tiny-seed1'))) {
      await writeFile(join(shards, 'tiny-seed1', f), await readFile(join(other, 'tiny-seed1', f)));
    }
    const r = await runCli(['merge', shards, '--out', await tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /decoding settings differ/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  for (const signal of ['SIGKILL', 'SIGINT'] as const) {
    test(`${signal} mid-run, then the same command again, gives the same predictions as an uninterrupted run`, async () => {
      const out = await tempDir();
      const args = runArgs(out, '--batch-size', '1');
      const child = spawn(process.execPath, [join(repoRoot, 'bin', 'flan-eval.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot, env: { ...process.env, npm_command: '' } });
      let stderr = '';
      let stdout = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      const preds = join(out, 'tiny-seed1', 'mmlu_direct_5shot_val.predictions.jsonl');
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const text = existsSync(preds) ? await readFile(preds, 'utf8') : '';
        if (text.split('\n').length > 2) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      child.kill(signal);
      const code = await exited;
      assert.ok(!existsSync(join(out, 'tiny-seed1', 'bbh_direct_3shot.json')), 'interrupted before the end');
      if (signal === 'SIGINT') {
        assert.equal(code, 130, stderr);
        // The hint is the command as typed here (a local launcher is not on the PATH), ready to paste.
        assert.ok(stderr.includes(`Resume with the same command: node bin/flan-eval.js ${args.join(' ')}\n`), stderr);
        if (!existsSync(join(out, 'tiny-seed1', 'mmlu_direct_5shot_val.json'))) {
          assert.equal(stdout, '', 'no empty summary table');
          assert.match(stderr, /no run finished, so there is no summary/);
        }
      } else {
        // A kill can land mid-write: simulate the torn last line it may leave.
        await appendFile(preds, '{"id":"mmlu/high_school');
      }
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await predictions(out), reference);
    });
  }

  test('a changed configuration never reuses stale predictions', async () => {
    const out = await tempDir();
    const args = runArgs(out, '--batch-size', '4');
    assert.equal((await runCli(args)).code, 0);
    const changed = [...args];
    changed[changed.indexOf('48')] = '3';
    changed.splice(changed.indexOf('--quiet'), 1);
    const r = await runCli(changed);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /made with another configuration; moved it to mmlu_direct_5shot_val\.predictions\.jsonl\.stale-/);
    assert.doesNotMatch(r.stderr, /resuming/);
    const lines = (await readFile(join(out, 'tiny-seed1', 'mmlu_direct_5shot_val.predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.ok(lines.every((l) => l.tokens <= 3));
  });

  test('--stop overrides the stop sequences for generation and is recorded', async () => {
    const lines = reference.get('bbh_direct_3shot.predictions.jsonl')!.trim().split('\n').map((l) => JSON.parse(l));
    const long = lines.find((l) => l.prediction.length >= 12)!;
    assert.ok(long, 'some BBH prediction is long enough to cut');
    const stop = long.prediction.slice(6, 8);
    const out = await tempDir();
    const r = await runCli(['run', 'bbh', '--model', model, '--data-dir', DATA, '--out', out, '--max-new-tokens', '48', '--quiet', '--stop', stop]);
    assert.equal(r.code, 0, r.stderr);
    const rec = JSON.parse(await readFile(join(out, 'tiny-seed1', 'bbh_direct_3shot.json'), 'utf8'));
    assert.deepEqual(rec.decoding.stop, [stop]);
    const cut = (await readFile(join(out, 'tiny-seed1', 'bbh_direct_3shot.predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(cut.find((l) => l.id === long.id).prediction, long.prediction.slice(0, long.prediction.indexOf(stop)));
  });

  test('--scoring loglik picks one of the options and records the log-likelihoods', async () => {
    const out = await tempDir();
    const r = await runCli(['run', 'mmlu', '--scoring', 'loglik', '--model', model, '--data-dir', DATA, '--out', out, '--quiet', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.runs[0].format.scoring, 'loglik');
    const lines = (await readFile(join(out, 'tiny-seed1', 'mmlu_direct_5shot_val_loglik.predictions.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    for (const l of lines) {
      assert.equal(l.loglik.length, 4);
      const best = l.loglik.indexOf(Math.max(...l.loglik));
      assert.equal(l.prediction, [' (A)', ' (B)', ' (C)', ' (D)'][best]);
      assert.equal(l.answer, ['(A)', '(B)', '(C)', '(D)'][best]);
    }
    // `score` on the run's own predictions gives the run record's numbers (one scoring path, not two).
    const rec = JSON.parse(await readFile(join(out, 'tiny-seed1', 'mmlu_direct_5shot_val_loglik.json'), 'utf8'));
    assert.ok(rec.result.score > 0, 'some options are right, so the comparison means something');
    const scored = await runCli(['score', 'mmlu', '--predictions', join(out, 'tiny-seed1', 'mmlu_direct_5shot_val_loglik.predictions.jsonl'), '--data-dir', DATA, '--json']);
    assert.equal(scored.code, 0, scored.stderr);
    const doc2 = JSON.parse(scored.stdout);
    assert.equal(doc2.score, rec.result.score);
    for (const [task, t] of Object.entries(rec.result.tasks as Record<string, { score: number; n: number }>)) assert.deepEqual([doc2.tasks[task].score, doc2.tasks[task].n], [t.score, t.n]);
  });
});

describe('run: selection flags across benchmarks', () => {
  test('--tasks names go to the benchmark that knows them; an unknown one gets "did you mean"', async () => {
    const out = await tempDir();
    const r = await runCli(['run', 'mmlu', 'bbh', '--tasks', 'world_religions', 'snarks', '--model', model, '--data-dir', DATA, '--out', out, '--quiet', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const runs = JSON.parse(r.stdout).runs as { record: string }[];
    const tasks = await Promise.all(runs.map(async (x) => Object.keys(JSON.parse(await readFile(x.record, 'utf8')).result.tasks)));
    assert.deepEqual(tasks, [['world_religions'], ['snarks']]);
    const bad = await runCli(['run', 'mmlu', 'bbh', '--tasks', 'world_religion', '--model', model, '--data-dir', DATA, '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown MMLU subject "world_religion"\. Did you mean "world_religions"\?/);
  });

  test('a suite narrows with --tasks/--languages/--limit but refuses format flags', async () => {
    const out = await tempDir();
    const r = await runCli(['run', '--suite', 'flan-heldout', '--tasks', 'snarks', '--languages', 'de', 'english', '--limit', '1', '--model', model, '--data-dir', DATA, '--out', out, '--quiet', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const runs = JSON.parse(r.stdout).runs as { benchmark: string; n: number; record: string }[];
    assert.deepEqual(runs.map((x) => [x.benchmark, x.n]), [['mmlu', 3], ['mmlu', 3], ['bbh', 1], ['bbh', 1], ['tydiqa', 1], ['mgsm', 2]]); // "english" is a TyDiQA language and an MGSM language name (en)
    // Prediction lines carry their cluster key (compare clusters its confidence interval by it).
    const clusters = async (benchmark: string) => {
      const path = runs.find((x) => x.benchmark === benchmark)!.record;
      const record = JSON.parse(await readFile(path, 'utf8')) as { predictions: string };
      const lines = (await readFile(join(dirname(path), record.predictions), 'utf8')).trim().split('\n');
      return lines.map((l) => (JSON.parse(l) as { cluster?: string }).cluster);
    };
    assert.deepEqual(await clusters('mgsm'), ['problem 0', 'problem 0']);
    assert.match((await clusters('tydiqa'))[0]!, /^passage [0-9a-f]{16}$/);
    assert.deepEqual(await clusters('bbh'), [undefined]);
    const bad = await runCli(['run', '--suite', 'nightly', '--cot', '--model', model, '--data-dir', DATA, '--out', out]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--cot does not combine with --suite/);
  });
});

/**
 * stderr without the warnings every run on the partial fixture data prints (expected tasks missing from
 * the data folder: see edges.test.ts); what is left must be the error's one line.
 */
function errorLines(stderr: string): string[] {
  return stderr.trim().split('\n').filter((l) => !l.startsWith('flan-eval: warning: '));
}

describe('run: bad input gets one line and exit code 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['--batch-size 0', ['--batch-size', '0'], /--batch-size must be a whole number of at least 1/],
    ['--shard 2/2', ['--shard', '2/2'], /--shard 2\/2: the index must be 0\.\.1/],
    ['--shard x', ['--shard', 'x'], /--shard x: expected i\/n/],
    ['--device tpu', ['--device', 'tpu'], /--device tpu: expected cpu, webgpu, cuda, cuda:N or auto/],
    ['--scoring loglik with --cot', ['--scoring', 'loglik', '--cot'], /--scoring loglik: .* loglik applies to MMLU direct/],
  ];
  for (const [name, extra, pattern] of cases) {
    test(name, async () => {
      const r = await runCli(runArgs(await tempDir(), ...extra));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    });
  }

  test('an unknown model', async () => {
    const r = await runCli(['run', 'mmlu', '--model', 'no/such-model', '--data-dir', DATA, '--out', await tempDir()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--model no\/such-model: .*models pull no\/such-model/);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  });

  test('an --out that is a file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'taken');
    await writeFile(file, 'x');
    const r = await runCli(runArgs(file));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /taken.*: a file is in the way of a folder/);
    assert.doesNotMatch(r.stderr, /at .*\.js/);
  });

  test('a full disk', async (t) => {
    const mnt = await tempDir('flan-eval-full-');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      t.skip('cannot mount a small tmpfs here (needs root and mount rights)');
      return;
    }
    try {
      const r = await runCli(runArgs(mnt, '--batch-size', '1'));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /no space left on device/);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});
