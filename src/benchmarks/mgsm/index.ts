import { resolve } from 'node:path';
import { InputError, UsageError } from '../../errors.js';
import type { ItemScore, PromptFormat, Selection } from '../../types.js';
import type { BenchmarkAdapter, PreparedBenchmark, PreparedItem } from '../adapter.js';
import { applyLimit, exampleId, fetchHint, listNamesWithSuffix, readDataFile, requireDataFolder, resolveTaskNames } from '../common.js';
import { problemCluster } from '../clusters.js';
import { aggregateByTask, truncateAtStop } from '../scoring.js';
import { paperAverageSets } from './average.js';
import { parseExemplarFile, type MgsmExemplarFile } from './exemplars.js';
import { canonicalNumber, extractMgsmAnswer, sameNumber } from './extract.js';
import { cotPrompt, directPrompt, stopSequences } from './prompts.js';
import { parseMgsmTsv } from './tsv.js';

const DEFAULT_SHOTS = 8;

/** docs/protocol.md §4: the paper's MGSM average leaves English out (it is reported on its own). */
export const MGSM_EXCLUDED_FROM_AVERAGE = ['en'];

/** `--languages` also accepts English names of the 11 languages. */
export const MGSM_LANGUAGE_NAMES: Readonly<Record<string, string>> = {
  bengali: 'bn',
  german: 'de',
  english: 'en',
  spanish: 'es',
  french: 'fr',
  japanese: 'ja',
  russian: 'ru',
  swahili: 'sw',
  telugu: 'te',
  thai: 'th',
  chinese: 'zh',
};

/**
 * Decoding budgets. CoT: the exemplar answers run to ~60–120 T5 tokens in English and more in scripts
 * T5's vocabulary splits finely (te, bn, th), so 256 as for BBH CoT. Direct: a number, 16 is ample.
 */
const MAX_NEW_TOKENS = { direct: 16, cot: 256 };

const tsvPath = (dataDir: string, lang: string) => resolve(dataDir, 'mgsm', `mgsm_${lang}.tsv`);
const exemplarsPath = (dataDir: string) => resolve(dataDir, 'mgsm', 'exemplars.py');

export async function loadExemplarFile(dataDir: string): Promise<MgsmExemplarFile> {
  const file = exemplarsPath(dataDir);
  return parseExemplarFile(await readDataFile(file, 'mgsm'), file);
}

export interface MgsmItem extends PreparedItem {
  /** The language's answer phrases (docs/protocol.md §4), e.g. [`The answer is`]; scoring takes the number after one. */
  answerPhrases: string[];
}

export const mgsmAdapter: BenchmarkAdapter = {
  name: 'mgsm',
  defaultShots: DEFAULT_SHOTS,

  async listTasks(dataDir: string): Promise<string[]> {
    const folder = await requireDataFolder(dataDir, 'mgsm', 'mgsm');
    const langs = (await listNamesWithSuffix(folder, '.tsv')).filter((n) => n.startsWith('mgsm_') && n.length > 5).map((n) => n.slice(5));
    if (langs.length === 0) throw new UsageError(`${folder}: no mgsm_<lang>.tsv files; ${fetchHint('mgsm')}`);
    return langs;
  },

  async prepare(dataDir: string, format: PromptFormat, selection: Selection): Promise<PreparedBenchmark> {
    const tasks = resolveTaskNames('MGSM language', selection.tasks, await this.listTasks(dataDir), MGSM_LANGUAGE_NAMES);
    // Every format needs exemplars.py: QW and AW come from exemplar 1 even for zero-shot prompts.
    const exFile = exemplarsPath(dataDir);
    const ex = await loadExemplarFile(dataDir);
    if (!format.cot && format.shots > ex.numberAnswers.length) {
      throw new UsageError(`--shots ${format.shots}: ${exFile} has only ${ex.numberAnswers.length} EXEMPLAR_NUMBER_ANSWERS for direct prompts; use --shots ${ex.numberAnswers.length} or fewer`);
    }
    const files = [exFile];
    const items: PreparedItem[] = [];
    for (const lang of tasks) {
      const langEx = ex.languages.get(lang);
      if (!langEx) throw new InputError(exFile, `MGSM_EXEMPLARS has no "${lang}" entry (it has ${[...ex.languages.keys()].join(', ')}); fetch the file again or leave --languages ${lang} out`);
      if (format.shots > langEx.exemplars.length) {
        throw new UsageError(`--shots ${format.shots}: ${exFile} has only ${langEx.exemplars.length} exemplars for "${lang}"; use --shots ${langEx.exemplars.length} or fewer`);
      }
      const file = tsvPath(dataDir, lang);
      const examples = applyLimit(parseMgsmTsv(await readDataFile(file, 'mgsm'), file), selection.limit);
      files.push(file);
      const stop = stopSequences(langEx);
      examples.forEach((e, i) => {
        const item: MgsmItem = {
          id: exampleId('mgsm', lang, i),
          benchmark: 'mgsm',
          task: lang,
          prompt: format.cot ? cotPrompt(langEx, format.shots, e.question) : directPrompt(langEx, ex.numberAnswers, format.shots, e.question),
          // Separators removed (`2,125` → `2125`): the target reads like the extracted answers it is compared with.
          target: canonicalNumber(e.answer)!,
          stop,
          answerPhrases: langEx.answerPhrases,
          // MGSM's languages are translations of the same 250 problems, line for line.
          cluster: problemCluster(i),
        };
        items.push(item);
      });
    }
    return { items, files, tasks };
  },

  maxNewTokens(format: PromptFormat): number {
    return format.cot ? MAX_NEW_TOKENS.cot : MAX_NEW_TOKENS.direct;
  },

  scoreItem(item: PreparedItem, prediction: string): ItemScore {
    // Items come from prepare(), which sets the phrase; without one only the last-number rule applies.
    const phrases = (item as Partial<MgsmItem>).answerPhrases ?? [];
    const answer = extractMgsmAnswer(truncateAtStop(prediction, item.stop), phrases);
    return { answer, correct: sameNumber(answer, item.target) };
  },

  aggregate(items, scores) {
    return aggregateByTask('mgsm', items, scores, ...paperAverageSets(items, MGSM_EXCLUDED_FROM_AVERAGE), 'problem');
  },
};

