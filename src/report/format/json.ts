import { normalise } from '../normalise.js';
import { tableNotes, type RenderInput } from './common.js';

/**
 * The report as one JSON document (`--format json` or `--json`): every number unrounded, with the
 * random baseline and normalised score of each cell, so a script can recompute anything the tables show.
 */
export function renderJson({ table, breakdown, stderr }: RenderInput): string {
  const doc = {
    reference: table.reference,
    columns: table.columns.map((c) => ({ ...c, paper: c.paperIndex >= 0 })),
    rows: table.rows.map((row) => ({
      model: row.label,
      family: row.family,
      params: row.params,
      paramsLabel: row.paramsLabel,
      ...(row.arch ? { arch: row.arch } : {}),
      source: row.reference ? table.reference : 'ours',
      cells: Object.fromEntries(
        table.columns
          .filter((c) => row.cells[c.id])
          .map((c) => {
            const cell = row.cells[c.id]!;
            return [c.id, { ...cell, normalised: normalise(cell.score, cell.low) }];
          }),
      ),
      normAvg: row.normAvg,
    })),
    notes: tableNotes(table, stderr),
    ...(breakdown ? { breakdown: breakdown.map((b) => ({ column: b.column.id, models: b.models, rows: b.rows })) } : {}),
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}
