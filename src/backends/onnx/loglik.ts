import { UsageError } from '../../errors.js';
import type { DeviceResidency } from './resident.js';

/**
 * The shared entry of both backends' `loglikTokens`: refuse an empty continuation (it has no token to
 * score), run the architecture's scoring, and release every device tensor of the batch whatever happens.
 */
export async function scoreChecked(
  contexts: number[][],
  continuations: number[][][],
  resident: DeviceResidency | null,
  score: (contexts: number[][], continuations: number[][][]) => Promise<number[][]>,
): Promise<number[][]> {
  if (contexts.length === 0) return [];
  for (const [i, conts] of continuations.entries()) {
    for (const c of conts) if (c.length === 0) throw new UsageError(`loglik request ${i}: an empty continuation has no tokens to score`);
  }
  try {
    return await score(contexts, continuations);
  } finally {
    resident?.releaseAll();
  }
}
