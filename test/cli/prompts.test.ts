import assert from 'node:assert/strict';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { benchmarkNames } from '../../src/benchmarks/registry.js';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { assertOneLineError } from './prompts-score-asserts.js';

const dataDir = join(fixturesDir, 'data');

async function readJsonl(file: string): Promise<Record<string, unknown>[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('flan-eval prompts', () => {
  it('writes one JSON line per item with exactly id, benchmark, task, prompt, target', async () => {
    const dir = await tempDir();
    const out = join(dir, 'nested', 'bbh.jsonl');
    const r = await runCli(['prompts', 'bbh', '--cot', '--data-dir', dataDir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /10 bbh prompts \(CoT 3-shot, 3 tasks\) written to/);
    const lines = await readJsonl(out);
    assert.equal(lines.length, 10);
    for (const l of lines) assert.deepEqual(Object.keys(l), ['id', 'benchmark', 'task', 'prompt', 'target']);
    assert.deepEqual(lines[0], {
      id: 'bbh/logical_deduction_three_objects/0',
      benchmark: 'bbh',
      task: 'logical_deduction_three_objects',
      prompt: lines[0]!.prompt,
      target: '(A)',
    });
    const golden = await readFile(join(fixturesDir, 'golden', 'bbh', 'snarks.0.cot-3shot.txt'), 'utf8');
    assert.equal(lines.find((l) => l.id === 'bbh/snarks/0')!.prompt, golden.slice(0, -1));
    // Written atomically: no temporary file is left next to it.
    assert.deepEqual(await readdir(join(dir, 'nested')), ['bbh.jsonl']);
  });

  it('applies --zero-shot, --tasks (comma separated), --split and --limit', async () => {
    const out = join(await tempDir(), 'mmlu.jsonl');
    const r = await runCli(['prompts', 'mmlu', '--zero-shot', '--tasks', 'world_religions,college_mathematics', '--split', 'test', '--limit', '1', '--data-dir', dataDir, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const lines = await readJsonl(out);
    assert.deepEqual(lines.map((l) => l.id), ['mmlu/college_mathematics/0', 'mmlu/world_religions/0']);
    assert.equal(lines[1]!.prompt, 'The following are multiple choice questions (with answers) about world religions.\n\nQ: Who is traditionally regarded as the founder of Taoism?\n(A) Confucius (B) Laozi (C) Mencius (D) Zhuangzi\nA:');
    assert.equal(lines[1]!.target, '(B)');
  });

  it('--out=- writes the lines to stdout', async () => {
    const r = await runCli(['prompts', 'bbh', '--tasks', 'snarks', '--limit', '1', '--data-dir', dataDir, '--out=-']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.id), ['bbh/snarks/0']);
  });

  it('covers every registered benchmark (a benchmark without fixtures fails here rather than being skipped)', () => {
    assert.deepEqual([...benchmarkNames].sort(), ['bbh', 'mgsm', 'mmlu', 'tydiqa']);
    for (const name of benchmarkNames) assert.ok(existsSync(join(dataDir, name)), `no ${name} fixtures in test/fixtures/data: add them`);
  });

  for (const name of benchmarkNames) {
    it(`works for ${name} through the registry`, async () => {
      const out = join(await tempDir(), 'p.jsonl');
      const r = await runCli(['prompts', name, '--data-dir', dataDir, '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const lines = await readJsonl(out);
      assert.ok(lines.length > 0);
      for (const l of lines) {
        assert.deepEqual(Object.keys(l), ['id', 'benchmark', 'task', 'prompt', 'target']);
        assert.equal(l.benchmark, name);
        assert.ok(String(l.id).startsWith(`${name}/${l.task}/`));
      }
    });
  }
});

describe('flan-eval prompts: errors exit 2 with one line', () => {
  const out = () => join('/tmp', `flan-eval-unused-${process.pid}.jsonl`);

  it('unknown benchmark, with did-you-mean', async () => {
    assertOneLineError(await runCli(['prompts', 'mmul', '--data-dir', dataDir, '--out', out()]), /unknown benchmark "mmul"\. Did you mean "mmlu"\?/);
  });

  it('unknown task, with did-you-mean', async () => {
    assertOneLineError(await runCli(['prompts', 'bbh', '--tasks', 'snark', '--data-dir', dataDir, '--out', out()]), /unknown BBH task "snark"\. Did you mean "snarks"\?/);
  });

  it('--shots -1 names the flag', async () => {
    assertOneLineError(await runCli(['prompts', 'mmlu', '--shots', '-1', '--data-dir', dataDir, '--out', out()]), /--shots must be a whole number 0 or more, got -1/);
  });

  it('--shots with --zero-shot, --limit 0, --split outside MMLU, --languages for BBH', async () => {
    assertOneLineError(await runCli(['prompts', 'bbh', '--shots', '2', '--zero-shot', '--data-dir', dataDir, '--out', out()]), /--zero-shot and --shots 2 contradict/);
    assertOneLineError(await runCli(['prompts', 'bbh', '--limit', '0', '--data-dir', dataDir, '--out', out()]), /--limit must be a whole number of at least 1, got 0/);
    assertOneLineError(await runCli(['prompts', 'bbh', '--split', 'test', '--data-dir', dataDir, '--out', out()]), /--split does not apply to bbh/);
    assertOneLineError(await runCli(['prompts', 'bbh', '--languages', 'de', '--data-dir', dataDir, '--out', out()]), /--languages does not apply to bbh; choose its tasks with --tasks/);
  });

  it('--out naming a folder', async () => {
    const dir = await tempDir();
    assertOneLineError(await runCli(['prompts', 'bbh', '--data-dir', dataDir, '--out', dir]), /--out .* is a folder; give a file name such as .*bbh\.jsonl/);
  });

  it('missing data directory and missing benchmark folder say how to get the data', async () => {
    const missing = join(await tempDir(), 'nope');
    assertOneLineError(await runCli(['prompts', 'mmlu', '--data-dir', missing, '--out', out()]), /data directory .*nope does not exist; run `flan-eval data fetch mmlu` or pass --data-dir/);
    const empty = await tempDir();
    assertOneLineError(await runCli(['prompts', 'bbh', '--data-dir', empty, '--out', out()]), /bbh: no bbh data found; run `flan-eval data fetch bbh` or pass --data-dir/);
    // $FLAN_EVAL_DATA is the default data directory.
    assertOneLineError(await runCli(['prompts', 'bbh', '--out', out()], { env: { FLAN_EVAL_DATA: empty } }), /no bbh data found/);
  });

  it('a CSV row with the wrong field count, and a quote never closed, name file and line', async () => {
    const dir = await tempDir();
    await cp(join(dataDir, 'mmlu'), join(dir, 'mmlu'), { recursive: true });
    const file = join(dir, 'mmlu', 'val', 'world_religions_val.csv');
    await writeFile(file, 'q,1,2,3,4,A\n"q, with a comma",1,2,3,B\n');
    assertOneLineError(await runCli(['prompts', 'mmlu', '--data-dir', dir, '--out', out()]), new RegExp(`${file}:2: expected 6 fields`));
    await writeFile(file, 'q,1,2,3,4,A\nq,"never closed,1,2,3,B\nq,1,2,3,4,C\n');
    assertOneLineError(await runCli(['prompts', 'mmlu', '--data-dir', dir, '--out', out()]), new RegExp(`${file}:2: a quoted field is never closed`));
  });

  it('a truncated BBH task file names the file', async () => {
    const dir = await tempDir();
    await cp(join(dataDir, 'bbh'), join(dir, 'bbh'), { recursive: true });
    const file = join(dir, 'bbh', 'bbh', 'object_counting.json');
    await writeFile(file, (await readFile(file, 'utf8')).slice(0, -10));
    assertOneLineError(await runCli(['prompts', 'bbh', '--data-dir', dir, '--out', out()]), new RegExp(`${file}(:\\d+)?: invalid JSON`));
  });

  it('an MMLU split folder that is missing says so', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'mmlu', 'val'), { recursive: true });
    await cp(join(dataDir, 'mmlu', 'val'), join(dir, 'mmlu', 'val'), { recursive: true });
    assertOneLineError(await runCli(['prompts', 'mmlu', '--split', 'test', '--data-dir', dir, '--out', out()]), /mmlu\/test: no MMLU test split found; this data directory has val\/: use --split val \(or run `flan-eval data fetch mmlu`/);
    await rm(dir, { recursive: true });
  });

  it('a data directory with only test/ and dev/ suggests --split test, not a download', async () => {
    const dir = await tempDir();
    for (const split of ['test', 'dev']) await cp(join(dataDir, 'mmlu', split), join(dir, 'mmlu', split), { recursive: true });
    assertOneLineError(await runCli(['prompts', 'mmlu', '--data-dir', dir, '--out', out()]), /mmlu\/val: no MMLU val split found; this data directory has test\/: use --split test \(/);
    const empty = await tempDir();
    await mkdir(join(empty, 'mmlu', 'dev'), { recursive: true });
    assertOneLineError(await runCli(['prompts', 'mmlu', '--data-dir', empty, '--out', out()]), /mmlu\/val: no MMLU val split found; run `flan-eval data fetch mmlu`/);
  });

  it('a whole-number flag echoes what was given', async () => {
    assertOneLineError(await runCli(['prompts', 'mmlu', '--limit', 'abc', '--data-dir', dataDir, '--out', out()]), /--limit must be a whole number of at least 1, got abc$/);
    assertOneLineError(await runCli(['prompts', 'mmlu', '--shots', '2.5', '--data-dir', dataDir, '--out', out()]), /--shots must be a whole number 0 or more, got 2\.5$/);
  });
});
