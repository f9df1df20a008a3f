import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { repoRoot, runCli } from '../helpers/cli.js';
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
    // The job fails on a regression (compare exit 1) and on a compare that could not run (exit 2).
    assert.match(runs, /exit 1/);
  });

  test('the suite file it runs exists', async () => {
    await readFile(join(repoRoot, 'benchmarks', 'suites', 'nightly.json'), 'utf8');
  });

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
