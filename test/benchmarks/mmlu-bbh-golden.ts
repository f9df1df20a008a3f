import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PromptFormat, Selection } from '../../src/types.js';

/**
 * Golden prompt files: `test/fixtures/golden/<benchmark>/<task>.<index>.<direct|cot>-<N>shot[.<split>].txt`
 * hold the exact prompt of one fixture item (written by hand from docs/protocol.md §3), followed by one newline
 * that is not part of the prompt (so that the files stay ordinary text files).
 */
export interface GoldenPrompt {
  file: string;
  id: string;
  task: string;
  format: PromptFormat;
  selection: Selection;
  prompt: string;
}

const NAME = /^(?<task>[a-z0-9_]+)\.(?<index>\d+)\.(?<style>direct|cot)-(?<shots>\d+)shot(?:\.(?<split>dev|val|test))?\.txt$/;

export async function loadGoldenPrompts(dir: string, benchmark: string): Promise<GoldenPrompt[]> {
  const out: GoldenPrompt[] = [];
  for (const file of (await readdir(dir)).sort()) {
    const m = NAME.exec(file);
    if (!m?.groups) throw new Error(`golden file ${file} does not follow <task>.<index>.<direct|cot>-<N>shot[.<split>].txt`);
    const { task, index, style, shots, split } = m.groups as Record<string, string>;
    const text = await readFile(join(dir, file), 'utf8');
    if (!text.endsWith('\n')) throw new Error(`golden file ${file} must end with one newline`);
    const selection: Selection = { tasks: [task!] };
    if (split) selection.split = split;
    out.push({
      file,
      id: `${benchmark}/${task}/${index}`,
      task: task!,
      format: { cot: style === 'cot', shots: Number(shots) },
      selection,
      prompt: text.slice(0, -1),
    });
  }
  return out;
}
