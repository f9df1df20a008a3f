/**
 * Length-homogeneous groups: how an encoder-decoder backend splits a batch into encoder runs, and how the
 * runner's planner predicts those runs (their padding and their memory). One function for both, so the
 * plan describes what really runs.
 */

/** Padded ÷ real tokens allowed in one encoder run, less one: 5% (issue 10: "within a few percent"). */
export const PADDING_TOLERANCE = 0.05;

/**
 * Split prompt indices into groups of similar length: longest first (ties keep input order), each group
 * growing while padding every member to its longest keeps padded tokens within `tolerance` of real ones.
 * Deterministic, and a function of the lengths alone.
 */
export function lengthGroups(lengths: readonly number[], tolerance = PADDING_TOLERANCE): number[][] {
  const order = lengths.map((len, i) => ({ len, i })).sort((a, b) => b.len - a.len || a.i - b.i);
  const groups: number[][] = [];
  let group: number[] = [];
  let width = 0;
  let real = 0;
  for (const { len, i } of order) {
    if (group.length && width * (group.length + 1) > (1 + tolerance) * (real + len)) {
      groups.push(group);
      group = [];
    }
    if (!group.length) {
      width = len;
      real = 0;
    }
    group.push(i);
    real += len;
  }
  if (group.length) groups.push(group);
  return groups;
}
