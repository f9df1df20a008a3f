import assert from 'node:assert/strict';
import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MMLU_CATEGORIES, MMLU_SUBJECTS, MMLU_SUBJECT_CATEGORY, mmluAdapter, mmluCategory } from '../../src/benchmarks/mmlu/index.js';
import { parseMmluCsv } from '../../src/benchmarks/mmlu/csv.js';
import { extractMmluAnswer } from '../../src/benchmarks/mmlu/extract.js';
import { UsageError } from '../../src/errors.js';
import { fixturesDir, tempDir } from '../helpers/cli.js';
import { loadGoldenPrompts } from './mmlu-bbh-golden.js';

const dataDir = join(fixturesDir, 'data');

describe('MMLU CSV', () => {
  it('reads RFC 4180 fields: quoted commas, doubled quotes and newlines, kept exactly', () => {
    const rows = parseMmluCsv('"a, b",x,"say ""hi""","two\nlines", d ,A\nq2,1,2,3,4,D\n', 'f.csv');
    assert.deepEqual(rows, [
      { question: 'a, b', options: ['x', 'say "hi"', 'two\nlines', ' d '], answer: 'A', line: 1 },
      { question: 'q2', options: ['1', '2', '3', '4'], answer: 'D', line: 3 },
    ]);
  });

  it('names the file and the starting line of a row with the wrong number of fields', () => {
    assert.throws(() => parseMmluCsv('q,1,2,3,4,A\n"multi\nline",1,2,3,A\n', 'sub_val.csv'), {
      name: 'UsageError',
      message: /^sub_val\.csv:2: expected 6 fields \(question, A, B, C, D, answer\), found 5/,
    });
    assert.throws(() => parseMmluCsv('q,1,2,3,4,A\nq,1,2,3,4,5,A\n', 'x.csv'), { message: /^x\.csv:2: expected 6 fields.*found 7/ });
  });

  it('names the line where a never-closed quote opens', () => {
    assert.throws(() => parseMmluCsv('q,1,2,3,4,A\n\nq,"open,2,3,4,B\nq,1,2,3,4,C\n', 'x.csv'), {
      message: /^x\.csv:3: a quoted field is never closed/,
    });
  });

  it('rejects an answer that is not A–D', () => {
    assert.throws(() => parseMmluCsv('q,1,2,3,4,E\n', 'x.csv'), { message: /^x\.csv:1: answer must be one of A, B, C, D, found "E"/ });
  });
});

describe('MMLU prompts (golden files, written by hand from docs/protocol.md §3)', async () => {
  const goldens = await loadGoldenPrompts(join(fixturesDir, 'golden', 'mmlu'), 'mmlu');

  it('covers every format: direct and CoT, zero- and few-shot', () => {
    const kinds = new Set(goldens.map((g) => `${g.format.cot}/${g.format.shots > 0}`));
    assert.deepEqual([...kinds].sort(), ['false/false', 'false/true', 'true/false', 'true/true']);
  });

  for (const g of goldens) {
    it(`${g.file}`, async () => {
      const { items } = await mmluAdapter.prepare(dataDir, g.format, g.selection);
      const item = items.find((i) => i.id === g.id);
      assert.ok(item, `no item ${g.id}`);
      assert.equal(item.prompt, g.prompt);
    });
  }
});

describe('MMLU items', () => {
  it('lists the subjects of a split and builds ids, targets, stops and loglik choices', async () => {
    assert.deepEqual(await mmluAdapter.listTasks(dataDir, 'val'), ['college_mathematics', 'high_school_geography', 'world_religions']);
    const { items, tasks, files } = await mmluAdapter.prepare(dataDir, { cot: false, shots: 5 }, {});
    assert.deepEqual(tasks, ['college_mathematics', 'high_school_geography', 'world_religions']);
    assert.deepEqual(
      items.map((i) => `${i.id} ${i.target}`),
      [
        'mmlu/college_mathematics/0 (C)',
        'mmlu/college_mathematics/1 (B)',
        'mmlu/college_mathematics/2 (C)',
        'mmlu/high_school_geography/0 (B)',
        'mmlu/high_school_geography/1 (B)',
        'mmlu/high_school_geography/2 (B)',
        'mmlu/world_religions/0 (B)',
        'mmlu/world_religions/1 (A)',
      ],
    );
    for (const i of items) {
      assert.deepEqual(i.stop, ['\n\nQ:']);
      assert.deepEqual(i.choices, [' (A)', ' (B)', ' (C)', ' (D)']);
      assert.deepEqual(i.choiceLabels, ['(A)', '(B)', '(C)', '(D)']);
    }
    // The data files read, for the run record's hashes: dev (exemplars) and val per subject.
    assert.equal(files.length, 6);
    assert.ok(files.every((f) => /\/mmlu\/(dev|val)\/\w+_(dev|val)\.csv$/.test(f)));
  });

  it('CoT items have no loglik choices, and CoT few-shot reads mmlu-cot.json', async () => {
    const { items, files } = await mmluAdapter.prepare(dataDir, { cot: true, shots: 5 }, { tasks: ['world_religions'] });
    assert.equal(items[0]!.choices, undefined);
    assert.ok(files.some((f) => f.endsWith('mmlu-cot.json')));
  });

  it('keeps the first N rows per subject with --limit and reads the test split', async () => {
    const { items } = await mmluAdapter.prepare(dataDir, { cot: false, shots: 0 }, { limit: 1, split: 'test' });
    assert.deepEqual(items.map((i) => i.id), ['mmlu/college_mathematics/0', 'mmlu/high_school_geography/0', 'mmlu/world_religions/0']);
    assert.match(items[0]!.prompt, /5 choose 2/);
  });

  it('resolves subjects case-insensitively and says "did you mean" for unknown ones', async () => {
    const { tasks } = await mmluAdapter.prepare(dataDir, { cot: false, shots: 0 }, { tasks: ['World_Religions'] });
    assert.deepEqual(tasks, ['world_religions']);
    await assert.rejects(mmluAdapter.prepare(dataDir, { cot: false, shots: 0 }, { tasks: ['world_religion'] }), {
      name: 'UsageError',
      message: /unknown MMLU subject "world_religion"\. Did you mean "world_religions"\?/,
    });
  });

  it('refuses more shots than dev rows, CoT shots other than the fixed string, and unknown splits', async () => {
    await assert.rejects(mmluAdapter.prepare(dataDir, { cot: false, shots: 6 }, {}), { message: /^--shots 6: .*college_mathematics_dev\.csv has only 5 rows/ });
    await assert.rejects(mmluAdapter.prepare(dataDir, { cot: true, shots: 3 }, {}), { message: /^--shots 3: MMLU chain-of-thought uses the fixed exemplars of mmlu-cot\.json/ });
    await assert.rejects(mmluAdapter.prepare(dataDir, { cot: false, shots: 0 }, { split: 'validation' }), { message: /unknown MMLU split \(--split\) "validation"/ });
  });

  it('says how to get the data when the folder is missing', async () => {
    const empty = await tempDir();
    await assert.rejects(mmluAdapter.listTasks(empty), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /mmlu: no mmlu data found; run `flan-eval data fetch mmlu` or pass --data-dir$/);
      return true;
    });
  });

  it('names mmlu-cot.json when a subject has no CoT prompt', async () => {
    const dir = await tempDir();
    await cp(join(dataDir, 'mmlu'), join(dir, 'mmlu'), { recursive: true });
    await writeFile(join(dir, 'mmlu', 'mmlu-cot.json'), '{"world_religions": "Q: x"}');
    await assert.rejects(mmluAdapter.prepare(dir, { cot: true, shots: 5 }, { tasks: ['college_mathematics'] }), {
      message: /mmlu-cot\.json: no chain-of-thought prompt for subject "college_mathematics"/,
    });
  });
});

describe('MMLU answer extraction and scoring (docs/protocol.md §4)', () => {
  const cases: [string, string][] = [
    [' (B)', '(B)'],
    ['(B)', '(B)'],
    ['B', '(B)'],
    ['  (C)   ', '(C)'],
    ['The answer is (D).', '(D)'],
    ['The answer is D.', '(D)'],
    ['Answer is B', '(B)'],
    // The last "answer is" wins over earlier ones and over letters before it.
    ["(A) looks right, but the answer is (C). Wait, no: the answer is (B).", '(B)'],
    // After the last "answer is" there is no letter: the first one in the prediction counts.
    ['(C) is my choice because the answer is unclear', '(C)'],
    // Letters inside words are not answers; a lone letter is.
    ['Because Apple and DNA matter, B', '(B)'],
    ['nothing to see here', ''],
    ['', ''],
    ['(E)', ''],
    ['(b)', ''],
  ];
  for (const [prediction, answer] of cases) {
    it(`${JSON.stringify(prediction)} → ${JSON.stringify(answer)}`, () => assert.equal(extractMmluAnswer(prediction), answer));
  }

  const item = { id: 'mmlu/x/0', benchmark: 'mmlu' as const, task: 'x', prompt: 'p', target: '(B)', stop: ['\n\nQ:'] };
  it('cuts at the stop sequence before extracting', () => {
    const format = { cot: true, shots: 5 };
    assert.deepEqual(mmluAdapter.scoreItem(item, 'Thinking. The answer is (B).\n\nQ: next one\nA: The answer is (C).', format), { answer: '(B)', correct: true });
    assert.deepEqual(mmluAdapter.scoreItem(item, 'Thinking.\n\nQ: The answer is (B).', format), { answer: '', correct: false });
  });

  it('scores a loglik choice (" (B)") like a generated answer', () => {
    assert.equal(mmluAdapter.scoreItem(item, ' (B)', { cot: false, shots: 5 }).correct, true);
    assert.equal(mmluAdapter.scoreItem(item, ' (A)', { cot: false, shots: 5 }).correct, false);
  });

  it('uses small direct and larger CoT decoding budgets', () => {
    assert.ok(mmluAdapter.maxNewTokens({ cot: false, shots: 5 }) >= 5);
    assert.ok(mmluAdapter.maxNewTokens({ cot: true, shots: 5 }) >= 128);
  });
});

describe('MMLU categories', () => {
  it('maps all 57 subjects to the four Hendrycks categories', () => {
    assert.equal(MMLU_SUBJECTS.length, 57);
    const counts = Object.fromEntries(MMLU_CATEGORIES.map((c) => [c, 0]));
    for (const s of MMLU_SUBJECTS) counts[MMLU_SUBJECT_CATEGORY[s]!]!++;
    assert.deepEqual(counts, { STEM: 18, humanities: 13, 'social sciences': 12, other: 14 });
    assert.equal(mmluCategory('high_school_geography'), 'social sciences');
    assert.equal(mmluCategory('world_religions'), 'humanities');
    assert.equal(mmluCategory('college_mathematics'), 'STEM');
    assert.equal(mmluCategory('toString'), undefined);
  });
});
