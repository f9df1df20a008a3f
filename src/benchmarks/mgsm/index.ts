import type { BenchmarkAdapter } from '../adapter.js';
import { aggregateByTask } from '../scoring.js';

/** MGSM (SPEC §1–§4). Placeholder while the loader, prompts and scorer are written. */
export const mgsmAdapter: BenchmarkAdapter = {
  name: 'mgsm',
  defaultShots: 8,
  async listTasks() {
    return [];
  },
  async prepare() {
    return { items: [], files: [], tasks: [] };
  },
  maxNewTokens(format) {
    return format.cot ? 256 : 16;
  },
  scoreItem() {
    return { answer: '', correct: false };
  },
  aggregate(items, scores) {
    return aggregateByTask('mgsm', items, scores, [], []);
  },
};
