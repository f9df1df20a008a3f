import { basename, delimiter, relative, resolve } from 'node:path';
import type { UnitOutcome } from '../runner/evaluate.js';
import { describeFormat } from './format-flags.js';

/** What `run` prints at its end: the summary table, and the command that resumes it. */

/** The summary on stdout: one row per finished run unit; nothing at all when none finished (e.g. Ctrl-C). */
export function summaryTable(outcomes: readonly UnitOutcome[]): string {
  if (!outcomes.some((o) => o.record)) return '';
  const rows = outcomes
    .filter((o) => o.record)
    .map((o) => {
      const r = o.record!;
      return [r.model.name, r.benchmark, describeFormat(r.format, { ...(r.format.split ? { split: r.format.split } : {}) }) + (r.format.scoring === 'loglik' ? ', loglik' : ''), `${r.result.score.toFixed(1)} ± ${r.result.stderr.toFixed(1)}`, String(r.n), String(r.failed), o.recordPath];
    });
  const header = ['model', 'benchmark', 'format', 'score', 'n', 'failed', 'record'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |\n`;
  return line(header) + line(widths.map((w) => '-'.repeat(w))) + rows.map(line).join('');
}

/**
 * The command line as the user typed it, for the resume hint: `npx flan-eval …` under npx, `flan-eval …`
 * when the launcher was found on the PATH, else `node <launcher> …` (a local install is not on the PATH).
 * Arguments are quoted for a POSIX shell where needed.
 */
export function commandAsTyped(argv: readonly string[], env: NodeJS.ProcessEnv): string {
  const launcher = argv[1] ?? 'flan-eval';
  const onPath = (env.PATH ?? '').split(delimiter).some((d) => d && resolve(d, basename(launcher)) === resolve(launcher));
  const prefix = env.npm_command === 'exec' ? 'npx flan-eval' : onPath ? basename(launcher) : `node ${shellQuote(relative(process.cwd(), launcher) || launcher)}`;
  return [prefix, ...argv.slice(2).map(shellQuote)].join(' ');
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
