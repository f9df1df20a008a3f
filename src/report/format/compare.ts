import type { CompareResult } from '../compare.js';
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
  }
  lines.push('', '### Configuration differences', '');
  const withConfig = pairs.filter((p) => p.config.length);
  if (withConfig.length === 0) {
    lines.push(pairs.length ? 'None: the same model, data, prompts, decoding and versions on both sides.' : 'Nothing was compared.');
  } else {
    for (const p of withConfig) {
      const diffs = p.config.map((d) => `${d.what} ${esc(d.baseline)} → ${esc(d.current)}${d.detail ? ` (${esc(d.detail)})` : ''}`);
      lines.push(`- **${esc(p.column.label)}** (${esc(p.model)}): ${diffs.join('; ')}`);
    }
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
