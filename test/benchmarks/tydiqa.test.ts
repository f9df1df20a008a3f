import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PreparedItem } from '../../src/benchmarks/adapter.js';
import { readSquadQuestions } from '../../src/benchmarks/tydiqa/load.js';
import { exactMatch, f1Score, normalizeAnswer, scoreAgainstGolds } from '../../src/benchmarks/tydiqa/squad.js';
import { tydiqaAdapter } from '../../src/benchmarks/tydiqa/index.js';
import { InputError, UsageError } from '../../src/errors.js';
import type { ItemScore } from '../../src/types.js';
import { fixturesDir, runCli, tempDir } from '../helpers/cli.js';
import { loadGoldenPrompts } from './mmlu-bbh-golden.js';

const dataDir = join(fixturesDir, 'data');
const ONE = { cot: false, shots: 1 };

async function copyOfData(): Promise<string> {
  const dir = await tempDir();
  await cp(join(dataDir, 'tydiqa'), join(dir, 'tydiqa'), { recursive: true });
  return dir;
}

/** Capture what the adapter says on stderr while `fn` runs. */
async function stderrOf<T>(fn: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const write = process.stderr.write;
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr };
  } finally {
    process.stderr.write = write;
  }
}

describe('TyDiQA prompts (golden files, written by hand from the README template)', async () => {
  const goldens = await loadGoldenPrompts(join(fixturesDir, 'golden', 'tydiqa'), 'tydiqa');

  it('covers one-shot, two-shot, zero-shot and the zero-shot fallback of a language without train exemplars', () => {
    assert.deepEqual(goldens.map((g) => g.file), [
      'arabic.1.direct-1shot.txt',
      'english.0.direct-2shot.txt',
      'english.1.direct-1shot.txt',
      'english.2.direct-0shot.txt',
      'korean.0.direct-1shot.txt',
    ]);
  });

  for (const g of goldens) {
    it(g.file, async () => {
      const { value } = await stderrOf(() => tydiqaAdapter.prepare(dataDir, g.format, g.selection));
      const found = value.items.find((i) => i.id === g.id);
      assert.ok(found, `no item ${g.id}`);
      assert.equal(found.prompt, g.prompt);
    });
  }
});

describe('TyDiQA items', () => {
  it('lists the languages of the dev file (the id before its first "-"), sorted', async () => {
    assert.deepEqual(await tydiqaAdapter.listTasks(dataDir), ['arabic', 'english', 'korean']);
  });

  it('numbers each language\'s questions in file order, keeps every gold answer, stops at "\\n"', async () => {
    const { value } = await stderrOf(() => tydiqaAdapter.prepare(dataDir, ONE, {}));
    const { items, tasks, files } = value;
    assert.deepEqual(tasks, ['arabic', 'english', 'korean']);
    assert.deepEqual(
      items.map((i) => [i.id, i.target, (i as PreparedItem & { answers: string[] }).answers]),
      [
        ['tydiqa/arabic/0', 'القاهرة', ['القاهرة']],
        ['tydiqa/arabic/1', 'حوالي 6650 كيلومترا', ['حوالي 6650 كيلومترا', '6650 كيلومترا']],
        ['tydiqa/english/0', 'the Mediterranean Sea', ['the Mediterranean Sea', 'Mediterranean Sea']],
        ['tydiqa/english/1', 'the Pacific', ['the Pacific', 'Pacific coast', 'Pacific']],
        ['tydiqa/english/2', 'an active volcano', ['an active volcano']],
        ['tydiqa/korean/0', '서울', ['서울']],
      ],
    );
    assert.ok(items.every((i) => i.stop.length === 1 && i.stop[0] === '\n'));
    assert.deepEqual(files, [join(dataDir, 'tydiqa', 'tydiqa-goldp-v1.1-dev.json'), join(dataDir, 'tydiqa', 'tydiqa-goldp-v1.1-train.json')]);
  });

  it('says on stderr which language falls back to zero-shot for want of a train exemplar', async () => {
    const { stderr } = await stderrOf(() => tydiqaAdapter.prepare(dataDir, ONE, {}));
    assert.match(stderr, /tydiqa-goldp-v1\.1-train\.json has no "korean" question to use as exemplar; "korean" prompts are zero-shot/);
    assert.doesNotMatch(stderr, /"english"|"arabic"/);
    const two = await stderrOf(() => tydiqaAdapter.prepare(dataDir, { cot: false, shots: 2 }, { tasks: ['arabic'] }));
    assert.match(two.stderr, /has only 1 "arabic" questions for 2 exemplars; "arabic" prompts use 1/);
  });

  it('does not read the train file for zero-shot prompts', async () => {
    const dir = await copyOfData();
    await rm(join(dir, 'tydiqa', 'tydiqa-goldp-v1.1-train.json'));
    const { files, items } = await tydiqaAdapter.prepare(dir, { cot: false, shots: 0 }, { limit: 1 });
    assert.deepEqual(files, [join(dir, 'tydiqa', 'tydiqa-goldp-v1.1-dev.json')]);
    assert.equal(items.length, 3);
    await assert.rejects(tydiqaAdapter.prepare(dir, ONE, {}), (e: unknown) => e instanceof UsageError && /train\.json: file not found; run `flan-eval data fetch tydiqa`/.test(e.message));
  });

  it('accepts ISO codes and names in any case in --languages; unknown ones get "did you mean"', async () => {
    const { value } = await stderrOf(() => tydiqaAdapter.prepare(dataDir, ONE, { tasks: ['ar', 'English'], limit: 1 }));
    assert.deepEqual(value.tasks, ['arabic', 'english']);
    assert.deepEqual(value.items.map((i) => i.id), ['tydiqa/arabic/0', 'tydiqa/english/0']);
    await assert.rejects(tydiqaAdapter.prepare(dataDir, ONE, { tasks: ['englsh'] }), /unknown TyDiQA language "englsh"\. Did you mean "english"\?/);
  });

  it('names the file of truncated JSON, through the CLI as exit 2 and one line', async () => {
    const dir = await copyOfData();
    const dev = join(dir, 'tydiqa', 'tydiqa-goldp-v1.1-dev.json');
    const text = await readFile(dev, 'utf8');
    await writeFile(dev, text.slice(0, Math.floor(text.length / 2)));
    await assert.rejects(tydiqaAdapter.listTasks(dir), (e: unknown) => e instanceof UsageError && e.message.startsWith(dev) && /invalid JSON/.test(e.message));
    const r = await runCli(['prompts', 'tydiqa', '--data-dir', dir, '--out=-']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /tydiqa-goldp-v1\.1-dev\.json.*invalid JSON/);
  });

  it('names the JSON path of a question off the SQuAD shape', () => {
    const bad = { data: [{ paragraphs: [{ context: 'c', qas: [{ id: 'english-1', question: 'q', answers: [] }, { id: 'nolanguage', question: 'q', answers: [] }] }] }] };
    assert.throws(() => readSquadQuestions(bad, 'd.json'), (e: unknown) => e instanceof InputError && e.message.startsWith('d.json: data[0].paragraphs[0].qas[1] (id "nolanguage"): the id has no "<language>-" prefix'));
    assert.throws(() => readSquadQuestions({ data: [{ paragraphs: [{ qas: [] }] }] }, 'd.json'), /d\.json: data\[0\]\.paragraphs\[0\]\.context: missing or not a string/);
    assert.throws(() => readSquadQuestions({ version: '1.1' }, 'd.json'), /d\.json: data: missing or not a list/);
  });
});

describe('SQuAD v1.1 normalisation and metrics', () => {
  it('lower-cases, removes ASCII punctuation and the articles a/an/the as words, and collapses white space', () => {
    assert.equal(normalizeAnswer('  The  Mediterranean-Sea! '), 'mediterraneansea');
    assert.equal(normalizeAnswer('A theory, an answer; the end.'), 'theory answer end');
    assert.equal(normalizeAnswer('Athens thereafter anthem'), 'athens thereafter anthem');
    assert.equal(normalizeAnswer('"Don\'t"\u00a0stop\u3000now'), 'dont stop now');
  });

  it('keeps non-ASCII punctuation and treats letters of any script as word characters (Python\'s \\b)', () => {
    assert.equal(normalizeAnswer('«القاهرة»، مصر。'), '«القاهرة»، مصر。');
    assert.equal(normalizeAnswer('ña a'), 'ña');
    assert.equal(normalizeAnswer('éa the'), 'éa');
  });

  it('EM is equality after normalisation; F1 is token overlap', () => {
    assert.ok(exactMatch('the Pacific.', 'Pacific'));
    assert.ok(!exactMatch('Pacific Ocean', 'Pacific'));
    assert.equal(f1Score('Pacific Ocean', 'Pacific'), 2 / 3);
    assert.equal(f1Score('the the', 'the'), 0, 'both empty after normalisation: 0, as in v1.1');
    assert.equal(f1Score('x y y', 'y y z'), 2 / 3);
    assert.equal(f1Score('a b b', 'b b c'), 0.8, 'the article "a" is not a token');
    assert.equal(f1Score('x', 'y'), 0);
  });

  it('takes the maximum over gold answers for both metrics', () => {
    assert.deepEqual(scoreAgainstGolds('Pacific coast', ['the Pacific', 'Pacific coast']), { em: true, f1: 1 });
    assert.deepEqual(scoreAgainstGolds('near the Pacific coast', ['the Pacific', 'Pacific coast']), { em: false, f1: 0.8 });
  });
});

describe('TyDiQA scoreItem and aggregate', async () => {
  const { value } = await stderrOf(() => tydiqaAdapter.prepare(dataDir, ONE, {}));
  const items = value.items;
  const byId = new Map(items.map((i) => [i.id, i]));
  const score = (id: string, prediction: string): ItemScore => tydiqaAdapter.scoreItem(byId.get(id)!, prediction, ONE);

  it('cuts at the first newline, trims, and scores EM with F1 as a metric', () => {
    assert.deepEqual(score('tydiqa/english/1', ' Pacific\nPassage: the Pacific coast'), { answer: 'Pacific', correct: true, metrics: { f1: 1 } });
    assert.deepEqual(score('tydiqa/english/0', ' the Mediterranean'), { answer: 'the Mediterranean', correct: false, metrics: { f1: 2 / 3 } });
    assert.deepEqual(score('tydiqa/arabic/1', '6650 كيلومترا'), { answer: '6650 كيلومترا', correct: true, metrics: { f1: 1 } });
    assert.deepEqual(score('tydiqa/korean/0', ''), { answer: '', correct: false, metrics: { f1: 0 } });
  });

  it('averages EM and F1 over the languages other than english and still reports english', () => {
    const scores = new Map<string, ItemScore>([
      ['tydiqa/arabic/0', score('tydiqa/arabic/0', 'القاهرة')], // EM 1
      ['tydiqa/arabic/1', score('tydiqa/arabic/1', 'حوالي 6650')], // EM 0, F1 0.8 against the first gold (0.5 against the second)
      ['tydiqa/english/0', score('tydiqa/english/0', 'Mediterranean Sea')],
      ['tydiqa/english/1', score('tydiqa/english/1', 'Pacific')],
      ['tydiqa/english/2', score('tydiqa/english/2', 'volcano')],
      // korean/0 missing: counts as wrong
    ]);
    const r = tydiqaAdapter.aggregate(items, scores);
    assert.deepEqual(r.averageTasks, ['arabic', 'korean']);
    assert.equal(r.tasks.arabic!.score, 50);
    assert.ok(Math.abs(r.tasks.arabic!.metrics!.f1! - 100 * (1 + 0.8) / 2) < 1e-9);
    assert.equal(r.tasks.korean!.score, 0);
    assert.equal(r.tasks.korean!.missing, 1);
    assert.ok(Math.abs(r.tasks.english!.score - 200 / 3) < 1e-9);
    assert.equal(r.score, 25);
    assert.ok(Math.abs(r.metrics!.f1! - (100 * (1 + 0.8) / 2 + 0) / 2) < 1e-9);
  });

  it('scores predictions end to end through `flan-eval score --json`', async () => {
    const dir = await tempDir();
    const preds = join(dir, 'p.jsonl');
    await writeFile(preds, [
      { id: 'tydiqa/english/0', prediction: 'The Mediterranean Sea.\nmore' },
      { id: 'tydiqa/english/1', prediction: 'Atlantic' },
      { id: 'tydiqa/arabic/0', prediction: 'القاهرة' },
    ].map((p) => JSON.stringify(p)).join('\n') + '\n');
    const r = await runCli(['score', 'tydiqa', '--data-dir', dataDir, '--predictions', preds, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.tasks.english.n, 3);
    assert.ok(Math.abs(out.tasks.english.score - 100 / 3) < 1e-9);
    assert.equal(out.tasks.arabic.score, 50);
    assert.equal(out.score, 25);
  });
});
