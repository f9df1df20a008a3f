import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InputError, UsageError, unknownName } from '../../errors.js';
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
import { parseMmluCsv, type MmluRow } from './csv.js';
import { extractMmluAnswer } from './extract.js';
import { CHOICES, LABELS, cotFewShotPrompt, cotZeroShotPrompt, directPrompt, target } from './prompts.js';

export { MMLU_CATEGORIES, MMLU_SUBJECTS, MMLU_SUBJECT_CATEGORY, mmluCategory, type MmluCategory } from './categories.js';

const SPLITS = ['dev', 'val', 'test'] as const;
const DEFAULT_SHOTS = 5;
export const MMLU_STOP = ['\n\nQ:'];
const COT_FILE = 'mmlu-cot.json';

/**
 * Decoding budgets. Direct: the answer is ` (X)`, four T5 tokens with end-of-sequence; 8 leaves room for
 * a model that says "The answer is (X)" without cutting off the letter. CoT: the Flan exemplars' worked
 * answers run to about 150 tokens; 256 is the usual Flan/BBH budget.
 */
const MAX_NEW_TOKENS = { direct: 8, cot: 256 };

function splitFolder(dataDir: string, split: string): string {
  return join(dataDir, 'mmlu', split);
}

function csvPath(dataDir: string, split: string, subject: string): string {
  return resolve(splitFolder(dataDir, split), `${subject}_${split}.csv`);
}

async function isFolder(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

function checkSplit(split: string): string {
  if (!(SPLITS as readonly string[]).includes(split)) throw unknownName('MMLU split (--split)', split, SPLITS);
  return split;
}

async function loadRows(path: string): Promise<MmluRow[]> {
  return parseMmluCsv(await readDataFile(path, 'mmlu'), path);
}

/** mmlu-cot.json: subject → the few-shot string (header line and worked exemplars), kept as it is. */
async function loadCotPrompts(path: string): Promise<Record<string, string>> {
  const data = await readDataJson(path, 'mmlu');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InputError(path, 'expected a JSON object mapping each subject to its chain-of-thought prompt; fetch the file again');
  }
  for (const [subject, value] of Object.entries(data)) {
    if (typeof value !== 'string') throw new InputError(path, `the entry for "${subject}" is not a string; fetch the file again`);
  }
  return data as Record<string, string>;
}

export const mmluAdapter: BenchmarkAdapter = {
  name: 'mmlu',
  defaultShots: DEFAULT_SHOTS,
  splits: SPLITS,
  defaultSplit: 'val',

  async listTasks(dataDir: string, split = 'val'): Promise<string[]> {
    await requireDataFolder(dataDir, 'mmlu', 'mmlu');
    const folder = splitFolder(dataDir, checkSplit(split));
    if (!(await isFolder(folder))) {
      // Some copies of the data hold only test/ and dev/: then the fix is a flag, not a download.
      const others: string[] = [];
      for (const s of SPLITS) if (s !== split && s !== 'dev' && (await isFolder(splitFolder(dataDir, s)))) others.push(s);
      const hint = others.length ? `this data directory has ${others.map((s) => `${s}/`).join(' and ')}: use ${others.map((s) => `--split ${s}`).join(' or ')} (or ${fetchHint('mmlu')} for the ${split} split)` : fetchHint('mmlu');
      throw new UsageError(`${folder}: no MMLU ${split} split found; ${hint}`);
    }
    const subjects = await listNamesWithSuffix(folder, `_${split}.csv`);
    if (subjects.length === 0) throw new UsageError(`${folder}: no <subject>_${split}.csv files; ${fetchHint('mmlu')}`);
    return subjects;
  },

  async prepare(dataDir: string, format: PromptFormat, selection: Selection): Promise<PreparedBenchmark> {
    const split = checkSplit(selection.split ?? 'val');
    const subjects = resolveTaskNames('MMLU subject', selection.tasks, await this.listTasks(dataDir, split));
    const files: string[] = [];
    const items: PreparedItem[] = [];

    let cotPrompts: Record<string, string> | undefined;
    const cotPath = resolve(dataDir, 'mmlu', COT_FILE);
    if (format.cot && format.shots > 0) {
      // The CoT exemplars are one fixed string per subject (4–5 worked answers): they cannot be cut to N.
      if (format.shots !== DEFAULT_SHOTS) {
        throw new UsageError(`--shots ${format.shots}: MMLU chain-of-thought uses the fixed exemplars of ${COT_FILE}; use the default (--shots ${DEFAULT_SHOTS}) or --zero-shot`);
      }
      cotPrompts = await loadCotPrompts(cotPath);
      files.push(cotPath);
    }

    for (const subject of subjects) {
      let exemplars: MmluRow[] = [];
      if (!format.cot && format.shots > 0) {
        const devPath = csvPath(dataDir, 'dev', subject);
        const dev = await loadRows(devPath);
        if (dev.length < format.shots) {
          throw new UsageError(`--shots ${format.shots}: ${devPath} has only ${dev.length} rows to use as exemplars; use --shots ${dev.length} or fewer`);
        }
        exemplars = dev.slice(0, format.shots);
        files.push(devPath);
      }
      let cotString: string | undefined;
      if (cotPrompts) {
        if (!Object.hasOwn(cotPrompts, subject)) {
          throw new InputError(cotPath, `no chain-of-thought prompt for subject "${subject}"; fetch the file again or leave the subject out with --tasks`);
        }
        cotString = cotPrompts[subject]!;
      }

      const path = csvPath(dataDir, split, subject);
      const rows = applyLimit(await loadRows(path), selection.limit);
      files.push(path);
      rows.forEach((row, i) => {
        const prompt = format.cot
          ? cotString !== undefined
            ? cotFewShotPrompt(cotString, row)
            : cotZeroShotPrompt(subject, row)
          : directPrompt(subject, exemplars, row);
        const item: PreparedItem = { id: exampleId('mmlu', subject, i), benchmark: 'mmlu', task: subject, prompt, target: target(row), stop: MMLU_STOP };
        if (!format.cot) {
          item.choices = [...CHOICES];
          item.choiceLabels = [...LABELS];
        }
        items.push(item);
      });
    }
    return { items, files: [...new Set(files)], tasks: subjects };
  },

  maxNewTokens(format: PromptFormat): number {
    return format.cot ? MAX_NEW_TOKENS.cot : MAX_NEW_TOKENS.direct;
  },

  scoreItem(item: PreparedItem, prediction: string): ItemScore {
    const answer = extractMmluAnswer(truncateAtStop(prediction, item.stop));
    return { answer, correct: answer === item.target };
  },

  aggregate(items, scores) {
    const tasks = [...new Set(items.map((i) => i.task))];
    return aggregateByTask('mmlu', items, scores, tasks, tasks);
  },
};
