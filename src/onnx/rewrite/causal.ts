import { removeGqaRepeat } from './gqa.js';
import { keepLastLogits } from './lastLogits.js';
import { EditableModel } from './model.js';
import { shareablePrefix } from './sharedPrefix.js';

export interface CausalRewrite {
  /** The rewritten model, or null when nothing applied (load the file as it is). */
  bytes: Uint8Array | null;
  /** Attention products that now read the kv heads directly (removeGqaRepeat, or sharedPrefix's own). */
  gqaProducts: number;
  /** Layers that take a batch-wide prefix cache (sharedPrefix.ts). */
  prefixLayers: number;
  /** Whether the graph takes LOGITS_TO_KEEP (keepLastLogits). */
  lastLogits: boolean;
  /** Why nothing was tried, when nothing was. */
  skipped?: string;
}

/**
 * The load-time rewrites of a decoder-only export (gqa.ts, sharedPrefix.ts, lastLogits.ts): each computes
 * the same values the export does with less work, and each leaves the graph alone where it does not find
 * exactly the pattern it knows. Only the top-level graph is rewritten: a merged decoder's If branches are
 * not. `sharedPrefix`: also take a batch-wide prefix cache (for a backend that reuses prefixes).
 */
export function rewriteCausal(file: Uint8Array, opts: { sharedPrefix?: boolean } = {}): CausalRewrite {
  const m = new EditableModel(file);
  // Weights in an external-data file are found relative to the model file, which a model built in memory
  // does not have; such models load as they are.
  if (m.externalData) return { bytes: null, gqaProducts: 0, prefixLayers: 0, lastLogits: false, skipped: 'weights in an external-data file' };
  const prefix = opts.sharedPrefix ? shareablePrefix(m) : { layers: 0, gqaProducts: 0 };
  const prefixLayers = prefix.layers;
  const gqaProducts = prefix.gqaProducts + removeGqaRepeat(m);
  const lastLogits = keepLastLogits(m);
  return { bytes: gqaProducts || prefixLayers || lastLogits ? m.encode() : null, gqaProducts, prefixLayers, lastLogits };
}
