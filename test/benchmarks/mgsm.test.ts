import assert from 'node:assert/strict';
import { appendFile, cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PreparedItem } from '../../src/benchmarks/adapter.js';
import { extractMgsmAnswer, sameNumber } from '../../src/benchmarks/mgsm/extract.js';
import { mgsmAdapter } from '../../src/benchmarks/mgsm/index.js';
import { parseMgsmTsv } from '../../src/benchmarks/mgsm/tsv.js';
import { InputError, UsageError } from '../../src/errors.js';
import type { ItemScore } from '../../src/types.js';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { loadGoldenPrompts } from './mmlu-bbh-golden.js';

const dataDir = join(fixturesDir, 'data');
const COT8 = { cot: true, shots: 8 };

async function copyOfData(): Promise<string> {
  const dir = await tempDir();
  await cp(join(dataDir, 'mgsm'), join(dir, 'mgsm'), { recursive: true });
  return dir;
}

async function item(id: string, format = COT8): Promise<PreparedItem> {
  const { items } = await mgsmAdapter.prepare(dataDir, format, { tasks: [id.split('/')[1]!] });
  const found = items.find((i) => i.id === id);
  assert.ok(found, `no item ${id}`);
  return found;
}

describe('MGSM prompts (golden files, written by hand from docs/protocol.md §3)', async () => {
  const goldens = await loadGoldenPrompts(join(fixturesDir, 'golden', 'mgsm'), 'mgsm');

  it('covers every format (CoT and direct, zero- and few-shot) and a full-width-colon language', () => {
    const kinds = new Set(goldens.map((g) => `${g.format.cot}/${g.format.shots > 0}`));
    assert.deepEqual([...kinds].sort(), ['false/false', 'false/true', 'true/false', 'true/true']);
    assert.ok(goldens.some((g) => g.task === 'zh') && goldens.some((g) => g.task === 'ja'));
  });

  for (const g of goldens) {
    it(g.file, async () => {
      const { items } = await mgsmAdapter.prepare(dataDir, g.format, g.selection);
      const found = items.find((i) => i.id === g.id);
      assert.ok(found, `no item ${g.id}`);
      assert.equal(found.prompt, g.prompt);
    });
  }
});

describe('MGSM items', () => {
  it('lists the languages of the mgsm_<lang>.tsv files, sorted', async () => {
    assert.deepEqual(await mgsmAdapter.listTasks(dataDir), ['bn', 'de', 'en', 'ja', 'zh']);
  });

  it('names items mgsm/<lang>/<row>, keeps file order, and writes targets without thousands separators', async () => {
    const { items, tasks, files } = await mgsmAdapter.prepare(dataDir, COT8, { tasks: ['en'] });
    assert.deepEqual(tasks, ['en']);
    assert.deepEqual(items.map((i) => [i.id, i.task, i.target]), [
      ['mgsm/en/0', 'en', '17'],
      ['mgsm/en/1', 'en', '2125'],
      ['mgsm/en/2', 'en', '14'],
      ['mgsm/en/3', 'en', '25'],
    ]);
    assert.deepEqual(files, [join(dataDir, 'mgsm', 'exemplars.py'), join(dataDir, 'mgsm', 'mgsm_en.tsv')]);
  });

  it('stops at "\\n\\n" + the language\'s question word (docs/protocol.md §4)', async () => {
    const { items } = await mgsmAdapter.prepare(dataDir, { cot: false, shots: 0 }, { limit: 1 });
    assert.deepEqual(Object.fromEntries(items.map((i) => [i.task, i.stop])), {
      bn: ['\n\nপ্রশ্ন: '],
      de: ['\n\nFrage: '],
      en: ['\n\nQuestion: '],
      ja: ['\n\n問題：'],
      zh: ['\n\n问题：'],
    });
  });

  it('accepts language names and any case in --languages, and --limit per language', async () => {
    const { items, tasks } = await mgsmAdapter.prepare(dataDir, COT8, { tasks: ['German', 'ZH', 'japanese'], limit: 2 });
    assert.deepEqual(tasks, ['de', 'ja', 'zh']);
    assert.deepEqual(items.map((i) => i.id), ['mgsm/de/0', 'mgsm/de/1', 'mgsm/ja/0', 'mgsm/ja/1', 'mgsm/zh/0', 'mgsm/zh/1']);
  });

  it('answers an unknown language with "did you mean"', async () => {
    await assert.rejects(mgsmAdapter.prepare(dataDir, COT8, { tasks: ['zhh'] }), (e: unknown) => e instanceof UsageError && /unknown MGSM language "zhh"\. Did you mean "zh"\?/.test(e.message));
  });

  it('refuses more shots than exemplars', async () => {
    await assert.rejects(mgsmAdapter.prepare(dataDir, { cot: true, shots: 9 }, {}), /--shots 9: .*exemplars\.py has only 8 exemplars for "bn"; use --shots 8 or fewer/);
    await assert.rejects(mgsmAdapter.prepare(dataDir, { cot: false, shots: 9 }, {}), /--shots 9: .*only 8 EXEMPLAR_NUMBER_ANSWERS/);
  });

  it('says how to get the data when the folder is missing', async () => {
    const empty = await tempDir();
    await assert.rejects(mgsmAdapter.listTasks(empty), (e: unknown) => e instanceof UsageError && e.message.includes('flan-eval data fetch mgsm'));
  });

  it('names exemplars.py when a language has a TSV but no exemplars', async () => {
    const dir = await copyOfData();
    await writeFile(join(dir, 'mgsm', 'mgsm_fr.tsv'), 'Combien ?\t3\n');
    await assert.rejects(mgsmAdapter.prepare(dir, COT8, { tasks: ['fr'] }), (e: unknown) => e instanceof InputError && /exemplars\.py: MGSM_EXEMPLARS has no "fr" entry/.test(e.message));
  });
});

describe('MGSM TSV files', () => {
  it('reads question<TAB>answer lines, with or without a final newline or \\r', () => {
    assert.deepEqual(parseMgsmTsv('a?\t1\r\nb?\t2,125', 'f.tsv'), [
      { question: 'a?', answer: '1' },
      { question: 'b?', answer: '2,125' },
    ]);
  });

  it('names the file and line of a row with the wrong number of fields, or a non-number answer', () => {
    assert.throws(() => parseMgsmTsv('a?\t1\nb?\t2\textra\n', 'f.tsv'), (e: unknown) => e instanceof InputError && e.message.startsWith('f.tsv:2: expected 2 tab-separated fields (question, answer), found 3'));
    assert.throws(() => parseMgsmTsv('a?\t1\n\nc?\t3\n', 'f.tsv'), /f\.tsv:2: expected 2 tab-separated fields .* found 1/);
    assert.throws(() => parseMgsmTsv('a?\tseven\n', 'f.tsv'), /f\.tsv:1: answer "seven" is not a number/);
  });

  it('reports a broken row through the CLI as exit 2 and one line naming file and line', async () => {
    const dir = await copyOfData();
    await appendFile(join(dir, 'mgsm', 'mgsm_de.tsv'), 'kaputt\n');
    const r = await runCli(['prompts', 'mgsm', '--data-dir', dir, '--languages', 'de', '--out=-']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /mgsm_de\.tsv:4: expected 2 tab-separated fields/);
  });
});

describe('MGSM scoring (docs/protocol.md §4)', async () => {
  const en = await item('mgsm/en/1'); // target 2125, from "2,125"
  const zh = await item('mgsm/zh/0'); // target 17
  const de = await item('mgsm/de/0'); // target 17
  const ja = await item('mgsm/ja/0'); // target 17
  const score = (it: PreparedItem, prediction: string): ItemScore => mgsmAdapter.scoreItem(it, prediction, COT8);

  it('takes the first number after the answer phrase', () => {
    assert.deepEqual(score(en, ' 1,500 + 625 = 2,125. The answer is 2,125.'), { answer: '2125', correct: true });
    assert.deepEqual(score(zh, '萨姆有 12 颗，12 + 5 = 17。答案是 17 颗，不是 18。'), { answer: '17', correct: true });
    assert.deepEqual(score(ja, '12+5=17。答えは17個です。'), { answer: '17', correct: true });
  });

  it('matches the phrase in any case, and the last phrase that has a number after it', () => {
    assert.equal(score(en, 'so the answer is 2125').answer, '2125');
    assert.equal(score(en, 'The answer is 5. Checking again: 1,500 + 625 = 2,125. The answer is 2,125.').answer, '2125');
    assert.equal(score(en, 'The answer is 2,125. So the answer is').answer, '2125');
  });

  it('accepts every phrase the language\'s exemplars use (German "ist" and "lautet")', () => {
    assert.deepEqual(score(de, '12 + 5 = 17. Die Antwort ist 17.'), { answer: '17', correct: true });
    assert.deepEqual(score(de, '12 + 5 = 17. Die Antwort lautet 17 Murmeln, nicht 18.'), { answer: '17', correct: true });
  });

  it('falls back to the last number when there is no phrase, and to "" when there is no number', () => {
    assert.deepEqual(score(en, '1,500 + 625 = 2,125 books'), { answer: '2125', correct: true });
    assert.deepEqual(score(en, '2,125 books, minus 5'), { answer: '5', correct: false });
    assert.deepEqual(score(en, 'I do not know.'), { answer: '', correct: false });
    assert.deepEqual(score(en, ''), { answer: '', correct: false });
  });

  it('ignores text after the stop sequence "\\n\\n" + QW', () => {
    assert.deepEqual(score(en, 'The answer is 2,125.\n\nQuestion: x?\nStep-by-Step Answer: The answer is 9.'), { answer: '2125', correct: true });
    // Without the phrase before the stop, the last number before it counts, not one after.
    assert.equal(score(en, '1,500 + 625 = 2,125\n\nQuestion: 7 + 2 = 9').answer, '2125');
    // Each language stops at its own question word: "Question: " means nothing in a Chinese prediction.
    assert.equal(score(zh, '答案是 17。\n\n问题：答案是 99').answer, '17');
    assert.equal(score(zh, '答案是 17。\n\nQuestion: 答案是 99').answer, '99');
  });

  it('reads thousands separators, negative and decimal numbers, and full-width digits', () => {
    assert.equal(extractMgsmAnswer('The answer is -5 degrees.', ['The answer is']), '-5');
    assert.equal(extractMgsmAnswer('20-12=8, so 8.', []), '8');
    assert.equal(extractMgsmAnswer('It costs $2.50, so 2.50', []), '2.5');
    assert.equal(extractMgsmAnswer('The answer is 1,234,567.', ['The answer is']), '1234567');
    assert.equal(extractMgsmAnswer('The answer is 12,34.', ['The answer is']), '12', '"12,34" is not a thousands group');
    assert.equal(extractMgsmAnswer('答案是 １７。', ['答案是']), '17');
    assert.equal(extractMgsmAnswer('উত্তর হল ১৭ (17)।', ['উত্তর হল']), '17', 'Bengali digits are not read; the ASCII number is');
  });

  it('compares numerically, with separators on either side', () => {
    assert.ok(sameNumber('2125', '2,125'));
    assert.ok(sameNumber('2,125', '2125'));
    assert.ok(sameNumber('2.50', '2.5'));
    assert.ok(sameNumber('-0', '0'));
    assert.ok(!sameNumber('2124', '2,125'));
    assert.ok(!sameNumber('', '0'));
  });
});

describe('MGSM aggregate: the paper\'s average leaves English out', () => {
  it('averages the non-English languages and still reports en', async () => {
    const { items } = await mgsmAdapter.prepare(dataDir, COT8, { tasks: ['en', 'de', 'zh'] });
    const scores = new Map<string, ItemScore>();
    for (const i of items) {
      // en all right, de 1 of 3 right, zh row 0 wrong and row 1 missing.
      if (i.task === 'en' || i.id === 'mgsm/de/0') scores.set(i.id, mgsmAdapter.scoreItem(i, `The answer is ${i.target}.`, COT8));
      else if (i.id !== 'mgsm/zh/1') scores.set(i.id, mgsmAdapter.scoreItem(i, '答案是 0。', COT8));
    }
    const r = mgsmAdapter.aggregate(items, scores);
    assert.deepEqual(r.averageTasks, ['de', 'zh']);
    assert.equal(r.tasks.en!.score, 100);
    assert.equal(r.tasks.en!.n, 4);
    assert.ok(Math.abs(r.tasks.de!.score - 100 / 3) < 1e-9);
    assert.equal(r.tasks.zh!.score, 0);
    assert.equal(r.tasks.zh!.missing, 1);
    assert.ok(Math.abs(r.score - (100 / 3 + 0) / 2) < 1e-9);
  });

  it('averages over English alone when only English is selected', async () => {
    const { items } = await mgsmAdapter.prepare(dataDir, COT8, { tasks: ['en'] });
    const scores = new Map(items.map((i) => [i.id, mgsmAdapter.scoreItem(i, `The answer is ${i.target}`, COT8)] as const));
    const r = mgsmAdapter.aggregate(items, scores);
    assert.deepEqual(r.averageTasks, ['en']);
    assert.equal(r.score, 100);
  });
});
