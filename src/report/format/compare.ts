import type { CompareResult, PairResult } from '../compare.js';
import { fixed1 } from './common.js';
import { pipeTable } from './markdown.js';

/**
 * `compare` output. Markdown is written for a GitHub job summary (`>> $GITHUB_STEP_SUMMARY`): a verdict
 * heading, one table row per compared pair, configuration differences in their own section (they explain
 * a change; they are not one), and whatever could not be compared.
 */

function signed(x: number): string {
  const s = fixed1(x);
  return s.startsWith('-') || s === '0.0' ? s : `+${s}`;
}

/** Three decimals, or two significant digits in exponent form below 0.001 (so a strict --alpha stays readable). */
export function formatP(p: number): string {
  if (p === 0) return '0';
  if (p < 0.001) return p.toExponential(1).replace(/e-0*(\d)/, 'e-$1');
  return Number(p.toFixed(3)).toString();
}

function esc(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** A full sha256 is unreadable in a summary: its first 12 digits identify it (JSON keeps it whole). */
function short(value: string): string {
  return /^[0-9a-f]{40,}$/.test(value) ? `${value.slice(0, 12)}…` : value;
}

/** Flipped examples shown per direction in Markdown; `--json` lists them all. */
export const FLIPS_SHOWN = 20;

/** A model output as one table cell: one line, pipes and angle brackets escaped, long text cut. */
function cellText(text: string | null): string {
  if (text === null) return '?';
  const one = text.replace(/\s+/g, ' ').trim();
  const cut = one.length > 60 ? `${one.slice(0, 59)}…` : one;
  return cut === '' ? '(empty)' : `\`${esc(cut).replace(/`/g, "'")}\``;
}

function flipsMarkdown(p: PairResult): string[] {
  const lines: string[] = [`- **${esc(p.column.label)}** (${esc(p.model)}): ${p.worse} right → wrong, ${p.better} wrong → right`];
  for (const [direction, title] of [
    ['worse', 'Right → wrong'],
    ['better', 'Wrong → right'],
  ] as const) {
    const all = p.flips.filter((f) => f.direction === direction);
    if (all.length === 0) continue;
    const shown = all.slice(0, FLIPS_SHOWN);
    const more = all.length > shown.length ? ` (first ${shown.length} shown; \`--json\` lists all)` : '';
    const rows = shown.map((f) => [`\`${esc(f.id)}\``, esc(f.task), cellText(f.target), cellText(f.beforeAnswer), cellText(f.afterAnswer)]);
    lines.push(
      '',
      `  <details><summary>${title}: ${all.length}${more}</summary>`,
      '',
      ...pipeTable(['id', 'task', 'target', 'baseline answer', 'current answer'], rows, ['l', 'l', 'l', 'l', 'l'])
        .split('\n')
        .map((l) => `  ${l}`),
      '',
      '  </details>',
    );
  }
  if (p.targetsFrom === 'data') lines.push('', '  Targets looked up in the benchmark data (these predictions do not carry them).');
  if (p.targetsFrom === 'unavailable') lines.push('', '  Targets unknown (`?`): the predictions do not carry them and the run\'s data is not in `--data-dir`.');
  return lines;
}

export function renderCompareMarkdown(result: CompareResult, sources: { baseline: string; current: string }): string {
  const { pairs, options } = result;
  const regressions = pairs.filter((p) => p.verdict === 'regression').length;
  const level = Number(((1 - options.alpha) * 100).toPrecision(12));
  const lines: string[] = [];
  lines.push(`## flan-eval compare: ${result.regression ? 'regression' : 'no regression'}`, '');
  lines.push(
    `${regressions ? `**${regressions} regression${regressions === 1 ? '' : 's'}**` : 'No regression'} in ${pairs.length} comparison${pairs.length === 1 ? '' : 's'} ` +
      `(a regression: a drop of at least ${options.maxDrop} point${options.maxDrop === 1 ? '' : 's'}, significant at α = ${options.alpha}). ` +
      `Baseline \`${sources.baseline}\`, current \`${sources.current}\`.`,
  );
  if (pairs.length) {
    const header = ['Column', 'Model', 'n', 'Baseline', 'Current', 'Δ', `${level}% CI`, 'Worse / better', 'p', 'Verdict'];
    const rows = pairs.map((p) => [
      esc(p.column.label),
      esc(p.model),
      p.n.toLocaleString('en-US'),
      fixed1(p.baseline),
      fixed1(p.current),
      signed(p.delta),
      p.n ? `[${fixed1(p.ci[0])}, ${fixed1(p.ci[1])}]` : '–',
      `${p.worse} / ${p.better}`,
      p.n ? formatP(p.p) : '–',
      p.verdict === 'regression' ? '**regression**' : p.verdict,
    ]);
    lines.push('', pipeTable(header, rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']), '');
    lines.push(
      'Scores are on the examples both runs scored, averaged over tasks like the headline score. ' +
        'Worse / better: examples right in the baseline and wrong now / wrong in the baseline and right now; ' +
        'p: exact two-sided McNemar test on those; CI: normal approximation of the paired difference.',
    );
    const clustered = pairs.filter((p) => p.clustered);
    if (clustered.length) {
      const what = clustered.map(
        (p) =>
          `${esc(p.column.label)}${pairs.filter((q) => q.column.id === p.column.id).length > 1 ? ` (${esc(p.model)})` : ''} by ${p.clustered!.by} ` +
          `(${p.clustered!.clusters.toLocaleString('en-US')} clusters; standard error ${fixed1(p.stderr)}, naive ${fixed1(p.naiveStderr)})`,
      );
      lines.push('', `The CI uses clustered standard errors (Miller 2024, "Adding Error Bars to Evals"): ${what.join('; ')}.`);
    }
  }
  lines.push('', '### Configuration differences', '');
  const withConfig = pairs.filter((p) => p.config.length);
  if (withConfig.length === 0) {
    lines.push(pairs.length ? 'None: the same model, data, prompts, decoding and versions on both sides.' : 'Nothing was compared.');
  } else {
    for (const p of withConfig) {
      const diffs = p.config.map((d) => `${d.what} ${esc(short(d.baseline))} → ${esc(short(d.current))}${d.detail ? ` (${esc(d.detail)})` : ''}`);
      lines.push(`- **${esc(p.column.label)}** (${esc(p.model)}): ${diffs.join('; ')}`);
    }
  }
  const flipped = pairs.filter((p) => p.flips.length);
  if (flipped.length) {
    lines.push('', '### Flipped examples', '', 'Raw predictions of every flipped example are in `--json` (`flips`).', '');
    for (const p of flipped) lines.push(...flipsMarkdown(p));
  }
  const notCompared: string[] = [];
  for (const r of result.onlyBaseline) notCompared.push(`- only in the baseline: ${esc(r.column)}, ${esc(r.model)} (\`${r.file}\`)`);
  for (const r of result.onlyCurrent) notCompared.push(`- only in current: ${esc(r.column)}, ${esc(r.model)} (\`${r.file}\`)`);
  for (const p of pairs) {
    if (p.onlyBaseline || p.onlyCurrent) {
      notCompared.push(`- ${esc(p.column.label)} (${esc(p.model)}): ${p.onlyBaseline} example(s) only in the baseline, ${p.onlyCurrent} only in current`);
    }
  }
  if (notCompared.length) lines.push('', '### Not compared', '', ...notCompared);
  const failures = pairs
    .filter((p) => p.failedBaseline || p.failedCurrent)
    .map((p) => `- ${esc(p.column.label)} (${esc(p.model)}): inference failed on ${p.failedBaseline} example(s) in the baseline and ${p.failedCurrent} in current; they count as wrong`);
  if (failures.length) lines.push('', '### Failed examples', '', ...failures);
  return `${lines.join('\n')}\n`;
}

export function renderCompareJson(result: CompareResult, sources: { baseline: string; current: string }): string {
  const doc = {
    ...sources,
    regression: result.regression,
    maxDrop: result.options.maxDrop,
    alpha: result.options.alpha,
    pairs: result.pairs.map(({ column, ...rest }) => ({ column: column.id, label: column.label, benchmark: column.benchmark, ...rest })),
    onlyBaseline: result.onlyBaseline,
    onlyCurrent: result.onlyCurrent,
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
