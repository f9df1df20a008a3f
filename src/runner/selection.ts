import { getBenchmark } from '../benchmarks/registry.js';
import { UsageError } from '../errors.js';
import type { RunUnit } from './evaluate.js';

/**
 * `run mmlu bbh --tasks anatomy snarks` (or a suite with --tasks/--languages): each name goes to the
 * benchmarks that know it — MMLU subjects to MMLU, BBH tasks to BBH, a language to MGSM and/or TyDiQA
 * (codes and names as each accepts them). A name no benchmark of the run knows is an error, with that
 * benchmark's "did you mean". A benchmark none of the names belongs to keeps all its tasks.
 */
export async function distributeNames(units: RunUnit[], dataDir: string): Promise<RunUnit[]> {
  const named = units.filter((u) => u.selection.tasks?.length);
  if (new Set(named.map((u) => u.benchmark)).size < 2) return units;
  const accepts = new Map<string, boolean>();
  const known = async (u: RunUnit, name: string): Promise<boolean> => {
    const key = `${u.benchmark}\u0000${u.selection.split ?? ''}\u0000${name}`;
    if (!accepts.has(key)) accepts.set(key, await probe(u, name, dataDir));
    return accepts.get(key)!;
  };
  const all = [...new Set(named.flatMap((u) => u.selection.tasks!))];
  for (const name of all) {
    const owners = named.filter((u) => u.selection.tasks!.includes(name));
    let ok = false;
    for (const u of owners) ok = (await known(u, name)) || ok;
    // Nobody knows it: let the first benchmark that was given it explain, with its own "did you mean".
    if (!ok) await getBenchmark(owners[0]!.benchmark).prepare(dataDir, owners[0]!.format, { ...owners[0]!.selection, tasks: [name], limit: 1 });
  }
  const out: RunUnit[] = [];
  for (const u of units) {
    if (!u.selection.tasks?.length) {
      out.push(u);
      continue;
    }
    const mine: string[] = [];
    for (const n of u.selection.tasks) if (await known(u, n)) mine.push(n);
    const rest = { ...u.selection };
    delete rest.tasks;
    out.push({ ...u, selection: mine.length ? { ...rest, tasks: mine } : rest });
  }
  return out;
}

async function probe(u: RunUnit, name: string, dataDir: string): Promise<boolean> {
  const adapter = getBenchmark(u.benchmark);
  const listed = await adapter.listTasks(dataDir, u.selection.split);
  if (listed.some((t) => t.toLowerCase() === name.toLowerCase())) return true;
  try {
    await adapter.prepare(dataDir, u.format, { ...u.selection, tasks: [name], limit: 1 });
    return true; // an alias the adapter resolves (e.g. a language name or ISO code)
  } catch (e) {
    if (e instanceof UsageError && /^unknown /.test(e.message)) return false;
    throw e;
  }
}
