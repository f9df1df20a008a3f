import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot, runCli, tempDir } from '../helpers/cli.js';
import { loadSuite } from '../../src/runner/suite.js';
import { parse as parseYaml } from 'yaml';

/**
 * .github/workflows/nightly.yml: it must parse, be triggered nightly and by hand, and every
 * `npx flan-eval …` it runs must be a command (and flags) the CLI's --help lists today. The workflow
 * needs these commands: `data fetch` and `models pull` (data / models helpers), `run --suite` (runner),
 * `compare` and `report` (this area). A missing one fails here with its name.
 */

const WORKFLOW = join(repoRoot, '.github', 'workflows', 'nightly.yml');

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

async function workflow(): Promise<{ doc: Record<string, any>; steps: Step[] }> {
  // A real YAML parser (duplicate keys are errors), as GitHub reads the file.
  const doc = parseYaml(await readFile(WORKFLOW, 'utf8'), { uniqueKeys: true, strict: true }) as Record<string, any>;
  const jobs = Object.values(doc.jobs as Record<string, { steps: Step[] }>);
  return { doc, steps: jobs.flatMap((j) => j.steps) };
}

/** Every `npx flan-eval …` invocation in the run scripts, as argument lists (shell quotes removed). */
function flanEvalCalls(steps: Step[]): string[][] {
  const calls: string[][] = [];
  for (const s of steps) {
    for (const line of (s.run ?? '').split('\n')) {
      const m = /npx flan-eval ([^>|;&]*)/.exec(line);
      if (m) calls.push(m[1]!.trim().split(/\s+/).map((w) => w.replace(/^["']|["']$/g, '')));
    }
  }
  return calls;
}

describe('nightly workflow', () => {
  test('parses, runs on a schedule and by hand', async () => {
    const { doc } = await workflow();
    assert.equal(typeof doc.name, 'string');
    const cron = doc.on.schedule[0].cron as string;
    assert.equal(cron.trim().split(/\s+/).length, 5, `cron "${cron}" needs five fields`);
    assert.ok('workflow_dispatch' in doc.on);
  });

  test('every step either uses an action or runs a script', async () => {
    const { steps } = await workflow();
    assert.ok(steps.length > 5);
    for (const s of steps) assert.ok(s.uses || s.run, `step ${JSON.stringify(s)} has neither uses nor run`);
  });

  test('installs with npm ci, caches downloads, fetches data and model, runs the nightly suite, compares, reports, uploads, summarises', async () => {
    const { steps } = await workflow();
    const runs = steps.map((s) => s.run ?? '').join('\n');
    const uses = steps.map((s) => s.uses ?? '');
    assert.match(runs, /^npm ci$/m);
    assert.ok(uses.some((u) => u.startsWith('actions/cache@')));
    assert.ok(uses.some((u) => u.startsWith('actions/upload-artifact@')));
    const calls = flanEvalCalls(steps).map((c) => c.join(' '));
    assert.ok(calls.some((c) => /^data fetch\b/.test(c)));
    assert.ok(calls.includes('models pull Xenova/flan-t5-small'));
    assert.ok(calls.includes('run --suite benchmarks/suites/nightly.json --model Xenova/flan-t5-small --out results/nightly'));
    assert.ok(calls.some((c) => /^compare \$BASELINE results\/nightly\b/.test(c)));
    assert.ok(calls.some((c) => /^report results\/nightly\b.*--format html/.test(c)));
    assert.match(runs, /GITHUB_STEP_SUMMARY/);
  });

  test('the suite it runs loads and covers the paper\'s six formats', async () => {
    const { units } = await loadSuite(join(repoRoot, 'benchmarks', 'suites', 'nightly.json'));
    const formats = units.map((u) => `${u.benchmark} ${u.format.cot ? 'cot' : 'direct'}`).sort();
    assert.deepEqual(formats, ['bbh cot', 'bbh direct', 'mgsm cot', 'mmlu cot', 'mmlu direct', 'tydiqa direct']);
  });

  // The steps' own shell scripts run here with a stand-in `npx` that exits with a chosen code, as GitHub runs
  // them (bash -e), so what is checked is what the job does, not what its text contains.
  const verdicts: { code: number; ok: boolean; says: RegExp; never?: RegExp }[] = [
    { code: 0, ok: true, says: /ok/ },
    { code: 1, ok: false, says: /regression/ },
    { code: 2, ok: false, says: /could not run/, never: /regression,/ },
    { code: 3, ok: false, says: /CRASHED: an internal error \(exit 3\)/, never: /found a significant drop/ },
  ];
  for (const v of verdicts) {
    test(`compare exiting ${v.code}: the job ${v.ok ? 'passes' : 'fails'} and its summary says ${v.says}`, async () => {
      const { steps } = await workflow();
      const compare = steps.find((s) => /npx flan-eval compare/.test(s.run ?? ''))!;
      const verdict = steps.find((s) => s.env && 'CODE' in s.env)!;
      assert.equal(verdict.env!.CODE, '${{ steps.' + 'compare.outputs.code }}', 'the verdict step reads the code the compare step recorded');
      const sandbox = await stepSandbox(v.code);
      const first = await runStep(compare.run!, sandbox, {});
      assert.equal(first.status, 0, `the compare step itself records the code and goes on: ${first.output}`);
      const recorded = /^code=(\d+)$/m.exec(await readFile(sandbox.output, 'utf8'));
      assert.equal(recorded?.[1], String(v.code));
      const last = await runStep(verdict.run!, sandbox, { CODE: recorded[1]! });
      assert.equal(last.status === 0, v.ok, last.output);
      assert.match(last.output, v.says);
      assert.match(await readFile(sandbox.summary, 'utf8'), v.says);
      if (v.never) assert.doesNotMatch(last.output, v.never);
    });
  }

  for (const v of [verdicts[0]!, { code: 1, ok: false, says: /some examples failed/ }, verdicts[3]!]) {
    test(`run exiting ${v.code}: the step ${v.ok ? 'passes' : 'fails'} and says ${v.says}`, async () => {
      const { steps } = await workflow();
      const run = steps.find((s) => /npx flan-eval run /.test(s.run ?? ''))!;
      const sandbox = await stepSandbox(v.code);
      const r = await runStep(run.run!, sandbox, {});
      assert.equal(r.status === 0, v.ok, r.output);
      assert.match(r.output, v.says);
    });
  }

  test('every `npx flan-eval` command and flag it uses is one the CLI --help lists', async () => {
    const { steps } = await workflow();
    const top = await runCli(['--help']);
    assert.equal(top.code, 0, top.stderr);
    const listed = new Set([...top.stdout.matchAll(/^ {2}flan-eval ([a-z][a-z-]*)/gm)].map((m) => m[1]!));
    const helpCache = new Map<string, string>();
    for (const call of flanEvalCalls(steps)) {
      const [cmd, ...rest] = call;
      assert.ok(listed.has(cmd!), `the workflow calls \`flan-eval ${cmd}\`, which \`flan-eval --help\` does not list (yet)`);
      const path = [cmd!];
      // Commands with subcommands (data fetch, models pull): the subcommand must be listed in their help.
      const parentHelp = await help(helpCache, path);
      if (/^Commands:/m.test(parentHelp) && rest[0] && !rest[0].startsWith('-')) {
        const sub = rest.shift()!;
        assert.match(parentHelp, new RegExp(`flan-eval ${cmd} ${sub}\\b`), `\`flan-eval ${cmd} ${sub}\` is not a listed subcommand`);
        path.push(sub);
      }
      const h = await help(helpCache, path);
      for (const flag of rest.filter((w) => w.startsWith('--'))) {
        assert.ok(h.includes(flag.split('=')[0]!), `\`flan-eval ${path.join(' ')}\` has no ${flag} option`);
      }
    }
  });
});

async function help(cache: Map<string, string>, path: string[]): Promise<string> {
  const key = path.join(' ');
  if (!cache.has(key)) {
    const r = await runCli([...path, '--help']);
    assert.equal(r.code, 0, `flan-eval ${key} --help failed: ${r.stderr}`);
    cache.set(key, r.stdout);
  }
  return cache.get(key)!;
}

interface Sandbox {
  dir: string;
  bin: string;
  summary: string;
  output: string;
}

/** A working folder holding the repository's .github (for its scripts) and a fake `npx` exiting `code`. */
async function stepSandbox(code: number): Promise<Sandbox> {
  const dir = await tempDir('flan-eval-nightly-');
  const bin = join(dir, 'bin');
  await mkdir(bin);
  await writeFile(join(bin, 'npx'), `#!/bin/sh\necho "npx $*" >&2\nexit ${code}\n`);
  await chmod(join(bin, 'npx'), 0o755);
  await symlink(join(repoRoot, '.github'), join(dir, '.github'));
  const summary = join(dir, 'summary.md');
  const output = join(dir, 'output.txt');
  await writeFile(summary, '');
  await writeFile(output, '');
  return { dir, bin, summary, output };
}

/** Run a step's script as GitHub does (`bash -e`), in the sandbox; returns its status and output. */
async function runStep(script: string, box: Sandbox, env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const r = spawnSync('bash', ['--noprofile', '--norc', '-e', '-o', 'pipefail', '-c', script], {
    cwd: box.dir,
    encoding: 'utf8',
    env: { PATH: `${box.bin}:${process.env.PATH}`, GITHUB_STEP_SUMMARY: box.summary, GITHUB_OUTPUT: box.output, BASELINE: 'b', MAX_DROP: '1', ALPHA: '0.05', ...env },
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
