import { removeGqaRepeat } from './gqa.js';
import { keepLastLogits } from './lastLogits.js';
import { EditableModel } from './model.js';

export interface CausalRewrite {
  /** The rewritten model, or null when nothing applied (load the file as it is). */
  bytes: Uint8Array | null;
  /** Attention products that now read the kv heads directly (removeGqaRepeat). */
  gqaProducts: number;
  /** Whether the graph takes LOGITS_TO_KEEP (keepLastLogits). */
  lastLogits: boolean;
  /** Why nothing was tried, when nothing was. */
  skipped?: string;
}

/**
 * The load-time rewrites of a decoder-only export (see gqa.ts and lastLogits.ts): each computes the same
 * values the export does with less work, and each leaves the graph alone where it does not find exactly
 * the pattern it knows. Only the top-level graph is rewritten: a merged decoder's If branches are not.
 */
export function rewriteCausal(file: Uint8Array): CausalRewrite {
  const m = new EditableModel(file);
  // Weights in an external-data file are found relative to the model file, which a model built in memory
  // does not have; such models load as they are.
  if (m.externalData) return { bytes: null, gqaProducts: 0, lastLogits: false, skipped: 'weights in an external-data file' };
  const gqaProducts = removeGqaRepeat(m);
  const lastLogits = keepLastLogits(m);
  return { bytes: gqaProducts || lastLogits ? m.encode() : null, gqaProducts, lastLogits };
}
