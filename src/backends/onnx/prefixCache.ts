import type ort from 'onnxruntime-node';

type Feeds = Record<string, ort.Tensor>;

export interface PrefixPlan {
  /** Cache of the row's first `length` tokens at batch 1, or null (the row starts from nothing). */
  past: Feeds | null;
  length: number;
}

interface Entry {
  ids: number[];
  past: Feeds;
  bytes: number;
}

/** Bytes of shared-prefix caches a decoder-only backend keeps (and the memory budget sets aside). */
export const PREFIX_CACHE_BYTES = 512 * 2 ** 20;

/**
 * Shared-prefix KV reuse for a causal model. Few-shot prompts of one task begin with the same exemplar
 * block (MMLU's 5-shot prefix is most of each prompt), so its keys and values are computed once and every
 * prompt of the task continues from a copy.
 *
 * Prefixes are found on token ids, never on text: a prefix is a run of leading token ids that a prompt
 * shares with other prompts of the batch or recent ones, each tokenised whole (the run that saves the most
 * tokens: `bestPrefix`). It therefore ends on a boundary that every whole-prompt tokenisation sharing it
 * has, and the tokens a row reads are exactly its whole prompt's tokens. At least one token of each prompt
 * is left to read, for its next-token logits.
 *
 * Entries are kept most-recently-used first under a byte budget (a task's prompts arrive spread over
 * length-sorted batches, so several tasks' prefixes are live at once).
 */
export class PrefixCache {
  readonly stats = { hits: 0, computed: 0, tokensReused: 0 };
  private readonly entries = new Map<string, Entry>();
  private readonly recent: number[][] = [];
  private bytes = 0;

  constructor(
    /** Bytes of cached keys/values kept at most. */
    readonly budgetBytes = PREFIX_CACHE_BYTES,
    /** Shorter shared prefixes are not worth a separate run. */
    readonly minTokens = 32,
    private readonly recentLimit = 64,
  ) {}

  async plan(prompts: readonly number[][], compute: (ids: number[]) => Promise<Feeds>): Promise<PrefixPlan[]> {
    const plans: PrefixPlan[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const limit = prompt.length - 1;
      let entry = this.longestCached(prompt, limit);
      if (!entry) {
        const lengths: number[] = [];
        for (const [j, other] of prompts.entries()) if (j !== i) lengths.push(commonPrefix(prompt, other));
        for (const other of this.recent) lengths.push(commonPrefix(prompt, other));
        const shared = Math.min(bestPrefix(lengths, this.minTokens), limit);
        if (shared >= this.minTokens) {
          const ids = prompt.slice(0, shared);
          entry = this.entries.get(key(ids)) ?? (await this.add(ids, compute));
        }
      }
      if (entry) {
        this.touch(entry);
        this.stats.hits++;
        this.stats.tokensReused += entry.ids.length;
        plans.push({ past: entry.past, length: entry.ids.length });
      } else {
        plans.push({ past: null, length: 0 });
      }
    }
    for (const p of prompts) {
      this.recent.push(p);
      if (this.recent.length > this.recentLimit) this.recent.shift();
    }
    return plans;
  }

  private longestCached(prompt: readonly number[], limit: number): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.entries.values()) {
      if (e.ids.length <= limit && (!best || e.ids.length > best.ids.length) && commonPrefix(e.ids, prompt) === e.ids.length) best = e;
    }
    return best;
  }

  private async add(ids: number[], compute: (ids: number[]) => Promise<Feeds>): Promise<Entry> {
    const past = await compute(ids);
    const bytes = Object.values(past).reduce((a, t) => a + (t.data as ArrayBufferView).byteLength, 0);
    const entry = { ids, past, bytes };
    this.stats.computed++;
    this.entries.set(key(ids), entry);
    this.bytes += bytes;
    // Evict least recently used entries (never the one just made) while over budget.
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.budgetBytes || e === entry) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
    return entry;
  }

  private touch(entry: Entry): void {
    const k = key(entry.ids);
    if (this.entries.delete(k)) this.entries.set(k, entry);
  }
}

/**
 * The prefix length to cache for a prompt, given how many leading tokens it shares with each other
 * prompt: the length L that saves the most, L × (prompts sharing at least L), among those of at least
 * `minTokens` (ties: the longer). Not simply the longest shared with any: MMLU questions of one subject
 * share the exemplar block, and two of them that also begin with the same words ("Which of the
 * following") share a few tokens more; caching that longer prefix would serve only the two, and every
 * other question of the subject would compute the block again.
 */
export function bestPrefix(lengths: readonly number[], minTokens: number): number {
  const sharing = lengths.filter((l) => l >= minTokens).sort((a, b) => b - a);
  let best = 0;
  let saved = 0;
  sharing.forEach((l, k) => {
    if (l * (k + 1) > saved) [best, saved] = [l, l * (k + 1)];
  });
  return best;
}

export function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function key(ids: readonly number[]): string {
  return ids.join(',');
}
