import { extname } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { MMLU_CATEGORIES, MMLU_SUBJECT_CATEGORY } from '../../benchmarks/mmlu/categories.js';
import { unknownName, UsageError } from '../../errors.js';
import { loadRunRecords } from '../../results/read.js';
import { buildBreakdown } from '../../report/breakdown.js';
import { defaultLayout, PLOT_LAYOUTS, renderScalingPlot, type PlotLayout } from '../../report/plot.js';
import { svgToPng } from '../../report/png.js';
import { REFERENCES, type ReferenceName } from '../../report/reference.js';
import { REPORT_FORMATS, renderReport, type ReportFormat } from '../../report/render.js';
import { buildReportTable } from '../../report/table.js';
import { writeFileAtomic } from '../../util/fs.js';

interface ReportArgs {
  results: string[];
  format?: string;
  json?: boolean;
  reference?: string;
  breakdown?: boolean;
  stderr?: boolean;
  cluster?: string;
  out?: string;
  plot?: string;
  caption?: string;
  'plot-layout'?: string;
}

/** `--out report.html` implies `--format html` unless --format says otherwise. */
const FORMAT_BY_EXTENSION: Record<string, ReportFormat> = { '.md': 'md', '.csv': 'csv', '.tex': 'latex', '.html': 'html', '.htm': 'html', '.json': 'json' };

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <results..>',
  describe: 'paper-style tables across models from run records (files or folders)',
  builder: (y: Argv<object>) =>
    y
      .positional('results', { type: 'string', array: true, demandOption: true, description: 'run record JSON files or folders holding them' })
      .option('format', { type: 'string', description: `output format: ${Object.keys(REPORT_FORMATS).join(', ')} (default: from --out, else md)` })
      .option('json', { type: 'boolean', description: 'same as --format json' })
      .option('reference', { type: 'string', description: `add published rows, marked '(paper)': ${REFERENCES.join(', ')} (Table 5 of the Flan-T5 paper: T5, Flan-T5 and the PaLM family)` })
      .option('breakdown', { type: 'boolean', description: 'add per-task tables (MMLU categories and subjects, BBH tasks, languages)' })
      .option('stderr', { type: 'boolean', description: 'show ± one standard error, and the clustered one beside it where examples cluster (MGSM, TyDiQA)' })
      .option('cluster', { type: 'string', description: 'task: also show MMLU and BBH standard errors clustered by task (with --stderr)' })
      .option('caption', { type: 'string', description: 'LaTeX only: the table\'s \\caption, inserted as LaTeX source' })
      .option('out', { type: 'string', description: 'write the report to FILE instead of stdout' })
      .option('plot', { type: 'string', description: 'also write the scaling plot (score vs. parameters) to FILE.svg or FILE.png' })
      .option('plot-layout', { type: 'string', description: `${PLOT_LAYOUTS.join(' or ')}: one Norm. avg. panel (default where a model has one) or a panel per column` })
      .example('$0 report results/ --reference flan-t5-paper', 'Markdown table of every run under results/ with the paper rows')
      .example('$0 report results/ --out report.html --breakdown', 'one self-contained HTML page with the plot and per-task tables') as Argv<ReportArgs>,
  handler: async (argv) => {
    // Checked here rather than with yargs `choices`, whose message spans several lines.
    if (argv.format !== undefined && !Object.hasOwn(REPORT_FORMATS, argv.format)) throw unknownName('--format', argv.format, Object.keys(REPORT_FORMATS));
    if (argv.reference !== undefined && !(REFERENCES as readonly string[]).includes(argv.reference)) throw unknownName('--reference', argv.reference, REFERENCES);
    let format: ReportFormat = (argv.format as ReportFormat | undefined) ?? (argv.out ? FORMAT_BY_EXTENSION[extname(argv.out).toLowerCase()] : undefined) ?? 'md';
    if (argv.json) {
      if (argv.format && argv.format !== 'json') throw new UsageError(`--json conflicts with --format ${argv.format}; pass one of them`);
      format = 'json';
    }
    if (argv.caption !== undefined && format !== 'latex') throw new UsageError(`--caption is for --format latex (the format here is ${format}); drop it or add --format latex`);
    const plotType = argv.plot === undefined ? null : extname(argv.plot).toLowerCase();
    if (plotType !== null && plotType !== '.svg' && plotType !== '.png') throw new UsageError(`--plot ${argv.plot}: the plot is written as SVG or PNG; name a file ending in .svg or .png`);
    const layoutArg = argv['plot-layout'];
    if (layoutArg !== undefined && !(PLOT_LAYOUTS as readonly string[]).includes(layoutArg)) throw unknownName('--plot-layout', layoutArg, PLOT_LAYOUTS);
    if (argv.cluster !== undefined && argv.cluster !== 'task') throw unknownName('--cluster', argv.cluster, ['task']);
    const loaded = await loadRunRecords(argv.results, 'results');
    const table = buildReportTable(loaded, { reference: (argv.reference as ReferenceName | undefined) ?? null, clusterByTask: argv.cluster === 'task' });
    const breakdown = argv.breakdown ? buildBreakdown(table, { subjectCategory: MMLU_SUBJECT_CATEGORY, order: MMLU_CATEGORIES }) : null;
    const needPlot = format === 'html' || argv.plot !== undefined;
    if (layoutArg !== undefined && !needPlot) throw new UsageError('--plot-layout: there is no plot to lay out; add --plot FILE.svg or FILE.png, or use --format html');
    const layout = (layoutArg as PlotLayout | undefined) ?? defaultLayout(table);
    if (needPlot && layout === 'single' && defaultLayout(table) !== 'single') {
      throw new UsageError('--plot-layout single: no model with a known size has all six paper columns, so there is no Norm. avg. to plot; use --plot-layout grid');
    }
    const plotSvg = needPlot ? await renderScalingPlot(table, layout) : null;
    if (argv.plot !== undefined) {
      if (!plotSvg) throw new UsageError(`--plot ${argv.plot}: no model has a known parameter count, so there is nothing to plot`);
      await writeFileAtomic(argv.plot, plotType === '.png' ? await svgToPng(plotSvg) : plotSvg);
      process.stderr.write(`flan-eval: wrote the scaling plot to ${argv.plot}\n`);
    }
    const text = renderReport(format, { table, breakdown, stderr: argv.stderr ?? false, plotSvg, caption: argv.caption ?? null });
    if (argv.out) {
      await writeFileAtomic(argv.out, text);
      process.stderr.write(`flan-eval: wrote the ${format} report to ${argv.out}\n`);
    } else {
      process.stdout.write(text);
    }
  },
};
