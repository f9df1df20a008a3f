import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, runCli } from '../helpers/cli.js';

/**
 * The repository documents itself: a user who clones it has docs/protocol.md, not the project's private
 * contract or design notes. Nothing a user reads (README, docs, --help, messages in src/) may point at a
 * file outside the repository, and every "docs/protocol.md §n" must name a section that exists.
 * The patterns are written so that the one-line rename that produced the references cannot rewrite them.
 */
const OUTSIDE: { what: string; re: RegExp }[] = [
  { what: 'the old contract file', re: /\bS[P]EC\b/ },
  { what: 'the design notes', re: /\bD[E]SIGN\.md\b/ },
  { what: 'the shared folder', re: /shared folder|\.\.\/shared\/|\/work\/shared|\bshared\/(?:upstream-sha256|flan-t5-paper|t5-tokenizer)/ },
];

async function filesUnder(dir: string, ext: RegExp): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p, ext)));
    else if (ext.test(e.name)) out.push(p);
  }
  return out;
}

async function userFacingFiles(): Promise<string[]> {
  return [
    join(repoRoot, 'README.md'),
    join(repoRoot, 'bin', 'flan-eval.js'),
    ...(await filesUnder(join(repoRoot, 'docs'), /\.md$/)),
    ...(await filesUnder(join(repoRoot, 'src'), /\.ts$/)),
    ...(await filesUnder(join(repoRoot, '.github'), /\.(ya?ml|sh)$/)),
    ...(await filesUnder(join(repoRoot, 'benchmarks', 'suites'), /\.json$/)),
    ...(await filesUnder(join(repoRoot, 'data'), /\.(csv|txt)$/)),
  ];
}

function offenders(text: string, where: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const o of OUTSIDE) if (o.re.test(line)) found.push(`${where}:${i + 1} refers to ${o.what}: ${line.trim().slice(0, 120)}`);
  });
  return found;
}

describe('the repository documents itself', () => {
  it('README, docs, src/ (comments and error messages), the workflow and data files name no file outside the repository', async () => {
    const found: string[] = [];
    for (const f of await userFacingFiles()) found.push(...offenders(await readFile(f, 'utf8'), relative(repoRoot, f)));
    assert.deepEqual(found, []);
  });

  it('no --help text names a file outside the repository', async () => {
    const paths = [[], ['run'], ['prompts'], ['score', 'x'], ['report'], ['compare'], ['merge'], ['data'], ['data', 'fetch'], ['data', 'verify'], ['models'], ['models', 'pull'], ['models', 'list'], ['make-test-model']];
    const found: string[] = [];
    for (const p of paths) {
      const r = await runCli([...p, '--help']);
      assert.equal(r.code, 0, `${p.join(' ')} --help: ${r.stderr}`);
      assert.ok(r.stdout.length > 100, `${p.join(' ')} --help printed nothing`);
      found.push(...offenders(r.stdout, `flan-eval ${p.join(' ')} --help`));
    }
    assert.deepEqual(found, []);
  });

  it('every "docs/protocol.md §n" reference names a section the document has', async () => {
    const protocol = await readFile(join(repoRoot, 'docs', 'protocol.md'), 'utf8');
    const sections = new Set([...protocol.matchAll(/^## (\d+)\. /gm)].map((m) => m[1]!));
    assert.deepEqual([...sections], ['1', '2', '3', '4', '5', '6', '7']);
    const files = [...(await userFacingFiles()), ...(await filesUnder(join(repoRoot, 'test'), /\.ts$/))];
    const bad: string[] = [];
    let refs = 0;
    for (const f of files) {
      for (const m of (await readFile(f, 'utf8')).matchAll(/docs\/protocol\.md(?:'s)? ((?:§\d+(?:, )?)+)/g)) {
        for (const n of m[1]!.matchAll(/§(\d+)/g)) {
          refs++;
          if (!sections.has(n[1]!)) bad.push(`${relative(repoRoot, f)}: §${n[1]}`);
        }
      }
    }
    assert.ok(refs > 40, `expected the code to cite the protocol (found ${refs} references)`);
    assert.deepEqual(bad, []);
  });

  it('the protocol states every exit code the CLI uses', async () => {
    const protocol = await readFile(join(repoRoot, 'docs', 'protocol.md'), 'utf8');
    const readme = await readFile(join(repoRoot, 'README.md'), 'utf8');
    const { EXIT } = await import('../../src/errors.js');
    for (const code of Object.values(EXIT)) {
      assert.match(protocol, new RegExp(`^\\| ${code} \\| `, 'm'), `docs/protocol.md has no row for exit code ${code}`);
      assert.match(readme, new RegExp(`^\\| ${code} \\| `, 'm'), `README has no row for exit code ${code}`);
    }
  });
});
