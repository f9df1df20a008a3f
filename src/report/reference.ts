import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { InputError } from '../errors.js';
import { PAPER_COLUMNS } from './columns.js';

/**
 * Published reference rows that `report --reference <name>` can add. One today: Table 5 of the Flan-T5
 * paper (its T5/Flan-T5 rows and its PaLM-family rows), shipped in data/ so a report never depends on the
 * network. Every number was read off the v5 paper; docs/protocol.md §7 says how it was checked.
 */
export const REFERENCES = ['flan-t5-paper'] as const;
export type ReferenceName = (typeof REFERENCES)[number];

export const REFERENCE_SOURCE: Readonly<Record<ReferenceName, string>> = {
  'flan-t5-paper': 'Chung et al. 2022, "Scaling Instruction-Finetuned Language Models", arXiv:2210.11416v5, Table 5 (p. 11): T5/Flan-T5 and PaLM, cont-PaLM, U-PaLM with their Flan versions',
};

export interface ReferenceRow {
  /** As in the paper (`T5-Small`, `Flan-T5-XXL`); PaLM rows carry their size (`Flan-PaLM 62B`), as the paper's text names them. */
  model: string;
  /** The paper's size label (`80M`, `3B`) and its value. */
  paramsLabel: string;
  params: number;
  /** Architecture for the report's Arch column: the CSV's `arch` column (t5, or palm for the decoder-only PaLM rows), else t5. */
  arch: string;
  /** The paper's normalised average, as published (not recomputed). */
  normAvg: number;
  /** Paper column key (`mmlu_direct`, …) → score. */
  scores: Record<string, number>;
}

// From dist/src/report/ (compiled) or src/report/ (sources) the repository root is three folders up.
const TABLE5 = fileURLToPath(new URL('../../../data/flan-t5-paper-table5.csv', import.meta.url));

/** `80M` → 8e7, `3B` → 3e9. */
export function parseParamsLabel(label: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([KMBT])$/i.exec(label.trim());
  if (!m) return null;
  const scale = { K: 1e3, M: 1e6, B: 1e9, T: 1e12 }[m[2]!.toUpperCase() as 'K' | 'M' | 'B' | 'T'];
  return Number(m[1]) * scale;
}

export function parseTable5(text: string, file: string): ReferenceRow[] {
  const rows = parse(text, { columns: true, comment: '#', skip_empty_lines: true, trim: true }) as Record<string, string>[];
  return rows.map((row, i) => {
    const line = `row ${i + 1}`;
    const num = (key: string): number => {
      const v = Number(row[key]);
      if (row[key] === undefined || row[key] === '' || !Number.isFinite(v)) throw new InputError(file, `${line}: column ${key} is not a number`);
      return v;
    };
    const params = parseParamsLabel(row.params ?? '');
    if (!row.model || params === null) throw new InputError(file, `${line}: needs a model name and a params label like 80M or 3B`);
    return {
      model: row.model,
      paramsLabel: row.params!,
      params,
      arch: row.arch || 't5',
      normAvg: num('norm_avg'),
      scores: Object.fromEntries(PAPER_COLUMNS.map((c) => [c.key, num(c.key)])),
    };
  });
}

export function loadReference(name: ReferenceName): ReferenceRow[] {
  switch (name) {
    case 'flan-t5-paper':
      return parseTable5(readFileSync(TABLE5, 'utf8'), TABLE5);
  }
}
