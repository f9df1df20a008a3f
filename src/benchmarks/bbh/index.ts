import { resolve } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ItemScore, PromptFormat, Selection } from '../../types.js';
import type { BenchmarkAdapter, PreparedBenchmark, PreparedItem } from '../adapter.js';
import {
  applyLimit,
  exampleId,
  fetchHint,
  listNamesWithSuffix,
  readDataFile,
  readDataJson,
  requireDataFolder,
  resolveTaskNames,
} from '../common.js';
import { aggregateByTask, truncateAtStop } from '../scoring.js';
import { extractBbhAnswer } from './extract.js';
import { checkBbhTask, parseCotPrompt, type BbhCotPrompt } from './load.js';
import { cotPrompt, directPrompt } from './prompts.js';

const DEFAULT_SHOTS = 3;
export const BBH_STOP = ['\n\nQ:'];

/**
 * Decoding budgets. Direct: most targets are an option letter or a word, the longest are word_sorting's
 * sorted word lists (up to 182 characters, 60–90 T5 tokens), so 128. CoT: the exemplars' reasoning runs to about 200
 * tokens on the long tasks (dyck_languages, tracking_shuffled_objects_seven_objects); 256 as in Flan.
 */
const MAX_NEW_TOKENS = { direct: 128, cot: 256 };

const taskPath = (dataDir: string, task: string) => resolve(dataDir, 'bbh', 'bbh', `${task}.json`);
const cotPath = (dataDir: string, task: string) => resolve(dataDir, 'bbh', 'cot-prompts', `${task}.txt`);

export async function loadCotPrompt(path: string): Promise<BbhCotPrompt> {
  return parseCotPrompt(await readDataFile(path, 'bbh'), path);
}

export const bbhAdapter: BenchmarkAdapter = {
  name: 'bbh',
  defaultShots: DEFAULT_SHOTS,

  async listTasks(dataDir: string): Promise<string[]> {
    const folder = await requireDataFolder(dataDir, 'bbh', 'bbh', 'bbh');
    // Only the task files: the folder also holds upstream's README.md.
    const tasks = await listNamesWithSuffix(folder, '.json');
    if (tasks.length === 0) throw new UsageError(`${folder}: no <task>.json files; ${fetchHint('bbh')}`);
    return tasks;
  },

  async prepare(dataDir: string, format: PromptFormat, selection: Selection): Promise<PreparedBenchmark> {
    const tasks = resolveTaskNames('BBH task', selection.tasks, await this.listTasks(dataDir));
    await requireDataFolder(dataDir, 'bbh', 'bbh', 'cot-prompts');
    const files: string[] = [];
    const items: PreparedItem[] = [];
    for (const task of tasks) {
      // Every format needs the cot-prompt file: the task description D comes from it.
      const promptFile = cotPath(dataDir, task);
      const p = await loadCotPrompt(promptFile);
      if (p.exemplars.length < format.shots) {
        throw new UsageError(`--shots ${format.shots}: ${promptFile} has only ${p.exemplars.length} exemplars; use --shots ${p.exemplars.length} or fewer`);
      }
      const dataFile = taskPath(dataDir, task);
      const examples = applyLimit(checkBbhTask(await readDataJson(dataFile, 'bbh'), dataFile), selection.limit);
      files.push(dataFile, promptFile);
      examples.forEach((ex, i) => {
        items.push({
          id: exampleId('bbh', task, i),
          benchmark: 'bbh',
          task,
          prompt: format.cot ? cotPrompt(p, format.shots, ex.input) : directPrompt(p, format.shots, ex.input),
          target: ex.target,
          stop: BBH_STOP,
        });
      });
    }
    return { items, files, tasks };
  },

  maxNewTokens(format: PromptFormat): number {
    return format.cot ? MAX_NEW_TOKENS.cot : MAX_NEW_TOKENS.direct;
  },

  scoreItem(item: PreparedItem, prediction: string, format: PromptFormat): ItemScore {
    const answer = extractBbhAnswer(truncateAtStop(prediction, item.stop), format.cot);
    return { answer, correct: answer === item.target };
  },

  aggregate(items, scores) {
    const tasks = [...new Set(items.map((i) => i.task))];
    return aggregateByTask('bbh', items, scores, tasks, tasks);
  },
};

