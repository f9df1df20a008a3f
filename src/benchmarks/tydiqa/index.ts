import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ItemScore, PromptFormat, Selection } from '../../types.js';
import type { BenchmarkAdapter, PreparedBenchmark, PreparedItem, PreparePurpose } from '../adapter.js';
import { exists } from '../../util/fs.js';
import { applyLimit, exampleId, fetchHint, notice, readDataJson, requireDataFolder, resolveTaskNames } from '../common.js';
import { paperAverageSets } from '../mgsm/average.js';
import { passageCluster } from '../clusters.js';
import { aggregateByTask, truncateAtStop } from '../scoring.js';
import { byLanguage, readSquadQuestions, type TydiqaQuestion } from './load.js';
import { TYDIQA_STOP, tydiqaPrompt } from './prompts.js';
import { scoreAgainstGolds } from './squad.js';

const DEFAULT_SHOTS = 1;

/** docs/protocol.md §4: the paper's TyDiQA average is over the 8 languages other than English (reported alone). */
export const TYDIQA_EXCLUDED_FROM_AVERAGE = ['english'];

/** `--languages` also accepts ISO 639-1 codes. */
export const TYDIQA_LANGUAGE_CODES: Readonly<Record<string, string>> = {
  ar: 'arabic',
  bn: 'bengali',
  en: 'english',
  fi: 'finnish',
  id: 'indonesian',
  ko: 'korean',
  ru: 'russian',
  sw: 'swahili',
  te: 'telugu',
};

/**
 * GoldP answers are spans of a few words (the longest run to a sentence); T5's vocabulary splits the
 * Telugu, Bengali and Korean ones into many pieces. 64 covers them; the "\n" stop ends most far sooner.
 */
const MAX_NEW_TOKENS = 64;

export const devPath = (dataDir: string) => resolve(dataDir, 'tydiqa', 'tydiqa-goldp-v1.1-dev.json');
export const trainPath = (dataDir: string) => resolve(dataDir, 'tydiqa', 'tydiqa-goldp-v1.1-train.json');

async function loadQuestions(file: string): Promise<Map<string, TydiqaQuestion[]>> {
  return byLanguage(readSquadQuestions(await readDataJson(file, 'tydiqa'), file));
}

/** A TyDiQA item carries every gold answer: `target` is only the first (for display), scoring uses all. */
export interface TydiqaItem extends PreparedItem {
  answers: string[];
}

export const tydiqaAdapter: BenchmarkAdapter = {
  name: 'tydiqa',
  defaultShots: DEFAULT_SHOTS,

  async listTasks(dataDir: string): Promise<string[]> {
    await requireDataFolder(dataDir, 'tydiqa', 'tydiqa');
    const file = devPath(dataDir);
    const langs = [...(await loadQuestions(file)).keys()].sort();
    if (langs.length === 0) throw new UsageError(`${file}: holds no questions; ${fetchHint('tydiqa')}`);
    return langs;
  },

  async prepare(dataDir: string, format: PromptFormat, selection: Selection, purpose: PreparePurpose = 'evaluate'): Promise<PreparedBenchmark> {
    await requireDataFolder(dataDir, 'tydiqa', 'tydiqa');
    const dev = devPath(dataDir);
    const byLang = await loadQuestions(dev);
    const tasks = resolveTaskNames('TyDiQA language', selection.tasks, [...byLang.keys()].sort(), TYDIQA_LANGUAGE_CODES);
    const files = [dev];
    // The train file (tens of MB) is read only when exemplars are wanted.
    // Scoring needs only the dev file: the train file supplies exemplars, i.e. prompts, nothing scored.
    let train: Map<string, TydiqaQuestion[]> | undefined;
    let promptsExact = true;
    if (format.shots > 0) {
      const trainFile = trainPath(dataDir);
      if (purpose === 'score' && !(await exists(trainFile))) promptsExact = false;
      else {
        train = await loadQuestions(trainFile);
        files.push(trainFile);
      }
    }
    const items: PreparedItem[] = [];
    for (const lang of tasks) {
      // Exemplars: the first N questions of the language in the train file that have an answer.
      const shots = (train?.get(lang) ?? []).filter((q) => q.answers.length > 0).slice(0, format.shots);
      if (promptsExact && shots.length < format.shots) {
        notice(
          shots.length === 0
            ? `tydiqa: ${trainPath(dataDir)} has no "${lang}" question to use as exemplar; "${lang}" prompts are zero-shot`
            : `tydiqa: ${trainPath(dataDir)} has only ${shots.length} "${lang}" questions for ${format.shots} exemplars; "${lang}" prompts use ${shots.length}`,
        );
      }
      const exemplars = shots.map((q) => ({ context: q.context, question: q.question, answer: q.answers[0]! }));
      applyLimit(byLang.get(lang) ?? [], selection.limit).forEach((q, i) => {
        const item: TydiqaItem = {
          id: exampleId('tydiqa', lang, i),
          benchmark: 'tydiqa',
          task: lang,
          prompt: tydiqaPrompt(exemplars, q),
          target: q.answers[0] ?? '',
          stop: TYDIQA_STOP,
          answers: q.answers,
          cluster: passageCluster(q.context),
        };
        items.push(item);
      });
    }
    return { items, files, tasks, ...(promptsExact ? {} : { promptsExact }) };
  },

  maxNewTokens(): number {
    return MAX_NEW_TOKENS;
  },

  scoreItem(item: PreparedItem, prediction: string): ItemScore {
    const answer = truncateAtStop(prediction, item.stop).trim();
    const golds = (item as Partial<TydiqaItem>).answers ?? [item.target];
    const { em, f1 } = scoreAgainstGolds(answer, golds);
    return { answer, correct: em, metrics: { f1 } };
  },

  aggregate(items, scores) {
    return aggregateByTask('tydiqa', items, scores, ...paperAverageSets(items, TYDIQA_EXCLUDED_FROM_AVERAGE), 'passage');
  },
};
