import { UsageError } from '../errors.js';
import type { RenderInput } from './format/common.js';
import { renderCsv } from './format/csv.js';
import { renderHtml } from './format/html.js';
import { renderJson } from './format/json.js';
import { renderLatex } from './format/latex.js';
import { renderMarkdown } from './format/markdown.js';

/** Output formats of `flan-eval report`, name → renderer. Add a format by adding a line here. */
export const REPORT_FORMATS = {
  md: renderMarkdown,
  csv: renderCsv,
  latex: renderLatex,
  html: renderHtml,
  json: renderJson,
} as const satisfies Record<string, (input: RenderInput) => string>;

export type ReportFormat = keyof typeof REPORT_FORMATS;

export function renderReport(format: ReportFormat, input: RenderInput): string {
  const render = REPORT_FORMATS[format];
  if (!render) throw new UsageError(`--format ${String(format)}: unknown; use one of ${Object.keys(REPORT_FORMATS).join(', ')}`);
  return render(input);
}
