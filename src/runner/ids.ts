/** Ids `bench/task/index` in task order, then numeric index order (the order of an unsharded run). */
export function compareIds(a: string, b: string): number {
  const [pa, ia] = splitId(a);
  const [pb, ib] = splitId(b);
  return pa < pb ? -1 : pa > pb ? 1 : ia - ib;
}

function splitId(id: string): [string, number] {
  const k = id.lastIndexOf('/');
  return [id.slice(0, k), Number(id.slice(k + 1))];
}
