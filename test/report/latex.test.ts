import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { writeRun } from './records-helper.js';

/**
 * `report --format latex`, laid out like Table 5 of the Flan-T5 paper. The exact text is pinned by
 * report-golden.test.ts (paper-suite-reference.tex); here the layout is checked piece by piece against
 * expectations worked out by hand from the fixture numbers, and the output is compiled with pdflatex
 * where a TeX engine is installed (Debian: texlive-latex-base + texlive-latex-recommended, which .ci/run
 * installs when it runs as root).
 */

const SUITE = 'test/fixtures/records/paper-suite';

async function latex(args: string[]): Promise<string> {
  const r = await runCli(['report', ...args, '--format', 'latex']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

/** The body rows of the main tabular, split into blocks at each \midrule: [header, ours, T5, Flan-T5, PaLM families…]. */
function blocks(tex: string): string[][] {
  const body = tex.split('\\toprule\n')[1]!.split('\\bottomrule')[0]!;
  return body.split('\\midrule\n').map((b) => b.split('\n').filter((l) => l.endsWith('\\\\')));
}

describe('report --format latex', () => {
  test('a two-level header: each benchmark over its Direct/CoT columns, a \\cmidrule under each group', async () => {
    const tex = await latex([SUITE, '--reference', 'flan-t5-paper']);
    assert.match(tex, /\\begin\{tabular\}\{lrlrrrrrrrr\}\n\\toprule\n/);
    const [header] = blocks(tex);
    assert.equal(
      header![0],
      ' &  &  & \\multicolumn{2}{c}{MMLU} & \\multicolumn{2}{c}{BBH} & \\multicolumn{1}{c}{TyDiQA} & \\multicolumn{1}{c}{MGSM} & \\multicolumn{1}{c}{MMLU} &  \\\\',
    );
    // Columns 1–3 are Model, Params and Arch (the paper's rows mix t5 and palm), so MMLU spans 4–5, BBH
    // 6–7, TyDiQA 8, MGSM 9, the 0-shot MMLU column 10.
    assert.match(tex, /\n\\cmidrule\(lr\)\{4-5\} \\cmidrule\(lr\)\{6-7\} \\cmidrule\(lr\)\{8-8\} \\cmidrule\(lr\)\{9-9\} \\cmidrule\(lr\)\{10-10\}\n/);
    assert.equal(header![1], 'Model & Params & Arch & Direct & CoT & Direct & CoT & Direct & CoT & Direct 0-shot & Norm. avg. \\\\');
  });

  test('our rows, then each reference family in its own block, each under a \\midrule', async () => {
    const tex = await latex([SUITE, '--reference', 'flan-t5-paper']);
    const [, ours, t5, flan, ...palm] = blocks(tex);
    const names = (b: string[] | undefined) => b!.map((l) => l.split(' & ')[0]);
    assert.deepEqual(names(ours), ['fixture/flan-t5-tiny', 'fixture/flan-t5-mini']);
    assert.deepEqual(names(t5), ['T5-Small (paper)', 'T5-Base (paper)', 'T5-Large (paper)', 'T5-XL (paper)', 'T5-XXL (paper)']);
    assert.deepEqual(names(flan), ['Flan-T5-Small (paper)', 'Flan-T5-Base (paper)', 'Flan-T5-Large (paper)', 'Flan-T5-XL (paper)', 'Flan-T5-XXL (paper)']);
    // The PaLM families, each by size, in the order their first row comes by size.
    assert.deepEqual(palm.map(names), [
      ['PaLM 8B (paper)', 'PaLM 62B (paper)', 'PaLM 540B (paper)'],
      ['Flan-PaLM 8B (paper)', 'Flan-PaLM 62B (paper)', 'Flan-PaLM 540B (paper)'],
      ['cont-PaLM 62B (paper)'],
      ['Flan-cont-PaLM 62B (paper)'],
      ['U-PaLM 540B (paper)'],
      ['Flan-U-PaLM 540B (paper)'],
    ]);
    // Without reference rows there is one block and no \midrule after it.
    assert.equal(blocks(await latex([SUITE])).length, 2);
  });

  test('the best whole-benchmark number of each column is bold; a partial number never is', async () => {
    const tex = await latex([SUITE, '--reference', 'flan-t5-paper']);
    // By hand from the fixtures (report-golden.test.ts) and Table 5 (cells: 0 model, 1 params, 2 arch):
    //   MMLU direct: mini 87.5 > Flan-U-PaLM 540B 74.1.   MMLU CoT: Flan-PaLM 540B 70.9 > Flan-U-PaLM 69.8.
    //   BBH direct: Flan-U-PaLM 59.3 > Flan-PaLM 540B 57.9.   BBH CoT: Flan-PaLM 540B 66.3 > Flan-U-PaLM
    //   64.9 (mini's 50.0 is a --limit 2 run, never bold).   TyDiQA: Flan-U-PaLM 68.3 > Flan-PaLM 540B 67.8.
    //   MGSM CoT: Flan-U-PaLM 60.4 > Flan-PaLM 540B 57.0.   MMLU direct 0-shot: only tiny has one, so
    //   there is nothing to compare and nothing is bold.   Norm. avg.: Flan-U-PaLM 59.1 > Flan-PaLM 58.4.
    const bold = [...tex.matchAll(/^(.*?) & .*$/gm)]
      .map((m) => ({ model: m[1]!, cells: m[0].replace(/ \\\\$/, '').split(' & ') }))
      .flatMap(({ model, cells }) => cells.flatMap((c, i) => (c.includes('\\textbf') ? [`${model}:${i}`] : [])));
    assert.deepEqual(bold.sort(), [
      'Flan-PaLM 540B (paper):4',
      'Flan-PaLM 540B (paper):6',
      'Flan-U-PaLM 540B (paper):10',
      'Flan-U-PaLM 540B (paper):5',
      'Flan-U-PaLM 540B (paper):7',
      'Flan-U-PaLM 540B (paper):8',
      'fixture/flan-t5-mini:3',
    ]);
    assert.match(tex, / & 50\.0\$\^\{\*\}\$ & /, 'the partial cell is marked, not bold');
    assert.match(tex, /Bold: the best number in its column among whole-benchmark numbers/);
  });

  test('ties at the printed precision are all bold', async () => {
    const dir = await tempDir();
    // 2 of 3 right = 66.67 and 4 of 6 right = 66.67: equal. 1 of 3 = 33.3.
    await writeRun(dir, { model: 'a-small', params: 1e6, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '110' } });
    await writeRun(dir, { model: 'b-small', params: 2e6, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '110110' } });
    await writeRun(dir, { model: 'c-small', params: 3e6, benchmark: 'mmlu', cot: false, shots: 5, tasks: { anatomy: '100' } });
    const tex = await latex([dir]);
    assert.match(tex, /^a-small & 1M & \\textbf\{66\.7\} \\\\$/m);
    assert.match(tex, /^b-small & 2M & \\textbf\{66\.7\} \\\\$/m);
    assert.match(tex, /^c-small & 3M & 33\.3 \\\\$/m);
  });

  test('the notes are a footnote-sized paragraph under the table, typeset, in ASCII only', async () => {
    const tex = await latex([SUITE, '--reference', 'flan-t5-paper', '--stderr']);
    // ± in a smaller size after the number (and after a partial mark). mini's BBH CoT (--limit 2): tasks
    // 11, 10, 00 → standard errors 0, 50, 0 → √(50²)/3 = 16.7.
    assert.match(tex, /^fixture\/flan-t5-tiny & 77M & t5 & 62\.5\\,\{\\scriptsize\$\\pm\$19\.1\} & /m);
    assert.match(tex, / & 50\.0\$\^\{\*\}\$\\,\{\\scriptsize\$\\pm\$16\.7\} & /);
    const notes = tex.split('\\end{tabular}\n')[1]!;
    assert.match(notes, /^\n\\smallskip\n\{\\footnotesize\\raggedright\n/);
    assert.match(notes, /\n\$\^\{\*\}\$\\,fixture\/flan-t5-mini, BBH CoT: first 2 examples per task \(test\/fixtures\/records\/paper-suite\/fixture\\_flan-t5-mini\/bbh-cot-3shot\.json\)\.\\par\n/);
    assert.match(notes, /100\$\\cdot\$\(score \$-\$ random\)\/\(100 \$-\$ random\)/);
    assert.match(notes, /``Scaling Instruction-Finetuned Language Models''/);
    assert.match(notes, /\$\\pm\$ is one standard error/);
    assert.match(notes, /\n\}\n\\end\{table\*\}\n$/);
    // pdflatex's default input encoding has no −, ·, ±: everything outside ASCII must have become a macro.
    assert.doesNotMatch(tex, /[^\t\n -~]/);
    assert.deepEqual(
      tex.split('\n').filter((l) => l.startsWith('%')),
      ['% flan-eval report; needs \\usepackage{booktabs}'],
      'no notes left as comments',
    );
  });

  test('--caption goes into \\caption as LaTeX source; other formats refuse it', async () => {
    const tex = await latex([SUITE, '--caption', 'Exact match on the \\textsc{held-out} sets.']);
    assert.match(tex, /\\begin\{table\*\}\[t\]\n\\centering\n\\small\n\\setlength\{\\tabcolsep\}\{4pt\}\n\\caption\{Exact match on the \\textsc\{held-out\} sets\.\}\n\\begin\{tabular\}/);
    assert.doesNotMatch(await latex([SUITE]), /\\caption/);
    const md = await runCli(['report', SUITE, '--caption', 'x']);
    assert.equal(md.code, 2);
    assert.equal(md.stderr.trim(), 'flan-eval: --caption is for --format latex (the format here is md); drop it or add --format latex');
  });

  test("the README's LaTeX example is what the command prints (lines with … elided)", async () => {
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const example = /```latex\n([\s\S]*?)```/.exec(readme)![1]!.split('\n').slice(0, -1);
    const command = /`npx flan-eval (report test\/fixtures\/records\/paper-suite [^`]*--format latex\s+--caption '([^']*)')`/.exec(readme)!;
    const tex = await latex([SUITE, '--reference', 'flan-t5-paper', '--caption', command[2]!]);
    const lines = tex.split('\n');
    let at = 0;
    for (const want of example) {
      if (want === '…') continue;
      const pattern = new RegExp(`^${want.split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
      const found = lines.findIndex((l, i) => i >= at && pattern.test(l));
      assert.ok(found >= 0, `README line not in the output (in order): ${want}`);
      at = found + 1;
    }
  });

  test('compiles with pdflatex and booktabs (skipped where no TeX engine is installed)', async (t) => {
    const which = spawnSync('pdflatex', ['--version'], { encoding: 'utf8' });
    if (which.error || which.status !== 0) {
      t.skip('pdflatex not found: install texlive-latex-base and texlive-latex-recommended (Debian) to compile the LaTeX report');
      return;
    }
    const dir = await tempDir();
    const tex = await latex([SUITE, '--reference', 'flan-t5-paper', '--stderr', '--breakdown', '--caption', 'Flan-T5 on the held-out benchmarks.']);
    await writeFile(join(dir, 'table.tex'), tex);
    await writeFile(join(dir, 'doc.tex'), '\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\\input{table}\n\\end{document}\n');
    const r = spawnSync('pdflatex', ['-halt-on-error', '-interaction=nonstopmode', '-no-shell-escape', 'doc.tex'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `pdflatex failed:\n${r.stdout.split('\n').filter((l) => l.startsWith('!') || l.startsWith('l.')).join('\n')}`);
    assert.doesNotMatch(r.stdout, /Undefined control sequence|Missing \$ inserted|not set up for use with LaTeX/);
  });
});
