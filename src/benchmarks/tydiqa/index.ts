import type { BenchmarkAdapter } from '../adapter.js';
import { aggregateByTask } from '../scoring.js';

/** TyDiQA GoldP (SPEC §1–§4). Placeholder while the loader, prompts and scorer are written. */
export const tydiqaAdapter: BenchmarkAdapter = {
  name: 'tydiqa',
  defaultShots: 1,
  async listTasks() {
    return [];
  },
  async prepare() {
    return { items: [], files: [], tasks: [] };
  },
  maxNewTokens() {
    return 32;
  },
  scoreItem() {
    return { answer: '', correct: false };
  },
  aggregate(items, scores) {
    return aggregateByTask('tydiqa', items, scores, [], []);
  },
};
