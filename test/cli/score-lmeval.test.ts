import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';

/**
 * `score --from lm-eval` on samples laid out exactly as lm-eval 0.4 writes them with --log_samples
 * (test/fixtures/lm-eval, made by its make.py from the project's own sample data). The expected numbers
 * are worked out from the generations in make.py:
 * - object_counting: doc 0 right for both; doc 1 "The answer is 5." — right by the authors' rule (any
 *   case), "[invalid]" for lm-eval's case-sensitive regex; doc 2 wrong for both → ours 66.67, lm-eval 33.33.
 * - snarks: docs 0 and 2 right, doc 1 wrong, for both → 66.67 and 66.67.
 * - mgsm_native_cot_de: "Die Antwort lautet 17/2125/15" against 17, 2125, 14 → ours 66.67; lm-eval's
 *   strict-match (English "The answer is") 0, flexible-extract 66.67; one line per filter, 3 documents.
 * - mmlu_flan_cot_fewshot_college_mathematics: both docs right → 100 and 100.
 */

const SAMPLES = join(fixturesDir, 'lm-eval');
const MODEL_DIR = join(SAMPLES, 'fixture__flan-t5-tiny');
const DATE = '2024-06-28T14-35-21.123456';
const DATA = join(fixturesDir, 'data');
const file = (task: string) => join(MODEL_DIR, `samples_${task}_${DATE}.jsonl`);

interface Json {
  benchmark: string;
  score: number;
  n: number;
  tasks: Record<string, { lmEvalTask: string; n: number; score: number; lmEval: Record<string, number | null>; lmEvalMetric: string }>;
}

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

async function score(args: string[]): Promise<{ code: number | null; json: Json; stderr: string }> {
  const r = await runCli(['score', ...args, '--from', 'lm-eval', '--data-dir', DATA, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return { code: r.code, json: JSON.parse(r.stdout) as Json, stderr: r.stderr };
}

describe('score --from lm-eval', () => {
  test('BBH CoT from the output folder: per task, ours from the raw generations beside lm-eval\'s filtered score', async () => {
    const { json, stderr } = await score(['bbh', '--cot', '--predictions', SAMPLES]);
    assert.equal(json.n, 6);
    assert.deepEqual(Object.keys(json.tasks), ['object_counting', 'snarks']);
    const oc = json.tasks.object_counting!;
    assert.equal(oc.lmEvalTask, 'bbh_cot_fewshot_object_counting');
    assert.equal(oc.n, 3);
    close(oc.score, 200 / 3);
    close(oc.lmEval['get-answer']!, 100 / 3);
    assert.equal(oc.lmEvalMetric, 'exact_match');
    close(json.tasks.snarks!.score, 200 / 3);
    close(json.tasks.snarks!.lmEval['get-answer']!, 200 / 3);
    close(json.score, 200 / 3);
    // The folder also holds MGSM and MMLU samples: skipped, and said so.
    assert.match(stderr, /skipped 2 lm-eval samples files of other benchmarks \(not bbh_\*\)/);

    // Named files give the same; the table shows both columns.
    const r = await runCli(['score', 'bbh', '--cot', '--from', 'lm-eval', '--data-dir', DATA, '--predictions', file('bbh_cot_fewshot_object_counting'), file('bbh_cot_fewshot_snarks')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^bbh_cot_fewshot_object_counting +3 +66\.67 +33\.33$/m);
    assert.match(r.stdout, /^bbh_cot_fewshot_snarks +3 +66\.67 +66\.67$/m);
    assert.match(r.stdout, /^mean \(2 tasks\) +66\.67 +50\.00$/m);
  });

  test('MGSM: one line per filter is one document; every filter reported', async () => {
    const { json } = await score(['mgsm', '--cot', '--predictions', file('mgsm_native_cot_de')]);
    assert.equal(json.n, 3);
    const de = json.tasks.de!;
    assert.equal(de.n, 3);
    close(de.score, 200 / 3);
    assert.deepEqual(Object.keys(de.lmEval).sort(), ['flexible-extract', 'strict-match']);
    close(de.lmEval['strict-match']!, 0);
    close(de.lmEval['flexible-extract']!, 200 / 3);
  });

  test('MMLU flan CoT on the val split', async () => {
    const { json } = await score(['mmlu', '--cot', '--predictions', file('mmlu_flan_cot_fewshot_college_mathematics')]);
    assert.equal(json.tasks.college_mathematics!.n, 2);
    close(json.tasks.college_mathematics!.score, 100);
    close(json.tasks.college_mathematics!.lmEval['get-answer']!, 100);
  });

  test('an unknown task name exits 2 listing the names it knows', async () => {
    const dir = await tempDir();
    const odd = join(dir, `samples_bbh_cot_fewshot_not_a_task_${DATE}.jsonl`);
    await copyFile(file('bbh_cot_fewshot_snarks'), odd);
    const r = await runCli(['score', 'bbh', '--cot', '--from', 'lm-eval', '--data-dir', DATA, '--predictions', odd]);
    assert.equal(r.code, 2);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /lm-eval task "bbh_cot_fewshot_not_a_task" is not one flan-eval maps for bbh CoT; known names: bbh_cot_fewshot_logical_deduction_three_objects, bbh_cot_fewshot_object_counting, bbh_cot_fewshot_snarks, bbh_cot_zeroshot_/);
  });

  test('bad inputs exit 2 with one line naming the file and line', async () => {
    const dir = await tempDir();
    // The input text does not agree with our example 1.
    const lines = (await readFile(file('bbh_cot_fewshot_snarks'), 'utf8')).trimEnd().split('\n');
    const changed = JSON.parse(lines[1]!) as { doc: { input: string } };
    changed.doc.input = 'Which statement is sarcastic? (a question from other data)';
    lines[1] = JSON.stringify(changed);
    const other = join(dir, 'other');
    await mkdir(other);
    const bad = join(other, `samples_bbh_cot_fewshot_snarks_${DATE}.jsonl`);
    await writeFile(bad, `${lines.join('\n')}\n`);
    const cases: [string[], RegExp][] = [
      [['bbh', '--cot', '--predictions', bad], /samples_bbh_cot_fewshot_snarks_[^:]*\.jsonl:2: doc_id 1: its question does not agree with bbh\/snarks\/1/],
      // A CoT task scored as direct.
      [['bbh', '--predictions', file('bbh_cot_fewshot_snarks')], /is chain-of-thought: score it with --cot/],
      // A named file of another benchmark.
      [['bbh', '--cot', '--predictions', file('mgsm_native_cot_de')], /lm-eval task "mgsm_native_cot_de" is not one flan-eval maps for bbh CoT/],
      [['bbh', '--cot', '--predictions', join(dir, 'nowhere')], /no such file or folder/],
      [['bbh', '--cot', '--predictions', join(fixturesDir, 'data', 'mgsm', 'mgsm_de.tsv')], /not an lm-eval samples file/],
      [['tydiqa', '--predictions', SAMPLES], /no lm-eval tydiqa samples/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['score', ...args, '--from', 'lm-eval', '--data-dir', DATA]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const out = r.stderr.trim().split('\n').filter((l) => !l.includes('skipped'));
      assert.equal(out.length, 1, r.stderr);
      assert.match(out[0]!, message);
    }
    const unknownSource = await runCli(['score', 'bbh', '--from', 'helm', '--predictions', SAMPLES, '--data-dir', DATA]);
    assert.equal(unknownSource.code, 2);
  });
});
